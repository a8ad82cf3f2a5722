// Projection: the in-memory read model every query is served from (the READ
// side of CQRS). It is a fold of the commits in revision order, kept compact
// so a long history fits in memory:
//
//   commits_  one fixed row per revision: time, actor (interned), hash as 32
//             bytes, where its events start; reason and request id in text_
//   events_   one fixed row per event, in log order: its key (interned), its
//             version, the revision that created the key, its value (in
//             text_), and the key's previous event
//   keys_     key -> its events (indices into events_, oldest first), and
//             the entry JSON of its head, rendered once for GETs
//
// Nothing is stored twice: an event's previous_value is the value of the
// key's previous event, a commit's prev_hash the hash of the commit before,
// an old version's entry is rendered when asked for. Time travel is a binary
// search: a key at revision R is its last event with revision <= R; a time T
// resolves to the last commit at or before T.
//
// Thread safety: safe for concurrent use, with one applier (Apply, and
// LoadSnapshot before it; the follower is that applier). Queries
// take a shared lock and return copies, or string_views into the append-only
// text, which live as long as the Projection. A snapshot is written from the
// rows without holding the lock (projection_snapshot.cc).
#ifndef CHRONOCONF_PROJECTION_PROJECTION_H_
#define CHRONOCONF_PROJECTION_PROJECTION_H_

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "domain/events.h"
#include "domain/key_aggregate.h"
#include "json/json_schema.h"
#include "projection/append_only.h"
#include "projection/change_feed.h"
#include "projection/review_ledger.h"

namespace chronoconf {

using CommitPtr = std::shared_ptr<const RecordedCommit>;

// A key as it was after one of its events.
struct KeyVersion {
  std::string_view key;  // valid as long as the Projection
  int64_t revision = 0;
  int64_t version = 0;
  bool deleted = false;
  int64_t created_revision = 0;
  // The version of the event at created_revision: the first of the key's
  // current life. etcd's version (writes since the key was last created,
  // SPEC §7) is version - created_version + 1.
  int64_t created_version = 0;
  std::shared_ptr<const std::string> entry;  // entry JSON; for a delete, the entry before it
  size_t value_pos = 0;                      // where the value text lies in `entry`
  size_t value_len = 0;
  // Read with Text::kValueOnly: no entry; the value's text as the read model
  // holds it (valid as long as the Projection, like `key`).
  const char* value_data = nullptr;
  // The read model's head when Get read it (the head is published under the
  // lock Get holds): what X-Chronoconf-Revision reports.
  int64_t read_at = 0;
  int64_t lease = 0;  // the etcd lease its set was made with; 0: none

  std::string_view value() const {
    if (value_data) return {value_data, value_len};
    return std::string_view(*entry).substr(value_pos, value_len);
  }
};

// What a KeyVersion read from the Projection carries: the entry JSON the
// native API answers with (and the value in it), or only the value (the
// etcd API: rendering an older version's entry would cost more than the
// rest of its read).
enum class Text { kEntry, kValueOnly };

// One event with its commit (a line of the audit trail). `commit` may hold
// only some of the commit's events (a history page does not copy a whole
// import to show one key): `index` is the event's place in commit->events,
// `position` its index in the commit as recorded.
struct EventRef {
  CommitPtr commit;
  size_t index = 0;
  size_t position = 0;
  const Event& event() const { return commit->events[index]; }
};

struct ListPage {
  int64_t revision = 0;
  std::vector<std::shared_ptr<const std::string>> entries;  // entry JSON, sorted by key
  std::optional<std::string> next;                          // cursor for after=
};

// A lease as the read model knows it (domain/system_stream.h): granted and
// not revoked or expired yet.
struct LeaseInfo {
  int64_t id = 0;
  int64_t ttl = 0;  // seconds, as granted
  std::string grantor;
  int64_t granted_revision = 0;
  std::vector<std::string> keys;  // that exist now with this lease, sorted
};

// A schema in force under a prefix (SPEC §8), compiled once when it was set.
struct SchemaInForce {
  std::string prefix;
  std::string schema;    // minified JSON
  int64_t revision = 0;  // the commit that set it
  std::string set_by;    // that commit's actor
  std::shared_ptr<const json::CompiledSchema> compiled;  // null: it does not compile here
  std::string compile_error;
};

struct ProjectionStats {
  int64_t revision = 0;
  std::string head_hash = kZeroHash;
  int64_t head_time_us = 0;
  int64_t keys = 0;    // keys that exist now
  int64_t events = 0;  // events ever
  int64_t bytes = 0;   // memory the read model holds, approximately
};

class Projection {
 public:
  Projection() = default;
  Projection(const Projection&) = delete;
  Projection& operator=(const Projection&) = delete;

  // Folds commits in (taken by value: the read model keeps their text).
  // Commits at or below the head are ignored and OK (delivery may repeat: a
  // follower and a catch-up may read the same page). A commit above
  // head() + 1 is refused with kCorruption, after the ones before it are
  // applied: revisions index the rows, so a gap would misplace every later
  // commit (SPEC §1: a reader that has seen R has seen every commit <= R).
  // Entries are rendered outside the exclusive lock, and only for each key's
  // last version in the batch. The feed is told of the new head unless the
  // caller says it tells it itself (kByCaller: the applier answers the
  // writers of a batch before it wakes the watchers, so that fan-out to
  // many watchers is not on the write path).
  enum class Publish { kNow, kByCaller };
  Status Apply(std::vector<RecordedCommit> commits, Publish publish = Publish::kNow);
  Status Apply(RecordedCommit commit);

  // While on, Apply renders no entries (a catch-up of the whole log, where
  // most versions are superseded before anyone asks); queries render what
  // they need meanwhile. Turning it off renders every head once.
  void SetBulkLoading(bool on);

  int64_t head() const { return head_.load(std::memory_order_acquire); }
  ProjectionStats Stats() const;
  ChangeFeed& feed() { return feed_; }

  // The revision a read at (`at_revision` | `at_time` | head) sees.
  // Errors: kFutureRevision above the head, kInvalidRequest for a negative one.
  Result<int64_t> Resolve(std::optional<int64_t> at_revision, std::optional<int64_t> at_time_us) const;

  // The key as of revision `at` (head when nullopt). Errors: kNotFound.
  Result<KeyVersion> Get(std::string_view key, std::optional<int64_t> at = std::nullopt,
                         Text text = Text::kEntry) const;

  // The version of `key` in force at revision `at`, deleted or not.
  std::optional<KeyVersion> VersionAt(std::string_view key, int64_t at,
                                      Text text = Text::kEntry) const;

  // The state of `key` now, or at revision `at`, for deciding commands (a
  // decision is pinned to a revision while the applier goes on).
  KeyState State(std::string_view key) const;
  KeyState State(std::string_view key, int64_t at) const;

  // Existing keys under `prefix` at revision `at`, after the key `after`.
  ListPage List(std::string_view prefix, int64_t at, std::string_view after, size_t limit) const;
  // The same under several prefixes, as KeyScope::Within gives them (sorted,
  // none inside another), so the page is in key order.
  ListPage List(const std::vector<std::string>& prefixes, int64_t at, std::string_view after,
                size_t limit) const;

  // Every key under `prefix` that exists at revision `at`, with its version.
  std::vector<KeyVersion> Snapshot(std::string_view prefix, int64_t at) const;
  std::vector<KeyVersion> Snapshot(const std::vector<std::string>& prefixes, int64_t at) const;

  // Keys k that exist at revision `at` with `start` <= k < `end`, compared as
  // bytes (an empty `end`: no upper bound), in key order: etcd's range. At
  // most `limit` of them (SIZE_MAX: all; 0: none, to count only); `*count`
  // (when given) gets how many there are in all. Costs what the range holds, not the size of the history.
  std::vector<KeyVersion> Range(std::string_view start, std::string_view end, int64_t at,
                                size_t limit, int64_t* count, Text text = Text::kEntry) const;

  // The leases that exist now, by id; one lease, or nullopt.
  std::vector<LeaseInfo> Leases() const;
  std::optional<LeaseInfo> Lease(int64_t id) const;

  // The schemas in force at revision `at`, by prefix; those whose prefix
  // covers `key` (a key is covered by every prefix it starts with).
  std::vector<std::shared_ptr<const SchemaInForce>> Schemas(int64_t at) const;
  std::vector<std::shared_ptr<const SchemaInForce>> SchemasCovering(std::string_view key,
                                                                    int64_t at) const;

  // Review policies (SPEC §8) in force at revision `at`, by prefix; those
  // whose prefix covers `key`.
  std::vector<std::shared_ptr<const PolicyInForce>> Policies(int64_t at) const;
  std::vector<std::shared_ptr<const PolicyInForce>> PoliciesCovering(std::string_view key,
                                                                     int64_t at) const;
  // Review changes as they are now: one (null when there is none), a page
  // newest first (ReviewLedger::Changes), and the id the next proposal takes.
  std::shared_ptr<const ChangeRecord> Change(int64_t id) const;
  std::vector<std::shared_ptr<const ChangeRecord>> Changes(
      int64_t before, size_t max, std::optional<ChangeRecord::State> only) const;
  int64_t NextChangeId() const;

  // Keys that exist now and events ever, under `prefixes` (as for List).
  std::pair<int64_t, int64_t> CountUnder(const std::vector<std::string>& prefixes) const;

  // Events of `key` with revision < `before`, newest first, at most `limit`.
  // Errors: kNotFound when the key was never written.
  Result<std::vector<EventRef>> History(std::string_view key, int64_t before, size_t limit) const;

  // Commits with revision > `after`, oldest first, at most `limit`, and no
  // more once their values (and previous values) reach `max_bytes`: always
  // at least one when there is one.
  std::vector<CommitPtr> Commits(int64_t after, size_t limit,
                                 size_t max_bytes = SIZE_MAX) const;
  // Keys from `start` up to `end`, excluded (empty `end`: every key from
  // `start` on).
  struct KeySpan {
    std::string start;
    std::string end;
  };
  // The keys under `prefix`, as a span.
  static KeySpan SpanOfPrefix(std::string_view prefix);
  // The last revision R >= `after` such that no key in `spans` changed in
  // (after, R]: a watch or a filtered read of the log skips to R at once
  // instead of reading the commits in between, so its catch-up costs what
  // it returns (SPEC §6). A binary search in each key's events; when the
  // spans hold more than `max_keys` keys it answers `after` (read the
  // commits: with that many keys, most commits are likely to match).
  int64_t QuietUntil(const std::vector<KeySpan>& spans, int64_t after, size_t max_keys) const;
  // The keys (sorted, system streams left out) of the events between two
  // revisions, (min(a, b), max(a, b)]: what a diff between them can hold.
  // nullopt when there are more than `max_events` events (read snapshots).
  std::optional<std::vector<std::string_view>> KeysChangedBetween(int64_t a, int64_t b,
                                                                  size_t max_events) const;
  // QuietUntil's max_keys for readers: a few thousand binary searches at
  // most, asked only after a read of commits that matched nothing.
  static constexpr size_t kQuietKeys = 1024;
  // The revisions of the commits `actor` made after `after`, oldest first,
  // at most `limit`: a binary search in that actor's list, so an audit
  // query by actor costs what it returns, not the length of the log.
  std::vector<int64_t> RevisionsByActor(std::string_view actor, int64_t after,
                                        size_t limit) const;
  // The first revision whose commit time is at or after `time_us` (commit
  // times never decrease): head() + 1 when there is none.
  int64_t FirstRevisionAtOrAfter(int64_t time_us) const;
  CommitPtr Commit(int64_t revision) const;

  // Snapshots (projection_snapshot.cc). The file holds the rows up to a
  // revision, and an HMAC-SHA256 of itself under `key` (the store's
  // EventStore::SnapshotKey): anyone may read it, but only a holder of the
  // key can write one that loads. Its format is private to this class.
  //
  // Writes the read model as of now to `path` (a temporary file, fsync,
  // rename), without blocking Apply or queries. Returns the revision written.
  Result<int64_t> WriteSnapshot(const std::string& path, std::string_view key) const;
  // The bytes WriteSnapshot writes for the read model as of now.
  std::string SerializeSnapshot(std::string_view key) const;
  // The revision a snapshot's header names (its file read whole or in
  // part); nullopt when the bytes do not begin like a snapshot.
  static std::optional<int64_t> SnapshotRevision(std::string_view bytes);
  // A snapshot file's bytes. Errors: kNotFound when there is no file,
  // kUnavailable when it is not a regular file (a directory) or unreadable.
  static Result<std::string> ReadSnapshotFile(const std::string& path);
  // Loads a snapshot into this empty projection. `check` gets the revision
  // and hash of the snapshot's last commit once the file is read and found
  // whole and authentic, before anything is loaded: an error from it is
  // returned as is (the caller compares with the store). Errors: kCorruption
  // for a damaged, truncated, forged or inconsistent file, kNotFound when
  // there is no file, kUnavailable when it cannot be read, kInvalidRequest
  // when not empty. On any error the projection stays empty.
  using SnapshotCheck = std::function<Status(int64_t revision, const std::string& hash)>;
  Status LoadSnapshot(const std::string& path, std::string_view key, const SnapshotCheck& check);

 private:
  // An optional text in text_: data == nullptr is absent.
  struct TextRef {
    const char* data = nullptr;
    uint32_t size = 0;
    std::optional<std::string> Get() const {
      return data ? std::optional<std::string>(std::string(data, size)) : std::nullopt;
    }
  };
  struct CommitRow {
    int64_t timestamp_us = 0;
    uint64_t first_event = 0;  // its events are [first_event, next commit's)
    std::array<uint8_t, 32> hash{};
    TextRef reason;
    TextRef request_id;
    uint32_t actor = 0;  // index into actors_
  };
  static constexpr uint32_t kNoEvent = UINT32_MAX;
  struct EventRow {
    int64_t revision = 0;
    int64_t version = 0;
    int64_t created_revision = 0;  // for a delete, of the entry it removed
    const char* value = nullptr;   // nullptr: a ConfigDeleted
    uint32_t value_len = 0;
    uint32_t key = 0;                 // index into key_names_
    uint32_t prev_same_key = kNoEvent;  // the key's event before this one
    EventType type = EventType::kConfigSet;
    int64_t lease = 0;  // a ConfigSet's lease; 0: none
    // A ConfigDeleted, or a lease's end: the stream holds nothing after it.
    bool deleted() const { return EndsStream(type); }
  };
  struct LeaseRow {
    int64_t ttl = 0;
    uint32_t grantor = 0;  // into actor_names_
    int64_t granted_revision = 0;
    std::set<std::string_view> keys;  // into key_names_
  };
  struct KeyIndex {
    uint32_t id = 0;
    std::vector<uint32_t> events;  // indices into events_, oldest first
    // The head's entry (a delete keeps the entry it removed), and where the
    // value lies in it. Null only while a batch is being applied.
    std::shared_ptr<const std::string> head_entry;
    size_t head_value_pos = 0;
  };
  // What Apply works out under the shared lock, before it takes the
  // exclusive one.
  struct Planned;

  // The entry after each key's last set among commits[first, end).
  std::vector<Planned> RenderLastSets(const std::vector<RecordedCommit>& commits, size_t first,
                                      size_t end) const REQUIRES_SHARED(mu_);
  Status CheckRoom(const std::vector<RecordedCommit>& commits, size_t first) const REQUIRES_SHARED(mu_);
  // Appends one commit's rows; the head entries of its keys are set later.
  void AppendRows(const RecordedCommit& c, const std::array<uint8_t, 32>& hash) REQUIRES(mu_);
  uint32_t InternActor(std::string_view actor) REQUIRES(mu_);
  KeyIndex& InternKey(std::string_view key) REQUIRES(mu_);
  // Recent commits, kept whole for watchers and the audit log's tail.
  void Remember(CommitPtr c) REQUIRES(mu_);

  const KeyIndex* FindKey(std::string_view key) const REQUIRES_SHARED(mu_);
  // The last event of `k` with revision <= at, or kNoEvent.
  uint32_t EventAt(const KeyIndex& k, int64_t at) const REQUIRES_SHARED(mu_);
  KeyVersion VersionOf(const KeyIndex& k, uint32_t event, Text text = Text::kEntry) const
      REQUIRES_SHARED(mu_);
  std::shared_ptr<const std::string> RenderEvent(uint32_t event, size_t* value_pos) const
      REQUIRES_SHARED(mu_);
  CommitPtr Materialize(int64_t revision) const REQUIRES_SHARED(mu_);
  // The commit at `revision` with only its events [first, end) (indices
  // into events_): what a page that shows some of them needs.
  CommitPtr MaterializeEvents(int64_t revision, uint64_t first, uint64_t end) const
      REQUIRES_SHARED(mu_);
  std::string HashHex(int64_t revision) const REQUIRES_SHARED(mu_);
  // Renders the head entry of every key that has none.
  void RenderAllHeads() REQUIRES(mu_);
  // Fills actor_commits_ from the commit rows (after a snapshot load).
  void IndexActors() REQUIRES(mu_);
  // Hands the snapshot's bytes to `sink`, a megabyte at a time.
  Status EncodeSnapshot(const std::function<Status(std::string_view)>& sink,
                        std::string_view key, int64_t* revision) const;

  mutable SharedMutex mu_;
  // Append-only: rows below their size never change, and a snapshot writer
  // reads them without mu_ after learning the sizes under it.
  AppendOnlyArray<CommitRow> commits_;  // [i] = revision i+1
  AppendOnlyArray<EventRow> events_;
  AppendOnlyArray<std::string_view> key_names_;
  AppendOnlyArray<std::string_view> actor_names_;
  TextArena text_ GUARDED_BY(mu_);

  std::map<std::string_view, KeyIndex, std::less<>> keys_ GUARDED_BY(mu_);
  std::vector<KeyIndex*> key_by_id_ GUARDED_BY(mu_);
  std::unordered_map<std::string_view, uint32_t> actor_ids_ GUARDED_BY(mu_);
  // [actor id]: the revisions of that actor's commits, increasing.
  std::vector<std::vector<int64_t>> actor_commits_ GUARDED_BY(mu_);
  static constexpr size_t kRecent = 1024;
  std::vector<CommitPtr> recent_ GUARDED_BY(mu_);  // [revision % kRecent]
  // The config keys that exist at the head, in key order: a listing of the
  // head walks these, not every key that ever existed (deleted keys pile up
  // with the log; SPEC §6).
  std::map<std::string_view, const KeyIndex*, std::less<>> live_ GUARDED_BY(mu_);
  // Keeps live_ after an event of config key `k` (AppendRows, LoadSnapshot).
  void TrackLive(const KeyIndex& k, bool existed, bool exists) REQUIRES(mu_);
  std::map<int64_t, LeaseRow> leases_ GUARDED_BY(mu_);
  // Folds one event into leases_ (AppendRows and LoadSnapshot).
  void TrackLease(const EventRow& ev, const EventRow* prev, uint32_t actor) REQUIRES(mu_);
  // prefix -> (revision, schema set then; null: deleted then), by revision:
  // few schemas, each changed rarely, all read at any revision.
  std::map<std::string, std::vector<std::pair<int64_t, std::shared_ptr<const SchemaInForce>>>,
           std::less<>>
      schemas_ GUARDED_BY(mu_);
  // Folds a schema event (kSchemasStream) into schemas_; compiles a set.
  void TrackSchema(const EventRow& ev, uint32_t actor) REQUIRES(mu_);
  ReviewLedger reviews_ GUARDED_BY(mu_);
  // Folds a policy or change event into reviews_.
  void TrackReview(const EventRow& ev, const CommitRow& commit) REQUIRES(mu_);
  std::atomic<int64_t> head_{0};
  std::atomic<bool> bulk_loading_{false};
  ChangeFeed feed_;
};

// Renders the entry JSON of `key` after a ConfigSet (SPEC §2.1 Entry) and
// sets `*value_pos` to where the value text starts in it.
std::string RenderEntry(std::string_view key, std::string_view value, int64_t version,
                        int64_t created_revision, int64_t modified_revision,
                        int64_t modified_at_us, std::string_view modified_by, size_t* value_pos,
                        int64_t lease = 0);

}  // namespace chronoconf

#endif  // CHRONOCONF_PROJECTION_PROJECTION_H_
