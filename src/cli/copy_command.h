// `chronoconf copy --from URL --to URL`: moves a whole history between stores
// (SPEC §3), keeping revisions, times, actors and hashes.
#ifndef CHRONOCONF_CLI_COPY_COMMAND_H_
#define CHRONOCONF_CLI_COPY_COMMAND_H_

#include <CLI/CLI.hpp>

namespace chronoconf::cli {

// Registers copy on `app`; it stores its exit code in *exit_code.
// REQUIRES: `app` and `exit_code` outlive the parse.
void AddCopyCommand(CLI::App& app, int* exit_code);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_COPY_COMMAND_H_
