// Reviews in the write path (SPEC §8), without HTTP: review_required is
// decided against the policies with the write, a change applies once with
// its approvals, every step is an event the chain verifies, and the read
// model rebuilt from the store (or a snapshot) holds the same changes.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "app/command_service.h"
#include "app/verify.h"
#include "domain/review_change.h"
#include "domain/system_stream.h"
#include "store/memory_event_store.h"

namespace chronoconf {
namespace {

CommitMeta As(const std::string& actor, bool needs_review = true) {
  CommitMeta meta;
  meta.actor = actor;
  meta.needs_review = needs_review;
  return meta;
}

class ReviewCommandTest : public ::testing::Test {
 protected:
  CommandResult Run(Command command) { return service_.Execute(std::move(command)); }
  CommandResult Put(const std::string& key, const std::string& value, CommitMeta meta) {
    return Run(Transaction{{SetKey{key, value, std::nullopt, false}}, std::move(meta)});
  }
  int64_t Propose(const std::string& actor, const std::string& key, const std::string& value) {
    CommandResult r = Run(ProposeChange{Transaction{{SetKey{key, value, std::nullopt, false}},
                                                    As(actor)}});
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    CommitPtr c = projection_.Commit(r.revision);
    return c ? ChangeIdOf(c->events.front().key).value_or(0) : 0;
  }

  MemoryEventStore store_;
  Projection projection_;
  CommandService service_{&store_, &projection_};
};

TEST_F(ReviewCommandTest, AReviewedPrefixRefusesAWriterButNotAnAdminOrAnInternalWrite) {
  CommandResult set = Run(PolicyChange{"pay/", 1, As("alice", false)});
  ASSERT_TRUE(set.status.ok());
  CommandResult same = Run(PolicyChange{"pay/", 1, As("alice", false)});  // a no-op
  ASSERT_TRUE(same.status.ok());
  EXPECT_FALSE(same.changed);
  EXPECT_EQ(same.revision, set.revision);
  CommandResult refused = Put("pay/a", "1", As("bob"));
  EXPECT_EQ(refused.status.code(), Code::kReviewRequired) << refused.status.ToString();
  EXPECT_TRUE(Put("other/a", "1", As("bob")).status.ok());
  EXPECT_TRUE(Put("pay/a", "1", As("alice", false)).status.ok());
  // A policy covers its prefix only, and a deleted one nothing.
  ASSERT_TRUE(Run(PolicyChange{"pay/", std::nullopt, As("alice", false)}).status.ok());
  EXPECT_TRUE(Put("pay/a", "2", As("bob")).status.ok());
  EXPECT_EQ(Run(PolicyChange{"pay/", std::nullopt, As("alice", false)}).status.code(),
            Code::kNotFound);
}

TEST_F(ReviewCommandTest, AChangeAppliesOnceWithItsApprovalsAndTheChainVerifies) {
  EXPECT_EQ(ChangeStream(12), std::string("\x01") + "change/12");
  EXPECT_EQ(ChangeIdOf(ChangeStream(12)), 12);
  ASSERT_TRUE(Run(PolicyChange{"pay/", 2, As("alice", false)}).status.ok());
  const int64_t id = Propose("bob", "pay/limit", "10");
  ASSERT_EQ(id, 1);
  EXPECT_EQ(Propose("bob", "pay/other", "1"), 2);  // ids count up
  EXPECT_EQ(Run(ReviewChange{id, true, As("bob")}).status.code(), Code::kForbidden);
  ASSERT_TRUE(Run(ReviewChange{id, true, As("carol")}).status.ok());
  EXPECT_EQ(Run(ApplyChange{id, As("bob")}).status.code(), Code::kApprovalsMissing);
  ASSERT_TRUE(Run(ReviewChange{id, true, As("erin")}).status.ok());
  CommandResult applied = Run(ApplyChange{id, As("bob")});
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  EXPECT_EQ(projection_.Get("pay/limit")->value(), "10");
  CommitPtr c = projection_.Commit(applied.revision);
  ASSERT_EQ(c->events.size(), 2u);
  EXPECT_EQ(c->events[1].type, EventType::kChangeApplied);
  EXPECT_NE(c->meta.reason->find("carol, erin"), std::string::npos) << *c->meta.reason;
  EXPECT_EQ(Run(ApplyChange{id, As("bob")}).status.code(), Code::kChangeClosed);
  EXPECT_EQ(projection_.Change(id)->state, ChangeRecord::State::kApplied);
  VerifyReport report;
  Status verified = VerifyStore(store_, &report);
  EXPECT_TRUE(verified.ok()) << verified.ToString();

  // A read model rebuilt from the store (and one from a snapshot of it)
  // holds the same changes and policies.
  Projection rebuilt;
  auto commits = store_.ReadForward(0, 1000);
  ASSERT_TRUE(commits.ok());
  ASSERT_TRUE(rebuilt.Apply(*commits).ok());
  EXPECT_EQ(rebuilt.Change(id)->state, ChangeRecord::State::kApplied);
  EXPECT_EQ(rebuilt.Change(2)->state, ChangeRecord::State::kOpen);
  EXPECT_EQ(rebuilt.Change(id)->Approvers(), (std::vector<std::string>{"carol", "erin"}));
  ASSERT_EQ(rebuilt.Policies(rebuilt.head()).size(), 1u);
  Projection loaded;
  const std::string bytes = projection_.SerializeSnapshot("k");
  const std::string path = ::testing::TempDir() + "/review_snapshot";
  { std::ofstream(path, std::ios::binary) << bytes; }
  ASSERT_TRUE(loaded.LoadSnapshot(path, "k", [](int64_t, const std::string&) {
    return Status::OK();
  }).ok());
  EXPECT_EQ(loaded.Change(id)->Approvers(), (std::vector<std::string>{"carol", "erin"}));
  EXPECT_EQ(loaded.NextChangeId(), 3);
}

TEST_F(ReviewCommandTest, ApplyChecksThatNoKeyMovedSinceTheProposal) {
  ASSERT_TRUE(Run(PolicyChange{"pay/", 1, As("alice", false)}).status.ok());
  const int64_t id = Propose("bob", "pay/mode", "\"fast\"");
  ASSERT_TRUE(Run(ReviewChange{id, true, As("carol")}).status.ok());
  ASSERT_TRUE(Put("pay/mode", "\"safe\"", As("alice", false)).status.ok());
  const int64_t head = projection_.head();
  CommandResult r = Run(ApplyChange{id, As("bob")});
  ASSERT_EQ(r.status.code(), Code::kConflict) << r.status.ToString();
  EXPECT_EQ(r.status.conflict()->key, "pay/mode");
  EXPECT_EQ(projection_.head(), head);
}

// verify proves the reviews: a chain where a proposer approved its own
// change (appended around the committer) is refused, naming the change.
TEST_F(ReviewCommandTest, VerifyRefusesAChainWhereAProposerApprovedItsOwnChange) {
  const int64_t id = Propose("bob", "pay/x", "1");
  KeyState stream = projection_.State(ChangeStream(id));
  CommitData forged;
  forged.meta.actor = "bob";
  forged.events.push_back(Event{EventType::kChangeApproved, ChangeStream(id), stream.version + 1,
                                ChangeReviewPayload(id), stream.value});
  ASSERT_TRUE(store_.Append({forged}).ok());
  VerifyReport report;
  Status verified = VerifyStore(store_, &report);
  EXPECT_EQ(verified.code(), Code::kCorruption) << verified.ToString();
  EXPECT_NE(verified.message().find("approved by its proposer"), std::string::npos)
      << verified.ToString();
}

// A policy set while non-admin writers keep writing under its prefix: no
// write decided after the policy committed lands.
TEST_F(ReviewCommandTest, APolicySetWhileWritesAreInFlightLetsNoneLandAfterIt) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> policy_revision{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        Put("pay/k" + std::to_string(t), std::to_string(i), As("bob")).status.IgnoreError();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CommandResult set = Run(PolicyChange{"pay/", 1, As("alice", false)});
  ASSERT_TRUE(set.status.ok());
  policy_revision = set.revision;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& w : writers) w.join();
  for (const std::string key : {"pay/k0", "pay/k1", "pay/k2", "pay/k3"}) {
    auto v = projection_.Get(key);
    ASSERT_TRUE(v.ok());
    EXPECT_LT(v->revision, policy_revision.load()) << key;
  }
}

}  // namespace
}  // namespace chronoconf
