// chronoconf: one binary for the server, the admin commands and the client.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <string_view>

#include "cli/bench_command.h"
#include "cli/client_commands.h"
#include "cli/client_session.h"
#include "cli/copy_command.h"
#include "cli/serve_command.h"
#include "cli/suggest.h"
#include "common/version.h"

namespace {

// Options given before the subcommand that take a value.
bool TakesValue(std::string_view arg) { return arg == "--server"; }

// The first word that is not an option, "" when there is none.
std::string FirstCommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (TakesValue(arg)) {
      ++i;
      continue;
    }
    if (arg == "--") return i + 1 < argc ? argv[i + 1] : "";
    if (!arg.starts_with("-")) return std::string(arg);
  }
  return "";
}

bool WantsJson(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--json") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chronoconf: configuration with history, time travel and an audit trail"};
  app.set_version_flag("--version", std::string("chronoconf ") + chronoconf::kVersion);
  app.require_subcommand(1);
  int exit_code = 0;
  chronoconf::cli::AddServerCommands(app, &exit_code);
  chronoconf::cli::AddCopyCommand(app, &exit_code);
  chronoconf::cli::AddBenchCommand(app, &exit_code);
  chronoconf::cli::AddClientCommands(app, &exit_code);
  chronoconf::cli::SetJsonErrors(WantsJson(argc, argv));

  // Named here, with the closest command: CLI11 would only say that an
  // argument was not expected.
  std::string word = FirstCommandWord(argc, argv);
  bool known = word.empty();
  std::vector<std::string> names;
  for (CLI::App* sub : app.get_subcommands({})) {
    names.push_back(sub->get_name());
    if (sub->check_name(word)) known = true;
  }
  if (!known) {
    chronoconf::cli::ReportError(
        "usage", chronoconf::cli::UnknownCommandMessage(word, names) +
                     " ('chronoconf --help' lists them all)");
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (chronoconf::cli::JsonErrors()) {
      chronoconf::cli::ReportError("usage", e.what());
    } else {
      app.exit(e);
    }
    return 2;  // usage error (SPEC §4)
  }
  return exit_code;
}
