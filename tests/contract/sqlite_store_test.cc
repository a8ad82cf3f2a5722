// The store contract against SqliteEventStore, plus what only SQLite has.
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "event_store_contract.h"
#include "store/sqlite_event_store.h"

namespace chronoconf {
namespace {

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
  // Two SqliteEventStore on one file: what two processes would do.
  std::unique_ptr<EventStore> OpenAnother(Clock* clock) override { return Make(clock); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, EventStoreContract, SqliteFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, DurableStoreContract, SqliteFactory);

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

// Issue 5 defect 8: a stored time that did not parse became 0, and an
// unknown event type became ConfigSet. Both are corruption now.
TEST(SqliteEventStoreTest, DamagedRowsAreCorruptionNotGuesses) {
  for (const char* sql :
       {"INSERT INTO commits VALUES (1, 'yesterday', 'x', NULL, NULL, '0', 'h')",
        "INSERT INTO commits VALUES (1, '2026-01-01T00:00:00.000000Z', 'x', NULL, NULL, '0', 'h');"
        "PRAGMA ignore_check_constraints = ON;"
        "INSERT INTO events VALUES (1, 0, 'a', 1, 'ConfigMoved', '1', NULL)"}) {
    SqliteFactory factory;
    ManualClock clock(1);
    factory.Make(&clock).reset();  // the schema
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(factory.path().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
    auto store = factory.Make(&clock);
    auto read = store->ReadForward(0, 10);
    ASSERT_FALSE(read) << sql;
    EXPECT_EQ(read.status().code(), Code::kCorruption) << read.status().ToString();
  }
}

// Issue 13 item 16: an events row whose revision has no commits row was
// attached to the next commit (PostgreSQL reported it). One rule for every
// store: an event without its commit is corruption.
TEST(SqliteEventStoreTest, AnEventWithoutItsCommitIsCorruption) {
  SqliteFactory factory;
  ManualClock clock(1);
  {
    auto store = factory.Make(&clock);
    CommitData c;
    c.events = {Event{EventType::kConfigSet, "a", 1, "1", std::nullopt}};
    ASSERT_TRUE(store->Append({c}));
  }
  // Planted behind the store's back (this connection leaves foreign keys
  // off, SQLite's default): an event of revision 2, which has no commit,
  // and a commit 3 after it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(factory.path().c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO events VALUES (2, 0, 'orphan', 1, 'ConfigSet', '7', NULL);"
                         "INSERT INTO commits VALUES (3, '2026-01-01T00:00:00.000000Z', 'x', NULL,"
                         " NULL, 'p', 'h');"
                         "INSERT INTO events VALUES (3, 0, 'b', 1, 'ConfigSet', '1', NULL);",
                         nullptr, nullptr, &err),
            SQLITE_OK)
      << (err ? err : "");
  sqlite3_close(db);
  auto store = factory.Make(&clock);
  auto read = store->ReadForward(0, 10);
  ASSERT_FALSE(read) << "commit 3 came back with " << (*read)[1].events.size() << " events";
  EXPECT_EQ(read.status().code(), Code::kCorruption) << read.status().ToString();
  EXPECT_NE(read.status().message().find("2"), std::string::npos) << read.status().ToString();
}

}  // namespace
}  // namespace chronoconf
