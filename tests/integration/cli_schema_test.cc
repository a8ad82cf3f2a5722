// SPEC §8: `chronoconf schema set|get|rm` run as the real binary against a
// real server (memory: store), and the schema failures a refused write
// prints (422 schema_violation, 409 schema_conflict).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

constexpr const char* kPortSchema =
    R"({"type":"object","properties":{"port":{"type":"integer","maximum":65535}},)"
    R"("required":["port"]})";

class CliSchemaTest : public ServerTest {
 protected:
  // Runs `chronoconf ARGS --server URL` with no token, no $CHRONOCONF_SERVER
  // and NO_COLOR set.
  CommandResult Cli(std::vector<std::string> args, CommandOptions options = {}) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    options.env.emplace("CHRONOCONF_TOKEN", std::nullopt);
    options.env.emplace("CHRONOCONF_SERVER", std::nullopt);
    options.env.emplace("NO_COLOR", "1");
    return RunCommand(argv, options);
  }
  CommandResult SetFromStdin(std::vector<std::string> args, std::string schema) {
    CommandOptions options;
    options.stdin_data = std::move(schema);
    return Cli(std::move(args), std::move(options));
  }
};

TEST_F(CliSchemaTest, SetGetListAndRemove) {
  const std::string p = K("svc/");
  const int64_t head = Head();
  auto set = SetFromStdin({"schema", "set", p, "-", "--reason", "ports are numbers"}, kPortSchema);
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out,
            "created the schema of " + p + " (revision " + std::to_string(head + 1) + ")\n");

  auto again = SetFromStdin({"schema", "set", p, "-"}, kPortSchema);  // a no-op
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "kept the schema of " + p + " (revision " + std::to_string(head + 1) +
                           ")\n");
  auto other = SetFromStdin({"schema", "set", p, "-"}, R"({"type":"object"})");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(other.out.rfind("replaced the schema of " + p, 0), 0u) << other.out;

  auto get = Cli({"schema", "get", p});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(nlohmann::json::parse(get.out), nlohmann::json::parse(R"({"type":"object"})"));

  auto list = Cli({"schema", "get"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.rfind("PREFIX", 0), 0u) << list.out;
  EXPECT_NE(list.out.find(p + "  " + std::to_string(head + 2)), std::string::npos) << list.out;

  // As at the revision before the first set, the prefix had no schema.
  auto before = Cli({"schema", "get", p, "--at-revision", std::to_string(head)});
  EXPECT_EQ(before.exit_code, 3);
  EXPECT_NE(before.err.find("error: not_found:"), std::string::npos) << before.err;

  auto json = Cli({"schema", "get", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  bool listed = false;
  for (const auto& s : doc["schemas"]) listed = listed || s["prefix"] == p;
  EXPECT_TRUE(listed) << json.out;

  auto rm = Cli({"schema", "rm", p, "--reason", "no longer"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out,
            "deleted the schema of " + p + " (revision " + std::to_string(head + 3) + ")\n");
  EXPECT_EQ(Cli({"schema", "get", p}).exit_code, 3);
}

TEST_F(CliSchemaTest, AViolatingSetPrintsEachFailure) {
  const std::string p = K("svc/");
  ASSERT_EQ(SetFromStdin({"schema", "set", p, "-"}, kPortSchema).exit_code, 0);
  auto bad = Cli({"set", p + "api", R"({"port":70000})"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("error: schema_violation:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("  " + p + "api: /port: maximum: "), std::string::npos) << bad.err;
  EXPECT_EQ(api().GetKey(p + "api").status, 404);  // nothing written

  // --json: the server's error document, failures included.
  auto bad_json = Cli({"set", p + "api", "{}", "--json"});
  EXPECT_EQ(bad_json.exit_code, 1);
  auto err = nlohmann::json::parse(bad_json.err);
  EXPECT_EQ(err["error"]["code"], "schema_violation");
  EXPECT_EQ(err["error"]["failures"][0]["rule"], "required");

  ASSERT_EQ(Cli({"set", p + "api", R"({"port":8080})"}).exit_code, 0);
}

TEST_F(CliSchemaTest, AConflictingSchemaIsRefusedUnlessForced) {
  const std::string p = K("svc/");
  ASSERT_EQ(Cli({"set", p + "old", R"({"port":"eighty"})"}).exit_code, 0);
  auto refused = SetFromStdin({"schema", "set", p, "-"}, kPortSchema);
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_NE(refused.err.find("error: schema_conflict:"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("  " + p + "old: /port: type: "), std::string::npos) << refused.err;

  auto forced = SetFromStdin({"schema", "set", p, "-", "--force"}, kPortSchema);
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
}

TEST_F(CliSchemaTest, UsageErrors) {
  auto not_json = SetFromStdin({"schema", "set", K("x/"), "-"}, "{nope");
  EXPECT_EQ(not_json.exit_code, 2);
  EXPECT_NE(not_json.err.find("error: invalid_json: the schema in stdin is not JSON"),
            std::string::npos)
      << not_json.err;
  auto missing = Cli({"schema", "set", K("x/"), "/nonexistent/schema.json"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read /nonexistent/schema.json"), std::string::npos);
  // Not a schema: the server's 400, exit 1.
  auto invalid = SetFromStdin({"schema", "set", K("x/"), "-"}, R"({"type":12})");
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.err.find("error: invalid_request:"), std::string::npos) << invalid.err;
  EXPECT_EQ(Cli({"schema"}).exit_code, 2);
}

}  // namespace
}  // namespace chronoconf::test
