// SPEC §8 over HTTP: review policies per prefix, review_required for a
// non-admin's write, and changes proposed, reviewed and applied by other
// tokens, all in the audit log.
#include <fstream>
#include <string>

#include "common/sha256.h"
#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

class HttpReviewTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("chronoconf-review");
    std::ofstream auth(dir_->File("auth.json"));
    auth << R"({"tokens":[)";
    const char* tokens[][3] = {{"alice", "admin", ""},  {"bob", "write", ""},
                               {"carol", "write", ""},  {"erin", "write", ""},
                               {"dave", "write", "other/"}, {"rita", "read", ""},
                               {"adam", "admin", "other/"}};
    for (size_t i = 0; i < std::size(tokens); ++i) {
      auth << (i ? "," : "") << R"({"name":")" << tokens[i][0] << R"(","sha256":")"
           << Sha256Hex(std::string(tokens[i][0]) + "-token") << R"(","role":")" << tokens[i][1]
           << '"';
      if (*tokens[i][2]) auth << R"(,"prefixes":[")" << tokens[i][2] << R"("])";
      auth << "}";
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
  static Headers As(const std::string& who) {
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + who + "-token"}};
  }
  void Policy(int approvals) {
    auto r = api().Put("/v1/policies/" + K(""),
                       R"({"approvals":)" + std::to_string(approvals) + R"(,"reason":"2 eyes"})",
                       As("alice"));
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r;
  }
  // Proposes setting K(name) to `value`; returns the change id.
  int64_t Propose(const std::string& who, const std::string& name, const std::string& value) {
    auto r = api().Post("/v1/changes",
                        R"({"ops":[{"op":"set","key":")" + K(name) + R"(","value":)" + value +
                            R"(}],"reason":"raise it"})",
                        As(who));
    EXPECT_EQ(r.status, 201) << r;
    return r.json.value("id", int64_t{0});
  }
  ApiResponse Act(const std::string& who, int64_t id, const std::string& action,
                  const std::string& body = "") {
    Headers h = As(who);
    if (body.empty()) h.erase("Content-Type");
    return api().Post("/v1/changes/" + std::to_string(id) + "/" + action, body, h);
  }
  static std::unique_ptr<TempDir> dir_;
};
std::unique_ptr<TempDir> HttpReviewTest::dir_;

TEST_F(HttpReviewTest, ANonAdminWriteUnderAReviewedPrefixIsRefusedOnEveryRoute) {
  ASSERT_EQ(api().Put("/v1/kv/" + K("a"), R"({"value":1})", As("bob")).status, 201);
  Policy(1);
  const int64_t head = api().Get("/v1/status", As("bob")).json["revision"];
  auto put = api().Put("/v1/kv/" + K("a"), R"({"value":2})", As("bob"));
  EXPECT_EQ(put.status, 403) << put;
  EXPECT_EQ(put.json["error"]["code"], "review_required") << put;
  EXPECT_NE(put.json["error"]["message"].get<std::string>().find(K("")), std::string::npos);
  EXPECT_EQ(api().Delete("/v1/kv/" + K("a"), As("bob")).status, 403);
  EXPECT_EQ(api().Post("/v1/txn", R"({"ops":[{"op":"set","key":")" + K("b") + R"(","value":1}]})",
                       As("bob")).status,
            403);
  EXPECT_EQ(api().Post("/v1/import", R"({"values":{")" + K("c") + R"(":1}})", As("bob")).status,
            403);
  EXPECT_EQ(api().Post("/v1/revert", R"({"to_revision":0,"prefix":")" + K("") + R"("})",
                       As("bob")).status,
            403);
  // Nothing was written; a key outside the prefix and an admin's write go through.
  EXPECT_EQ(api().Get("/v1/status", As("bob")).json["revision"], head);
  EXPECT_EQ(api().Put("/v1/kv/" + K("x").insert(0, "free/"), R"({"value":1})", As("bob")).status,
            201);
  EXPECT_EQ(api().Put("/v1/kv/" + K("a"), R"({"value":3})", As("alice")).status, 200);
  // Approvals 0 lifts the rule; a DELETE removes the policy.
  Policy(0);
  EXPECT_EQ(api().Put("/v1/kv/" + K("a"), R"({"value":4})", As("bob")).status, 200);
  EXPECT_EQ(api().Delete("/v1/policies/" + K(""), As("bob")).status, 403);  // admin only
  EXPECT_EQ(api().Delete("/v1/policies/" + K(""), As("alice")).status, 200);
  EXPECT_EQ(api().Get("/v1/policies/" + K(""), As("bob")).status, 404);
  EXPECT_EQ(api().Delete("/v1/policies/" + K(""), As("alice")).status, 404);
}

TEST_F(HttpReviewTest, AChangeNeedsApprovalsFromOthersAndAppliesOnceNamingItsApprovers) {
  Policy(2);
  const int64_t id = Propose("bob", "limit", R"({"max":10})");
  ASSERT_GT(id, 0);
  auto own = Act("bob", id, "approve");
  EXPECT_EQ(own.status, 403) << own;  // the proposer cannot approve
  auto early = Act("bob", id, "apply");
  EXPECT_EQ(early.status, 409) << early;
  EXPECT_EQ(early.json["error"]["code"], "approvals_missing");
  EXPECT_EQ(Act("rita", id, "approve").status, 403);  // a reader reviews nothing
  auto first = Act("carol", id, "approve", R"({"reason":"looks right"})");
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_TRUE(first.json["changed"].get<bool>());
  auto again = Act("carol", id, "approve");
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_FALSE(again.json["changed"].get<bool>());  // an approval counts once
  EXPECT_EQ(Act("bob", id, "apply").status, 409);
  ASSERT_EQ(Act("erin", id, "approve").status, 200);
  // Open, with its diff, before it is applied.
  auto open = api().Get("/v1/changes?state=open", As("rita"));
  ASSERT_EQ(open.status, 200) << open;
  bool listed = false;
  for (const auto& c : open.json["changes"]) listed = listed || c["id"] == id;
  EXPECT_TRUE(listed) << open;
  auto shown = api().Get("/v1/changes/" + std::to_string(id), As("rita"));
  ASSERT_EQ(shown.status, 200) << shown;
  EXPECT_EQ(shown.json["proposer"], "bob");
  EXPECT_EQ(shown.json["approvers"], json({"carol", "erin"}));
  EXPECT_EQ(shown.json["approvals_required"], 2);
  EXPECT_TRUE(shown.json["applicable"].get<bool>());
  EXPECT_EQ(shown.json["diff"][0]["key"], K("limit"));
  EXPECT_FALSE(shown.json["diff"][0].contains("before")) << shown;  // the key is absent
  EXPECT_EQ(shown.json["diff"][0]["after"], json({{"max", 10}}));
  EXPECT_EQ(api().Get("/v1/kv/" + K("limit"), As("rita")).status, 404);  // not applied yet

  auto applied = Act("bob", id, "apply");
  ASSERT_EQ(applied.status, 200) << applied;
  const int64_t rev = applied.json["revision"];
  EXPECT_EQ(applied.json["change"]["state"], "applied");
  auto key = api().Get("/v1/kv/" + K("limit"), As("rita"));
  ASSERT_EQ(key.status, 200) << key;
  EXPECT_EQ(key.json["value"], json({{"max", 10}}));
  auto commit = api().Get("/v1/revisions/" + std::to_string(rev), As("rita"));
  ASSERT_EQ(commit.status, 200) << commit;
  const std::string reason = commit.json["reason"];
  EXPECT_NE(reason.find("change " + std::to_string(id)), std::string::npos) << reason;
  EXPECT_NE(reason.find("carol, erin"), std::string::npos) << reason;
  EXPECT_EQ(commit.json["actor"], "bob");
  ASSERT_EQ(commit.json["events"].size(), 2u) << commit;
  EXPECT_EQ(commit.json["events"][1]["type"], "ChangeApplied");
  // Once: a second apply, an approval or a rejection of a closed change is 409.
  auto twice = Act("bob", id, "apply");
  EXPECT_EQ(twice.status, 409) << twice;
  EXPECT_EQ(twice.json["error"]["code"], "change_closed");
  EXPECT_EQ(Act("alice", id, "reject").status, 409);
  // Every step is in the audit log, by its actor.
  auto events = api().Get("/v1/events?actor=carol", As("alice"));
  ASSERT_EQ(events.status, 200) << events;
  bool approved = false;
  for (const auto& e : events.json["events"]) approved = approved || e["type"] == "ChangeApproved";
  EXPECT_TRUE(approved) << events;
  auto closed = api().Get("/v1/changes?state=applied", As("rita"));
  bool found = false;
  for (const auto& c : closed.json["changes"]) found = found || c["id"] == id;
  EXPECT_TRUE(found);
}

TEST_F(HttpReviewTest, ApplyAfterAKeyMovedIsAConflictAndWritesNothing) {
  Policy(1);
  const int64_t id = Propose("bob", "mode", R"("fast")");
  ASSERT_EQ(Act("carol", id, "approve").status, 200);
  ASSERT_EQ(api().Put("/v1/kv/" + K("mode"), R"({"value":"safe"})", As("alice")).status, 201);
  auto shown = api().Get("/v1/changes/" + std::to_string(id), As("bob"));
  EXPECT_TRUE(shown.json["diff"][0]["moved"].get<bool>()) << shown;
  EXPECT_FALSE(shown.json["applicable"].get<bool>());
  auto apply = Act("bob", id, "apply");
  EXPECT_EQ(apply.status, 409) << apply;
  EXPECT_EQ(apply.json["error"]["code"], "version_conflict");
  EXPECT_EQ(apply.json["error"]["key"], K("mode")) << apply;
  EXPECT_EQ(api().Get("/v1/kv/" + K("mode"), As("bob")).json["value"], "safe");
}

TEST_F(HttpReviewTest, ARejectionClosesAChangeAndTheProposerMayWithdrawItsOwn) {
  Policy(1);
  const int64_t id = Propose("bob", "r", "1");
  auto no = Act("carol", id, "reject", R"({"reason":"not now"})");
  ASSERT_EQ(no.status, 200) << no;
  EXPECT_EQ(no.json["change"]["state"], "rejected");
  EXPECT_EQ(no.json["change"]["reviews"][0]["reason"], "not now");
  EXPECT_EQ(Act("erin", id, "approve").status, 409);
  EXPECT_EQ(Act("bob", id, "apply").status, 409);
  const int64_t mine = Propose("bob", "r", "2");
  EXPECT_EQ(Act("bob", mine, "reject").status, 200);
}

TEST_F(HttpReviewTest, AnAdminLimitedToPrefixesSetsPoliciesOnlyInsideThem) {
  auto r = api().Put("/v1/policies/" + K(""), R"({"approvals":1})", As("adam"));
  EXPECT_EQ(r.status, 403) << r;
  EXPECT_EQ(api().Put("/v1/policies/other%2F" + K(""), R"({"approvals":1})", As("adam")).status,
            201);
  EXPECT_EQ(api().Delete("/v1/policies/other%2F" + K(""), As("adam")).status, 200);
  Policy(1);
  // The policy in force again: no commit (SPEC §1's no-op).
  const int64_t head = api().Get("/v1/status", As("rita")).json["revision"];
  auto again = api().Put("/v1/policies/" + K(""), R"({"approvals":1})", As("alice"));
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.json["changed"], false);
  EXPECT_EQ(again.json["revision"], head);
  EXPECT_EQ(api().Get("/v1/status", As("rita")).json["revision"], head);
  // A read at a past revision says the head it was served from (SPEC §2).
  auto past = api().Get("/v1/policies?at_revision=1", As("rita"));
  ASSERT_EQ(past.status, 200) << past;
  EXPECT_EQ(past.json["revision"], 1);
  EXPECT_EQ(past.RevisionHeader(), head);
  EXPECT_EQ(api().Delete("/v1/policies/" + K(""), As("adam")).status, 403);
  EXPECT_EQ(api().Get("/v1/policies/" + K(""), As("rita")).status, 200);
}

TEST_F(HttpReviewTest, ChangesArePagedNewestFirstAndAnOverlongApplyReasonIsRefused) {
  Policy(1);
  const int64_t a = Propose("bob", "p1", "1");
  const int64_t b = Propose("bob", "p2", "2");
  auto page = api().Get("/v1/changes?limit=1", As("rita"));
  ASSERT_EQ(page.status, 200) << page;
  ASSERT_EQ(page.json["changes"].size(), 1u);
  EXPECT_EQ(page.json["changes"][0]["id"], b);
  ASSERT_EQ(page.json["next_before"], b) << page;
  auto next = api().Get("/v1/changes?limit=1&before=" + std::to_string(b), As("rita"));
  ASSERT_EQ(next.status, 200) << next;
  EXPECT_EQ(next.json["changes"][0]["id"], a);
  EXPECT_EQ(api().Get("/v1/changes?limit=0", As("rita")).status, 400);
  ASSERT_EQ(Act("carol", a, "approve").status, 200);
  const int64_t head = api().Get("/v1/status", As("bob")).json["revision"];
  auto longer = Act("bob", a, "apply", R"({"reason":")" + std::string(4090, 'r') + R"("})");
  EXPECT_EQ(longer.status, 400) << longer.status;
  EXPECT_EQ(api().Get("/v1/status", As("bob")).json["revision"], head);
  EXPECT_EQ(Act("bob", a, "apply", R"({"reason":"ship it"})").status, 200);
  // A state's pages skip the changes in other states.
  auto applied = api().Get("/v1/changes?state=applied&limit=1", As("rita"));
  ASSERT_EQ(applied.status, 200) << applied;
  EXPECT_EQ(applied.json["changes"][0]["id"], a);
  auto open = api().Get("/v1/changes?state=open&limit=1&before=" + std::to_string(b + 1),
                        As("rita"));
  ASSERT_EQ(open.status, 200) << open;
  ASSERT_EQ(open.json["changes"].size(), 1u);
  EXPECT_EQ(open.json["changes"][0]["id"], b);
  EXPECT_EQ(open.json["changes"][0]["state"], "open");
}

TEST_F(HttpReviewTest, ATokenReviewsOnlyChangesInsideItsPrefixes) {
  Policy(1);
  const int64_t id = Propose("bob", "s", "1");
  EXPECT_EQ(Act("dave", id, "approve").status, 403);
  EXPECT_EQ(api().Get("/v1/changes/" + std::to_string(id), As("dave")).status, 403);
  // Named: a range-for over a member of a temporary response would dangle.
  const auto listed = api().Get("/v1/changes", As("dave"));
  ASSERT_EQ(listed.status, 200) << listed;
  for (const auto& c : listed.json["changes"]) EXPECT_NE(c["id"], id);
  // dave cannot propose outside its prefixes either.
  auto r = api().Post("/v1/changes",
                      R"({"ops":[{"op":"set","key":")" + K("s") + R"(","value":2}]})", As("dave"));
  EXPECT_EQ(r.status, 403) << r;
}

TEST_F(HttpReviewTest, BadProposalsAndActionsAreClearErrorsAndADryRunWritesNothing) {
  Policy(1);
  const int64_t head = api().Get("/v1/status", As("bob")).json["revision"];
  auto dry = api().Post("/v1/changes?dry_run=true",
                        R"({"ops":[{"op":"set","key":")" + K("d") + R"(","value":1}]})", As("bob"));
  ASSERT_EQ(dry.status, 200) << dry;
  EXPECT_EQ(dry.json["commit"]["events"][0]["type"], "ChangeProposed") << dry;
  EXPECT_EQ(api().Get("/v1/status", As("bob")).json["revision"], head);
  // A change that could not commit now is refused as the write would be.
  auto stale = api().Post("/v1/changes",
                          R"({"ops":[{"op":"set","key":")" + K("d") +
                              R"(","value":1,"expected_version":7}]})",
                          As("bob"));
  EXPECT_EQ(stale.status, 409) << stale;
  EXPECT_EQ(api().Post("/v1/changes", R"({"ops":[]})", As("bob")).status, 400);
  EXPECT_EQ(api().Post("/v1/changes", R"({"opz":[]})", As("bob")).status, 400);
  EXPECT_EQ(Act("carol", 999999, "approve").status, 404);
  EXPECT_EQ(Act("carol", 1, "merge").status, 404);
  EXPECT_EQ(api().Post("/v1/changes/abc/approve", "", As("carol")).status, 404);
  EXPECT_EQ(api().Put("/v1/policies/" + K(""), R"({"approvals":-1})", As("alice")).status, 400);
  EXPECT_EQ(api().Put("/v1/policies/" + K(""), R"({"approvals":1,"x":1})", As("alice")).status,
            400);
  EXPECT_EQ(api().Get("/v1/changes?state=closed", As("bob")).status, 400);
  EXPECT_EQ(api().Get("/v1/status", As("bob")).json["revision"], head);
}

}  // namespace
}  // namespace chronoconf::test
