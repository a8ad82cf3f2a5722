#include "store/postgres_event_store.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <limits>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "common/sha256.h"
#include "common/time_format.h"
#include "store/commit_hash.h"
#include "store/stored_fields.h"

namespace chronoconf {
namespace {

// Advisory lock keys (any constants, the same in every build): one serializes
// schema migrations, the other revision assignment.
constexpr const char* kLockMigrate = "SELECT pg_advisory_xact_lock(7173260432150001)";

// Migrations, applied in order; schema_version holds how many ran. The
// contract tables have the same columns and keys as SQLite's, so copies and
// hashes are identical (committed_at is the same RFC 3339 text).
constexpr const char* kMigrations[] = {
    // v1: the audit log (SPEC §3), append-only.
    R"sql(
CREATE TABLE commits (
  revision     BIGINT PRIMARY KEY,
  committed_at TEXT   NOT NULL,   -- RFC 3339, microseconds, Z
  actor        TEXT   NOT NULL,
  reason       TEXT,
  request_id   TEXT,
  prev_hash    TEXT   NOT NULL,   -- lowercase hex
  hash         TEXT   NOT NULL
);
CREATE TABLE events (
  revision       BIGINT  NOT NULL REFERENCES commits(revision),
  idx            INTEGER NOT NULL,
  key            TEXT    NOT NULL,
  version        BIGINT  NOT NULL,
  type           TEXT    NOT NULL CHECK (type IN ('ConfigSet', 'ConfigDeleted')),
  value          TEXT,             -- minified JSON, NULL for ConfigDeleted
  previous_value TEXT,             -- NULL when the key did not exist
  PRIMARY KEY (revision, idx),
  UNIQUE (key, version)            -- optimistic concurrency: one event per version
);
CREATE FUNCTION chronoconf_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% are immutable', TG_TABLE_NAME;
END $$;
CREATE TRIGGER commits_immutable_update BEFORE UPDATE ON commits
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
CREATE TRIGGER commits_immutable_delete BEFORE DELETE ON commits
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
CREATE TRIGGER commits_immutable_truncate BEFORE TRUNCATE ON commits
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
CREATE TRIGGER events_immutable_update BEFORE UPDATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
CREATE TRIGGER events_immutable_delete BEFORE DELETE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
CREATE TRIGGER events_immutable_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
)sql",
    // v2: the key of read-model snapshots' MACs (one row, written by
    // Migrate with random bytes; a snapshot is never trusted on its own).
    R"sql(
CREATE TABLE snapshot_key (
  key TEXT NOT NULL               -- lowercase hex, 32 random bytes
);
CREATE TRIGGER snapshot_key_immutable_update BEFORE UPDATE ON snapshot_key
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
CREATE TRIGGER snapshot_key_immutable_delete BEFORE DELETE ON snapshot_key
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
CREATE TRIGGER snapshot_key_immutable_truncate BEFORE TRUNCATE ON snapshot_key
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
)sql",
    // v3: the etcd view's compaction floor (SPEC §7): one row that only
    // rises, shared by every node. History is never deleted; the etcd API
    // answers "compacted" below it.
    R"sql(
CREATE TABLE etcd_floor (
  revision BIGINT NOT NULL
);
INSERT INTO etcd_floor (revision) VALUES (0);
CREATE FUNCTION chronoconf_floor_rises() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.revision < OLD.revision THEN
    RAISE EXCEPTION 'the etcd compaction floor only rises';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER etcd_floor_rises BEFORE UPDATE ON etcd_floor
  FOR EACH ROW EXECUTE FUNCTION chronoconf_floor_rises();
CREATE TRIGGER etcd_floor_kept_delete BEFORE DELETE ON etcd_floor
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
CREATE TRIGGER etcd_floor_kept_truncate BEFORE TRUNCATE ON etcd_floor
  FOR EACH STATEMENT EXECUTE FUNCTION chronoconf_immutable();
-- The nodes serving the store (etcd's MemberList): each announces itself
-- every second; a row not announced for a few seconds is a dead node.
CREATE TABLE etcd_members (
  name         TEXT PRIMARY KEY,
  client_url   TEXT NOT NULL,
  gateway_url  TEXT NOT NULL,
  announced_at TIMESTAMPTZ NOT NULL
);
)sql",
    // v4: etcd leases (SPEC §7). Lease events live in system streams
    // ("\x01lease/<id>", domain/system_stream.h); a ConfigSet made with a
    // lease records its id. Old rows keep NULL: their hashes do not hold it.
    R"sql(
ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check CHECK (type IN ('ConfigSet',
  'ConfigDeleted', 'LeaseGranted', 'LeaseRevoked', 'LeaseExpired'));
ALTER TABLE events ADD COLUMN lease BIGINT;
)sql",
    // v5: schemas and reviews (SPEC §8) in their system streams. (v4's list
    // left out the schema events, so a schema set failed on PostgreSQL.)
    R"sql(
ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check CHECK (type IN ('ConfigSet',
  'ConfigDeleted', 'LeaseGranted', 'LeaseRevoked', 'LeaseExpired', 'SchemaSet',
  'SchemaDeleted', 'PolicySet', 'PolicyDeleted', 'ChangeProposed', 'ChangeApproved',
  'ChangeRejected', 'ChangeApplied'));
)sql",
};
static_assert(std::size(kMigrations) == PostgresEventStore::kSchemaVersion);

// The migration that creates snapshot_key.
constexpr int64_t kSnapshotKeyVersion = 2;
constexpr size_t kSnapshotKeyBytes = 32;

const pg::Statement kLockAppend = {"cc_lock_append",
                                   "SELECT pg_advisory_xact_lock(7173260432150002)"};
const pg::Statement kHead = {
    "cc_head", "SELECT revision, committed_at, hash FROM commits ORDER BY revision DESC LIMIT 1"};
// Each key's current version: one backward probe of the (key, version)
// index per key (LIMIT 1), so a key with a million versions costs what a
// new key costs, inside the append's advisory lock (SPEC §6). (max() over
// `key = ANY(...)` read every version of each key.)
const pg::Statement kVersions = {
    "cc_versions",
    "SELECT k, e.version FROM unnest($1::text[]) AS k, LATERAL (SELECT version FROM events "
    "WHERE key = k ORDER BY version DESC LIMIT 1) AS e"};
const pg::Statement kInsertCommits = {
    "cc_insert_commits",
    "INSERT INTO commits (revision, committed_at, actor, reason, request_id, prev_hash, hash)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::text[], $7::text[])"};
const pg::Statement kInsertEvents = {
    "cc_insert_events",
    "INSERT INTO events (revision, idx, key, version, type, value, previous_value, lease)"
    " SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::text[],"
    " $6::text[], $7::text[], $8::bigint[])"};
const pg::Statement kNotify = {"cc_notify", "SELECT pg_notify('chronoconf_commits', $1)"};
const pg::Statement kCommitsAfter = {
    "cc_commits_after",
    "SELECT revision, committed_at, actor, reason, request_id, prev_hash, hash FROM commits"
    " WHERE revision > $1 ORDER BY revision LIMIT $2"};
const pg::Statement kEventsBetween = {
    "cc_events_between",
    "SELECT revision, idx, key, version, type, value, previous_value, lease FROM events"
    " WHERE revision > $1 AND revision <= $2 ORDER BY revision, idx"};
const pg::Statement kStream = {
    "cc_stream",
    "SELECT revision, type, version, value, previous_value FROM events WHERE key = $1"
    " ORDER BY version"};

Result<StoreHead> ReadHeadOn(pg::Connection& conn) {
  auto r = conn.Run("read head", kHead, {});
  if (!r) return r.status();
  if (r->rows() == 0) return StoreHead{};
  int64_t revision = r->Int(0, 0);
  auto time = ParseStoredTime("postgres", r->Text(0, 1), revision);
  if (!time) return time.status();
  return StoreHead{revision, r->Text(0, 2), *time};
}

// PostgreSQL text cannot hold NUL, and libpq would cut the string there,
// which would silently break the hash chain: refuse such a commit whole.
template <typename Commit>
Status CheckNoNul(const std::vector<Commit>& commits) {
  auto has = [](const std::optional<std::string>& s) {
    return s && s->find('\0') != std::string::npos;
  };
  for (const Commit& c : commits) {
    bool bad = has(c.meta.actor) || has(c.meta.reason) || has(c.meta.request_id);
    for (const Event& e : c.events) {
      bad = bad || has(e.key) || has(e.value) || has(e.previous_value);
    }
    if (bad) return Status::InvalidRequest("postgres: text with a NUL character cannot be stored");
  }
  return Status::OK();
}

// Each event's version must be its key's current version + 1 (the batch's
// earlier events included), and each read check's version the key's current
// one, read in the append transaction under the lock.
template <typename Commit>
Status CheckVersions(pg::Connection& conn, const std::vector<Commit>& commits) {
  std::vector<std::optional<std::string>> keys;
  for (const Commit& c : commits) {
    for (const Event& e : c.events) keys.emplace_back(e.key);
    if constexpr (requires { c.reads; }) {  // CommitData; copies have none
      for (const ReadCheck& r : c.reads) keys.emplace_back(r.key);
    }
  }
  auto versions = conn.Run("read versions", kVersions, {pg::TextArray(keys)});
  if (!versions) return versions.status();
  std::map<std::string, int64_t, std::less<>> current;
  for (int i = 0; i < versions->rows(); ++i) current[versions->Text(i, 0)] = versions->Int(i, 1);
  for (const Commit& c : commits) {
    if constexpr (requires { c.reads; }) {
      for (const ReadCheck& r : c.reads) {
        const int64_t v = current[r.key];
        if (v != r.version) return Status::Conflict({r.key, r.version, v});
      }
    }
    for (const Event& e : c.events) {
      int64_t& v = current[e.key];
      if (e.version != v + 1) return Status::Conflict({e.key, e.version - 1, v});
      v = e.version;
    }
  }
  return Status::OK();
}

// Inserts sealed commits with two multi-row statements and NOTIFYs the new
// head, which listeners receive only if and when the transaction commits.
Status InsertCommits(pg::Connection& conn, const std::vector<RecordedCommit>& commits) {
  if (commits.empty()) return Status::OK();
  std::vector<int64_t> c_rev, e_rev, e_idx, e_version;
  std::vector<std::optional<std::string>> c_time, c_actor, c_reason, c_request, c_prev, c_hash;
  std::vector<std::optional<std::string>> e_key, e_type, e_value, e_prev, e_lease;
  for (const RecordedCommit& c : commits) {
    c_rev.push_back(c.revision);
    c_time.emplace_back(FormatRfc3339Micros(c.timestamp_us));
    c_actor.emplace_back(c.meta.actor);
    c_reason.push_back(c.meta.reason);
    c_request.push_back(c.meta.request_id);
    c_prev.emplace_back(c.prev_hash);
    c_hash.emplace_back(c.hash);
    for (size_t i = 0; i < c.events.size(); ++i) {
      const Event& e = c.events[i];
      e_rev.push_back(c.revision);
      e_idx.push_back(static_cast<int64_t>(i));
      e_key.emplace_back(e.key);
      e_version.push_back(e.version);
      e_type.emplace_back(EventTypeName(e.type));
      e_value.push_back(e.value);
      e_prev.push_back(e.previous_value);
      e_lease.push_back(e.lease ? std::optional<std::string>(std::to_string(*e.lease))
                                : std::nullopt);
    }
  }
  auto ins_commits = conn.Run(
      "insert commits", kInsertCommits,
      {pg::IntArray(c_rev), pg::TextArray(c_time), pg::TextArray(c_actor), pg::TextArray(c_reason),
       pg::TextArray(c_request), pg::TextArray(c_prev), pg::TextArray(c_hash)});
  if (!ins_commits) return ins_commits.status();
  auto ins_events = conn.Run(
      "insert events", kInsertEvents,
      {pg::IntArray(e_rev), pg::IntArray(e_idx), pg::TextArray(e_key), pg::IntArray(e_version),
       pg::TextArray(e_type), pg::TextArray(e_value), pg::TextArray(e_prev),
       pg::TextArray(e_lease)});
  if (!ins_events) return ins_events.status();
  auto notify = conn.Run("notify", kNotify, {std::to_string(commits.back().revision)});
  return notify ? Status::OK() : notify.status();
}

// Reads are idempotent: when the connection turns out to be dead (a server
// restart, a failover, an idle timeout), reconnect and try once more.
// `read` runs here, on the caller's thread, under the connection's mutex
// that the caller holds (the lambdas say so with REQUIRES).
template <typename F>
NO_THREAD_SAFETY_ANALYSIS auto ReadWithRetry(pg::Connection& conn, F&& read) -> decltype(read()) {
  for (int attempt = 0;; ++attempt) {
    if (Status s = conn.Ensure(); !s.ok()) return s;
    auto r = read();
    // One retry on a fresh connection after a dropped one (a restarted
    // server); none after a hung one, whose deadline has passed already.
    if (r || attempt == 1 || !conn.broken() || conn.gave_up()) return r;
  }
}

}  // namespace

Result<std::unique_ptr<PostgresEventStore>> PostgresEventStore::Open(const std::string& url,
                                                                     Clock* clock) {
  std::unique_ptr<PostgresEventStore> store(new PostgresEventStore(url, clock, false));
  if (Status s = store->Migrate(); !s.ok()) return s;
  if (Status s = store->LoadSnapshotKey(); !s.ok()) return s;
  return store;
}

Result<std::unique_ptr<PostgresEventStore>> PostgresEventStore::OpenReadOnly(
    const std::string& url, Clock* clock) {
  std::unique_ptr<PostgresEventStore> store(new PostgresEventStore(url, clock, true));
  if (Status s = store->CheckSchema(); !s.ok()) return s;
  // A store of schema version 1 has no snapshot key: a reader then has
  // none, and a snapshot it is given fails its check (verify says so).
  store->LoadSnapshotKey().IgnoreError();
  return store;
}

Status PostgresEventStore::CheckSchema() {
  MutexLock lock(&read_mu_);
  if (Status s = read_.Ensure(); !s.ok()) return s;
  auto q = read_.Exec("read the schema",
                      "SELECT to_regclass('schema_version') IS NOT NULL, current_database()");
  if (!q) return q.status();
  if (q->Text(0, 0) != "t") {
    return Status::NotFound(fmt::format(
        "postgres: the database {} holds no chronoconf store: it has no schema_version table "
        "(`chronoconf migrate --store URL` would create the schema)",
        q->Text(0, 1)));
  }
  auto v = read_.Exec("read schema version", "SELECT version FROM schema_version");
  if (!v) return v.status();
  const int64_t version = v->rows() > 0 ? v->Int(0, 0) : 0;
  return SchemaVersionStatus("postgres", "the database " + q->Text(0, 1), version,
                             kSchemaVersion);
}

Status PostgresEventStore::LoadSnapshotKey() {
  MutexLock lock(&read_mu_);
  auto q = ReadWithRetry(read_, [&]() REQUIRES(read_mu_) {
    return read_.Exec("read the snapshot key", "SELECT key FROM snapshot_key");
  });
  if (!q) return q.status();
  snapshot_key_ = q->rows() == 1 ? FromHex(q->Text(0, 0)) : "";
  if (snapshot_key_.size() != kSnapshotKeyBytes) {
    return Status::Corruption("postgres: the store has no valid snapshot key");
  }
  return Status::OK();
}

Result<std::string> PostgresEventStore::SnapshotKey() { return snapshot_key_; }

Result<int64_t> PostgresEventStore::ReadEtcdFloor() {
  MutexLock lock(&read_mu_);
  auto q = ReadWithRetry(read_, [&]() REQUIRES(read_mu_) {
    return read_.Exec("read the etcd compaction floor", "SELECT revision FROM etcd_floor");
  });
  if (!q) return q.status();
  if (q->rows() != 1) return Status::Corruption("postgres: the etcd compaction floor is missing");
  return q->Int(0, 0);
}

// Our tables in the schema the store uses, with their indexes and TOAST
// (pg_total_relation_size): not the whole database, which others may share.
Result<int64_t> PostgresEventStore::SizeBytes() {
  MutexLock lock(&read_mu_);
  auto q = ReadWithRetry(read_, [&]() REQUIRES(read_mu_) {
    return read_.Exec(
        "read the store's size",
        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
        "AND c.relkind = 'r' AND c.relname IN ('commits', 'events', 'snapshot_key', "
        "'etcd_floor', 'etcd_members', 'schema_version')");
  });
  if (!q) return q.status();
  return q->rows() == 1 ? q->Int(0, 0) : 0;
}

// Announcements go over the read connection: a heartbeat must not queue
// behind a batch holding the write connection (or hold it up).
Status PostgresEventStore::Announce(const MemberRecord& me) {
  static const pg::Statement kAnnounce = {
      "cc_announce",
      "INSERT INTO etcd_members (name, client_url, gateway_url, announced_at) "
      "VALUES ($1, $2, $3, now()) ON CONFLICT (name) DO UPDATE SET "
      "client_url = EXCLUDED.client_url, gateway_url = EXCLUDED.gateway_url, announced_at = now()"};
  MutexLock lock(&read_mu_);
  auto r = ReadWithRetry(read_, [&]() REQUIRES(read_mu_) {
    return read_.Run("announce this node", kAnnounce, {me.name, me.client_url, me.gateway_url});
  });
  return r ? Status::OK() : r.status();
}

Status PostgresEventStore::Leave(const std::string& name) {
  static const pg::Statement kLeave = {"cc_leave", "DELETE FROM etcd_members WHERE name = $1"};
  MutexLock lock(&read_mu_);
  auto r = ReadWithRetry(read_, [&]() REQUIRES(read_mu_) {
    return read_.Run("leave the members", kLeave, {name});
  });
  return r ? Status::OK() : r.status();
}

Result<std::vector<MemberRecord>> PostgresEventStore::LiveMembers(std::chrono::milliseconds ttl) {
  static const pg::Statement kLive = {
      "cc_live_members",
      "SELECT name, client_url, gateway_url FROM etcd_members "
      "WHERE announced_at > now() - $1::bigint * interval '1 millisecond' ORDER BY name"};
  MutexLock lock(&read_mu_);
  auto q = ReadWithRetry(read_, [&]() REQUIRES(read_mu_) {
    return read_.Run("list the members", kLive, {std::to_string(ttl.count())});
  });
  if (!q) return q.status();
  std::vector<MemberRecord> out;
  for (int i = 0; i < q->rows(); ++i) {
    out.push_back({q->Text(i, 0), q->Text(i, 1), q->Text(i, 2)});
  }
  return out;
}

Result<int64_t> PostgresEventStore::RaiseEtcdFloor(int64_t revision) {
  // One statement: the row lock makes two nodes compacting at once raise
  // it in turn, and the second sees the first's floor as "before".
  static const pg::Statement kRaise = {
      "cc_raise_etcd_floor",
      "UPDATE etcd_floor f SET revision = GREATEST(f.revision, $1::bigint) "
      "FROM (SELECT revision AS before FROM etcd_floor FOR UPDATE) b RETURNING b.before"};
  MutexLock lock(&write_mu_);
  if (Status s = write_.Ensure(); !s.ok()) return s;
  auto r = write_.Run("raise the etcd compaction floor", kRaise, {std::to_string(revision)});
  if (!r) return r.status();
  if (r->rows() != 1) return Status::Corruption("postgres: the etcd compaction floor is missing");
  return r->Int(0, 0);
}

Status PostgresEventStore::Migrate() {
  MutexLock lock(&write_mu_);
  if (Status s = write_.Ensure(); !s.ok()) return s;
  auto fail = [&](Status s) REQUIRES(write_mu_) {
    write_.RollbackQuietly();
    return s;
  };
  if (auto r = write_.Exec("begin migration", "BEGIN"); !r) return r.status();
  // Two nodes starting together: the second waits here, then finds the
  // schema in place. The lock ends with the transaction.
  if (auto r = write_.Exec("lock migration", kLockMigrate); !r) return fail(r.status());
  if (auto r = write_.Exec("create schema_version",
                           "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      !r) {
    return fail(r.status());
  }
  auto q = write_.Exec("read schema version", "SELECT version FROM schema_version");
  if (!q) return fail(q.status());
  int64_t version = 0;
  if (q->rows() > 0) {
    version = q->Int(0, 0);
  } else if (auto r = write_.Exec("init schema version", "INSERT INTO schema_version VALUES (0)");
             !r) {
    return fail(r.status());
  }
  constexpr int64_t kKnown = std::size(kMigrations);
  if (version > kKnown) {
    return fail(Status::Unavailable(fmt::format(
        "postgres: the store has schema version {}, newer than this build knows ({})", version,
        kKnown)));
  }
  if (version == kKnown) {  // nothing to write
    if (auto r = write_.Exec("end migration", "COMMIT"); !r) return r.status();
    return Status::OK();
  }
  for (int64_t v = version; v < kKnown; ++v) {
    if (auto r = write_.Exec("migrate", kMigrations[v]); !r) return fail(r.status());
  }
  if (version < kSnapshotKeyVersion) {
    const std::string key = RandomBytes(kSnapshotKeyBytes);
    if (key.empty()) return fail(Status::Unavailable("postgres: no random bytes for the snapshot key"));
    const std::string sql = fmt::format("INSERT INTO snapshot_key (key) VALUES ('{}')", ToHex(key));
    if (auto r = write_.Exec("make the snapshot key", sql.c_str()); !r) return fail(r.status());
  }
  std::string set = fmt::format("UPDATE schema_version SET version = {}", kKnown);
  if (auto r = write_.Exec("set schema version", set.c_str()); !r) return fail(r.status());
  if (auto r = write_.Exec("commit migration", "COMMIT"); !r) return r.status();
  return Status::OK();
}

Result<StoreHead> PostgresEventStore::ReadHead() {
  MutexLock lock(&read_mu_);
  return ReadWithRetry(read_, [&]() REQUIRES(read_mu_) { return ReadHeadOn(read_); });
}

// Why revisions are gap-free and in commit order across processes: every
// append takes the same advisory transaction lock before it reads the head,
// and PostgreSQL releases it only after the commit is visible. So appends
// run one after another, each reads the head the previous one committed, and
// numbers it head+1, head+2, …; a failed one rolls back whole and uses no
// number. A reader that sees revision R+1 sees R, which was visible before
// R+1's transaction could even take the lock. (A sequence would not do: its
// numbers are handed out before commit, in any order, with gaps on rollback.)
// READ COMMITTED matters: each statement takes a fresh snapshot, so the head
// is read after the lock is held (REPEATABLE READ would keep an older one).
Result<std::vector<RecordedCommit>> PostgresEventStore::Append(
    const std::vector<CommitData>& commits) {
  if (Status s = CheckNoNul(commits); !s.ok()) return s;
  MutexLock lock(&write_mu_);
  std::vector<RecordedCommit> out;
  Status s = AppendTransaction([&]() REQUIRES(write_mu_) -> Status {
    auto head = ReadHeadOn(write_);
    if (!head) return head.status();
    if (Status v = CheckVersions(write_, commits); !v.ok()) return v;
    StoreHead h = *head;
    for (const CommitData& data : commits) {
      if (Status e = CheckExpectedHead(data, h.revision); !e.ok()) return e;
      out.push_back(
          SealCommit(data, h.revision + 1, clock_->NowMicros(), h.timestamp_us, h.hash));
      h = {out.back().revision, out.back().hash, out.back().timestamp_us};
    }
    return InsertCommits(write_, out);
  });
  if (!s.ok()) return s;
  return out;
}

Status PostgresEventStore::AppendRecorded(const std::vector<RecordedCommit>& commits) {
  if (Status s = CheckNoNul(commits); !s.ok()) return s;
  MutexLock lock(&write_mu_);
  return AppendTransaction([&]() REQUIRES(write_mu_) -> Status {
    auto head = ReadHeadOn(write_);
    if (!head) return head.status();
    StoreHead h = *head;
    for (const RecordedCommit& c : commits) {
      if (Status v = CheckRecordedCommit(c, h.revision, h.hash, h.timestamp_us); !v.ok()) return v;
      h = {c.revision, c.hash, c.timestamp_us};
    }
    if (Status v = CheckVersions(write_, commits); !v.ok()) return v;
    return InsertCommits(write_, commits);
  });
}

Status PostgresEventStore::AppendTransaction(const std::function<Status()>& body) {
  if (Status s = write_.Ensure(); !s.ok()) return s;
  if (auto r = write_.Exec("begin append", "BEGIN ISOLATION LEVEL READ COMMITTED"); !r) {
    return r.status();
  }
  Status s = Status::OK();
  if (auto r = write_.Run("lock append", kLockAppend, {}); !r) s = r.status();
  if (s.ok()) s = body();
  if (!s.ok()) {
    write_.RollbackQuietly();
    return s;
  }
  auto r = write_.Exec("commit append", "COMMIT");
  if (!r) {
    // An error the server reported, on a connection still up, means it
    // rolled back. A connection lost (or given up on) after COMMIT was sent
    // leaves the outcome unknown: the batch may have landed, and the
    // follower applies it if it did.
    if (write_.broken()) {
      return Status::OutcomeUnknown(r.status().message() +
                                    " (the commit may or may not have landed)");
    }
    return r.status();
  }
  // An aborted transaction answers COMMIT with ROLLBACK; every statement is
  // checked, so this would be a bug, but never report it as written.
  if (r->CommandStatus() != "COMMIT") {
    return Status::Internal(fmt::format("postgres: COMMIT answered '{}'", r->CommandStatus()));
  }
  return Status::OK();
}

Result<std::vector<RecordedCommit>> PostgresEventStore::ReadForward(int64_t after, size_t limit) {
  MutexLock lock(&read_mu_);
  return ReadWithRetry(read_, [&]() REQUIRES(read_mu_) -> Result<std::vector<RecordedCommit>> {
    // One snapshot for commits and events, so a page is never half a commit.
    if (auto r = read_.Exec("begin read", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !r) {
      return r.status();
    }
    std::vector<RecordedCommit> out;
    Status s = ReadForwardLocked(after, limit, &out);
    if (s.ok()) {
      auto r = read_.Exec("end read", "COMMIT");
      if (!r) s = r.status();
    }
    if (!s.ok()) {
      read_.RollbackQuietly();
      return s;
    }
    return out;
  });
}

Status PostgresEventStore::ReadForwardLocked(int64_t after, size_t limit,
                                             std::vector<RecordedCommit>* out) {
  auto max_limit = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  auto commits = read_.Run("read commits", kCommitsAfter,
                           {std::to_string(after), std::to_string(std::min(limit, max_limit))});
  if (!commits) return commits.status();
  for (int i = 0; i < commits->rows(); ++i) {
    RecordedCommit c;
    c.revision = commits->Int(i, 0);
    auto time = ParseStoredTime("postgres", commits->Text(i, 1), c.revision);
    if (!time) return time.status();
    c.timestamp_us = *time;
    c.meta.actor = commits->Text(i, 2);
    c.meta.reason = commits->OptText(i, 3);
    c.meta.request_id = commits->OptText(i, 4);
    c.prev_hash = commits->Text(i, 5);
    c.hash = commits->Text(i, 6);
    out->push_back(std::move(c));
  }
  if (out->empty()) return Status::OK();
  auto events = read_.Run("read events", kEventsBetween,
                          {std::to_string(after), std::to_string(out->back().revision)});
  if (!events) return events.status();
  size_t ci = 0;
  for (int i = 0; i < events->rows(); ++i) {
    int64_t rev = events->Int(i, 0);
    auto type = ParseStoredType("postgres", events->Text(i, 4), rev);
    if (!type) return type.status();
    Event e;
    e.type = *type;
    e.key = events->Text(i, 2);
    e.version = events->Int(i, 3);
    e.value = events->OptText(i, 5);
    e.previous_value = events->OptText(i, 6);
    if (!events->IsNull(i, 7)) e.lease = events->Int(i, 7);
    if (Status s = AttachStoredEvent("postgres", rev, std::move(e), out, &ci); !s.ok()) return s;
  }
  return Status::OK();
}

Result<std::vector<StreamEvent>> PostgresEventStore::ReadStream(std::string_view key) {
  MutexLock lock(&read_mu_);
  return ReadWithRetry(read_, [&]() REQUIRES(read_mu_) { return ReadStreamLocked(key); });
}

Result<std::vector<StreamEvent>> PostgresEventStore::ReadStreamLocked(std::string_view key) {
  auto r = read_.Run("read stream", kStream, {std::string(key)});
  if (!r) return r.status();
  std::vector<StreamEvent> out;
  for (int i = 0; i < r->rows(); ++i) {
    StreamEvent se;
    se.revision = r->Int(i, 0);
    auto type = ParseStoredType("postgres", r->Text(i, 1), se.revision);
    if (!type) return type.status();
    se.event.type = *type;
    se.event.key = std::string(key);
    se.event.version = r->Int(i, 2);
    se.event.value = r->OptText(i, 3);
    se.event.previous_value = r->OptText(i, 4);
    out.push_back(std::move(se));
  }
  return out;
}

namespace {
// Any constant, the same in every build (beside kLockMigrate's).
constexpr const char* kTryLockKeeper = "SELECT pg_try_advisory_lock(7173260432150003)";
constexpr const char* kKeepAliveChannel = "chronoconf_keepalive";
const pg::Statement kForwardKeepAlive = {"cc_forward_keepalive",
                                         "SELECT pg_notify('chronoconf_keepalive', $1)"};
}  // namespace

Result<bool> PostgresEventStore::HoldLeaseKeeper() {
  MutexLock lock(&keeper_mu_);
  // A dropped connection took the lock with it: another node may hold it.
  if (keeper_.broken()) keeper_held_ = false;
  if (keeper_held_) return true;
  if (Status s = keeper_.Ensure(); !s.ok()) return s;
  auto r = keeper_.Exec("take the lease keeper lock", kTryLockKeeper);
  if (!r) return r.status();
  if (r->Text(0, 0) != "t") return false;
  // LISTEN after the lock: what was forwarded before went to the previous
  // keeper, and this one restarts every deadline at its full TTL.
  std::string sql = fmt::format("LISTEN {}", kKeepAliveChannel);
  if (auto l = keeper_.Exec("listen for keep-alives", sql.c_str()); !l) return l.status();
  keeper_held_ = true;
  return true;
}

Status PostgresEventStore::ForwardKeepAlive(int64_t lease_id) {
  MutexLock lock(&read_mu_);
  if (Status s = read_.Ensure(); !s.ok()) return s;
  auto r = read_.Run("forward a keep-alive", kForwardKeepAlive, {std::to_string(lease_id)});
  return r ? Status::OK() : r.status();
}

Result<std::vector<int64_t>> PostgresEventStore::TakeForwardedKeepAlives() {
  MutexLock lock(&keeper_mu_);
  std::vector<int64_t> ids;
  if (!keeper_held_) return ids;
  if (!keeper_.ConsumeInput()) {
    keeper_held_ = false;  // the connection dropped, and the lock with it
    return Status::Unavailable("postgres: the lease keeper's connection dropped");
  }
  for (const std::string& payload : keeper_.TakeNotifications()) {
    ids.push_back(std::strtoll(payload.c_str(), nullptr, 10));
  }
  return ids;
}

Result<bool> PostgresEventStore::WaitForNotification(std::chrono::milliseconds timeout) {
  using Steady = std::chrono::steady_clock;
  const Steady::time_point deadline = Steady::now() + timeout;
  MutexLock lock(&listen_mu_);
  if (listen_.broken()) listening_ = false;
  if (!listening_) {
    Status s = listen_.Ensure();
    if (s.ok()) {
      std::string sql = fmt::format("LISTEN {}", kChannel);
      auto r = listen_.Exec("listen", sql.c_str());
      s = r ? Status::OK() : r.status();
    }
    if (!s.ok()) {
      std::this_thread::sleep_until(deadline);
      return s;
    }
    listening_ = true;
    return true;  // commits before LISTEN took effect notified nobody: catch up
  }
  while (true) {
    if (!listen_.ConsumeInput()) return true;  // dropped: the caller catches up, we reconnect
    if (!listen_.TakeNotifications().empty()) return true;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) return false;
    pollfd fd{listen_.Socket(), POLLIN, 0};
    int n = poll(&fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (n < 0 && errno != EINTR) {
      return Status::Unavailable(fmt::format("postgres: poll on the LISTEN connection failed"));
    }
  }
}

}  // namespace chronoconf
