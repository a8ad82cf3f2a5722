// chronoconf: one binary for the server, the admin commands and the client.
#include <CLI/CLI.hpp>

#include "cli/client_commands.h"
#include "cli/copy_command.h"
#include "cli/serve_command.h"

int main(int argc, char** argv) {
  CLI::App app{"chronoconf: configuration with history, time travel and an audit trail"};
  app.require_subcommand(1);
  int exit_code = 0;
  chronoconf::cli::AddServerCommands(app, &exit_code);
  chronoconf::cli::AddCopyCommand(app, &exit_code);
  chronoconf::cli::AddClientCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // usage error (SPEC §4)
  }
  return exit_code;
}
