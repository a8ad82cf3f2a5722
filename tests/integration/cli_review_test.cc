// SPEC §8: `chronoconf policy set|get|rm` and `chronoconf change
// propose|list|show|approve|reject|apply`, run as the real binary against a
// real server with auth on (an admin, three writers): a write under a
// reviewed prefix is refused with a hint, proposed, approved by another
// token (never the proposer) and applied; dry runs write nothing.
#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

// The line of `text` that holds `needle` ("" when none).
std::string LineWith(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

class CliReviewTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("chronoconf-cli-review");
    std::ofstream auth(dir_->File("auth.json"));
    auth << R"({"tokens":[)";
    const char* tokens[][2] = {{"alice", "admin"}, {"bob", "write"}, {"carol", "write"}};
    for (size_t i = 0; i < std::size(tokens); ++i) {
      auth << (i ? "," : "") << R"({"name":")" << tokens[i][0] << R"(","sha256":")"
           << Sha256Hex(std::string(tokens[i][0]) + "-token") << R"(","role":")" << tokens[i][1]
           << R"("})";
    }
    auth << "]}";
    auth.close();
    StartSharedServer("memory:", {"--auth-file", dir_->File("auth.json")});
  }
  static void TearDownTestSuite() {
    StopSharedServer();
    dir_.reset();
  }

 protected:
  void SetUp() override {
    ASSERT_NE(server(), nullptr) << "the server does not start with --auth-file";
    ServerTest::SetUp();
  }

  // Runs `chronoconf ARGS --server URL` as `who` ($CHRONOCONF_TOKEN), with
  // NO_COLOR set; `in` is its stdin.
  CommandResult Cli(const std::string& who, std::vector<std::string> args,
                    std::optional<std::string> in = std::nullopt) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    CommandOptions options;
    options.stdin_data = std::move(in);
    options.env["CHRONOCONF_TOKEN"] = who + "-token";
    options.env["CHRONOCONF_SERVER"] = std::nullopt;
    options.env["NO_COLOR"] = "1";
    options.timeout = std::chrono::seconds(15);
    return RunCommand(argv, options);
  }
  int64_t HeadAs(const std::string& who) {
    auto r = api().Get("/v1/status", {{"Authorization", "Bearer " + who + "-token"}});
    return r.status == 200 ? r.json.value("revision", int64_t{-1}) : -1;
  }
  // Sets this test's prefix to need `n` approvals (as the admin).
  void Policy(int n) {
    auto r = Cli("alice", {"policy", "set", K(""), "--approvals", std::to_string(n)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // `change propose ARGS --json` as `who`; the new change's id (0 on failure).
  int64_t Propose(const std::string& who, std::vector<std::string> args) {
    args.insert(args.begin(), {"change", "propose"});
    args.push_back("--json");
    auto r = Cli(who, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return 0;
    return nlohmann::json::parse(r.out).value("id", int64_t{0});
  }

  static std::unique_ptr<TempDir> dir_;
};
std::unique_ptr<TempDir> CliReviewTest::dir_;

TEST_F(CliReviewTest, PolicySetGetAndRemove) {
  const std::string p = K("");
  const int64_t head = HeadAs("alice");
  auto writer = Cli("bob", {"policy", "set", p, "--approvals", "1"});
  EXPECT_EQ(writer.exit_code, 1);
  EXPECT_EQ(writer.err.rfind("error: forbidden: ", 0), 0u) << writer.err;

  auto dry = Cli("alice", {"policy", "set", p, "--approvals", "2", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("  PolicySet the review policy of " + p + "\n"), std::string::npos)
      << dry.out;
  EXPECT_EQ(HeadAs("alice"), head);

  auto set = Cli("alice", {"policy", "set", p, "--approvals", "2", "--reason", "two pairs"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "created the review policy of " + p + ": 2 approvals (revision " +
                         std::to_string(head + 1) + ")\n");
  auto again = Cli("alice", {"policy", "set", p, "--approvals", "1"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.rfind("replaced the review policy of " + p + ": 1 approval ", 0), 0u)
      << again.out;
  auto same = Cli("alice", {"policy", "set", p, "--approvals", "1"});  // a no-op
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.out.rfind("kept the review policy of " + p + ": 1 approval ", 0), 0u)
      << same.out;

  auto get = Cli("bob", {"policy", "get", p});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out.rfind("PREFIX", 0), 0u) << get.out;
  EXPECT_NE(get.out.find(p + "  1 "), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("alice"), std::string::npos) << get.out;

  auto list = Cli("bob", {"policy", "get", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  bool listed = false;
  const auto policies = nlohmann::json::parse(list.out)["policies"];  // a copy: no dangling
  for (const auto& item : policies) {
    listed = listed || (item["prefix"] == p && item["approvals"] == 1);
  }
  EXPECT_TRUE(listed) << list.out;

  auto rm = Cli("alice", {"policy", "rm", p, "--reason", "no longer"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, "deleted the review policy of " + p + " (revision " +
                        std::to_string(head + 3) + ")\n");
  EXPECT_EQ(Cli("bob", {"policy", "get", p}).exit_code, 3);
  EXPECT_EQ(Cli("alice", {"policy", "rm", p}).exit_code, 3);
  EXPECT_EQ(Cli("alice", {"policy", "set", p}).exit_code, 2);  // --approvals is required
}

TEST_F(CliReviewTest, AReviewedWriteIsProposedApprovedByAnotherTokenAndApplied) {
  const std::string key = K("limit");
  Policy(1);
  auto refused = Cli("bob", {"set", key, R"({"max":10})"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err.rfind("error: review_required: ", 0), 0u) << refused.err;
  EXPECT_NE(refused.err.find("\nhint: writes under this prefix are reviewed: propose it with "
                             "`chronoconf change propose"),
            std::string::npos)
      << refused.err;

  // A dry run of the proposal writes nothing.
  const int64_t head = HeadAs("bob");
  auto dry = Cli("bob", {"change", "propose", key + R"(={"max":10})", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out.rfind("dry run: would commit revision " + std::to_string(head + 1), 0), 0u)
      << dry.out;
  EXPECT_NE(dry.out.find("  ChangeProposed change "), std::string::npos) << dry.out;
  EXPECT_EQ(HeadAs("bob"), head);

  auto proposed =
      Cli("bob", {"change", "propose", key + R"(={"max":10})", "--reason", "raise it"});
  ASSERT_EQ(proposed.exit_code, 0) << proposed.err;
  EXPECT_EQ(proposed.out.rfind("proposed change ", 0), 0u) << proposed.out;
  const std::string id = proposed.out.substr(16, proposed.out.find(' ', 16) - 16);
  EXPECT_EQ(proposed.out, "proposed change " + id + " (revision " + std::to_string(head + 1) +
                              "): it needs 1 approval\n  + " + key +
                              " {\"max\":10}\nanother token approves it: chronoconf change "
                              "approve " + id + "\n");

  auto list = Cli("carol", {"change", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.rfind("ID", 0), 0u) << list.out;
  EXPECT_EQ(Words(LineWith(list.out, key)),
            (std::vector<std::string>{id, "open", "bob", "0/1", key, "raise", "it"}))
      << list.out;

  auto show = Cli("carol", {"change", "show", id});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.rfind("change " + id + " open: proposed by bob at revision ", 0), 0u)
      << show.out;
  EXPECT_NE(show.out.find("reason: raise it\napprovals: 0/1\ncan be applied: no, it needs 1 more "
                          "approval\n"),
            std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("  + " + key + " {\"max\":10}\n"), std::string::npos) << show.out;

  // The proposer cannot approve it; nobody applies it before its approval.
  auto own = Cli("bob", {"change", "approve", id});
  EXPECT_EQ(own.exit_code, 1);
  EXPECT_EQ(own.err.rfind("error: forbidden: ", 0), 0u) << own.err;
  auto early = Cli("bob", {"change", "apply", id});
  EXPECT_EQ(early.exit_code, 4);
  EXPECT_EQ(early.err.rfind("error: approvals_missing: ", 0), 0u) << early.err;

  auto approved = Cli("carol", {"change", "approve", id, "--reason", "looks right"});
  ASSERT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_EQ(approved.out, "approved change " + id + " (revision " + std::to_string(head + 2) +
                              "): 1/1 approvals\n");
  auto twice = Cli("carol", {"change", "approve", id});
  ASSERT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_NE(twice.out.find("already approved by you"), std::string::npos) << twice.out;

  show = Cli("bob", {"change", "show", id});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("approvals: 1/1 (carol)\ncan be applied: yes\n"), std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("reviews:\n  approved by carol at revision " +
                          std::to_string(head + 2) + ": looks right\n"),
            std::string::npos)
      << show.out;

  // A dry run of the apply writes nothing.
  auto dry_apply = Cli("bob", {"change", "apply", id, "--dry-run"});
  ASSERT_EQ(dry_apply.exit_code, 0) << dry_apply.err;
  EXPECT_NE(dry_apply.out.find("  ConfigSet " + key + " v1 {\"max\":10}\n"), std::string::npos)
      << dry_apply.out;
  EXPECT_NE(dry_apply.out.find("  ChangeApplied change " + id + "\n"), std::string::npos)
      << dry_apply.out;
  EXPECT_EQ(HeadAs("bob"), head + 2);
  EXPECT_EQ(Cli("bob", {"get", key}).exit_code, 3);

  auto applied = Cli("bob", {"change", "apply", id, "--reason", "go"});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_EQ(applied.out,
            "applied change " + id + " (revision " + std::to_string(head + 3) + ")\n");
  EXPECT_EQ(Cli("bob", {"get", key}).out, "{\"max\":10}\n");

  auto closed = Cli("carol", {"change", "apply", id});
  EXPECT_EQ(closed.exit_code, 4);
  EXPECT_EQ(closed.err.rfind("error: change_closed: ", 0), 0u) << closed.err;
  auto done = Cli("carol", {"change", "show", id});
  EXPECT_NE(done.out.find("applied at revision " + std::to_string(head + 3) +
                          " by bob\nops:\n  set " + key + " {\"max\":10}\n"),
            std::string::npos)
      << done.out;
  auto applied_list = Cli("carol", {"change", "list", "--state", "applied"});
  EXPECT_NE(applied_list.out.find(key), std::string::npos) << applied_list.out;
  auto open_list = Cli("carol", {"change", "list"});
  EXPECT_EQ(open_list.out.find(key), std::string::npos) << open_list.out;
}

TEST_F(CliReviewTest, ARejectedChangeIsClosed) {
  Policy(1);
  const int64_t id = Propose("bob", {K("a") + "=1"});
  ASSERT_GT(id, 0);
  auto rejected = Cli("carol", {"change", "reject", std::to_string(id), "--reason", "too soon"});
  ASSERT_EQ(rejected.exit_code, 0) << rejected.err;
  EXPECT_EQ(rejected.out.rfind("rejected change " + std::to_string(id) + " (revision ", 0), 0u)
      << rejected.out;
  auto apply = Cli("bob", {"change", "apply", std::to_string(id)});
  EXPECT_EQ(apply.exit_code, 4);
  EXPECT_EQ(apply.err.rfind("error: change_closed: ", 0), 0u) << apply.err;
  auto show = Cli("bob", {"change", "show", std::to_string(id)});
  EXPECT_NE(show.out.find("  rejected by carol at revision "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(": too soon\n"), std::string::npos) << show.out;
}

TEST_F(CliReviewTest, ProposeTakesAFileOrStdinAndDeletes) {
  ASSERT_EQ(Cli("bob", {"set", K("old"), "\"x\""}).exit_code, 0);
  Policy(1);
  const std::string body = R"({"ops":[{"op":"set","key":")" + K("a") +
                           R"(","value":[1,2]}],"reason":"from a file"})";
  auto proposed = Cli("bob", {"change", "propose", "--file", "-", K("b") + "=true", "--delete",
                              K("old"), "--json"},
                      body);
  ASSERT_EQ(proposed.exit_code, 0) << proposed.err;
  auto doc = nlohmann::json::parse(proposed.out);
  const auto& change = doc["change"];
  EXPECT_EQ(change["reason"], "from a file");
  ASSERT_EQ(change["diff"].size(), 3u) << proposed.out;
  EXPECT_EQ(change["diff"][0]["after"], json::array({1, 2}));
  EXPECT_EQ(change["diff"][1]["key"], K("b"));
  EXPECT_EQ(change["diff"][2]["op"], "delete");
  EXPECT_EQ(change["diff"][2]["before"], "x");
  auto show = Cli("carol", {"change", "show", std::to_string(doc["id"].get<int64_t>())});
  EXPECT_NE(show.out.find("  - " + K("old") + " \"x\"\n"), std::string::npos) << show.out;

  auto not_json = Cli("bob", {"change", "propose", K("c") + "=nope"});
  EXPECT_EQ(not_json.exit_code, 2);
  EXPECT_NE(not_json.err.find("error: invalid_json: the value of " + K("c")), std::string::npos)
      << not_json.err;
  EXPECT_EQ(Cli("bob", {"change", "propose", "novalue"}).exit_code, 2);
  EXPECT_EQ(Cli("bob", {"change", "propose"}).exit_code, 2);
  EXPECT_EQ(Cli("bob", {"change", "propose", "--file", "-"}, "{}").exit_code, 2);
  EXPECT_EQ(Cli("bob", {"change", "show", "999999"}).exit_code, 3);
  EXPECT_EQ(Cli("bob", {"change", "show", "x"}).exit_code, 2);
}

TEST_F(CliReviewTest, JsonOutputIsTheServersDocument) {
  Policy(1);
  const int64_t id = Propose("bob", {K("a") + "=1"});
  ASSERT_GT(id, 0);
  const std::string ids = std::to_string(id);
  auto list = Cli("carol", {"change", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  bool listed = false;
  const auto changes = nlohmann::json::parse(list.out)["changes"];  // a copy: no dangling
  for (const auto& c : changes) {
    listed = listed || (c["id"] == id && c["state"] == "open" && c["proposer"] == "bob");
  }
  EXPECT_TRUE(listed) << list.out;
  auto show = Cli("carol", {"change", "show", ids, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  auto doc = nlohmann::json::parse(show.out);
  EXPECT_EQ(doc["approvals_required"], 1);
  EXPECT_FALSE(doc["applicable"].get<bool>());
  EXPECT_EQ(doc["diff"][0]["key"], K("a"));

  auto own = Cli("bob", {"change", "approve", ids, "--json"});
  EXPECT_EQ(own.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(own.err)["error"]["code"], "forbidden") << own.err;
  auto approved = Cli("carol", {"change", "approve", ids, "--json"});
  ASSERT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_EQ(nlohmann::json::parse(approved.out)["change"]["approvers"], json::array({"carol"}));
  auto applied = Cli("carol", {"change", "apply", ids, "--json"});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_EQ(nlohmann::json::parse(applied.out)["change"]["state"], "applied");

  auto refused = Cli("bob", {"set", K("a"), "2", "--json"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(refused.err)["error"]["code"], "review_required")
      << refused.err;
}

}  // namespace
}  // namespace chronoconf::test
