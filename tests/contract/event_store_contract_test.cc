// The EventStore contract, written once and run against every store
// (commanded's append_events_test_case). A store is correct when it passes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "store/commit_hash.h"
#include "store/memory_event_store.h"
#include "store/sqlite_event_store.h"

namespace chronoconf {
namespace {

// How to make (and, for durable stores, reopen) one kind of store.
class StoreFactory {
 public:
  virtual ~StoreFactory() = default;
  virtual std::unique_ptr<EventStore> Make(Clock* clock) = 0;
  // Closes and reopens the same data; nullptr when the store is not durable.
  virtual std::unique_ptr<EventStore> Reopen(std::unique_ptr<EventStore> s, Clock* clock) = 0;
};

class MemoryFactory : public StoreFactory {
 public:
  std::unique_ptr<EventStore> Make(Clock* clock) override {
    return std::make_unique<MemoryEventStore>(clock);
  }
  std::unique_ptr<EventStore> Reopen(std::unique_ptr<EventStore>, Clock*) override {
    return nullptr;
  }
};

class SqliteFactory : public StoreFactory {
 public:
  SqliteFactory() {
    dir_ = std::filesystem::temp_directory_path() /
           ("cc-contract-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
  }
  ~SqliteFactory() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "events.db").string(); }
  std::unique_ptr<EventStore> Make(Clock* clock) override {
    auto s = SqliteEventStore::Open(path(), clock);
    EXPECT_TRUE(s) << s.status().ToString();
    return s ? std::move(*s) : nullptr;
  }
  std::unique_ptr<EventStore> Reopen(std::unique_ptr<EventStore> s, Clock* clock) override {
    s.reset();
    return Make(clock);
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

template <typename Factory>
class EventStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = factory_.Make(&clock_); }

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

using StoreTypes = ::testing::Types<MemoryFactory, SqliteFactory>;
TYPED_TEST_SUITE(EventStoreContract, StoreTypes);

TYPED_TEST(EventStoreContract, EmptyStoreIsAtRevisionZero) {
  auto head = this->store_->ReadHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->revision, 0);
  EXPECT_EQ(head->hash, kZeroHash);
  auto all = this->store_->ReadForward(0, 100);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
}

TYPED_TEST(EventStoreContract, AppendAssignsGapFreeRevisionsAndChainsHashes) {
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

TYPED_TEST(EventStoreContract, KeepsValueTextAndMetadataExactly) {
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

TYPED_TEST(EventStoreContract, WrongVersionIsAConflictAndWritesNothing) {
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

TYPED_TEST(EventStoreContract, CommitTimeNeverGoesBack) {
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 1, "1")})}));
  this->clock_.Advance(-5'000'000);  // the wall clock steps back
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 2, "2", "1")})}));
  auto all = this->store_->ReadForward(0, 10);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].timestamp_us, 1'700'000'000'000'000);
  EXPECT_EQ((*all)[1].timestamp_us, (*all)[0].timestamp_us);
}

TYPED_TEST(EventStoreContract, ReadForwardPagesFromARevision) {
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

TYPED_TEST(EventStoreContract, ReadStreamReturnsOneKeyInVersionOrder) {
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

TYPED_TEST(EventStoreContract, DurableStoresKeepEverythingAcrossReopen) {
  ASSERT_TRUE(this->store_->Append({this->Commit({this->Set("a", 1, "1")})}));
  std::string hash = this->store_->ReadHead()->hash;
  auto reopened = this->factory_.Reopen(std::move(this->store_), &this->clock_);
  if (!reopened) GTEST_SKIP() << "not a durable store";
  EXPECT_EQ(reopened->ReadHead()->revision, 1);
  EXPECT_EQ(reopened->ReadHead()->hash, hash);
  ASSERT_TRUE(reopened->Append({this->Commit({this->Set("a", 2, "2", "1")})}));
  EXPECT_EQ(reopened->ReadHead()->revision, 2);
}

// SQLite-specific: the database itself refuses to rewrite history.
TEST(SqliteEventStoreTest, TriggersRejectUpdateAndDelete) {
  SqliteFactory factory;
  ManualClock clock(1);
  auto store = factory.Make(&clock);
  CommitData c;
  c.events = {Event{EventType::kConfigSet, "a", 1, "1", std::nullopt}};
  ASSERT_TRUE(store->Append({c}));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(factory.path().c_str(), &db), SQLITE_OK);
  for (const char* sql : {"UPDATE events SET value = '2'", "DELETE FROM events",
                          "UPDATE commits SET actor = 'mallory'", "DELETE FROM commits"}) {
    char* err = nullptr;
    EXPECT_NE(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << sql;
    EXPECT_NE(std::string(err ? err : "").find("immutable"), std::string::npos) << sql;
    sqlite3_free(err);
  }
  sqlite3_close(db);
  EXPECT_EQ((*store->ReadStream("a"))[0].event.value, "1");
}

TEST(SqliteEventStoreTest, RefusesAStoreFromANewerBuild) {
  SqliteFactory factory;
  ManualClock clock(1);
  factory.Make(&clock).reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(factory.path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = SqliteEventStore::Open(factory.path(), &clock);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace chronoconf
