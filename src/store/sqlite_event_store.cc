#include "store/sqlite_event_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <unordered_map>

#include <fmt/format.h>

#include "common/sha256.h"
#include "common/time_format.h"
#include "store/commit_hash.h"
#include "store/stored_fields.h"

namespace chronoconf {
namespace {

// Migrations, applied in order; schema_version holds how many ran.
constexpr const char* kMigrations[] = {
    // v1: the audit log (SPEC §3: commits and events are part of the contract).
    R"sql(
CREATE TABLE commits (
  revision     INTEGER PRIMARY KEY,
  committed_at TEXT    NOT NULL,   -- RFC 3339, microseconds, Z
  actor        TEXT    NOT NULL,
  reason       TEXT,
  request_id   TEXT,
  prev_hash    TEXT    NOT NULL,   -- lowercase hex
  hash         TEXT    NOT NULL
);
CREATE TABLE events (
  revision       INTEGER NOT NULL REFERENCES commits(revision),
  idx            INTEGER NOT NULL,
  key            TEXT    NOT NULL,
  version        INTEGER NOT NULL,
  type           TEXT    NOT NULL CHECK (type IN ('ConfigSet', 'ConfigDeleted')),
  value          TEXT,             -- minified JSON, NULL for ConfigDeleted
  previous_value TEXT,             -- NULL when the key did not exist
  PRIMARY KEY (revision, idx),
  UNIQUE (key, version)            -- optimistic concurrency: one event per version
);
CREATE TRIGGER commits_immutable_update BEFORE UPDATE ON commits
  BEGIN SELECT RAISE(ABORT, 'commits are immutable'); END;
CREATE TRIGGER commits_immutable_delete BEFORE DELETE ON commits
  BEGIN SELECT RAISE(ABORT, 'commits are immutable'); END;
CREATE TRIGGER events_immutable_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
CREATE TRIGGER events_immutable_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
)sql",
    // v2: the key of read-model snapshots' MACs (one row, written by
    // Migrate with random bytes; a snapshot is never trusted on its own).
    R"sql(
CREATE TABLE snapshot_key (
  key TEXT NOT NULL              -- lowercase hex, 32 random bytes
);
CREATE TRIGGER snapshot_key_immutable_update BEFORE UPDATE ON snapshot_key
  BEGIN SELECT RAISE(ABORT, 'the snapshot key is immutable'); END;
CREATE TRIGGER snapshot_key_immutable_delete BEFORE DELETE ON snapshot_key
  BEGIN SELECT RAISE(ABORT, 'the snapshot key is immutable'); END;
)sql",
    // v3: the etcd view's compaction floor (SPEC §7): one row that only
    // rises. History is never deleted; the etcd API answers "compacted"
    // below it.
    R"sql(
CREATE TABLE etcd_floor (
  revision INTEGER NOT NULL
);
INSERT INTO etcd_floor (revision) VALUES (0);
CREATE TRIGGER etcd_floor_rises BEFORE UPDATE ON etcd_floor WHEN NEW.revision < OLD.revision
  BEGIN SELECT RAISE(ABORT, 'the etcd compaction floor only rises'); END;
CREATE TRIGGER etcd_floor_kept BEFORE DELETE ON etcd_floor
  BEGIN SELECT RAISE(ABORT, 'the etcd compaction floor is kept'); END;
)sql",
    // v4: etcd leases (SPEC §7). Lease events live in system streams
    // ("\x01lease/<id>", domain/system_stream.h); a ConfigSet made with a
    // lease records its id. The table is rebuilt without the CHECK on
    // `type`: SQLite cannot change a CHECK in place, and new features bring
    // new event types; the type is checked where it is read (ParseStoredType:
    // an unknown one is corruption). Old rows keep a NULL lease: their hashes
    // hold none.
    R"sql(
CREATE TABLE events_v4 (
  revision       INTEGER NOT NULL REFERENCES commits(revision),
  idx            INTEGER NOT NULL,
  key            TEXT    NOT NULL,
  version        INTEGER NOT NULL,
  type           TEXT    NOT NULL, -- an EventType name
  value          TEXT,             -- minified JSON, NULL for ConfigDeleted
  previous_value TEXT,             -- NULL when the key did not exist
  lease          INTEGER,          -- a ConfigSet's etcd lease, else NULL
  PRIMARY KEY (revision, idx),
  UNIQUE (key, version)            -- optimistic concurrency: one event per version
);
INSERT INTO events_v4 (revision, idx, key, version, type, value, previous_value)
  SELECT revision, idx, key, version, type, value, previous_value FROM events;
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;
CREATE TRIGGER events_immutable_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
CREATE TRIGGER events_immutable_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
)sql",
};
static_assert(std::size(kMigrations) == SqliteEventStore::kSchemaVersion);

// The migration that creates snapshot_key.
constexpr int64_t kSnapshotKeyVersion = 2;
constexpr size_t kSnapshotKeyBytes = 32;

}  // namespace

// The connection's statements, each prepared the first time it is used and
// kept (keyed by the address of its SQL literal) until the store closes.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
  }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // nullptr when `sql` does not prepare; `*rc` says why.
  sqlite3_stmt* Get(const char* sql, int* rc) {
    if (auto it = stmts_.find(sql); it != stmts_.end()) {
      *rc = SQLITE_OK;
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    *rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (*rc != SQLITE_OK) return nullptr;
    stmts_.emplace(sql, stmt);
    return stmt;
  }

 private:
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
};

namespace {

// A cached statement in use: reset (and its bindings cleared) when done, so
// that the next use starts afresh. One use of a statement at a time.
class Stmt {
 public:
  Stmt(StatementCache& cache, const char* sql) : stmt_(cache.Get(sql, &rc_)) {}
  ~Stmt() {
    if (stmt_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void BindOpt(int i, const std::optional<std::string>& s) {
    s ? Bind(i, std::string_view(*s)) : static_cast<void>(sqlite3_bind_null(stmt_, i));
  }
  // Binds without a copy: `s` must stay put until this statement is reset
  // (which clears its bindings).
  void BindStatic(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  void BindOptStatic(int i, const std::optional<std::string>& s) {
    s ? BindStatic(i, *s) : static_cast<void>(sqlite3_bind_null(stmt_, i));
  }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }
  std::optional<std::string> OptText(int col) {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return Text(col);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// The one place SQLite failures become Status values. A primary-key or
// unique violation (events(key, version), commits(revision)) means another
// writer got there first: a conflict the committer retries. Everything else,
// SQLITE_BUSY past the timeout included, is an outage. `event` names the event
// being written, when there is one, for the conflict's details.
Status SqliteStatus(int extended_code, std::string message, const Event* event = nullptr) {
  if (extended_code == SQLITE_CONSTRAINT_PRIMARYKEY || extended_code == SQLITE_CONSTRAINT_UNIQUE) {
    if (event == nullptr) return Status(Code::kConflict, std::move(message));
    // Someone else wrote this version: the key is at least there.
    return Status::Conflict({event->key, event->version - 1, event->version})
        .WithMessage(std::move(message));
  }
  return Status::Unavailable(std::move(message));
}

Status Error(sqlite3* db, std::string_view what, const Event* event = nullptr) {
  return SqliteStatus(sqlite3_extended_errcode(db),
                      fmt::format("sqlite: {}: {}", what, sqlite3_errmsg(db)), event);
}

// Multi-row INSERT statements, one per power-of-two row count up to 64, so a
// batch of N rows takes at most ~log2(N) + N/64 statements and every SQL text
// is prepared once (the cache is keyed by the text's address: these stay put).
constexpr size_t kMaxRowsPerInsert = 64;

// "INSERT INTO <table (columns)> VALUES (?, ...), ..." for `rows` rows.
std::string MultiRowInsert(std::string_view table_and_columns, int columns, size_t rows) {
  std::string row = "(?";
  for (int c = 1; c < columns; ++c) row += ", ?";
  row += ")";
  std::string sql = fmt::format("INSERT INTO {} VALUES ", table_and_columns);
  for (size_t i = 0; i < rows; ++i) sql += (i ? ", " : "") + row;
  return sql;
}

struct InsertTexts {
  std::array<std::string, 7> commits, events;  // [i]: 2^i rows
};

const InsertTexts& Inserts() {
  static const InsertTexts texts = [] {
    InsertTexts t;
    for (size_t i = 0, rows = 1; rows <= kMaxRowsPerInsert; ++i, rows *= 2) {
      t.commits[i] = MultiRowInsert(
          "commits (revision, committed_at, actor, reason, request_id, prev_hash, hash)", 7, rows);
      t.events[i] = MultiRowInsert(
          "events (revision, idx, key, version, type, value, previous_value, lease)", 8, rows);
    }
    return t;
  }();
  return texts;
}

// The largest power of two ≤ min(n, 64), and its index in InsertTexts.
std::pair<size_t, size_t> Chunk(size_t n) {
  size_t rows = 1, index = 0;
  while (rows * 2 <= n && rows * 2 <= kMaxRowsPerInsert) rows *= 2, ++index;
  return {rows, index};
}

// The current version of `key` inside the transaction (0: never written):
// an index probe of events(key, version), not an aggregate over the key.
Result<int64_t> CurrentVersion(sqlite3* db, Stmt& version_of, std::string_view key) {
  version_of.Bind(1, key);
  if (version_of.Step() != SQLITE_ROW) return Error(db, "read key version");
  int64_t current = version_of.Int(0);
  version_of.Reset();
  return current;
}

// Writes sealed commits (new, or copied from another store) in one
// transaction: first the optimistic-concurrency checks — every key in a
// commit's `reads` still at its version, every event's version its key's next
// one, counting the batch's own earlier events — then the rows, many per
// INSERT. `reads[i]` belongs to `commits[i]` (empty for copies). Values are
// bound without copying: the commits outlive every step, and a statement's
// bindings are cleared when it is reset.
Status InsertCommits(sqlite3* db, StatementCache& cache,
                     const std::vector<const RecordedCommit*>& commits,
                     const std::vector<const std::vector<ReadCheck>*>& reads) {
  {
    Stmt version_of(cache, "SELECT max(version) FROM events WHERE key = ?");
    if (!version_of.ok()) return Error(db, "prepare append");
    std::unordered_map<std::string_view, int64_t> written;  // key -> version, this batch
    auto current = [&](std::string_view key) -> Result<int64_t> {
      if (auto it = written.find(key); it != written.end()) return it->second;
      return CurrentVersion(db, version_of, key);
    };
    for (size_t c = 0; c < commits.size(); ++c) {
      for (const ReadCheck& r : *reads[c]) {
        auto v = current(r.key);
        if (!v) return v.status();
        if (*v != r.version) return Status::Conflict({r.key, r.version, *v});
      }
      for (const Event& e : commits[c]->events) {
        auto v = current(e.key);
        if (!v) return v.status();
        if (e.version != *v + 1) return Status::Conflict({e.key, e.version - 1, *v});
        written[e.key] = e.version;
      }
    }
  }
  std::vector<std::string> times;  // bound text must outlive the step
  times.reserve(commits.size());
  for (const RecordedCommit* c : commits) times.push_back(FormatRfc3339Micros(c->timestamp_us));
  for (size_t done = 0; done < commits.size();) {
    auto [rows, index] = Chunk(commits.size() - done);
    Stmt insert(cache, Inserts().commits[index].c_str());
    if (!insert.ok()) return Error(db, "prepare append");
    int p = 1;
    for (size_t i = done; i < done + rows; ++i) {
      const RecordedCommit& c = *commits[i];
      insert.Bind(p++, c.revision);
      insert.BindStatic(p++, times[i]);
      insert.BindStatic(p++, c.meta.actor);
      insert.BindOptStatic(p++, c.meta.reason);
      insert.BindOptStatic(p++, c.meta.request_id);
      insert.BindStatic(p++, c.prev_hash);
      insert.BindStatic(p++, c.hash);
    }
    if (insert.Step() != SQLITE_DONE) return Error(db, "insert commits");
    done += rows;
  }
  struct Row {
    int64_t revision;
    int64_t index;
    const Event* event;
  };
  std::vector<Row> events;
  for (const RecordedCommit* c : commits) {
    for (size_t i = 0; i < c->events.size(); ++i) {
      events.push_back({c->revision, static_cast<int64_t>(i), &c->events[i]});
    }
  }
  for (size_t done = 0; done < events.size();) {
    auto [rows, index] = Chunk(events.size() - done);
    Stmt insert(cache, Inserts().events[index].c_str());
    if (!insert.ok()) return Error(db, "prepare append");
    int p = 1;
    for (size_t i = done; i < done + rows; ++i) {
      const Event& e = *events[i].event;
      insert.Bind(p++, events[i].revision);
      insert.Bind(p++, events[i].index);
      insert.BindStatic(p++, e.key);
      insert.Bind(p++, e.version);
      insert.BindStatic(p++, EventTypeName(e.type));
      insert.BindOptStatic(p++, e.value);
      insert.BindOptStatic(p++, e.previous_value);
      if (e.lease) insert.Bind(p, *e.lease);  // else NULL (bindings start cleared)
      ++p;
    }
    // The checks above saw every version, so a unique violation here is a
    // writer outside this process; name the batch's first event for it.
    if (insert.Step() != SQLITE_DONE) return Error(db, "insert events", events[done].event);
    done += rows;
  }
  return Status::OK();
}

// One statement without results (BEGIN, COMMIT...), prepared once.
Status Run(sqlite3* db, StatementCache& cache, const char* sql) {
  Stmt st(cache, sql);
  if (!st.ok() || st.Step() != SQLITE_DONE) {
    return SqliteStatus(sqlite3_extended_errcode(db),
                        fmt::format("sqlite: {}: {}", sql, sqlite3_errmsg(db)));
  }
  return Status::OK();
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    Status s = SqliteStatus(sqlite3_extended_errcode(db),
                            fmt::format("sqlite: {}", err ? err : "error"));
    sqlite3_free(err);
    return s;
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<SqliteEventStore>> SqliteEventStore::Open(const std::string& path,
                                                                 Clock* clock) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    Status s = Status::Unavailable(
        fmt::format("sqlite: cannot open {}: {}", path, db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<SqliteEventStore> store(new SqliteEventStore(db, path, clock));
  sqlite3_busy_timeout(db, 5000);
  // WAL + FULL: every commit is fsynced before COMMIT returns (SPEC §6).
  // foreign_keys: an event without its commit is refused, as PostgreSQL does.
  if (Status s = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                          " PRAGMA foreign_keys=ON;");
      !s.ok()) {
    return s;
  }
  if (Status s = store->Migrate(); !s.ok()) return s;
  if (Status s = store->LoadSnapshotKey(); !s.ok()) return s;
  return store;
}

Result<std::unique_ptr<SqliteEventStore>> SqliteEventStore::OpenReadOnly(const std::string& path,
                                                                         Clock* clock) {
  // Said plainly: SQLite's own words for this are "unable to open database file".
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::not_found) {
    return Status::NotFound(fmt::format(
        "sqlite: no store at {}: the file does not exist (verify and copy --from never create "
        "one; check the path)",
        path));
  }
  if (type != std::filesystem::file_type::regular) {
    return Status::Unavailable(fmt::format("sqlite: {} is not a regular file", path));
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Status::Unavailable(
        fmt::format("sqlite: cannot open {}: {}", path, db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<SqliteEventStore> store(new SqliteEventStore(db, path, clock));
  sqlite3_busy_timeout(db, 5000);
  // query_only: a belt to the read-only braces, for statements SQLite would
  // otherwise try (and fail) to write.
  if (Status s = Exec(db, "PRAGMA query_only=ON;"); !s.ok()) return s;
  if (Status s = store->CheckSchema(); !s.ok()) return s;
  // A store of schema version 1 has no snapshot key: a reader then has
  // none, and a snapshot it is given fails its check (verify says so).
  store->LoadSnapshotKey().IgnoreError();
  return store;
}

SqliteEventStore::SqliteEventStore(sqlite3* db, std::string path, Clock* clock)
    : db_(db),
      statements_(std::make_unique<StatementCache>(db)),
      path_(std::move(path)),
      clock_(clock) {}

SqliteEventStore::~SqliteEventStore() {
  statements_.reset();  // finalized before the connection closes
  sqlite3_close(db_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Status SqliteEventStore::ClaimSoleWriter() {
  if (lock_fd_ >= 0) return Status::OK();
  // Beside the file the path resolves to, so a symlink finds the same lock.
  // (A hard link to the database would not: don't make one.)
  std::error_code ec;
  auto resolved = std::filesystem::weakly_canonical(path_, ec);
  std::string lock_path = (ec ? path_ : resolved.string()) + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Unavailable(
        fmt::format("sqlite: cannot open the lock file {}: {}", lock_path, std::strerror(errno)));
  }
  // flock, not fcntl: SQLite's own fcntl locks on the database are separate
  // and released whenever any descriptor of the file is closed.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char owner[32] = {};
    ssize_t n = ::pread(fd, owner, sizeof(owner) - 1, 0);
    ::close(fd);
    std::string who = n > 0 ? fmt::format("process {}", std::string(owner, static_cast<size_t>(n)))
                            : std::string("another process");
    if (err == EWOULDBLOCK) {
      return Status::Unavailable(fmt::format(
          "sqlite: {} is already served by {} (chronoconf serve); SQLite is one node: stop it "
          "first, or use PostgreSQL for several nodes",
          path_, who));
    }
    return Status::Unavailable(fmt::format("sqlite: cannot lock {}: {}", lock_path,
                                           std::strerror(err)));
  }
  std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds all the same; only the message for a second process is poorer.
  }
  lock_fd_ = fd;
  return Status::OK();
}

Status SqliteEventStore::Migrate() {
  MutexLock lock(&mu_);
  if (Status s = Exec(db_, "BEGIN IMMEDIATE"); !s.ok()) return s;
  auto fail = [&](Status s) REQUIRES(mu_) {
    Exec(db_, "ROLLBACK").IgnoreError();  // `s` says what went wrong
    return s;
  };
  if (Status s = Exec(db_, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      !s.ok()) {
    return fail(s);
  }
  int64_t version = 0;
  {
    Stmt q(*statements_, "SELECT version FROM schema_version");
    if (q.Step() == SQLITE_ROW) {
      version = q.Int(0);
    } else if (Status s = Exec(db_, "INSERT INTO schema_version VALUES (0)"); !s.ok()) {
      return fail(s);
    }
  }
  constexpr int64_t kKnown = std::size(kMigrations);
  if (version > kKnown) {
    return fail(Status::Unavailable(fmt::format(
        "sqlite: the store has schema version {}, newer than this build knows ({})", version,
        kKnown)));
  }
  if (version == kKnown) return Exec(db_, "COMMIT");  // nothing written
  for (int64_t v = version; v < kKnown; ++v) {
    if (Status s = Exec(db_, kMigrations[v]); !s.ok()) return fail(s);
  }
  if (version < kSnapshotKeyVersion) {
    const std::string key = RandomBytes(kSnapshotKeyBytes);
    if (key.empty()) return fail(Status::Unavailable("sqlite: no random bytes for the snapshot key"));
    Stmt insert(*statements_, "INSERT INTO snapshot_key (key) VALUES (?)");
    insert.Bind(1, ToHex(key));
    if (insert.Step() != SQLITE_DONE) return fail(Error(db_, "make the snapshot key"));
  }
  Stmt set(*statements_, "UPDATE schema_version SET version = ?");
  set.Bind(1, kKnown);
  if (set.Step() != SQLITE_DONE) return fail(Error(db_, "set schema version"));
  return Exec(db_, "COMMIT");
}

Status SqliteEventStore::CheckSchema() {
  MutexLock lock(&mu_);
  Stmt has(*statements_,
           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!has.ok() || has.Step() != SQLITE_ROW) return Error(db_, "read the schema");
  if (has.Int(0) == 0) {
    return Status::NotFound(fmt::format(
        "sqlite: {} is not a chronoconf store: it has no schema_version table (`chronoconf "
        "migrate --store sqlite:{}` would create the schema)",
        path_, path_));
  }
  Stmt q(*statements_, "SELECT version FROM schema_version");
  const int64_t version = q.ok() && q.Step() == SQLITE_ROW ? q.Int(0) : 0;
  return SchemaVersionStatus("sqlite", "sqlite:" + path_, version, kSchemaVersion);
}

Status SqliteEventStore::LoadSnapshotKey() {
  MutexLock lock(&mu_);
  Stmt q(*statements_, "SELECT key FROM snapshot_key");
  if (!q.ok()) return Error(db_, "read the snapshot key");
  const int rc = q.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(db_, "read the snapshot key");
  snapshot_key_ = rc == SQLITE_ROW ? FromHex(q.Text(0)) : "";
  if (snapshot_key_.size() != kSnapshotKeyBytes) {
    return Status::Corruption(fmt::format("sqlite: {} has no valid snapshot key", path_));
  }
  return Status::OK();
}

Result<std::string> SqliteEventStore::SnapshotKey() { return snapshot_key_; }

// The database file and its WAL, as etcd reports its bolt file's size.
Result<int64_t> SqliteEventStore::SizeBytes() {
  int64_t total = 0;
  for (const std::string& file : {path_, path_ + "-wal"}) {
    struct stat st {};
    if (stat(file.c_str(), &st) == 0) total += static_cast<int64_t>(st.st_size);
  }
  return total;
}

Result<int64_t> SqliteEventStore::ReadEtcdFloor() {
  MutexLock lock(&mu_);
  return ReadEtcdFloorLocked();
}

Result<int64_t> SqliteEventStore::ReadEtcdFloorLocked() {
  Stmt q(*statements_, "SELECT revision FROM etcd_floor");
  if (q.Step() != SQLITE_ROW) return Error(db_, "read the etcd compaction floor");
  return q.Int(0);
}

Result<int64_t> SqliteEventStore::RaiseEtcdFloor(int64_t revision) {
  MutexLock lock(&mu_);
  int64_t before = 0;
  Status s = InTransaction([&]() REQUIRES(mu_) {
    auto floor = ReadEtcdFloorLocked();
    if (!floor) return floor.status();
    before = *floor;
    if (revision <= before) return Status::OK();
    Stmt set(*statements_, "UPDATE etcd_floor SET revision = ?");
    set.Bind(1, revision);
    if (set.Step() != SQLITE_DONE) return Error(db_, "raise the etcd compaction floor");
    return Status::OK();
  });
  if (!s.ok()) return s;
  return before;
}

Result<StoreHead> SqliteEventStore::ReadHead() {
  MutexLock lock(&mu_);
  return ReadHeadLocked();
}

Result<StoreHead> SqliteEventStore::ReadHeadLocked() {
  Stmt q(*statements_, "SELECT revision, committed_at, hash FROM commits ORDER BY revision DESC LIMIT 1");
  if (!q.ok()) return Error(db_, "read head");
  int rc = q.Step();
  if (rc == SQLITE_DONE) return StoreHead{};
  if (rc != SQLITE_ROW) return Error(db_, "read head");
  auto time = ParseStoredTime("sqlite", q.Text(1), q.Int(0));
  if (!time) return time.status();
  return StoreHead{q.Int(0), q.Text(2), *time};
}

Status SqliteEventStore::InTransaction(const std::function<Status()>& body) {
  if (!write_failure_.empty()) return Status::Unavailable(write_failure_);
  // IMMEDIATE takes the write lock now, so the head read inside stays the head.
  if (Status s = Run(db_, *statements_, "BEGIN IMMEDIATE"); !s.ok()) return s;
  if (Status s = body(); !s.ok()) {
    Run(db_, *statements_, "ROLLBACK").IgnoreError();  // `s` says what went wrong
    // Another instance on the file (a test, a second process without the
    // server's lock) moved the head: the next append reads it afresh.
    head_.reset();
    return s;
  }
  Status commit = Run(db_, *statements_, "COMMIT");
  if (commit.ok()) return commit;
  // A COMMIT that fails (an fsync error, a full disk) may have written the
  // transaction's WAL frames whole before it failed; the next open's WAL
  // recovery can then find them and commit them. So its outcome is unknown
  // (SPEC §6), and, as leveldb does after a failed sync, this store takes no
  // more writes: whatever the file holds is learned by the next start.
  Run(db_, *statements_, "ROLLBACK").IgnoreError();
  head_.reset();
  write_failure_ = fmt::format(
      "sqlite: a COMMIT failed ({}); {} takes no more writes until the server restarts and "
      "reads it as it is",
      commit.message(), path_);
  return Status::OutcomeUnknown(commit.message());
}

Result<std::vector<RecordedCommit>> SqliteEventStore::Append(
    const std::vector<CommitData>& commits) {
  MutexLock lock(&mu_);
  std::vector<RecordedCommit> out;
  Status s = InTransaction([&]() REQUIRES(mu_) { return AppendLocked(commits, &out); });
  if (!s.ok()) return s;
  return out;
}

Status SqliteEventStore::AppendLocked(const std::vector<CommitData>& commits,
                                      std::vector<RecordedCommit>* out) {
  auto head = HeadLocked();
  if (!head) return head.status();
  StoreHead h = *head;
  std::vector<const std::vector<ReadCheck>*> reads;
  for (const CommitData& data : commits) {
    if (Status s = CheckExpectedHead(data, h.revision); !s.ok()) return s;
    out->push_back(SealCommit(data, h.revision + 1, clock_->NowMicros(), h.timestamp_us, h.hash));
    h = {out->back().revision, out->back().hash, out->back().timestamp_us};
    reads.push_back(&data.reads);
  }
  std::vector<const RecordedCommit*> sealed;
  for (const RecordedCommit& c : *out) sealed.push_back(&c);
  if (Status s = InsertCommits(db_, *statements_, sealed, reads); !s.ok()) return s;
  head_ = h;
  return Status::OK();
}

// The server is the file's only writer (the lock file), so after the first
// read the head is known without asking: the append that moved it set it.
// Without the lock another instance may append meanwhile; then the stale
// head's next revision exists, the insert is a conflict, and the cache is
// dropped, so the retry reads the real head.
Result<StoreHead> SqliteEventStore::HeadLocked() {
  if (head_) return *head_;
  return ReadHeadLocked();
}

Result<std::vector<RecordedCommit>> SqliteEventStore::ReadForward(int64_t after, size_t limit) {
  MutexLock lock(&mu_);
  // One read transaction, so commits and events come from the same snapshot.
  if (Status s = Run(db_, *statements_, "BEGIN"); !s.ok()) return s;
  std::vector<RecordedCommit> out;
  Status status;
  {
    Stmt commits(*statements_,
                 "SELECT revision, committed_at, actor, reason, request_id, prev_hash, hash"
                 " FROM commits WHERE revision > ? ORDER BY revision LIMIT ?");
    commits.Bind(1, after);
    commits.Bind(2, static_cast<int64_t>(limit));
    int rc;
    while ((rc = commits.Step()) == SQLITE_ROW) {
      RecordedCommit c;
      c.revision = commits.Int(0);
      auto time = ParseStoredTime("sqlite", commits.Text(1), c.revision);
      if (!time) {
        status = time.status();
        break;
      }
      c.timestamp_us = *time;
      c.meta.actor = commits.Text(2);
      c.meta.reason = commits.OptText(3);
      c.meta.request_id = commits.OptText(4);
      c.prev_hash = commits.Text(5);
      c.hash = commits.Text(6);
      out.push_back(std::move(c));
    }
    if (status.ok() && rc != SQLITE_DONE) status = Error(db_, "read commits");
    if (status.ok() && !out.empty()) {
      Stmt events(*statements_,
                  "SELECT revision, idx, key, version, type, value, previous_value, lease"
                  " FROM events WHERE revision > ? AND revision <= ? ORDER BY revision, idx");
      events.Bind(1, after);
      events.Bind(2, out.back().revision);
      size_t ci = 0;
      while ((rc = events.Step()) == SQLITE_ROW) {
        int64_t rev = events.Int(0);
        Event e;
        e.key = events.Text(2);
        e.version = events.Int(3);
        auto type = ParseStoredType("sqlite", events.Text(4), rev);
        if (!type) {
          status = type.status();
          break;
        }
        e.type = *type;
        e.value = events.OptText(5);
        e.previous_value = events.OptText(6);
        if (!events.IsNull(7)) e.lease = events.Int(7);
        status = AttachStoredEvent("sqlite", rev, std::move(e), &out, &ci);
        if (!status.ok()) break;
      }
      if (status.ok() && rc != SQLITE_DONE && rc != SQLITE_ROW) status = Error(db_, "read events");
    }
  }
  // Ending a read transaction only releases its snapshot; still, a failure
  // here means the connection is in trouble, and the caller should know.
  Status end = Run(db_, *statements_, "COMMIT");
  if (!status.ok()) return status;
  if (!end.ok()) return end;
  return out;
}

Result<std::vector<StreamEvent>> SqliteEventStore::ReadStream(std::string_view key) {
  MutexLock lock(&mu_);
  Stmt q(*statements_,
         "SELECT revision, type, version, value, previous_value FROM events WHERE key = ?"
         " ORDER BY version");
  q.Bind(1, key);
  std::vector<StreamEvent> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    StreamEvent se;
    se.revision = q.Int(0);
    auto type = ParseStoredType("sqlite", q.Text(1), se.revision);
    if (!type) return type.status();
    se.event.type = *type;
    se.event.key = std::string(key);
    se.event.version = q.Int(2);
    se.event.value = q.OptText(3);
    se.event.previous_value = q.OptText(4);
    out.push_back(std::move(se));
  }
  if (rc != SQLITE_DONE) return Error(db_, "read stream");
  return out;
}

// Copies (SPEC §3): commits recorded by another store, written as they are.
Status SqliteEventStore::AppendRecorded(const std::vector<RecordedCommit>& commits) {
  MutexLock lock(&mu_);
  return InTransaction([&]() REQUIRES(mu_) { return AppendRecordedLocked(commits); });
}

Status SqliteEventStore::AppendRecordedLocked(const std::vector<RecordedCommit>& commits) {
  auto head = HeadLocked();
  if (!head) return head.status();
  StoreHead h = *head;
  for (const RecordedCommit& c : commits) {
    if (Status s = CheckRecordedCommit(c, h.revision, h.hash, h.timestamp_us); !s.ok()) return s;
    h = {c.revision, c.hash, c.timestamp_us};
  }
  std::vector<const RecordedCommit*> sealed;
  for (const RecordedCommit& c : commits) sealed.push_back(&c);
  const std::vector<ReadCheck> none;
  std::vector<const std::vector<ReadCheck>*> reads(commits.size(), &none);
  if (Status s = InsertCommits(db_, *statements_, sealed, reads); !s.ok()) return s;
  head_ = h;
  return Status::OK();
}

}  // namespace chronoconf
