#include "cli/copy_command.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "app/copy.h"
#include "cli/progress_bar.h"
#include "store/event_store.h"

namespace chronoconf::cli {
namespace {

int Copy(const std::string& from_url, const std::string& to_url) {
  auto from = OpenEventStore(from_url);
  if (!from) {
    std::cerr << "error: cannot open --from " << from_url << ": " << from.status().message()
              << "\n";
    return 1;
  }
  auto to = OpenEventStore(to_url);
  if (!to) {
    std::cerr << "error: cannot open --to " << to_url << ": " << to.status().message() << "\n";
    return 1;
  }
  // A progress bar only on a terminal: logs and pipes get the summary alone.
  bool tty = isatty(STDERR_FILENO) != 0;
  CopyReport report;
  Status s = CopyStore(**from, **to, &report, [&](int64_t done, int64_t total) {
    if (tty) std::cerr << ProgressBar(done, total) << std::flush;
  });
  if (tty && report.commits > 0) std::cerr << "\n";
  if (!s.ok()) {
    std::cerr << "copy failed after " << report.commits << " commits: " << s.message() << "\n";
    return 1;
  }
  std::cout << fmt::format("copied {} commits ({} events) from {} to {}; head hash {}\n",
                           report.commits, report.events, (*from)->kind(), (*to)->kind(),
                           report.head_hash);
  return 0;
}

}  // namespace

void AddCopyCommand(CLI::App& app, int* exit_code) {
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  CLI::App* copy = app.add_subcommand(
      "copy", "Copy a whole history into an empty store, keeping revisions, times and hashes");
  copy->add_option("--from", *from, "Source store URL")->required();
  copy->add_option("--to", *to, "Target store URL (must be empty)")->required();
  copy->callback([from, to, exit_code] { *exit_code = Copy(*from, *to); });
}

}  // namespace chronoconf::cli
