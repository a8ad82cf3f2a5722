// The EventStore contract, written once and run against every store
// (commanded's append_events_test_case). A store is correct when it passes.
//
// A store joins by defining a StoreFactory and instantiating the suite in its
// own file, and a durable store the DurableStoreContract too:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, EventStoreContract, SqliteFactory);
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, DurableStoreContract, SqliteFactory);
#ifndef CHRONOCONF_TESTS_CONTRACT_EVENT_STORE_CONTRACT_H_
#define CHRONOCONF_TESTS_CONTRACT_EVENT_STORE_CONTRACT_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/commit_hash.h"
#include "store/event_store.h"
#include "support/require.h"
#include "store/memory_event_store.h"

namespace chronoconf {

// Two recorded commits are the same, field by field.
inline void ExpectSameCommit(const RecordedCommit& a, const RecordedCommit& b) {
  EXPECT_EQ(a.revision, b.revision);
  EXPECT_EQ(a.timestamp_us, b.timestamp_us) << a.revision;
  EXPECT_EQ(a.meta.actor, b.meta.actor) << a.revision;
  EXPECT_EQ(a.meta.reason, b.meta.reason) << a.revision;
  EXPECT_EQ(a.meta.request_id, b.meta.request_id) << a.revision;
  EXPECT_EQ(a.events, b.events) << a.revision;
  EXPECT_EQ(a.prev_hash, b.prev_hash) << a.revision;
  EXPECT_EQ(a.hash, b.hash) << a.revision;
}

// How to make (and, for durable stores, reopen) one kind of store.
class StoreFactory {
 public:
  virtual ~StoreFactory() = default;
  virtual std::unique_ptr<EventStore> Make(Clock* clock) = 0;
  // Durable stores (DurableStoreContract) only: closes and reopens the same
  // data, and opens a second, independent instance on it (another process).
  virtual std::unique_ptr<EventStore> Reopen(std::unique_ptr<EventStore>, Clock*) {
    return nullptr;
  }
  virtual std::unique_ptr<EventStore> OpenAnother(Clock*) { return nullptr; }
  // Why this store cannot be tested here (e.g. no database); empty when it can.
  virtual std::string Unavailable() { return ""; }
};

template <typename Factory>
class EventStoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    CHRONOCONF_REQUIRE(factory_.Unavailable());  // CI must run every store
    store_ = factory_.Make(&clock_);
    ASSERT_NE(store_, nullptr);
  }

  static CommitData Commit(std::vector<Event> events, std::string actor = "alice") {
    CommitData c;
    c.meta.actor = std::move(actor);
    c.events = std::move(events);
    return c;
  }
  static Event Set(std::string key, int64_t version, std::string value,
                   std::optional<std::string> prev = std::nullopt) {
    return {EventType::kConfigSet, std::move(key), version, std::move(value), std::move(prev)};
  }

  ManualClock clock_{1'700'000'000'000'000};
  Factory factory_;
  std::unique_ptr<EventStore> store_;
};

TYPED_TEST_SUITE_P(EventStoreContract);

TYPED_TEST_P(EventStoreContract, EmptyStoreIsAtRevisionZero) {
  auto head = this->store_->ReadHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->revision, 0);
  EXPECT_EQ(head->hash, kZeroHash);
  auto all = this->store_->ReadForward(0, 100);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
}

TYPED_TEST_P(EventStoreContract, AppendAssignsGapFreeRevisionsAndChainsHashes) {
  auto r1 = this->store_->Append({this->Commit({this->Set("a", 1, "1")})});
  ASSERT_TRUE(r1) << r1.status().ToString();
  auto r2 = this->store_->Append({this->Commit({this->Set("a", 2, "2", "1")}),
                                  this->Commit({this->Set("b", 1, "true")}, "bob")});
  ASSERT_TRUE(r2) << r2.status().ToString();
  auto all = this->store_->ReadForward(0, 100);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  std::string prev = kZeroHash;
  for (size_t i = 0; i < all->size(); ++i) {
    const RecordedCommit& c = (*all)[i];
    EXPECT_EQ(c.revision, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(c.prev_hash, prev);
    EXPECT_EQ(c.hash, ComputeCommitHash(c));
    prev = c.hash;
  }
  EXPECT_EQ((*all)[2].meta.actor, "bob");
  EXPECT_EQ(this->store_->ReadHead()->revision, 3);
  EXPECT_EQ(this->store_->ReadHead()->hash, prev);
}

TYPED_TEST_P(EventStoreContract, KeepsValueTextAndMetadataExactly) {
  CommitData c = this->Commit({this->Set("k", 1, R"({"b":1.50,"a":"caf\u00e9","n":12345678901234567890})"),
                               this->Set("j", 1, "null")});
  c.meta.reason = "why \"not\"\n";
  c.meta.request_id = "req-1";
  ASSERT_TRUE(this->store_->Append({c}));
  auto all = this->store_->ReadForward(0, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  const RecordedCommit& got = (*all)[0];
  EXPECT_EQ(got.events, c.events);
  EXPECT_EQ(got.meta.reason, c.meta.reason);
  EXPECT_EQ(got.meta.request_id, "req-1");
  EXPECT_EQ(got.events[1].value, "null");
}

TYPED_TEST_P(EventStoreContract, WrongVersionIsAConflictAndWritesNothing) {
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 1, "1")})}));
  // The second commit of the batch expects a stale version: the whole batch fails.
  auto r = this->store_->Append({this->Commit({this->Set("b", 1, "1")}),
                                 this->Commit({this->Set("a", 1, "9")})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_EQ(this->store_->ReadHead()->revision, 1);
  EXPECT_TRUE(this->store_->ReadStream("b")->empty());
  // A version that skips ahead is refused as well.
  EXPECT_FALSE(this->store_->Append({this->Commit({this->Set("a", 3, "3")})}));
}

TYPED_TEST_P(EventStoreContract, AReadCheckOnAKeyThatMovedIsAConflict) {
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 1, "1")})}));
  // Decided on `a` at version 0 (a transaction's check), but `a` moved.
  CommitData stale = this->Commit({this->Set("b", 1, "1")});
  stale.reads = {{"a", 0}};
  auto r = this->store_->Append({stale});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_TRUE(this->store_->ReadStream("b")->empty());
  // At the versions the keys have (0 for a key never written) it goes in.
  CommitData current = this->Commit({this->Set("b", 1, "1")});
  current.reads = {{"a", 1}, {"never", 0}};
  ASSERT_TRUE(this->store_->Append({current}));
  // A read check sees the batch's earlier commits.
  CommitData first = this->Commit({this->Set("c", 1, "1")});
  CommitData second = this->Commit({this->Set("d", 1, "1")});
  second.reads = {{"c", 1}};
  auto both = this->store_->Append({first, second});
  ASSERT_TRUE(both) << both.status().ToString();
  EXPECT_EQ(this->store_->ReadHead()->revision, 4);
}

TYPED_TEST_P(EventStoreContract, CommitTimeNeverGoesBack) {
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 1, "1")})}));
  this->clock_.Advance(-5'000'000);  // the wall clock steps back
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 2, "2", "1")})}));
  auto all = this->store_->ReadForward(0, 10);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].timestamp_us, 1'700'000'000'000'000);
  EXPECT_EQ((*all)[1].timestamp_us, (*all)[0].timestamp_us);
}

TYPED_TEST_P(EventStoreContract, ReadForwardPagesFromARevision) {
  for (int i = 1; i <= 5; ++i) {
    std::optional<std::string> prev;
    if (i > 1) prev = std::to_string(i - 1);
    ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", i, std::to_string(i), prev)})}));
  }
  auto page = this->store_->ReadForward(2, 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].revision, 3);
  EXPECT_EQ((*page)[1].revision, 4);
  EXPECT_EQ((*page)[1].events[0].value, "4");
  EXPECT_TRUE(this->store_->ReadForward(5, 10)->empty());
}

TYPED_TEST_P(EventStoreContract, ReadStreamReturnsOneKeyInVersionOrder) {
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 1, "1"), this->Set("b", 1, "1")})}));
  ASSERT_TRUE(this->store_->Append(
      {this->Commit({Event{EventType::kConfigDeleted, "a", 2, std::nullopt, "1"}})}));
  auto stream = this->store_->ReadStream("a");
  ASSERT_TRUE(stream);
  ASSERT_EQ(stream->size(), 2u);
  EXPECT_EQ((*stream)[0].revision, 1);
  EXPECT_EQ((*stream)[1].revision, 2);
  EXPECT_EQ((*stream)[1].event.type, EventType::kConfigDeleted);
  EXPECT_EQ((*stream)[1].event.value, std::nullopt);
  EXPECT_EQ((*stream)[1].event.previous_value, "1");
  EXPECT_TRUE(this->store_->ReadStream("zzz")->empty());
}

// Copies (chronoconf copy): commits recorded elsewhere are kept verbatim, and
// only as the next links of the chain.
TYPED_TEST_P(EventStoreContract, AppendRecordedKeepsCopiesVerbatim) {
  MemoryEventStore source(&this->clock_);
  CommitData second = this->Commit({this->Set("a", 2, "2", "1"), this->Set("b", 1, "[]")}, "bob");
  second.meta.reason = "r";
  second.meta.request_id = "id-2";
  ASSERT_TRUE(source.Append({this->Commit({this->Set("a", 1, "1")})}));
  this->clock_.Advance(1'234'567);
  ASSERT_TRUE(source.Append({second}));
  auto recorded = source.ReadForward(0, 10);
  ASSERT_TRUE(recorded);

  std::vector<RecordedCommit> tampered = *recorded;
  tampered[1].meta.actor = "mallory";
  EXPECT_EQ(this->store_->AppendRecorded(tampered).code(), Code::kCorruption);
  EXPECT_EQ(this->store_->AppendRecorded({(*recorded)[1]}).code(), Code::kConflict);
  EXPECT_EQ(this->store_->ReadHead()->revision, 0);

  Status s = this->store_->AppendRecorded(*recorded);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto copied = this->store_->ReadForward(0, 10);
  ASSERT_TRUE(copied);
  ASSERT_EQ(copied->size(), recorded->size());
  for (size_t i = 0; i < copied->size(); ++i) ExpectSameCommit((*copied)[i], (*recorded)[i]);
  EXPECT_EQ(this->store_->ReadHead()->hash, recorded->back().hash);
  // The copy goes on as the store's own history.
  auto next = this->store_->Append({this->Commit({this->Set("a", 3, "3", "2")})});
  ASSERT_TRUE(next) << next.status().ToString();
  EXPECT_EQ((*next)[0].revision, 3);
  EXPECT_EQ((*next)[0].prev_hash, recorded->back().hash);
}

// The etcd view's compaction floor (SPEC §7): 0 at first, it only rises,
// and a raise answers the floor as it was.
TYPED_TEST_P(EventStoreContract, TheEtcdFloorOnlyRises) {
  EXPECT_EQ(*this->store_->ReadEtcdFloor(), 0);
  EXPECT_EQ(*this->store_->RaiseEtcdFloor(5), 0);
  EXPECT_EQ(*this->store_->ReadEtcdFloor(), 5);
  EXPECT_EQ(*this->store_->RaiseEtcdFloor(3), 5);  // lower: nothing changes
  EXPECT_EQ(*this->store_->RaiseEtcdFloor(5), 5);
  EXPECT_EQ(*this->store_->ReadEtcdFloor(), 5);
  EXPECT_EQ(*this->store_->RaiseEtcdFloor(9), 5);
  EXPECT_EQ(*this->store_->ReadEtcdFloor(), 9);
}

// etcd's Status.dbSize (SPEC §7: "the store's bytes") grows with what is
// written. Values that do not compress, so that PostgreSQL's TOAST keeps
// their size.
TYPED_TEST_P(EventStoreContract, SizeBytesGrowsWithWhatIsWritten) {
  auto before = this->store_->SizeBytes();
  ASSERT_TRUE(before) << before.status().ToString();
  EXPECT_GE(*before, 0);
  uint32_t x = 12345;
  for (int i = 0; i < 50; ++i) {
    std::string text(4096, ' ');
    for (char& c : text) {
      x = x * 1103515245u + 12345u;
      c = static_cast<char>('a' + (x >> 16) % 26);
    }
    ASSERT_TRUE(this->store_->Append(
        {this->Commit({this->Set("size/" + std::to_string(i), 1, "\"" + text + "\"")})}));
  }
  auto after = this->store_->SizeBytes();
  ASSERT_TRUE(after) << after.status().ToString();
  EXPECT_GE(*after - *before, 100 * 1024) << *before << " -> " << *after;
}

// Every event type, in the stream it belongs to, is stored and read back
// as appended (a store that lists the types it accepts must list them all).
TYPED_TEST_P(EventStoreContract, StoresEveryEventType) {
  auto e = [](EventType type, std::string stream, int64_t version, std::optional<std::string> value,
              std::optional<std::string> prev = std::nullopt) {
    return Event{type, std::move(stream), version, std::move(value), std::move(prev)};
  };
  const std::string lease = "\x01lease/7", change = "\x01" "change/1";
  std::vector<CommitData> commits = {
      this->Commit({e(EventType::kConfigSet, "k", 1, "1"),
                    e(EventType::kLeaseGranted, lease, 1, R"({"id":7,"ttl":5})"),
                    e(EventType::kSchemaSet, "\x01schemas", 1, R"({"prefix":"k","schema":{}})"),
                    e(EventType::kPolicySet, "\x01policies", 1, R"({"prefix":"k","approvals":1})"),
                    e(EventType::kChangeProposed, change, 1, R"({"id":1})")}),
      this->Commit({e(EventType::kConfigDeleted, "k", 2, std::nullopt, "1"),
                    e(EventType::kLeaseRevoked, lease, 2, R"({"id":7,"ttl":5})",
                      R"({"id":7,"ttl":5})"),
                    e(EventType::kSchemaDeleted, "\x01schemas", 2, R"({"prefix":"k"})"),
                    e(EventType::kPolicyDeleted, "\x01policies", 2, R"({"prefix":"k"})"),
                    e(EventType::kChangeApproved, change, 2, R"({"id":1})")}),
      this->Commit({e(EventType::kChangeRejected, change, 3, R"({"id":1})"),
                    e(EventType::kLeaseGranted, "\x01lease/8", 1, R"({"id":8,"ttl":5})")}),
      this->Commit({e(EventType::kChangeApplied, change, 4, R"({"id":1,"approvers":[]})"),
                    e(EventType::kLeaseExpired, "\x01lease/8", 2, R"({"id":8,"ttl":5})")})};
  auto appended = this->store_->Append(commits);
  ASSERT_TRUE(appended) << appended.status().ToString();
  auto read = this->store_->ReadForward(0, 10);
  ASSERT_TRUE(read) << read.status().ToString();
  ASSERT_EQ(read->size(), commits.size());
  std::set<EventType> seen;
  for (size_t i = 0; i < commits.size(); ++i) {
    EXPECT_EQ((*read)[i].events, commits[i].events) << i;
    for (const Event& ev : (*read)[i].events) seen.insert(ev.type);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kLastEventType) + 1);
}

REGISTER_TYPED_TEST_SUITE_P(EventStoreContract, EmptyStoreIsAtRevisionZero,
                            AppendAssignsGapFreeRevisionsAndChainsHashes,
                            KeepsValueTextAndMetadataExactly,
                            WrongVersionIsAConflictAndWritesNothing,
                            AReadCheckOnAKeyThatMovedIsAConflict, CommitTimeNeverGoesBack,
                            ReadForwardPagesFromARevision, ReadStreamReturnsOneKeyInVersionOrder,
                            AppendRecordedKeepsCopiesVerbatim, TheEtcdFloorOnlyRises,
                            SizeBytesGrowsWithWhatIsWritten, StoresEveryEventType);

// What only a durable store shared by processes can promise: its data
// survives a reopen, and a second instance on the same data (another
// process or node) races the first without a gap. Instantiated for SQLite
// and PostgreSQL; a memory store is one instance in one process by nature.
template <typename Factory>
class DurableStoreContract : public EventStoreContract<Factory> {};
TYPED_TEST_SUITE_P(DurableStoreContract);

TYPED_TEST_P(DurableStoreContract, KeepsEverythingAcrossReopen) {
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 1, "1")})}));
  std::string hash = this->store_->ReadHead()->hash;
  auto reopened = this->factory_.Reopen(std::move(this->store_), &this->clock_);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->ReadHead()->revision, 1);
  EXPECT_EQ(reopened->ReadHead()->hash, hash);
  ASSERT_TRUE(reopened->Append({this->Commit({this->Set("a", 2, "2", "1")})}));
  EXPECT_EQ(reopened->ReadHead()->revision, 2);
}

// Two instances on one database (two processes, two nodes), several threads
// each, appending commits that sometimes touch the same keys. A lost race is
// a conflict, never an outage, and the history stays gap-free and chained.
TYPED_TEST_P(DurableStoreContract, TwoInstancesAppendingConcurrentlyStayConsistent) {
  std::unique_ptr<EventStore> other = this->factory_.OpenAnother(&this->clock_);
  ASSERT_NE(other, nullptr);
  EventStore* stores[] = {this->store_.get(), other.get()};
  constexpr int kThreadsPerStore = 3;
  constexpr int kAppendsPerThread = 20;

  std::mutex mu;
  std::vector<RecordedCommit> acked;  // GUARDED_BY(mu)
  std::vector<Status> failed;         // GUARDED_BY(mu)
  std::vector<std::thread> threads;
  for (int s = 0; s < 2; ++s) {
    for (int t = 0; t < kThreadsPerStore; ++t) {
      threads.emplace_back([&, s, t] {
        EventStore* store = stores[s];
        std::string actor = "w" + std::to_string(s) + "-" + std::to_string(t);
        for (int i = 0; i < kAppendsPerThread; ++i) {
          std::vector<std::string> keys = {"own/" + actor};
          if (i % 2 == 0) keys.push_back("shared/" + std::to_string(i % 3));
          CommitData c = TestFixture::Commit({}, actor);
          Status read_error;
          for (const std::string& key : keys) {
            auto stream = store->ReadStream(key);
            if (!stream) {
              read_error = stream.status();
              break;
            }
            int64_t version = stream->empty() ? 0 : stream->back().event.version;
            std::optional<std::string> prev;
            if (!stream->empty()) prev = stream->back().event.value;
            c.events.push_back(TestFixture::Set(key, version + 1, std::to_string(i), prev));
          }
          if (!read_error.ok()) {
            std::lock_guard lock(mu);
            failed.push_back(read_error);
            continue;
          }
          auto r = store->Append({c});
          std::lock_guard lock(mu);
          if (r) {
            acked.insert(acked.end(), r->begin(), r->end());
          } else {
            failed.push_back(r.status());
          }
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();

  for (const Status& s : failed) EXPECT_EQ(s.code(), Code::kConflict) << s.ToString();
  ASSERT_FALSE(acked.empty());
  auto all = this->store_->ReadForward(0, 100'000);
  ASSERT_TRUE(all) << all.status().ToString();
  // Every commit in the store was acknowledged once, and only those.
  ASSERT_EQ(all->size(), acked.size());
  std::string prev = kZeroHash;
  for (size_t i = 0; i < all->size(); ++i) {
    const RecordedCommit& c = (*all)[i];
    ASSERT_EQ(c.revision, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(c.prev_hash, prev);
    EXPECT_EQ(c.hash, ComputeCommitHash(c));
    prev = c.hash;
  }
  for (const RecordedCommit& a : acked) {
    const RecordedCommit& stored = (*all)[static_cast<size_t>(a.revision - 1)];
    EXPECT_EQ(stored.hash, a.hash) << a.revision;
    EXPECT_EQ(stored.events, a.events) << a.revision;
    EXPECT_EQ(stored.meta.actor, a.meta.actor) << a.revision;
  }
  EXPECT_EQ(other->ReadHead()->hash, prev);
  // Each shared key's versions run 1, 2, 3… with no event lost or doubled.
  for (int k = 0; k < 3; ++k) {
    auto stream = other->ReadStream("shared/" + std::to_string(k));
    ASSERT_TRUE(stream);
    for (size_t v = 0; v < stream->size(); ++v) {
      EXPECT_EQ((*stream)[v].event.version, static_cast<int64_t>(v) + 1);
    }
  }
}

// An instance that appended, then saw another instance append, appends
// after it: at worst its first try is a conflict (a store may keep the head
// its own last append left), never a fork or an outage.
TYPED_TEST_P(DurableStoreContract, AnInstanceAppendsAfterAnotherMovedTheHead) {
  std::unique_ptr<EventStore> other = this->factory_.OpenAnother(&this->clock_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 1, "1")})}));
  ASSERT_TRUE(other->Append({this->Commit({this->Set("b", 1, "1")})}));
  auto r = this->store_->Append({this->Commit({this->Set("c", 1, "1")})});
  if (!r) {
    EXPECT_EQ(r.status().code(), Code::kConflict) << r.status().ToString();
    r = this->store_->Append({this->Commit({this->Set("c", 1, "1")})});
  }
  ASSERT_TRUE(r) << r.status().ToString();
  EXPECT_EQ(r->front().revision, 3);
  auto all = other->ReadForward(0, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].prev_hash, (*all)[1].hash);
  EXPECT_EQ((*all)[2].hash, ComputeCommitHash((*all)[2]));
}

// The floor is durable and shared: a reopen and another instance (node)
// see it, and two instances raising it at once raise it in turn.
TYPED_TEST_P(DurableStoreContract, TheEtcdFloorIsDurableAndShared) {
  ASSERT_EQ(*this->store_->RaiseEtcdFloor(4), 0);
  std::unique_ptr<EventStore> other = this->factory_.OpenAnother(&this->clock_);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(*other->ReadEtcdFloor(), 4);
  std::vector<int64_t> befores(2 * 20);
  std::thread a([&] {
    for (int i = 0; i < 20; ++i) befores[2 * i] = *this->store_->RaiseEtcdFloor(10 + 2 * i);
  });
  std::thread b([&] {
    for (int i = 0; i < 20; ++i) befores[2 * i + 1] = *other->RaiseEtcdFloor(11 + 2 * i);
  });
  a.join();
  b.join();
  EXPECT_EQ(*other->ReadEtcdFloor(), 49);
  other.reset();
  auto reopened = this->factory_.Reopen(std::move(this->store_), &this->clock_);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->ReadEtcdFloor(), 49);
}

REGISTER_TYPED_TEST_SUITE_P(DurableStoreContract, KeepsEverythingAcrossReopen,
                            TwoInstancesAppendingConcurrentlyStayConsistent,
                            AnInstanceAppendsAfterAnotherMovedTheHead,
                            TheEtcdFloorIsDurableAndShared);

}  // namespace chronoconf

#endif  // CHRONOCONF_TESTS_CONTRACT_EVENT_STORE_CONTRACT_H_
