// `chronoconf bench …`: load generators and measurements for bench/run.sh
// (SPEC §4: "bench … is welcome").
//
//   bench load   appends single-event ConfigSet commits straight into a
//                store (no server), as single-key PUTs would have made them:
//                the history the start-up and memory benchmarks rebuild from
//   bench watch  opens N watch streams on one prefix against a running
//                server, PUTs paced writes, and reports how fast each write
//                reached every watcher
//
// Both print a human summary and one machine-readable line ("BENCH-LOAD
// k=v …", "BENCH-WATCH k=v …") that bench/run.sh parses.
#ifndef CHRONOCONF_CLI_BENCH_COMMAND_H_
#define CHRONOCONF_CLI_BENCH_COMMAND_H_

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace chronoconf::cli {

struct BenchLoadOptions {
  std::string store;
  std::string prefix = "bench/load/";
  int64_t keys = 10000;
  int64_t events = 1000000;
  int64_t value_bytes = 100;
  int64_t batch = 1000;  // commits per EventStore::Append (one transaction)
};

struct BenchWatchOptions {
  std::string server = "http://127.0.0.1:7700";
  std::string prefix = "bench/watch/";
  int64_t watchers = 1000;
  int64_t writes = 200;
  int64_t interval_ms = 20;
  int64_t threads = 1;                  // io threads for all the watch streams
  int64_t connect_timeout_ms = 30000;   // all watchers connected within this
  int64_t settle_ms = 10000;            // wait for the last deliveries this long
  double target_ms = 50;                // the "within X ms" of the report
};

// Runs `bench load`; returns the exit code (0 ok, 1 error).
int RunBenchLoad(const BenchLoadOptions& o);
// Runs `bench watch`; returns 0 when every watcher connected and got every
// write, 1 otherwise (the report is printed either way).
int RunBenchWatch(const BenchWatchOptions& o);

// Registers `bench` with its subcommands on `app`; they store their exit
// code in *exit_code. REQUIRES: `app` and `exit_code` outlive the parse.
void AddBenchCommand(CLI::App& app, int* exit_code);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_BENCH_COMMAND_H_
