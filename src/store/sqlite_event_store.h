// SqliteEventStore: the default, embedded, durable store (one node).
//
// WAL journal with synchronous=FULL: a commit is on disk when Append returns.
// One connection, serialized by a mutex: the group committer is the only
// writer, so a single connection costs nothing and keeps SQLite simple.
// The schema (docs/ARCHITECTURE.md) is created and migrated on open; triggers
// reject UPDATE and DELETE of commits and events.
#ifndef CHRONOCONF_STORE_SQLITE_EVENT_STORE_H_
#define CHRONOCONF_STORE_SQLITE_EVENT_STORE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/mutex.h"
#include "store/event_store.h"

struct sqlite3;

namespace chronoconf {

class StatementCache;  // prepared once per connection (sqlite_event_store.cc)

class SqliteEventStore final : public EventStore {
 public:
  // Opens (creating if needed) the database at `path` and migrates it.
  // Errors: kUnavailable when it cannot be opened or migrated.
  static Result<std::unique_ptr<SqliteEventStore>> Open(const std::string& path,
                                                        Clock* clock = SystemClock::Default());
  // Opens an existing store without writing to it (verify, copy --from):
  // SQLITE_OPEN_READONLY, no migration. Errors: kNotFound naming the missing
  // file or schema; kUnavailable for a schema of another version.
  static Result<std::unique_ptr<SqliteEventStore>> OpenReadOnly(
      const std::string& path, Clock* clock = SystemClock::Default());
  ~SqliteEventStore() override;

  std::string_view kind() const override { return "sqlite"; }
  Result<std::vector<RecordedCommit>> Append(const std::vector<CommitData>& commits) override;
  bool MayHaveOtherWriters() const override { return lock_fd_ < 0; }
  Status AppendRecorded(const std::vector<RecordedCommit>& commits) override;
  Result<std::vector<RecordedCommit>> ReadForward(int64_t after, size_t limit) override;
  Result<std::vector<StreamEvent>> ReadStream(std::string_view key) override;
  Result<StoreHead> ReadHead() override;
  // An exclusive flock on "<path>.lock", which holds the owner's pid: a
  // second `serve` on the same file is refused instead of silently forking
  // the read model (SQLite is one node, SPEC §3).
  Status ClaimSoleWriter() override;
  Result<std::string> SnapshotKey() override;
  Result<int64_t> ReadEtcdFloor() override;
  Result<int64_t> SizeBytes() override;
  Result<int64_t> RaiseEtcdFloor(int64_t revision) override;

  // The schema version this build writes.
  static constexpr int kSchemaVersion = 4;

 private:
  SqliteEventStore(sqlite3* db, std::string path, Clock* clock);
  Status Migrate();
  // Read-only opens: the schema is there, at this build's version.
  Status CheckSchema();
  Status LoadSnapshotKey();
  Result<StoreHead> ReadHeadLocked() REQUIRES(mu_);
  Result<StoreHead> HeadLocked() REQUIRES(mu_);
  Result<int64_t> ReadEtcdFloorLocked() REQUIRES(mu_);
  // BEGIN IMMEDIATE, `body`, then COMMIT, or ROLLBACK when anything failed.
  // A failed COMMIT is kOutcomeUnknown, and the store refuses every write
  // after it (kUnavailable).
  Status InTransaction(const std::function<Status()>& body) REQUIRES(mu_);
  Status AppendLocked(const std::vector<CommitData>& commits, std::vector<RecordedCommit>* out)
      REQUIRES(mu_);
  Status AppendRecordedLocked(const std::vector<RecordedCommit>& commits) REQUIRES(mu_);

  Mutex mu_;
  sqlite3* db_ GUARDED_BY(mu_);
  std::unique_ptr<StatementCache> statements_ GUARDED_BY(mu_);
  std::string path_;
  Clock* clock_;
  int lock_fd_ = -1;  // the claim's lock file, -1 when not claimed
  std::string snapshot_key_;  // set once by Open, then read-only
  // Set when a COMMIT failed: every later write is refused with it.
  std::string write_failure_ GUARDED_BY(mu_);
  // The head as the last append left it (unset until one has, and after a
  // failed COMMIT): the next append chains from it without a read.
  std::optional<StoreHead> head_ GUARDED_BY(mu_);
};

}  // namespace chronoconf

#endif  // CHRONOCONF_STORE_SQLITE_EVENT_STORE_H_
