// PostgresEventStore: the production store; several nodes may share one
// database (SPEC §3).
//
// Revisions are assigned inside the append transaction under one advisory
// lock, so they are gap-free and in commit order across processes (see
// Append in the .cc). Each Append is one transaction with multi-row inserts
// (group commit) and synchronous_commit on: durable when it returns OK.
//
// Thread safety: safe for concurrent use. Three connections, each guarded by
// its own mutex: one for appends (the committer), one for reads (readers
// queue on it), one that LISTENs for other nodes' commits. Each reconnects on
// the next call after it dropped; until then calls fail with kUnavailable.
#ifndef CHRONOCONF_STORE_POSTGRES_EVENT_STORE_H_
#define CHRONOCONF_STORE_POSTGRES_EVENT_STORE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/mutex.h"
#include "store/event_store.h"
#include "store/pg_connection.h"

namespace chronoconf {

class PostgresEventStore final : public EventStore {
 public:
  // Connects to `url` (postgres://… or postgresql://…) and creates or
  // migrates the schema. Errors: kUnavailable when it cannot.
  static Result<std::unique_ptr<PostgresEventStore>> Open(const std::string& url,
                                                          Clock* clock = SystemClock::Default());
  // Connects without writing (verify, copy --from): every transaction is
  // read-only and nothing is migrated. Errors: kNotFound when the database
  // holds no chronoconf schema; kUnavailable when it cannot be reached or its
  // schema is of another version.
  static Result<std::unique_ptr<PostgresEventStore>> OpenReadOnly(
      const std::string& url, Clock* clock = SystemClock::Default());

  std::string_view kind() const override { return "postgres"; }
  Result<std::vector<RecordedCommit>> Append(const std::vector<CommitData>& commits) override;
  Status AppendRecorded(const std::vector<RecordedCommit>& commits) override;
  Result<std::vector<RecordedCommit>> ReadForward(int64_t after, size_t limit) override;
  Result<std::vector<StreamEvent>> ReadStream(std::string_view key) override;
  Result<StoreHead> ReadHead() override;
  Result<std::string> SnapshotKey() override;
  Result<int64_t> ReadEtcdFloor() override;
  Result<int64_t> SizeBytes() override;
  Result<int64_t> RaiseEtcdFloor(int64_t revision) override;
  Status Announce(const MemberRecord& me) override;
  Status Leave(const std::string& name) override;
  Result<std::vector<MemberRecord>> LiveMembers(std::chrono::milliseconds ttl) override;

  // Waits up to `timeout` for a commit by any node (NOTIFY on kChannel).
  // True when one arrived, and also right after (re)subscribing, since
  // commits made while not listening sent us nothing: the caller must then
  // catch up by reading. False on timeout. kUnavailable (after waiting out
  // the timeout, so a loop around it never spins) while unreachable.
  Result<bool> WaitForNotification(std::chrono::milliseconds timeout) override;
  // The keeper holds a session advisory lock on a connection of its own
  // (released by PostgreSQL when the node dies), and LISTENs there for the
  // keep-alives other nodes forward with NOTIFY.
  Result<bool> HoldLeaseKeeper() override;
  Status ForwardKeepAlive(int64_t lease_id) override;
  Result<std::vector<int64_t>> TakeForwardedKeepAlives() override;

  // The schema version this build writes.
  static constexpr int kSchemaVersion = 5;
  // Every append NOTIFYs this channel with the new head revision.
  static constexpr const char* kChannel = "chronoconf_commits";

 private:
  PostgresEventStore(const std::string& url, Clock* clock, bool read_only)
      : write_(url, read_only),
        read_(url, read_only),
        listen_(url, read_only),
        keeper_(url, read_only),
        clock_(clock) {}
  Status Migrate();
  // Read-only opens: the schema is there, at this build's version.
  Status CheckSchema();
  Status LoadSnapshotKey();
  // One append transaction on write_ (caller holds write_mu_): BEGIN, the
  // revision lock, `body`, COMMIT; rolled back whole when anything fails.
  Status AppendTransaction(const std::function<Status()>& body) REQUIRES(write_mu_);
  Status ReadForwardLocked(int64_t after, size_t limit, std::vector<RecordedCommit>* out)
      REQUIRES(read_mu_);
  Result<std::vector<StreamEvent>> ReadStreamLocked(std::string_view key) REQUIRES(read_mu_);

  Mutex write_mu_;
  pg::Connection write_ GUARDED_BY(write_mu_);  // appends, migrations
  Mutex read_mu_;
  pg::Connection read_ GUARDED_BY(read_mu_);
  Mutex listen_mu_;
  pg::Connection listen_ GUARDED_BY(listen_mu_);
  bool listening_ GUARDED_BY(listen_mu_) = false;
  Mutex keeper_mu_;
  pg::Connection keeper_ GUARDED_BY(keeper_mu_);
  bool keeper_held_ GUARDED_BY(keeper_mu_) = false;
  Clock* clock_;
  std::string snapshot_key_;  // set once by Open, then read-only
};

}  // namespace chronoconf

#endif  // CHRONOCONF_STORE_POSTGRES_EVENT_STORE_H_
