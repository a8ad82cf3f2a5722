// The store contract against SqliteEventStore, plus what only SQLite has.
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
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
        "INSERT INTO events VALUES (1, 0, 'a', 1, 'ConfigMoved', '1', NULL, NULL)"}) {
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
                         "INSERT INTO events VALUES (2, 0, 'orphan', 1, 'ConfigSet', '7', NULL, NULL);"
                         "INSERT INTO commits VALUES (3, '2026-01-01T00:00:00.000000Z', 'x', NULL,"
                         " NULL, 'p', 'h');"
                         "INSERT INTO events VALUES (3, 0, 'b', 1, 'ConfigSet', '1', NULL, NULL);",
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

// A VFS over the default one whose fsync fails on demand: what a disk
// error at COMMIT looks like to SQLite. Registered as the default VFS for
// one test, so the store opens through it unchanged.
class FailingSyncVfs {
 public:
  FailingSyncVfs() {
    real_ = sqlite3_vfs_find(nullptr);
    vfs_ = *real_;
    vfs_.zName = "cc-failing-sync";
    vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
    vfs_.pAppData = this;
    vfs_.xOpen = &Open;
    sqlite3_vfs_register(&vfs_, /*makeDflt=*/1);
  }
  ~FailingSyncVfs() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(real_, /*makeDflt=*/1);
  }
  static inline std::atomic<bool> fail_sync{false};

 private:
  // Our file, followed in memory by the real VFS's file.
  struct File {
    sqlite3_file base;
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };
  static sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real(); }

  static int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
                  int* out_flags) {
    auto* self = static_cast<FailingSyncVfs*>(vfs->pAppData);
    auto* ours = reinterpret_cast<File*>(file);
    ours->base.pMethods = nullptr;
    int rc = self->real_->xOpen(self->real_, name, ours->real(), flags, out_flags);
    if (ours->real()->pMethods) {
      self->methods_ = *ours->real()->pMethods;
      self->methods_.xClose = [](sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); };
      self->methods_.xRead = [](sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
        return Real(f)->pMethods->xRead(Real(f), b, n, o);
      };
      self->methods_.xWrite = [](sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
        return Real(f)->pMethods->xWrite(Real(f), b, n, o);
      };
      self->methods_.xTruncate = [](sqlite3_file* f, sqlite3_int64 size) {
        return Real(f)->pMethods->xTruncate(Real(f), size);
      };
      self->methods_.xSync = [](sqlite3_file* f, int sync_flags) {
        if (fail_sync.load()) return SQLITE_IOERR_FSYNC;
        return Real(f)->pMethods->xSync(Real(f), sync_flags);
      };
      self->methods_.xFileSize = [](sqlite3_file* f, sqlite3_int64* size) {
        return Real(f)->pMethods->xFileSize(Real(f), size);
      };
      self->methods_.xLock = [](sqlite3_file* f, int l) { return Real(f)->pMethods->xLock(Real(f), l); };
      self->methods_.xUnlock = [](sqlite3_file* f, int l) {
        return Real(f)->pMethods->xUnlock(Real(f), l);
      };
      self->methods_.xCheckReservedLock = [](sqlite3_file* f, int* out) {
        return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
      };
      self->methods_.xFileControl = [](sqlite3_file* f, int op, void* arg) {
        return Real(f)->pMethods->xFileControl(Real(f), op, arg);
      };
      self->methods_.xSectorSize = [](sqlite3_file* f) {
        return Real(f)->pMethods->xSectorSize(Real(f));
      };
      self->methods_.xDeviceCharacteristics = [](sqlite3_file* f) {
        return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
      };
      self->methods_.xShmMap = [](sqlite3_file* f, int page, int size, int extend,
                                  void volatile** out) {
        return Real(f)->pMethods->xShmMap(Real(f), page, size, extend, out);
      };
      self->methods_.xShmLock = [](sqlite3_file* f, int offset, int n, int lock_flags) {
        return Real(f)->pMethods->xShmLock(Real(f), offset, n, lock_flags);
      };
      self->methods_.xShmBarrier = [](sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); };
      self->methods_.xShmUnmap = [](sqlite3_file* f, int del) {
        return Real(f)->pMethods->xShmUnmap(Real(f), del);
      };
      self->methods_.xFetch = [](sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
        return Real(f)->pMethods->xFetch(Real(f), o, n, p);
      };
      self->methods_.xUnfetch = [](sqlite3_file* f, sqlite3_int64 o, void* p) {
        return Real(f)->pMethods->xUnfetch(Real(f), o, p);
      };
      ours->base.pMethods = &self->methods_;
    }
    return rc;
  }

  sqlite3_vfs* real_;
  sqlite3_vfs vfs_;
  sqlite3_io_methods methods_{};
};

// SPEC §6 and issue 14: a COMMIT whose fsync fails is an unknown outcome
// (its frames may be in the WAL, and recovery may commit them), never
// "nothing was written"; the store then takes no more writes, and a reopen
// reads the file as it is: one of the two possible histories, whole.
TEST(SqliteEventStoreTest, AFailedCommitIsAnUnknownOutcomeAndStopsWrites) {
  SqliteFactory factory;
  ManualClock clock(1);
  auto set = [](const std::string& key, int64_t version, const std::string& value) {
    CommitData c;
    c.events = {Event{EventType::kConfigSet, key, version, value, std::nullopt}};
    return c;
  };
  {
    FailingSyncVfs vfs;
    auto store = factory.Make(&clock);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append({set("a", 1, "1")}));
    FailingSyncVfs::fail_sync.store(true);
    auto failed = store->Append({set("b", 1, "2")});
    FailingSyncVfs::fail_sync.store(false);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.status().code(), Code::kOutcomeUnknown) << failed.status().ToString();
    auto refused = store->Append({set("c", 1, "3")});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.status().code(), Code::kUnavailable);
    EXPECT_NE(refused.status().message().find("takes no more writes until the server restarts"),
              std::string::npos)
        << refused.status().message();
    EXPECT_FALSE(store->RaiseEtcdFloor(1));  // every write, not only appends
    EXPECT_TRUE(store->ReadHead());          // reads go on
  }
  auto reopened = factory.Make(&clock);
  ASSERT_NE(reopened, nullptr);
  const int64_t head = reopened->ReadHead()->revision;
  EXPECT_TRUE(head == 1 || head == 2) << head;
  EXPECT_TRUE(reopened->ReadStream("c")->empty());
  auto next = reopened->Append({set("c", 1, "3")});
  ASSERT_TRUE(next) << next.status().ToString();
  EXPECT_EQ((*next)[0].revision, head + 1);
}

}  // namespace
}  // namespace chronoconf
