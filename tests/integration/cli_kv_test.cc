// SPEC §4: the client commands get, set and delete, run as the real
// `chronoconf` binary against a real server (memory: store): human and --json
// output, the exit codes 0/1/2/3/4, --string, --expect, --at and --at-time.
#include <fstream>
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

class CliKvTest : public ServerTest {
 protected:
  // Runs `chronoconf ARGS --server URL` with no token, no $CHRONOCONF_SERVER
  // and NO_COLOR set.
  CommandResult Cli(std::vector<std::string> args, CommandOptions options = {}) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    return RunCommand(argv, WithEnv(std::move(options)));
  }
  static CommandOptions WithEnv(CommandOptions options) {
    options.env.emplace("CHRONOCONF_TOKEN", std::nullopt);
    options.env.emplace("CHRONOCONF_SERVER", std::nullopt);
    options.env.emplace("NO_COLOR", "1");
    return options;
  }
};

std::string Rev(int64_t r) { return std::to_string(r); }

TEST_F(CliKvTest, SetThenGetPrintsTheValueText) {
  const int64_t head = Head();
  auto set = Cli({"set", K("ratio"), "1.50"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "created " + K("ratio") + " (version 1, revision " + Rev(head + 1) + ")\n");
  EXPECT_EQ(set.err, "");

  auto get = Cli({"get", K("ratio")});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "1.50\n");  // number text as sent, never rounded

  auto update = Cli({"set", K("ratio"), "12345678901234567890"});
  ASSERT_EQ(update.exit_code, 0) << update.err;
  EXPECT_EQ(update.out, "set " + K("ratio") + " (version 2, revision " + Rev(head + 2) + ")\n");
  EXPECT_EQ(Cli({"get", K("ratio")}).out, "12345678901234567890\n");
}

TEST_F(CliKvTest, ValuesAreSentMinifiedAndPrintedAsStored) {
  ASSERT_EQ(Cli({"set", K("obj"), R"( { "b" : 1.50 , "a" : [ 1, "x y" ] } )"}).exit_code, 0);
  EXPECT_EQ(Cli({"get", K("obj")}).out, R"({"b":1.50,"a":[1,"x y"]})"
                                        "\n");
  // A negative number is a value, not an option.
  auto neg = Cli({"set", K("neg"), "-5"});
  ASSERT_EQ(neg.exit_code, 0) << neg.err;
  EXPECT_EQ(Cli({"get", K("neg")}).out, "-5\n");
  ASSERT_EQ(Cli({"set", K("null"), "null"}).exit_code, 0);
  EXPECT_EQ(Cli({"get", K("null")}).out, "null\n");
}

TEST_F(CliKvTest, SetStringStoresAJsonString) {
  auto set = Cli({"set", K("greeting"), "--string", "hello \"world\"\n"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto get = Cli({"get", K("greeting")});
  EXPECT_EQ(get.out, "\"hello \\\"world\\\"\\n\"\n");
  EXPECT_EQ(Cli({"get", K("greeting"), "--raw"}).out, "hello \"world\"\n\n");
  auto api_get = api().GetKey(K("greeting"));
  EXPECT_EQ(api_get.json["value"], "hello \"world\"\n");

  // -s and an empty string.
  ASSERT_EQ(Cli({"set", K("empty"), "-s", ""}).exit_code, 0);
  EXPECT_EQ(Cli({"get", K("empty")}).out, "\"\"\n");
}

TEST_F(CliKvTest, JsonPrintsTheServersResponse) {
  auto set = Cli({"set", K("j"), "1.50", "--json"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto reply = json::parse(set.out);
  EXPECT_EQ(reply["changed"], true);
  EXPECT_EQ(reply["revision"], Head());
  EXPECT_EQ(reply["entry"]["key"], K("j"));
  EXPECT_EQ(RawAt(set.out, "entry.value"), "1.50");

  auto get = Cli({"get", K("j"), "--json"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  auto entry = json::parse(get.out);
  EXPECT_EQ(entry["key"], K("j"));
  EXPECT_EQ(entry["version"], 1);
  EXPECT_EQ(RawAt(get.out, "value"), "1.50");
  const std::string body = api().GetKey(K("j")).body;  // as is, plus a final newline
  EXPECT_EQ(get.out, body.ends_with("\n") ? body : body + "\n");

  // --server and --json may also come before the subcommand.
  auto before = RunCommand({CHRONOCONF_BIN, "--server", server()->url(), "--json", "get", K("j")},
                           WithEnv({}));
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(json::parse(before.out)["key"], K("j"));
}

TEST_F(CliKvTest, UnchangedSetIsANoop) {
  ASSERT_EQ(Cli({"set", K("same"), "true"}).exit_code, 0);
  const int64_t head = Head();
  auto again = Cli({"set", K("same"), "true"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "unchanged " + K("same") + " (version 1, revision " + Rev(head) + ")\n");
  EXPECT_EQ(Head(), head);
}

TEST_F(CliKvTest, ExpectedVersionConflictExits4) {
  ASSERT_EQ(Cli({"set", K("c"), "1"}).exit_code, 0);
  auto stale = Cli({"set", K("c"), "2", "--expect", "5"});
  EXPECT_EQ(stale.exit_code, 4);
  EXPECT_EQ(stale.out, "");
  EXPECT_EQ(stale.err.rfind("error: version_conflict: ", 0), 0u) << stale.err;
  EXPECT_EQ(stale.err.find('\n'), stale.err.size() - 1) << "one line: " << stale.err;
  // Expectations are checked first: the same value with a stale version is a conflict.
  EXPECT_EQ(Cli({"set", K("c"), "1", "--expect", "7"}).exit_code, 4);

  auto ok = Cli({"set", K("c"), "2", "--expect", "1"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(Cli({"get", K("c")}).out, "2\n");

  // --absent: the key must not exist.
  EXPECT_EQ(Cli({"set", K("c"), "3", "--absent"}).exit_code, 4);
  EXPECT_EQ(Cli({"set", K("fresh"), "3", "--absent"}).exit_code, 0);
}

TEST_F(CliKvTest, MissingKeyExits3) {
  auto get = Cli({"get", K("nope")});
  EXPECT_EQ(get.exit_code, 3);
  EXPECT_EQ(get.out, "");
  EXPECT_EQ(get.err.rfind("error: not_found: ", 0), 0u) << get.err;
  EXPECT_EQ(Cli({"get", K("nope"), "--json"}).exit_code, 3);
  EXPECT_EQ(Cli({"delete", K("nope")}).exit_code, 3);
}

TEST_F(CliKvTest, DeleteRemovesTheKey) {
  ASSERT_EQ(Cli({"set", K("d"), "\"x\""}).exit_code, 0);
  EXPECT_EQ(Cli({"delete", K("d"), "--expect", "3"}).exit_code, 4);
  const int64_t head = Head();
  auto del = Cli({"delete", K("d"), "--expect", "1", "--reason", "cleanup"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(del.out, "deleted " + K("d") + " (revision " + Rev(head + 1) + ")\n");
  EXPECT_EQ(Cli({"get", K("d")}).exit_code, 3);
  auto events = api().Events(head, "prefix=" + Q(K("")));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ConfigDeleted");
  EXPECT_EQ(events[0]["reason"], "cleanup");

  ASSERT_EQ(Cli({"set", K("d2"), "1"}).exit_code, 0);
  auto json_del = Cli({"delete", K("d2"), "--json"});
  ASSERT_EQ(json_del.exit_code, 0) << json_del.err;
  auto reply = json::parse(json_del.out);
  EXPECT_EQ(reply["changed"], true);
  EXPECT_EQ(reply["entry"]["value"], 1);  // the entry as it was before the delete
}

TEST_F(CliKvTest, ActorAndReasonAreRecorded) {
  const int64_t head = Head();
  ASSERT_EQ(Cli({"set", K("a"), "1", "--actor", "alice", "--reason", "initial value"}).exit_code,
            0);
  auto entry = api().GetKey(K("a"));
  EXPECT_EQ(entry.json["modified_by"], "alice");
  auto events = api().Events(head, "prefix=" + Q(K("")));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["actor"], "alice");
  EXPECT_EQ(events[0]["reason"], "initial value");
}

TEST_F(CliKvTest, GetAtRevisionAndTime) {
  auto first = Cli({"set", K("t"), "\"old\"", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto first_reply = json::parse(first.out);
  const int64_t r1 = first_reply["revision"];
  const std::string t1 = first_reply["entry"]["modified_at"];
  ASSERT_EQ(Cli({"set", K("t"), "\"new\""}).exit_code, 0);

  EXPECT_EQ(Cli({"get", K("t")}).out, "\"new\"\n");
  EXPECT_EQ(Cli({"get", K("t"), "--at", Rev(r1)}).out, "\"old\"\n");
  EXPECT_EQ(Cli({"get", K("t"), "--at-time", t1}).out, "\"old\"\n");
  auto at_json = Cli({"get", K("t"), "--at", Rev(r1), "--json"});
  ASSERT_EQ(at_json.exit_code, 0) << at_json.err;
  EXPECT_EQ(json::parse(at_json.out)["version"], 1);

  // Before the key existed: not found.
  auto before = Cli({"get", K("t"), "--at", Rev(r1 - 1)});
  EXPECT_EQ(before.exit_code, 3) << before.err;
  // Above the head: a 400, so exit 1.
  auto future = Cli({"get", K("t"), "--at", Rev(Head() + 1000)});
  EXPECT_EQ(future.exit_code, 1);
  EXPECT_EQ(future.err.rfind("error: future_revision: ", 0), 0u) << future.err;
}

TEST_F(CliKvTest, OtherServerErrorsExit1) {
  auto bad_key = Cli({"set", K("a\x7f"), "1"});
  EXPECT_EQ(bad_key.exit_code, 1);
  EXPECT_EQ(bad_key.err.rfind("error: invalid_key: ", 0), 0u) << bad_key.err;
  EXPECT_EQ(Cli({"get", "bad\x01key"}).exit_code, 1);
}

TEST_F(CliKvTest, UsageErrorsExit2) {
  struct Case {
    std::vector<std::string> args;
    const char* why;
  };
  const std::vector<Case> cases = {
      {{"set", K("u")}, "set with neither JSON nor --string"},
      {{"set", K("u"), "not json"}, "invalid JSON given locally"},
      {{"set", K("u"), "{\"a\":1"}, "truncated JSON"},
      {{"set", K("u"), "1 2"}, "trailing garbage"},
      {{"set", K("u"), "1", "--string", "x"}, "both JSON and --string"},
      {{"set", K("u"), "1", "--expect", "abc"}, "--expect not a number"},
      {{"get"}, "get without KEY"},
      {{"get", K("u"), "--at", "1", "--at-time", "2026-01-01T00:00:00Z"}, "--at and --at-time"},
      {{"get", K("u"), "--at", "x"}, "--at not a number"},
      {{"get", K("u"), "--bogus"}, "unknown option"},
      {{"delete"}, "delete without KEY"},
      {{"export", "--format", "xml"}, "unknown export format"},
      {{"revert"}, "revert without REV"},
      {{"import"}, "import without FILE"},
      {{"diff"}, "diff without REV1"},
  };
  for (const Case& c : cases) {
    auto r = Cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.why << "\nstdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_FALSE(r.err.empty()) << c.why;
  }
  // Numbers out of range are named plainly, never clamped (issue 13 item 17).
  for (const char* n : {"-1", "18446744073709551616", "9223372036854775808", "1e3", "01x"}) {
    auto r = Cli({"get", K("u"), "--at", n});
    EXPECT_EQ(r.exit_code, 2) << n << ": " << r.err;
    EXPECT_NE(r.err.find("must be a whole number from 0 to 9223372036854775807"),
              std::string::npos)
        << r.err;
    EXPECT_LT(r.err.size(), 300u) << r.err;
  }
  EXPECT_EQ(Cli({"watch", "--count", "0"}).exit_code, 2);
  // An env file given to import: the message says what import reads.
  TempDir dir;
  std::ofstream(dir.File("x.env")) << "DB_HOST=x\n";
  auto env = Cli({"import", dir.File("x.env")});
  EXPECT_EQ(env.exit_code, 2) << env.err;
  EXPECT_NE(env.err.find("import reads one JSON object"), std::string::npos) << env.err;

  auto invalid = Cli({"set", K("u"), "hello"});
  EXPECT_EQ(invalid.err.rfind("error: invalid_json: ", 0), 0u) << invalid.err;
  EXPECT_NE(invalid.err.find("--string"), std::string::npos)
      << "hints at --string: " << invalid.err;

  auto https =
      RunCommand({CHRONOCONF_BIN, "get", K("u"), "--server", "https://127.0.0.1:1"}, WithEnv({}));
  EXPECT_EQ(https.exit_code, 2) << https.err;
  // Nothing was written by any of them.
  EXPECT_EQ(api().GetKey(K("u")).status, 404);
}

TEST_F(CliKvTest, UnreachableServerExits1) {
  const std::string url = "http://127.0.0.1:" + std::to_string(PickFreePort());
  for (std::vector<std::string> args : {std::vector<std::string>{"get", "a"},
                                        {"set", "a", "1"},
                                        {"delete", "a"},
                                        {"ls"},
                                        {"history", "a"},
                                        {"log"},
                                        {"diff", "0"},
                                        {"revert", "0"},
                                        {"export"},
                                        {"status"},
                                        {"watch", "--from", "0"},
                                        {"watch"}}) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(url);
    CommandOptions options;
    options.timeout = std::chrono::seconds(10);
    auto r = RunCommand(argv, WithEnv(options));
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: unreachable: ", 0), 0u) << args[0] << ": " << r.err;
    EXPECT_EQ(r.out, "") << args[0];
  }
}

TEST_F(CliKvTest, ServerFromTheEnvironment) {
  ASSERT_EQ(api().Set(K("env"), "42").status, 201);
  CommandOptions options;
  options.env["CHRONOCONF_SERVER"] = server()->url();
  options.env["CHRONOCONF_TOKEN"] = std::nullopt;
  auto r = RunCommand({CHRONOCONF_BIN, "get", K("env")}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "42\n");

  // --server wins over the environment.
  options.env["CHRONOCONF_SERVER"] = "http://127.0.0.1:" + std::to_string(PickFreePort());
  auto flag = RunCommand({CHRONOCONF_BIN, "get", K("env"), "--server", server()->url()}, options);
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  auto env_only = RunCommand({CHRONOCONF_BIN, "get", K("env")}, options);
  EXPECT_EQ(env_only.exit_code, 1) << env_only.err;
}

TEST_F(CliKvTest, NoColourWhenNotATerminal) {
  ASSERT_EQ(api().Set(K("c"), "1").status, 201);
  CommandOptions options;
  options.env["NO_COLOR"] = std::nullopt;  // stdout is a pipe: still no colour
  options.env["CHRONOCONF_TOKEN"] = std::nullopt;
  auto r = RunCommand({CHRONOCONF_BIN, "ls", K(""), "--server", server()->url()}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
}

}  // namespace
}  // namespace chronoconf::test
