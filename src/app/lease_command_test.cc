// Leases on the write path (LeaseChange, SetKey::lease) and in the read
// model: one commit per end that names the lease, the store's stream check,
// the expiry's last-moment question, and keys that never see a lease stream.
#include <gtest/gtest.h>

#include "app/command_service.h"
#include "app/verify.h"
#include "domain/system_stream.h"
#include "store/commit_hash.h"
#include "store/memory_event_store.h"

namespace chronoconf {
namespace {

class LeaseCommandTest : public ::testing::Test {
 protected:
  CommandResult Grant(int64_t id, int64_t ttl, const std::string& actor = "alice") {
    LeaseChange c;
    c.kind = LeaseChange::Kind::kGrant;
    c.id = id;
    c.ttl = ttl;
    c.meta.actor = actor;
    return service_.Execute(std::move(c));
  }
  CommandResult End(int64_t id, LeaseChange::Kind kind, std::function<bool()> still = nullptr) {
    LeaseChange c;
    c.kind = kind;
    c.id = id;
    c.meta.actor = "bob";
    c.still_expired = std::move(still);
    return service_.Execute(std::move(c));
  }
  CommandResult Put(const std::string& key, std::optional<int64_t> lease) {
    SetKey set{key, "\"v\"", std::nullopt, false};
    set.lease = lease;
    CommitMeta meta;
    meta.actor = "carol";
    return service_.Execute(Transaction{{std::move(set)}, meta});
  }

  MemoryEventStore store_;
  Projection projection_;
  CommandService service_{&store_, &projection_};
};

TEST_F(LeaseCommandTest, AnEndDeletesTheLeasesKeysInOneCommitByTheGrantorNamingTheLease) {
  ASSERT_TRUE(Grant(7, 10).status.ok());
  ASSERT_TRUE(Put("a", 7).status.ok());
  ASSERT_TRUE(Put("b", 7).status.ok());
  ASSERT_TRUE(Put("c", std::nullopt).status.ok());
  ASSERT_TRUE(Put("b", std::nullopt).status.ok());  // b leaves the lease
  ASSERT_EQ(projection_.Lease(7)->keys, (std::vector<std::string>{"a"}));
  CommandResult r = End(7, LeaseChange::Kind::kExpire, [] { return true; });
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  CommitPtr c = projection_.Commit(r.revision);
  ASSERT_EQ(c->events.size(), 2u);
  EXPECT_EQ(c->events[0].type, EventType::kLeaseExpired);
  EXPECT_EQ(c->events[0].key, LeaseStream(7));
  EXPECT_EQ(c->events[0].version, 2);
  EXPECT_EQ(c->events[1].type, EventType::kConfigDeleted);
  EXPECT_EQ(c->events[1].key, "a");
  EXPECT_EQ(c->meta.actor, "alice");
  EXPECT_EQ(*c->meta.reason, "lease 7 expired: not kept alive for its TTL of 10 s");
  EXPECT_FALSE(projection_.State("a").exists);
  EXPECT_TRUE(projection_.State("b").exists);
  EXPECT_FALSE(projection_.Lease(7));
  // Exactly once: a second expiry (another node's, or a revoke) finds none.
  EXPECT_EQ(End(7, LeaseChange::Kind::kExpire, [] { return true; }).status.code(),
            Code::kNotFound);
  EXPECT_EQ(End(7, LeaseChange::Kind::kRevoke).status.message(), "requested lease not found");
  VerifyReport report;
  EXPECT_TRUE(VerifyStore(store_, &report).ok());
}

TEST_F(LeaseCommandTest, AKeepAliveBeforeTheDecisionKeepsTheLease) {
  ASSERT_TRUE(Grant(8, 10).status.ok());
  ASSERT_TRUE(Put("k", 8).status.ok());
  const int64_t head = projection_.head();
  CommandResult r = End(8, LeaseChange::Kind::kExpire, [] { return false; });
  EXPECT_TRUE(r.status.ok());
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(projection_.head(), head);
  EXPECT_TRUE(projection_.State("k").exists);
}

TEST_F(LeaseCommandTest, PutsNeedALiveLeaseAndGrantsAFreeId) {
  EXPECT_EQ(Put("x", 9).status.message(), "requested lease not found");
  ASSERT_TRUE(Grant(9, 5).status.ok());
  EXPECT_EQ(Grant(9, 5).status.message(), "lease already exists");
  ASSERT_TRUE(Put("x", 9).status.ok());
  EXPECT_EQ(projection_.State("x").lease, 9);
  CommandResult revoked = End(9, LeaseChange::Kind::kRevoke);
  ASSERT_TRUE(revoked.status.ok());
  EXPECT_EQ(*projection_.Commit(revoked.revision)->meta.reason, "lease 9 revoked by bob");
  EXPECT_EQ(Put("y", 9).status.message(), "requested lease not found");
}

TEST_F(LeaseCommandTest, KeysNeverSeeALeasesStream) {
  ASSERT_TRUE(Grant(10, 5).status.ok());
  ASSERT_TRUE(Put("k", 10).status.ok());
  const int64_t at = projection_.head();
  int64_t count = 0;
  std::vector<KeyVersion> all = projection_.Range("", "", at, SIZE_MAX, &count);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].key, "k");
  EXPECT_EQ(all[0].lease, 10);
  EXPECT_EQ(count, 1);
  EXPECT_EQ(projection_.Snapshot("", at).size(), 1u);
  EXPECT_EQ(projection_.List("", at, "", 100).entries.size(), 1u);
  EXPECT_EQ(projection_.Stats().keys, 1);
  EXPECT_EQ(projection_.CountUnder({""}).first, 1);
}

TEST(LeaseHashTest, ALeaseIsHashedOnlyWhenPresent) {
  RecordedCommit c;
  c.revision = 1;
  c.prev_hash = kZeroHash;
  c.events.push_back({EventType::kConfigSet, "k", 1, "1", std::nullopt});
  const std::string without = CommitBytes(c);
  EXPECT_EQ(without.find("lease"), std::string::npos) << without;
  c.events[0].lease = 42;
  const std::string with = CommitBytes(c);
  EXPECT_NE(with.find(R"("previous_value":null,"lease":42})"), std::string::npos) << with;
}

}  // namespace
}  // namespace chronoconf
