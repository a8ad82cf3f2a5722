#include "cli/bench_command.h"

#include <memory>

namespace chronoconf::cli {

void AddBenchCommand(CLI::App& app, int* exit_code) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Load generators and measurements for benchmarks (bench/run.sh)");
  bench->require_subcommand(1);

  auto lo = std::make_shared<BenchLoadOptions>();
  CLI::App* load = bench->add_subcommand(
      "load",
      "Append single-key ConfigSet commits straight into a store, as PUTs would have made them "
      "(actor \"bench\", keys PREFIX k00000.., taking turns, ~N-byte JSON object values that "
      "differ per write), BATCH commits per store transaction. A store that is not empty is "
      "appended to: each key continues from the version and value the store holds, so the "
      "history stays valid for `chronoconf verify`. Refuses a SQLite store a server is "
      "serving. Prints the events written and the rate.");
  load->add_option("--store", lo->store, "Event store URL: sqlite:PATH, postgres://..., memory:")
      ->required();
  load->add_option("--keys", lo->keys, "Distinct keys the writes take turns on")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  load->add_option("--events", lo->events, "Events (= commits) to append")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  load->add_option("--value-bytes", lo->value_bytes,
                   "Size of each value, a JSON object (at least its ~95 bytes of members)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  load->add_option("--batch", lo->batch, "Commits per store transaction (one Append call)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  load->add_option("--prefix", lo->prefix, "Prefix of the keys written")->capture_default_str();
  load->callback([lo, exit_code] { *exit_code = RunBenchLoad(*lo); });

  auto wo = std::make_shared<BenchWatchOptions>();
  CLI::App* watch = bench->add_subcommand(
      "watch",
      "Open N watch streams (GET /v1/watch) on one prefix of a running server, on one or two "
      "threads; once all are connected PUT paced writes under the prefix and report how long "
      "each took to reach every watcher, measured from the PUT's send (p50/p99/max, the share "
      "within --target-ms, and per write the time by which 99 % of the watchers had it). Raises "
      "its open-file soft limit to the hard limit; the server needs --max-connections (and its "
      "own ulimit -n) above N. Exit 0 only when every watcher connected and got every write.");
  watch->add_option("--server", wo->server, "Server URL (http://HOST:PORT)")->capture_default_str();
  watch->add_option("--watchers", wo->watchers, "Watch streams to open")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  watch->add_option("--prefix", wo->prefix, "Prefix watched and written under")
      ->capture_default_str();
  watch->add_option("--writes", wo->writes, "PUTs to make, one at a time")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  watch->add_option("--interval-ms", wo->interval_ms, "Time between the starts of two PUTs")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  watch->add_option("--threads", wo->threads, "Io threads for the watch streams (1 or 2)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{2}));
  watch->add_option("--target-ms", wo->target_ms, "The latency the report counts against")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600000.0));
  watch->add_option("--connect-timeout-ms", wo->connect_timeout_ms,
                    "How long all the watchers get to connect")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  watch->add_option("--settle-ms", wo->settle_ms,
                    "After the last PUT, how long to wait for the last deliveries")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  watch->callback([wo, exit_code] { *exit_code = RunBenchWatch(*wo); });
}

}  // namespace chronoconf::cli
