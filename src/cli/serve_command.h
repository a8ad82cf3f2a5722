// `chronoconf serve` and the admin commands that open a store directly
// (`migrate`, `verify`).
#ifndef CHRONOCONF_CLI_SERVE_COMMAND_H_
#define CHRONOCONF_CLI_SERVE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace chronoconf::cli {

inline constexpr const char* kDefaultStore = "sqlite:./chronoconf-data/events.db";

// Registers serve, migrate and verify on `app`; each stores its exit code in
// *exit_code. REQUIRES: `app` and `exit_code` outlive the parse.
void AddServerCommands(CLI::App& app, int* exit_code);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_SERVE_COMMAND_H_
