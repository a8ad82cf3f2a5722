// The client subcommands of the `chronoconf` binary (SPEC §4): get, set,
// delete, ls, history, log, diff, revert, watch, import, export, status,
// schema set|get|rm, change propose|list|show|approve|reject|apply and
// policy set|get|rm (SPEC §8), and import-etcd (etcd's keys or history).
// They talk HTTP to a chronoconf server; none of them opens a store.
//
// Every client subcommand takes `--server URL` (default $CHRONOCONF_SERVER or
// http://127.0.0.1:7700) and `--json` (print the server's JSON as is, for
// scripts); the writing ones take `--actor NAME` (sent as X-Actor). The token
// comes from $CHRONOCONF_TOKEN. `--server` and `--json` may also be given
// before the subcommand name.
#ifndef CHRONOCONF_CLI_CLIENT_COMMANDS_H_
#define CHRONOCONF_CLI_CLIENT_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace chronoconf::cli {

// Registers the client subcommands (get, set, delete, ls, history, log, diff,
// revert, watch, import, export, status, schema, change, policy, import-etcd)
// on `app`. A subcommand's callback
// stores its exit code (0 ok, 1 error, 3 not found, 4 conflict; 2 for a usage
// error it finds itself, such as invalid JSON) in *exit_code.
// REQUIRES: `app` and `exit_code` outlive the parse.
void AddClientCommands(CLI::App& app, int* exit_code);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_CLIENT_COMMANDS_H_
