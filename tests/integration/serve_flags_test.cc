// The admin side of the command line: serve refuses what it cannot honour
// with a usage error (exit 2) before it opens anything, and copy and
// verify fail clearly (SPEC §4).
#include <fstream>
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

CommandResult Chronoconf(std::vector<std::string> args,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  args.insert(args.begin(), CHRONOCONF_BIN);
  CommandOptions o;
  o.timeout = timeout;
  return RunCommand(args, o);
}

TEST(ServeFlagsTest, BadFlagsAreUsageErrors) {
  const std::string listen = "127.0.0.1:" + std::to_string(PickFreePort());
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"serve", "--store", "memory:", "--listen", "nonsense"},
           {"serve", "--store", "memory:", "--listen", "127.0.0.1:99999"},
           {"serve", "--store", "memory:", "--listen", listen, "--log-level", "loud"},
           {"serve", "--store", "memory:", "--listen", listen, "--log-format", "xml"},
           {"serve", "--store", "memory:", "--listen", listen, "--threads", "0"},
           {"serve", "--store", "memory:", "--listen", listen, "--max-body-bytes", "0"},
           {"serve", "--store", "memory:", "--listen", listen, "--max-connections", "-1"},
           // A duration needs its unit, and etcd's floor is 100 ms.
           {"serve", "--store", "memory:", "--listen", listen, "--etcd-watch-progress-interval", "5"},
           {"serve", "--store", "memory:", "--listen", listen, "--etcd-watch-progress-interval", "50ms"}}) {
    auto r = Chronoconf(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_FALSE(r.err.empty()) << "a usage error says what is wrong";
  }
}

TEST(ServeFlagsTest, AnUnknownStoreIsAnError) {
  auto r = Chronoconf({"serve", "--store", "bogus:x", "--listen",
                       "127.0.0.1:" + std::to_string(PickFreePort())});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("unknown store URL"), std::string::npos) << r.err;
}

TEST(ServeFlagsTest, ListenTakesAHostName) {
  const int port = PickFreePort();
  // It serves until killed: the run is cut short, and its log says where it listened.
  auto r = Chronoconf({"serve", "--store", "memory:", "--listen",
                       "localhost:" + std::to_string(port), "--log-level", "info"},
                      std::chrono::milliseconds(1500));
  EXPECT_TRUE(r.timed_out) << "exit " << r.exit_code << ": " << r.err;
  EXPECT_NE((r.out + r.err).find(":" + std::to_string(port)), std::string::npos) << r.out << r.err;
}

// A copy run again resumes (issue 13 item 12: here, with nothing left to
// copy); a target holding another history is refused.
TEST(ServeFlagsTest, CopyRefusesAnotherHistoryAndABadSource) {
  TempDir dir;
  ServerProcess server(dir.SqliteUrl());
  ASSERT_TRUE(server.Start());
  ASSERT_EQ(Api(server.url()).Set("a", "1").status, 201);
  ASSERT_TRUE(server.Stop());
  TempDir other;
  auto first = Chronoconf({"copy", "--from", dir.SqliteUrl(), "--to", other.SqliteUrl()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto again = Chronoconf({"copy", "--from", dir.SqliteUrl(), "--to", other.SqliteUrl()});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("copied 0 commits"), std::string::npos) << again.out;
  TempDir third;
  {
    ServerProcess elsewhere(third.SqliteUrl());
    ASSERT_TRUE(elsewhere.Start());
    ASSERT_EQ(Api(elsewhere.url()).Set("b", "2").status, 201);
    ASSERT_TRUE(elsewhere.Stop());
  }
  auto refused = Chronoconf({"copy", "--from", dir.SqliteUrl(), "--to", third.SqliteUrl()});
  EXPECT_EQ(refused.exit_code, 1) << "a target with another history is refused";
  EXPECT_NE(refused.err.find("not a prefix"), std::string::npos) << refused.err;
  auto bad = Chronoconf({"copy", "--from", "bogus:x", "--to", "memory:"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  auto bad_to = Chronoconf({"copy", "--from", dir.SqliteUrl(), "--to", "bogus:x"});
  EXPECT_EQ(bad_to.exit_code, 1) << bad_to.err;
}

TEST(ServeFlagsTest, VerifyJsonReportsAFailureAsJson) {
  TempDir dir;
  {
    ServerProcess server(dir.SqliteUrl());
    ASSERT_TRUE(server.Start());
    ASSERT_EQ(Api(server.url()).Set("a", "1").status, 201);
    ASSERT_TRUE(server.Stop());
  }
  auto ok = Chronoconf({"verify", "--store", dir.SqliteUrl(), "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(json::parse(ok.out)["ok"], true) << ok.out;
  // A second commit that does not link: appended below the program's checks.
  auto sql = RunCommand({"sqlite3", dir.File("events.db"),
                         "INSERT INTO commits VALUES (2, '2026-01-01T00:00:00.000000Z', 'x', NULL,"
                         " NULL, 'bad', 'bad'); INSERT INTO events VALUES (2, 0, 'b', 1,"
                         " 'ConfigSet', '\"quote \\\" inside\"', NULL, NULL);"});
  ASSERT_EQ(sql.exit_code, 0) << sql.err;
  auto bad = Chronoconf({"verify", "--store", dir.SqliteUrl(), "--json"});
  EXPECT_EQ(bad.exit_code, 1);
  auto report = json::parse(bad.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << "verify --json stays JSON on failure: " << bad.out;
  EXPECT_EQ(report["ok"], false);
  EXPECT_TRUE(report.contains("error"));
}

}  // namespace
}  // namespace chronoconf::test
