// Events: the facts chronoconf records, and the commits that group them.
//
// A commit is the unit of atomicity and of revision numbering; it holds 1..N
// events, each one change to one key (the aggregate id). `CommitData` is what
// the application asks the store to append; `RecordedCommit` is what the store
// gives back, with the revision, time and hash it assigned (commanded's
// EventData / RecordedEvent split).
#ifndef CHRONOCONF_DOMAIN_EVENTS_H_
#define CHRONOCONF_DOMAIN_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chronoconf {

// ConfigSet and ConfigDeleted change a config key. The lease events live in
// a lease's system stream (domain/system_stream.h): LeaseGranted is its
// version 1 and LeaseRevoked or LeaseExpired its version 2; their value is
// {"id":N,"ttl":S}.
//
// SchemaSet and SchemaDeleted (SPEC §8) live in the one schemas stream
// (kSchemasStream); their value is {"prefix":P,"schema":S} and
// {"prefix":P}, their previous value what P had before.
//
// PolicySet and PolicyDeleted (SPEC §8) live in the one policies stream
// (kPoliciesStream): {"prefix":P,"approvals":N} and {"prefix":P}. A review
// change lives in its own stream (ChangeStream): ChangeProposed is its
// version 1, {"id":N,"base_revision":R,"ops":[...]}; ChangeApproved and
// ChangeRejected add a review, {"id":N}; ChangeApplied is in the commit that
// makes the change, {"id":N,"approvers":[...]}. Rejected and applied end it.
enum class EventType {
  kConfigSet,
  kConfigDeleted,
  kLeaseGranted,
  kLeaseRevoked,
  kLeaseExpired,
  kSchemaSet,
  kSchemaDeleted,
  kPolicySet,
  kPolicyDeleted,
  kChangeProposed,
  kChangeApproved,
  kChangeRejected,
  kChangeApplied,
};
// The last EventType (stored rows are checked against it).
inline constexpr EventType kLastEventType = EventType::kChangeApplied;

// "ConfigSet", "ConfigDeleted", "LeaseGranted"...: the names on the wire and
// in the store.
const char* EventTypeName(EventType type);
std::optional<EventType> ParseEventType(std::string_view name);

struct Event {
  EventType type = EventType::kConfigSet;
  std::string key;
  int64_t version = 0;                        // the key's version after this event
  std::optional<std::string> value;           // minified JSON; absent for deletes
  std::optional<std::string> previous_value;  // absent when the key did not exist
  // A ConfigSet made with an etcd lease: the lease's id. Hashed only when
  // present, so every commit made before leases existed still verifies.
  std::optional<int64_t> lease = std::nullopt;

  bool operator==(const Event&) const = default;
};

// Does an event of this type leave its stream without a value (a delete, a
// lease ended)? (A change that ends keeps its payload: its stream is read
// whole.)
inline bool EndsStream(EventType type) {
  return type == EventType::kConfigDeleted || type == EventType::kLeaseRevoked ||
         type == EventType::kLeaseExpired;
}

// Who made a change and why.
struct CommitMeta {
  std::string actor = "anonymous";
  std::optional<std::string> reason;
  std::optional<std::string> request_id;
  // Not recorded: the write comes from a principal that is not an admin, so
  // a prefix whose policy requires reviews refuses it (SPEC §8,
  // review_required). Internal writers (lease expiry, copy) leave it false.
  bool needs_review = false;
};

// A key a commit was decided on but does not write (a transaction's `check`,
// or an op that changed nothing beside ops that did), with the version it had
// then. The store checks it inside the append transaction exactly like an
// event's version (kConflict when the key moved), so no commit is made on a
// read another node changed meanwhile. Not recorded: it leaves no trace.
struct ReadCheck {
  std::string key;
  int64_t version = 0;  // 0: the key has no events
};

// A commit to be appended: the store assigns revision, time and hash.
struct CommitData {
  CommitMeta meta;
  std::vector<Event> events;     // index = position
  std::vector<ReadCheck> reads;  // checked before this commit's events
  // Decided on a whole prefix at this revision (a schema set): the store
  // appends it only right after that revision, else kConflict. Not recorded.
  std::optional<int64_t> expected_head = std::nullopt;
};

// A commit as recorded. Immutable once written.
struct RecordedCommit {
  int64_t revision = 0;
  int64_t timestamp_us = 0;  // commit time, Unix microseconds, non-decreasing
  CommitMeta meta;
  std::vector<Event> events;
  std::string prev_hash;  // 64 lowercase hex digits
  std::string hash;       // SHA-256(prev_hash bytes || CommitBytes), hex
};

// The hash that revision 1 chains from: 32 zero bytes, in hex.
inline const std::string kZeroHash(64, '0');

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_EVENTS_H_
