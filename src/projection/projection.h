// Projection: the in-memory read model every query is served from (the READ
// side of CQRS). It is a fold of the commits in revision order:
//
//   keys_    key -> every version of the key, oldest first, each with its
//            entry JSON already rendered (a GET copies bytes, parses nothing)
//   commits_ revision -> the recorded commit (audit log, watch, revisions)
//
// Time travel is a binary search: a key at revision R is the last version
// with revision <= R; a time T resolves to the last commit at or before T.
//
// Thread safety: safe for concurrent use. Apply() takes the write lock;
// queries take a shared lock and return copies.
#ifndef CHRONOCONF_PROJECTION_PROJECTION_H_
#define CHRONOCONF_PROJECTION_PROJECTION_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "domain/events.h"
#include "domain/key_aggregate.h"
#include "projection/change_feed.h"

namespace chronoconf {

using CommitPtr = std::shared_ptr<const RecordedCommit>;

// A key as it was after one of its events.
struct KeyVersion {
  int64_t revision = 0;
  int64_t version = 0;
  bool deleted = false;
  int64_t created_revision = 0;
  CommitPtr commit;                          // the commit holding the event
  size_t index = 0;                          // the event's index in it
  std::shared_ptr<const std::string> entry;  // entry JSON; for a delete, the entry before it
  size_t value_pos = 0;                      // where the value text lies in `entry`
  size_t value_len = 0;

  std::string_view value() const { return std::string_view(*entry).substr(value_pos, value_len); }
};

// One event with its commit (a line of the audit trail).
struct EventRef {
  CommitPtr commit;
  size_t index = 0;
  const Event& event() const { return commit->events[index]; }
};

struct ListPage {
  int64_t revision = 0;
  std::vector<std::shared_ptr<const std::string>> entries;  // entry JSON, sorted by key
  std::optional<std::string> next;                          // cursor for after=
};

struct ProjectionStats {
  int64_t revision = 0;
  std::string head_hash = kZeroHash;
  int64_t head_time_us = 0;
  int64_t keys = 0;    // keys that exist now
  int64_t events = 0;  // events ever
};

class Projection {
 public:
  // Folds one commit in (taken by value: the read model keeps it). Commits at
  // or below the head are ignored and OK (delivery may repeat: a follower and
  // a catch-up may read the same page). A commit above head() + 1 is refused
  // with kCorruption and changes nothing: `commits_` is indexed by revision,
  // so a gap would misplace every later commit (SPEC §1: a reader that has
  // seen R has seen every commit <= R).
  Status Apply(RecordedCommit commit);

  int64_t head() const { return head_.load(std::memory_order_acquire); }
  ProjectionStats Stats() const;
  ChangeFeed& feed() { return feed_; }

  // The revision a read at (`at_revision` | `at_time` | head) sees.
  // Errors: kFutureRevision above the head, kInvalidRequest for a negative one.
  Result<int64_t> Resolve(std::optional<int64_t> at_revision, std::optional<int64_t> at_time_us) const;

  // The key as of revision `at` (head when nullopt). Errors: kNotFound.
  Result<KeyVersion> Get(std::string_view key, std::optional<int64_t> at = std::nullopt) const;

  // The version of `key` in force at revision `at`, deleted or not.
  std::optional<KeyVersion> VersionAt(std::string_view key, int64_t at) const;

  // The current state of `key`, for deciding commands.
  KeyState State(std::string_view key) const;

  // Existing keys under `prefix` at revision `at`, after the key `after`.
  ListPage List(std::string_view prefix, int64_t at, std::string_view after, size_t limit) const;
  // The same under several prefixes, as KeyScope::Within gives them (sorted,
  // none inside another), so the page is in key order.
  ListPage List(const std::vector<std::string>& prefixes, int64_t at, std::string_view after,
                size_t limit) const;

  // Every key under `prefix` that exists at revision `at`, with its version.
  std::vector<KeyVersion> Snapshot(std::string_view prefix, int64_t at) const;
  std::vector<KeyVersion> Snapshot(const std::vector<std::string>& prefixes, int64_t at) const;

  // Keys that exist now and events ever, under `prefixes` (as for List).
  std::pair<int64_t, int64_t> CountUnder(const std::vector<std::string>& prefixes) const;

  // Events of `key` with revision < `before`, newest first, at most `limit`.
  // Errors: kNotFound when the key was never written.
  Result<std::vector<EventRef>> History(std::string_view key, int64_t before, size_t limit) const;

  // Commits with revision > `after`, oldest first, at most `limit`.
  std::vector<CommitPtr> Commits(int64_t after, size_t limit) const;
  CommitPtr Commit(int64_t revision) const;

 private:
  mutable SharedMutex mu_;
  std::map<std::string, std::vector<KeyVersion>, std::less<>> keys_ GUARDED_BY(mu_);
  std::vector<CommitPtr> commits_ GUARDED_BY(mu_);  // [i] = revision i+1
  int64_t live_keys_ GUARDED_BY(mu_) = 0;
  int64_t events_ GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> head_{0};
  ChangeFeed feed_;
};

// Renders the entry JSON of `key` after a ConfigSet (SPEC §2.1 Entry) and
// sets `*value_pos` to where the value text starts in it.
std::string RenderEntry(const std::string& key, std::string_view value, int64_t version,
                        int64_t created_revision, const RecordedCommit& commit,
                        size_t* value_pos);

}  // namespace chronoconf

#endif  // CHRONOCONF_PROJECTION_PROJECTION_H_
