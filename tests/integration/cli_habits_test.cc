// Issue 7 item 3: the CLI habits users bring from etcdctl and consul kv —
// --version, an unknown command named with the closest match, --json for
// errors, friendly --at-time forms and bad ones as usage errors, a diff with
// nothing to show, a bad --server named as such.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

class CliHabitsTest : public ServerTest {
 protected:
  CommandResult Cli(std::vector<std::string> args, bool with_server = true) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    if (with_server) {
      argv.push_back("--server");
      argv.push_back(server()->url());
    }
    CommandOptions options;
    options.env.emplace("CHRONOCONF_TOKEN", std::nullopt);
    options.env.emplace("CHRONOCONF_SERVER", std::nullopt);
    options.env.emplace("NO_COLOR", "1");
    return RunCommand(argv, options);
  }
};

TEST_F(CliHabitsTest, VersionMatchesTheProjectVersion) {
  auto r = Cli({"--version"}, false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream cmake(std::string(CHRONOCONF_SOURCE_DIR) + "/CMakeLists.txt");
  std::stringstream text;
  text << cmake.rdbuf();
  std::smatch m;
  std::string cmake_text = text.str();
  ASSERT_TRUE(std::regex_search(cmake_text, m, std::regex(R"(project\(chronoconf VERSION ([0-9.]+))")));
  EXPECT_EQ(r.out, "chronoconf " + m[1].str() + "\n");
  auto status = api().Get("/v1/status");
  EXPECT_EQ(status.json["version"], m[1].str());
}

TEST_F(CliHabitsTest, UnknownCommandIsNamedWithTheClosestMatch) {
  auto r = Cli({"histroy", "a"}, false);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'histroy'; did you mean 'history'?"), std::string::npos)
      << r.err;
  auto f = Cli({"frobnicate"}, false);
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_NE(f.err.find("unknown command 'frobnicate'; did you mean '"), std::string::npos) << f.err;
  // After a global option with a value, too.
  auto g = Cli({"--server", "http://127.0.0.1:1", "stauts"}, false);
  EXPECT_EQ(g.exit_code, 2);
  EXPECT_NE(g.err.find("did you mean 'status'?"), std::string::npos) << g.err;
}

TEST_F(CliHabitsTest, JsonErrorsKeepTheExitCodes) {
  auto missing = Cli({"get", K("nope"), "--json"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_EQ(missing.out, "");
  auto j = json::parse(missing.err, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << missing.err;
  EXPECT_EQ(j["error"]["code"], "not_found");

  ASSERT_EQ(Cli({"set", K("c"), "1"}).exit_code, 0);
  auto conflict = Cli({"set", K("c"), "2", "--expect", "7", "--json"});
  EXPECT_EQ(conflict.exit_code, 4);
  auto c = json::parse(conflict.err, nullptr, false);
  ASSERT_FALSE(c.is_discarded()) << conflict.err;
  EXPECT_EQ(c["error"]["code"], "version_conflict");
  EXPECT_EQ(c["error"]["current_version"], 1);  // the server's details kept

  auto usage = Cli({"get", "--json"});
  EXPECT_EQ(usage.exit_code, 2);
  auto u = json::parse(usage.err, nullptr, false);
  ASSERT_FALSE(u.is_discarded()) << usage.err;
  EXPECT_EQ(u["error"]["code"], "usage");

  auto unknown = Cli({"--json", "frobnicate"}, false);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(json::parse(unknown.err, nullptr, false)["error"]["code"], "usage") << unknown.err;

  auto down = Cli({"status", "--json", "--server", "http://127.0.0.1:1"}, false);
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_EQ(json::parse(down.err, nullptr, false)["error"]["code"], "unreachable") << down.err;
}

TEST_F(CliHabitsTest, BadAtTimeIsAUsageErrorInTheCliTerms) {
  for (const char* bad : {"2026-02-30", "yesterday", "2026-11-26T14:00:00+25:00", "5x ago"}) {
    auto r = Cli({"get", K("a"), "--at-time", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--at-time"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("query parameter"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("2h ago"), std::string::npos) << r.err;  // names the forms
  }
  auto log = Cli({"log", "--since", "tomorrow"});
  EXPECT_EQ(log.exit_code, 2) << log.err;
  EXPECT_NE(log.err.find("--since"), std::string::npos) << log.err;
}

TEST_F(CliHabitsTest, FriendlyTimesAreTurnedIntoRfc3339) {
  ASSERT_EQ(Cli({"set", K("t"), "42"}).exit_code, 0);
  auto now = Cli({"get", K("t"), "--at-time", "0s ago"});
  EXPECT_EQ(now.exit_code, 0) << now.err;
  EXPECT_EQ(now.out, "42\n");
  auto before = Cli({"get", K("t"), "--at-time", "3d ago"});
  EXPECT_EQ(before.exit_code, 3) << before.err;  // the key did not exist then
  EXPECT_EQ(Cli({"get", K("t"), "--at-time", "2h ago"}).exit_code, 3);
  EXPECT_EQ(Cli({"get", K("t"), "--at-time", "90s ago"}).exit_code, 3);
  EXPECT_EQ(Cli({"get", K("t"), "--at-time", "2000-01-01"}).exit_code, 3);
  EXPECT_EQ(Cli({"get", K("t"), "--at-time", "2999-01-01"}).exit_code, 0);
  auto ls = Cli({"ls", prefix(), "--at-time", "1d ago"});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out.find(K("t")), std::string::npos) << ls.out;
  auto log = Cli({"log", "--since", "1h ago", "--prefix", prefix()});
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_NE(log.out.find(K("t")), std::string::npos) << log.out;
}

TEST_F(CliHabitsTest, DiffWithNothingToShowSaysSo) {
  ASSERT_EQ(Cli({"set", K("d"), "1"}).exit_code, 0);
  const std::string head = std::to_string(Head());
  auto r = Cli({"diff", head, head});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no changes between revision " + head + " and revision " + head + "\n");
  auto p = Cli({"diff", "0", "--prefix", K("nothing-here/")});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("no changes between revision 0 and revision "), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("under '" + K("nothing-here/") + "'"), std::string::npos) << p.out;
  // A time as a diff point: "1h ago" until now shows the set.
  auto t = Cli({"diff", "1h ago", "--prefix", prefix()});
  EXPECT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find(K("d")), std::string::npos) << t.out;
}

TEST_F(CliHabitsTest, BadServerUrlIsAUsageError) {
  for (const char* bad : {"nonsense", "http://", "ftp://x", "http://host:99999", "host:",
                          "http://bad host:7700", "http://[::1"}) {
    auto r = Cli({"status", "--server", bad}, false);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("invalid server URL"), std::string::npos) << bad << ": " << r.err;
  }
  // host:port without a scheme still works.
  std::string url = server()->url();
  auto ok = Cli({"status", "--server", url.substr(std::string("http://").size())}, false);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

}  // namespace
}  // namespace chronoconf::test
