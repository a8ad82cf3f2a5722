// SPEC §8: `--dry-run` on every write command of the CLI, run as the real
// binary against a real server (memory: store). A dry run prints the
// would-be commit, or the real write's refusal, and never moves the head.
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

class CliDryRunTest : public ServerTest {
 protected:
  // Runs `chronoconf ARGS --server URL` with no token, no $CHRONOCONF_SERVER
  // and NO_COLOR set; `in` is its stdin.
  CommandResult Cli(std::vector<std::string> args, std::string in = {}) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    CommandOptions options;
    options.stdin_data = std::move(in);
    options.env.emplace("CHRONOCONF_TOKEN", std::nullopt);
    options.env.emplace("CHRONOCONF_SERVER", std::nullopt);
    options.env.emplace("NO_COLOR", "1");
    return RunCommand(argv, options);
  }
  // "dry run: would commit revision H+1 (decided at H): N change(s)\n".
  static std::string WouldCommit(int64_t head, const std::string& changes) {
    return "dry run: would commit revision " + std::to_string(head + 1) + " (decided at " +
           std::to_string(head) + "): " + changes + "\n";
  }
};

TEST_F(CliDryRunTest, SetAndDeletePrintTheEventsAndWriteNothing) {
  const std::string a = K("a");
  ASSERT_EQ(Cli({"set", a, "1"}).exit_code, 0);
  const int64_t head = Head();

  auto set = Cli({"set", a, R"({"on":true})", "--dry-run", "--reason", "try"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, WouldCommit(head, "1 change") + "  ConfigSet " + a + R"( v2 {"on":true})" +
                         " (was 1)\n");
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(Cli({"get", a}).out, "1\n");

  auto same = Cli({"set", a, "1", "--dry-run"});
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.out, "dry run: nothing would change (revision " + std::to_string(head) + ")\n");

  // --json: the server's document as is.
  auto json = Cli({"set", a, "2", "--dry-run", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["dry_run"], true);
  EXPECT_EQ(doc["revision"], head + 1);
  EXPECT_EQ(doc["commit"]["events"][0]["value"], 2);
  EXPECT_EQ(doc["entries"][0]["version"], 2);

  auto del = Cli({"rm", a, "--dry-run"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(del.out.rfind(WouldCommit(head, "1 change") + "  ConfigDeleted " + a + " v", 0), 0u)
      << del.out;
  EXPECT_NE(del.out.find("(was 1)"), std::string::npos) << del.out;
  EXPECT_EQ(Head(), head);

  // A dry run refused is the real write's refusal: 409 exits 4, 404 exits 3.
  auto conflict = Cli({"set", a, "3", "--expect", "7", "--dry-run"});
  EXPECT_EQ(conflict.exit_code, 4) << conflict.err;
  EXPECT_EQ(conflict.out, "");
  EXPECT_EQ(Cli({"rm", K("missing"), "--dry-run"}).exit_code, 3);
  EXPECT_EQ(Head(), head);

  // Then the real commands do what the dry runs said.
  auto real = Cli({"set", a, R"({"on":true})"});
  EXPECT_EQ(real.out, "set " + a + " (version 2, revision " + std::to_string(head + 1) + ")\n");
  ASSERT_EQ(Cli({"rm", a}).exit_code, 0);
  EXPECT_EQ(api().GetKey(a).status, 404);
}

TEST_F(CliDryRunTest, ImportAndRevertPrintEveryEventAndWriteNothing) {
  const std::string a = K("a");
  const std::string b = K("b");
  const std::string file = R"({")" + a + R"(":1,")" + b + R"(":"x"})";
  const int64_t head = Head();

  auto import = Cli({"import", "-", "--dry-run"}, file);
  ASSERT_EQ(import.exit_code, 0) << import.err;
  EXPECT_EQ(import.out, WouldCommit(head, "2 changes") + "  ConfigSet " + a + " v1 1\n" +
                            "  ConfigSet " + b + " v1 \"x\"\n");
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(api().GetKey(a).status, 404);

  auto real = Cli({"import", "-"}, file);
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_EQ(real.out, "imported 2 changes in revision " + std::to_string(head + 1) + "\n");

  auto revert = Cli({"revert", std::to_string(head), "--prefix", prefix(), "--dry-run"});
  ASSERT_EQ(revert.exit_code, 0) << revert.err;
  EXPECT_EQ(revert.out.rfind(WouldCommit(head + 1, "2 changes"), 0), 0u) << revert.out;
  EXPECT_NE(revert.out.find("  ConfigDeleted " + a + " v"), std::string::npos) << revert.out;
  EXPECT_NE(revert.out.find("  ConfigDeleted " + b + " v"), std::string::npos) << revert.out;
  EXPECT_EQ(Head(), head + 1);
  EXPECT_EQ(api().GetKey(a).status, 200);

  auto reverted = Cli({"revert", std::to_string(head), "--prefix", prefix()});
  ASSERT_EQ(reverted.exit_code, 0) << reverted.err;
  EXPECT_EQ(api().GetKey(a).status, 404);
  auto again = Cli({"revert", std::to_string(head), "--prefix", prefix(), "--dry-run"});
  EXPECT_EQ(again.out, "dry run: nothing would change (revision " + std::to_string(head + 2) +
                           ")\n");
}

TEST_F(CliDryRunTest, SchemaCommandsAndARefusedDryRun) {
  const std::string p = K("svc/");
  const int64_t head = Head();
  auto set = Cli({"schema", "set", p, "-", "--dry-run"}, kPortSchema);
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, WouldCommit(head, "1 change") + "  SchemaSet the schema of " + p + "\n");
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(Cli({"schema", "get", p}).exit_code, 3);

  ASSERT_EQ(Cli({"schema", "set", p, "-"}, kPortSchema).exit_code, 0);

  // Refused by the schema: the failures, a non-zero exit, nothing written.
  auto bad = Cli({"set", p + "api", R"({"port":70000})", "--dry-run"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("error: schema_violation:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("  " + p + "api: /port: maximum: "), std::string::npos) << bad.err;
  auto bad_import = Cli({"import", "-", "--dry-run"}, R"({")" + p + R"(api":{}})");
  EXPECT_EQ(bad_import.exit_code, 1);
  EXPECT_NE(bad_import.err.find("error: schema_violation:"), std::string::npos) << bad_import.err;
  EXPECT_NE(bad_import.err.find("  " + p + "api: "), std::string::npos) << bad_import.err;
  EXPECT_EQ(Head(), head + 1);

  auto rm = Cli({"schema", "rm", p, "--dry-run"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, WouldCommit(head + 1, "1 change") + "  SchemaDeleted the schema of " + p + "\n");
  EXPECT_EQ(Cli({"schema", "get", p}).exit_code, 0);
  EXPECT_EQ(Head(), head + 1);
  ASSERT_EQ(Cli({"schema", "rm", p}).exit_code, 0);
  EXPECT_EQ(Cli({"schema", "get", p}).exit_code, 3);
}

}  // namespace
}  // namespace chronoconf::test
