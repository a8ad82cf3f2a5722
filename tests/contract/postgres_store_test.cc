// The store contract against PostgresEventStore, plus what only PostgreSQL
// has. The server comes from CHRONOCONF_TEST_PG_URL (scripts/pg-test-cluster.sh
// start); each test gets a database of its own, dropped afterwards.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <fmt/format.h>

#include "event_store_contract.h"
#include "store/pg_connection.h"
#include "store/postgres_event_store.h"

namespace chronoconf {
namespace {

// `url` with its database name replaced by `db`.
std::string WithDatabase(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return url + "/" + db;
  size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

class PostgresFactory : public StoreFactory {
 public:
  PostgresFactory() {
    const char* base = std::getenv("CHRONOCONF_TEST_PG_URL");
    if (base == nullptr || *base == '\0') {
      why_ = "CHRONOCONF_TEST_PG_URL is not set; run `scripts/pg-test-cluster.sh start` and "
             "export the URL it prints (scripts/test.sh does both)";
      return;
    }
    base_ = base;
    name_ = fmt::format("cc_test_{}_{}", getpid(), counter_++);
    if (Status s = Admin("CREATE DATABASE " + name_); !s.ok()) {
      why_ = "cannot create a test database: " + s.ToString();
      return;
    }
    url_ = WithDatabase(base_, name_);
  }
  ~PostgresFactory() override {
    if (!url_.empty()) {
      // Best effort: a leftover test database is harmless in a throwaway cluster.
      Status s = Admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      if (!s.ok()) ADD_FAILURE() << s.ToString();
    }
  }
  const std::string& url() const { return url_; }

  std::unique_ptr<EventStore> Make(Clock* clock) override {
    auto s = PostgresEventStore::Open(url_, clock);
    EXPECT_TRUE(s) << s.status().ToString();
    return s ? std::move(*s) : nullptr;
  }
  std::unique_ptr<EventStore> Reopen(std::unique_ptr<EventStore> s, Clock* clock) override {
    s.reset();
    return Make(clock);
  }
  // Another node on the same database.
  std::unique_ptr<EventStore> OpenAnother(Clock* clock) override { return Make(clock); }
  std::string Unavailable() override { return why_; }

  // Runs `sql` on the maintenance database.
  Status Admin(const std::string& sql) { return Run(base_, sql); }
  // Runs `sql` on the test database, outside the store.
  Status Sql(const std::string& sql) { return Run(url_, sql); }
  Result<pg::PgResult> Query(const std::string& sql) {
    pg::Connection conn(url_);
    if (Status s = conn.Ensure(); !s.ok()) return s;
    return conn.Exec("test query", sql.c_str());
  }

 private:
  static Status Run(const std::string& url, const std::string& sql) {
    pg::Connection conn(url);
    if (Status s = conn.Ensure(); !s.ok()) return s;
    auto r = conn.Exec("test sql", sql.c_str());
    return r ? Status::OK() : r.status();
  }

  static inline int counter_ = 0;
  std::string base_, name_, url_, why_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, EventStoreContract, PostgresFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, DurableStoreContract, PostgresFactory);

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHRONOCONF_REQUIRE(factory_.Unavailable());
  }
  std::unique_ptr<PostgresEventStore> Open() {
    auto s = PostgresEventStore::Open(factory_.url(), &clock_);
    EXPECT_TRUE(s) << s.status().ToString();
    return s ? std::move(*s) : nullptr;
  }
  static CommitData SetA(int64_t version) {
    CommitData c;
    c.events = {Event{EventType::kConfigSet, "a", version, std::to_string(version),
                      version > 1 ? std::optional(std::to_string(version - 1)) : std::nullopt}};
    return c;
  }

  ManualClock clock_{1'700'000'000'000'000};
  PostgresFactory factory_;
};

TEST_F(PostgresStoreTest, TriggersRejectUpdateDeleteAndTruncate) {
  auto store = Open();
  ASSERT_TRUE(store->Append({SetA(1)}));
  for (const char* sql : {"UPDATE events SET value = '2'", "DELETE FROM events", "TRUNCATE events",
                          "UPDATE commits SET actor = 'mallory'", "DELETE FROM commits",
                          "TRUNCATE commits CASCADE"}) {
    Status s = factory_.Sql(sql);
    EXPECT_FALSE(s.ok()) << sql;
    EXPECT_NE(s.message().find("immutable"), std::string::npos) << sql << ": " << s.ToString();
  }
  EXPECT_EQ((*store->ReadStream("a"))[0].event.value, "1");
}

TEST_F(PostgresStoreTest, StoresTheSameTextAsSqlite) {
  auto store = Open();
  auto r = store->Append({SetA(1)});
  ASSERT_TRUE(r);
  auto q = factory_.Query("SELECT committed_at, prev_hash, hash, type FROM commits JOIN events"
                          " USING (revision)");
  ASSERT_TRUE(q) << q.status().ToString();
  ASSERT_EQ(q->rows(), 1);
  EXPECT_EQ(q->Text(0, 0), "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(q->Text(0, 1), kZeroHash);
  EXPECT_EQ(q->Text(0, 2), (*r)[0].hash);
  EXPECT_EQ(q->Text(0, 3), "ConfigSet");
}

// etcd's MemberList (SPEC §7): every node sharing the database announces
// itself; a node that stopped announcing drops out after the ttl, one that
// leaves at once.
TEST_F(PostgresStoreTest, NodesAnnounceThemselvesAndDropOutWhenSilentOrGone) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a->Announce({"node-a", "http://127.0.0.1:2379", "http://127.0.0.1:7700"}).ok());
  ASSERT_TRUE(b->Announce({"node-b", "http://127.0.0.1:2380", "http://127.0.0.1:7701"}).ok());
  // Again: one row, the new URLs.
  ASSERT_TRUE(b->Announce({"node-b", "http://127.0.0.1:2381", "http://127.0.0.1:7702"}).ok());
  auto live = a->LiveMembers(std::chrono::seconds(5));
  ASSERT_TRUE(live) << live.status().ToString();
  EXPECT_EQ(*live, (std::vector<MemberRecord>{
                       {"node-a", "http://127.0.0.1:2379", "http://127.0.0.1:7700"},
                       {"node-b", "http://127.0.0.1:2381", "http://127.0.0.1:7702"}}));
  ASSERT_TRUE(b->Leave("node-b").ok());
  EXPECT_EQ(a->LiveMembers(std::chrono::seconds(5))->size(), 1u);
  ASSERT_TRUE(factory_.Sql("UPDATE etcd_members SET announced_at = now() - interval '1 minute'")
                  .ok());
  EXPECT_TRUE(a->LiveMembers(std::chrono::seconds(5))->empty());  // silent: dead
}

TEST_F(PostgresStoreTest, RefusesAStoreFromANewerBuild) {
  Open().reset();
  ASSERT_TRUE(factory_.Sql("UPDATE schema_version SET version = 99").ok());
  auto s = PostgresEventStore::Open(factory_.url(), &clock_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  EXPECT_NE(s.status().message().find("newer"), std::string::npos);
}

TEST_F(PostgresStoreTest, NodesStartingTogetherMigrateOnce) {
  std::atomic<int> ok = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto s = PostgresEventStore::Open(factory_.url(), &clock_);
      EXPECT_TRUE(s) << s.status().ToString();
      if (s) ok.fetch_add(1);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  auto q = factory_.Query("SELECT version FROM schema_version");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->rows(), 1);
  EXPECT_EQ(q->Int(0, 0), PostgresEventStore::kSchemaVersion);
}

TEST_F(PostgresStoreTest, UnparsableStoredTimeIsCorruption) {
  auto store = Open();
  // INSERT is allowed (only rewriting is not): plant a damaged commit.
  ASSERT_TRUE(factory_.Sql("INSERT INTO commits VALUES (1, 'yesterday', 'x', NULL, NULL, '" +
                           kZeroHash + "', 'h')")
                  .ok());
  EXPECT_EQ(store->ReadHead().status().code(), Code::kCorruption);
  EXPECT_EQ(store->ReadForward(0, 10).status().code(), Code::kCorruption);
  EXPECT_EQ(store->Append({SetA(1)}).status().code(), Code::kCorruption);
}

// The same rule as SQLite's (sqlite_store_test.cc): an event without its
// commit is corruption. Planted with the foreign key's trigger switched off.
TEST_F(PostgresStoreTest, AnEventWithoutItsCommitIsCorruption) {
  auto store = Open();
  ASSERT_TRUE(store->Append({SetA(1)}));
  ASSERT_TRUE(factory_.Sql("SET session_replication_role = replica;"
                           "INSERT INTO events VALUES (2, 0, 'orphan', 1, 'ConfigSet', '7', NULL, NULL);"
                           "INSERT INTO commits VALUES (3, '2026-01-01T00:00:00.000000Z', 'x',"
                           " NULL, NULL, 'p', 'h');"
                           "INSERT INTO events VALUES (3, 0, 'b', 1, 'ConfigSet', '1', NULL, NULL);")
                  .ok());
  auto read = store->ReadForward(0, 10);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.status().code(), Code::kCorruption) << read.status().ToString();
}

TEST_F(PostgresStoreTest, NulCharacterIsRefusedAndNothingWritten) {
  auto store = Open();
  CommitData c = SetA(1);
  c.meta.reason = std::string("a\0b", 3);
  EXPECT_EQ(store->Append({c}).status().code(), Code::kInvalidRequest);
  EXPECT_EQ(store->ReadHead()->revision, 0);
}

TEST_F(PostgresStoreTest, ReconnectsAfterTheServerDropsTheConnection) {
  auto store = Open();
  ASSERT_TRUE(store->Append({SetA(1)}));
  ASSERT_TRUE(store->ReadHead());
  auto kill = [&] {
    return factory_.Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname ="
                        " current_database() AND pid <> pg_backend_pid()");
  };
  ASSERT_TRUE(kill().ok());
  // Reads are retried once on a fresh connection, so they never notice.
  auto head = store->ReadHead();
  ASSERT_TRUE(head) << head.status().ToString();
  EXPECT_EQ(head->revision, 1);
  ASSERT_TRUE(kill().ok());
  // An append is not retried (its outcome could be unknown): the first one
  // after the drop may fail as an outage, and the next one reconnects.
  auto r = store->Append({SetA(2)});
  if (!r) {
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
    // Nothing half written; the next call reconnects.
    auto after = store->ReadHead();
    ASSERT_TRUE(after) << after.status().ToString();
    EXPECT_EQ(after->revision, 1);
    r = store->Append({SetA(2)});
  }
  ASSERT_TRUE(r) << r.status().ToString();
  EXPECT_EQ((*r)[0].revision, 2);
}

// SQL that makes every COMMIT of a commits row take `seconds` on the server
// (a deferred trigger runs at COMMIT): the client gives up first.
std::string SlowCommitSql(int seconds) {
  return fmt::format(
      "CREATE FUNCTION cc_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$"
      " BEGIN PERFORM pg_sleep({}); RETURN NULL; END $$;"
      "CREATE CONSTRAINT TRIGGER cc_slow_commit AFTER INSERT ON commits"
      " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cc_slow_commit();",
      seconds);
}

// Issue 13 item 9, SPEC §6: a COMMIT whose answer does not come is given up
// within the bound, and reported as an unknown outcome (it may land), not as
// "nothing was written".
TEST_F(PostgresStoreTest, ACommitWhoseAnswerIsLostHasAnUnknownOutcome) {
  auto store = Open();
  ASSERT_TRUE(store->Append({SetA(1)}));
  ASSERT_TRUE(factory_.Sql(SlowCommitSql(12)).ok());
  const auto start = std::chrono::steady_clock::now();
  auto r = store->Append({SetA(2)});
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kOutcomeUnknown) << r.status().ToString();
  EXPECT_LT(waited, pg::kResponseTimeout + std::chrono::seconds(2));
  // It did land, once the server finished: the caller must read to know.
  int64_t head = 0;
  for (int i = 0; i < 100 && head < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto h = store->ReadHead();
    if (h) head = h->revision;
  }
  EXPECT_EQ(head, 2);
}

// A lock held by another session: the append fails cleanly (the server
// rolls it back) within the lock timeout, and nothing is written.
TEST_F(PostgresStoreTest, AHeldTableLockFailsTheAppendInTime) {
  auto store = Open();
  ASSERT_TRUE(store->Append({SetA(1)}));
  // The lock is held until `release` is set, or 20 s at most (so that a
  // store that waits for ever makes this test fail, not hang).
  std::promise<void> locked, release;
  std::thread holder([&] {
    pg::Connection locker(factory_.url());
    EXPECT_TRUE(locker.Ensure().ok());
    EXPECT_TRUE(locker.Exec("lock", "BEGIN; LOCK TABLE commits IN ACCESS EXCLUSIVE MODE"));
    locked.set_value();
    release.get_future().wait_for(std::chrono::seconds(20));
    EXPECT_TRUE(locker.Exec("unlock", "ROLLBACK"));
  });
  locked.get_future().wait();
  const auto start = std::chrono::steady_clock::now();
  auto r = store->Append({SetA(2)});
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_LT(waited, pg::kLockTimeout + std::chrono::seconds(2));
  EXPECT_FALSE(store->ReadHead()) << "a read behind the lock must fail in time too";
  release.set_value();
  holder.join();
  EXPECT_EQ(store->ReadHead()->revision, r ? 2 : 1);
  if (r) return;
  EXPECT_TRUE(store->Append({SetA(2)}));
}

TEST_F(PostgresStoreTest, OtherNodesAreWokenByNotify) {
  auto writer = Open();
  auto follower = Open();
  // The first call subscribes and asks for a catch-up read.
  auto first = follower->WaitForNotification(std::chrono::milliseconds(1000));
  ASSERT_TRUE(first) << first.status().ToString();
  EXPECT_TRUE(*first);
  auto idle = follower->WaitForNotification(std::chrono::milliseconds(50));
  ASSERT_TRUE(idle);
  EXPECT_FALSE(*idle);
  std::thread append([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(writer->Append({SetA(1)}));
  });
  auto start = std::chrono::steady_clock::now();
  auto woken = follower->WaitForNotification(std::chrono::milliseconds(10'000));
  append.join();
  ASSERT_TRUE(woken) << woken.status().ToString();
  EXPECT_TRUE(*woken);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(follower->ReadHead()->revision, 1);
}

TEST(PostgresStoreOfflineTest, UnreachableServerIsUnavailable) {
  auto s = PostgresEventStore::Open("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  auto via_factory = OpenEventStore("postgres://postgres@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(via_factory);
  EXPECT_EQ(via_factory.status().code(), Code::kUnavailable);
}

TEST(PostgresStoreOfflineTest, SqlStatesMapToCodes) {
  EXPECT_EQ(pg::StatusFromSqlState("23505", "dup").code(), Code::kConflict);
  EXPECT_EQ(pg::StatusFromSqlState("40001", "serialization").code(), Code::kConflict);
  EXPECT_EQ(pg::StatusFromSqlState("40P01", "deadlock").code(), Code::kConflict);
  EXPECT_EQ(pg::StatusFromSqlState("08006", "lost").code(), Code::kUnavailable);
  EXPECT_EQ(pg::StatusFromSqlState("57P01", "shutdown").code(), Code::kUnavailable);
  EXPECT_EQ(pg::StatusFromSqlState("", "no server").code(), Code::kUnavailable);
  EXPECT_EQ(pg::StatusFromSqlState("22021", "bad utf-8").code(), Code::kInvalidRequest);
}

TEST(PostgresStoreOfflineTest, ArrayLiteralsQuoteEverything) {
  EXPECT_EQ(pg::TextArray({"a", std::nullopt, "q\"b\\", "NULL", ""}),
            R"({"a",NULL,"q\"b\\","NULL",""})");
  EXPECT_EQ(pg::IntArray({1, -2, 3}), "{1,-2,3}");
  EXPECT_EQ(pg::IntArray({}), "{}");
}

}  // namespace
}  // namespace chronoconf
