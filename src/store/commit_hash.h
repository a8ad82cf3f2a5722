// The hash chain of SPEC §1.1.
//
//   hash = SHA-256(prev_hash as 32 raw bytes || commit_bytes)
//   commit_bytes := {"revision":R,"timestamp":"<RFC 3339 µs Z>","actor":"…",
//                    "reason":<string|null>,"request_id":<string|null>,
//                    "events":[{"index":0,"type":"ConfigSet","key":"…",
//                               "version":N,"value":<text|null>,
//                               "previous_value":<text|null>},…]}
#ifndef CHRONOCONF_STORE_COMMIT_HASH_H_
#define CHRONOCONF_STORE_COMMIT_HASH_H_

#include <string>

#include "common/status.h"
#include "domain/events.h"

namespace chronoconf {

std::string CommitBytes(const RecordedCommit& commit);

// The hash of `commit` chained from `commit.prev_hash` (hex).
std::string ComputeCommitHash(const RecordedCommit& commit);

// Fills revision, time, prev_hash and hash of a new commit that follows
// `head` (the time never goes back: max(head time, now)).
RecordedCommit SealCommit(const CommitData& data, int64_t revision, int64_t now_us,
                          int64_t prev_time_us, const std::string& prev_hash);

// Checks that `commit`, recorded by some store, can follow a head at
// (`head_revision`, `head_hash`, `head_time_us`) verbatim (copies, SPEC §3).
// kConflict when it is not the next link (revision or prev_hash differ: the
// target moved on); kCorruption when its hash does not recompute or its time
// goes back.
Status CheckRecordedCommit(const RecordedCommit& commit, int64_t head_revision,
                           const std::string& head_hash, int64_t head_time_us);

// A commit decided on a whole prefix at `expected_head` (CommitData) can
// follow only that revision: kConflict when `head` moved past it.
Status CheckExpectedHead(const CommitData& commit, int64_t head);

}  // namespace chronoconf

#endif  // CHRONOCONF_STORE_COMMIT_HASH_H_
