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
  // The source only read (SPEC §6): a typo is an error, never a new store;
  // and it is opened first, so that such a typo creates no target either.
  auto from = OpenEventStore(from_url, SystemClock::Default(), StoreAccess::kReadOnly);
  if (!from) {
    std::cerr << "error: cannot open --from: " << from.status().message() << "\n";
    return 1;
  }
  auto to = OpenEventStore(to_url);
  if (!to) {
    std::cerr << "error: cannot open --to: " << to.status().message() << "\n";
    return 1;
  }
  // The target's only writer, as serve is: a served SQLite file is refused
  // (its commits would interleave with the copy's).
  if (Status s = (*to)->ClaimSoleWriter(); !s.ok()) {
    std::cerr << "error: cannot copy into --to: " << s.message() << "\n";
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
  std::cout << fmt::format("copied {} commits ({} events) from {} to {}{}; head hash {}\n",
                           report.commits, report.events, (*from)->kind(), (*to)->kind(),
                           report.resumed_after > 0
                               ? fmt::format(", resumed after revision {}", report.resumed_after)
                               : std::string(),
                           report.head_hash);
  return 0;
}

}  // namespace

void AddCopyCommand(CLI::App& app, int* exit_code) {
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  CLI::App* copy = app.add_subcommand(
      "copy",
      "Copy a whole history into an empty store, keeping revisions, times and hashes; run "
      "again, it resumes an interrupted copy");
  copy->add_option("--from", *from, "Source store URL (only read)")->required();
  copy->add_option("--to", *to,
                   "Target store URL: empty, or holding the start of the source's history")
      ->required();
  copy->callback([from, to, exit_code] { *exit_code = Copy(*from, *to); });
}

}  // namespace chronoconf::cli
