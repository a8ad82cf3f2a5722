// RunCommand: runs a program to completion (fork/exec, no shell) and returns
// its exit code and everything it wrote to stdout and stderr. Used by the
// black-box tests to drive the `chronoconf` binary (CLI and admin commands).
//
//   CommandResult r = RunCommand({CHRONOCONF_BIN, "get", "a/b", "--json"});
//   EXPECT_EQ(r.exit_code, 0) << r.err;
//   auto j = nlohmann::json::parse(r.out);
//
// Thread safety: RunCommand may be called from several threads at once.
#ifndef CHRONOCONF_TESTS_SUPPORT_RUN_COMMAND_H_
#define CHRONOCONF_TESTS_SUPPORT_RUN_COMMAND_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chronoconf::test {

struct CommandResult {
  // The program's exit status; 128 + N when it was killed by signal N;
  // -1 when it could not be started or was killed for running too long.
  int exit_code = -1;
  std::string out;  // everything written to stdout
  std::string err;  // everything written to stderr
  bool timed_out = false;
};

struct CommandOptions {
  // Written to the program's stdin, which is then closed. Without it stdin
  // is /dev/null.
  std::optional<std::string> stdin_data;
  // Environment changes on top of this process's environment: a value sets
  // the variable, std::nullopt removes it.
  std::map<std::string, std::optional<std::string>> env;
  // Working directory of the program; empty = this process's.
  std::string cwd;
  // The program is killed (SIGKILL) after this long; the result then has
  // timed_out = true and exit_code = -1.
  std::chrono::milliseconds timeout{30000};
};

// `argv[0]` is a path (contains '/') or a name looked up in $PATH.
CommandResult RunCommand(const std::vector<std::string>& argv);
CommandResult RunCommand(const std::vector<std::string>& argv, std::string stdin_data);
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options);

}  // namespace chronoconf::test

#endif  // CHRONOCONF_TESTS_SUPPORT_RUN_COMMAND_H_
