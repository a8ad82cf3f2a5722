// `chronoconf bench load` and `chronoconf bench watch` (src/cli/bench_*.cc),
// the load generator and the fan-out measurement of bench/run.sh: the
// history bench load writes is one a server accepts and verify passes, and
// bench watch counts every delivery.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

// The k=v pairs of the line that starts with `tag` ("BENCH-LOAD").
std::map<std::string, std::string> Fields(const std::string& out, const std::string& tag) {
  std::map<std::string, std::string> f;
  auto at = out.find(tag + " ");
  if (at == std::string::npos) return f;
  std::string line = out.substr(at + tag.size() + 1, out.find('\n', at) - at - tag.size() - 1);
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string::npos) end = line.size();
    std::string item = line.substr(pos, end - pos);
    if (auto eq = item.find('='); eq != std::string::npos) f[item.substr(0, eq)] = item.substr(eq + 1);
    pos = end + 1;
  }
  return f;
}

TEST(BenchCommandTest, LoadWritesAHistoryThatVerifiesAndServes) {
  TempDir dir;
  CommandResult load = RunCommand({CHRONOCONF_BIN, "bench", "load", "--store", dir.SqliteUrl(),
                                   "--events", "500", "--keys", "50", "--batch", "64"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  auto f = Fields(load.out, "BENCH-LOAD");
  EXPECT_EQ(f["events"], "500") << load.out;
  EXPECT_EQ(f["head"], "500") << load.out;

  CommandResult verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("ok: 500 commits, 500 events, 50 keys"), std::string::npos)
      << verify.out;

  ServerProcess server(dir.SqliteUrl());
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  ApiResponse status = api.Get("/v1/status");
  ASSERT_EQ(status.status, 200) << status;
  EXPECT_EQ(status.json["events"], 500) << status;
  EXPECT_EQ(status.json["revision"], 500) << status;
  EXPECT_EQ(status.json["keys"], 50) << status;
  // 500 writes over 50 keys taking turns: every key has 10 versions, each
  // one commit by "bench" with a 100-byte JSON object.
  ApiResponse entry = api.Get("/v1/kv/bench/load/k00007");
  ASSERT_EQ(entry.status, 200) << entry;
  EXPECT_EQ(entry.json["version"], 10) << entry;
  EXPECT_EQ(entry.json["modified_by"], "bench") << entry;
  EXPECT_EQ(entry.json["modified_revision"], 458) << entry;  // the 458th write is k00007's 10th
  ASSERT_TRUE(entry.json["value"].is_object()) << entry;
  EXPECT_EQ(RawAt(entry.body, "value").value_or("").size(), 100u) << entry;
  ApiResponse history = api.Get("/v1/history/bench/load/k00007?limit=2");
  ASSERT_EQ(history.status, 200) << history;
  ASSERT_EQ(history.json["events"].size(), 2u) << history;
  EXPECT_EQ(history.json["events"][0]["previous_value"], history.json["events"][1]["value"]);
  EXPECT_NE(history.json["events"][0]["value"], history.json["events"][1]["value"]);

  // While the server holds the SQLite file, a load is refused and writes nothing.
  CommandResult refused = RunCommand(
      {CHRONOCONF_BIN, "bench", "load", "--store", dir.SqliteUrl(), "--events", "10"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.err.find("already served"), std::string::npos) << refused.err;
  ASSERT_TRUE(server.Stop());

  // A second load continues every key from the version and value it has.
  CommandResult more = RunCommand({CHRONOCONF_BIN, "bench", "load", "--store", dir.SqliteUrl(),
                                   "--events", "100", "--keys", "50"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  EXPECT_EQ(Fields(more.out, "BENCH-LOAD")["head"], "600") << more.out;
  verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("ok: 600 commits, 600 events, 50 keys"), std::string::npos)
      << verify.out;
}

TEST(BenchCommandTest, WatchCountsEveryWriteAtEveryWatcher) {
  ServerProcess server("memory:");
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  // A commit before the run, outside the prefix: not counted.
  ASSERT_EQ(api.Request("PUT", "/v1/kv/other/key", R"({"value":1})").status, 201);

  CommandResult r = RunCommand({CHRONOCONF_BIN, "bench", "watch", "--server", server.url(),
                                "--watchers", "6", "--writes", "5", "--interval-ms", "5",
                                "--prefix", "t/watch/"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto f = Fields(r.out, "BENCH-WATCH");
  EXPECT_EQ(f["connected"], "6") << r.out;
  EXPECT_EQ(f["writes"], "5") << r.out;
  EXPECT_EQ(f["write_errors"], "0") << r.out;
  EXPECT_EQ(f["expected"], "30") << r.out;
  EXPECT_EQ(f["received"], "30") << r.out;
  EXPECT_EQ(f["within_target"], "1.0000") << r.out;
  EXPECT_EQ(f["latency_from"], "send") << r.out;
  EXPECT_NE(r.out.find("deliveries: 30 expected, 30 received (0 duplicates)"), std::string::npos)
      << r.out;
  // The writes were real commits under the prefix (keys k0..k4).
  ApiResponse status = api.Get("/v1/status");
  EXPECT_EQ(status.json["revision"], 6) << status;
  ApiResponse list = api.Get("/v1/kv?prefix=t/watch/");
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_EQ(list.json["entries"].size(), 5u) << list;

  // A second run on the same keys still makes a commit per write (the values
  // differ per run), so again every watcher gets every write.
  CommandResult again = RunCommand({CHRONOCONF_BIN, "bench", "watch", "--server", server.url(),
                                    "--watchers", "3", "--writes", "5", "--interval-ms", "0",
                                    "--prefix", "t/watch/"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(Fields(again.out, "BENCH-WATCH")["received"], "15") << again.out;
  EXPECT_EQ(api.Get("/v1/status").json["revision"], 11);
}

TEST(BenchCommandTest, WatchFailsWithoutAServer) {
  int port = PickFreePort();
  CommandResult r = RunCommand({CHRONOCONF_BIN, "bench", "watch", "--server",
                                "http://127.0.0.1:" + std::to_string(port), "--watchers", "2",
                                "--writes", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("/v1/status"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace chronoconf::test
