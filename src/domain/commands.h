// Commands: what a client asks for, before it is decided (imperative names).
//
// A single PUT or DELETE is a Transaction of one op; revert and import are
// turned into a Transaction by the application from the read model, because an
// aggregate reads no other aggregate (commanded's rule).
#ifndef CHRONOCONF_DOMAIN_COMMANDS_H_
#define CHRONOCONF_DOMAIN_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "domain/etcd_txn.h"
#include "domain/events.h"

namespace chronoconf {

// Set `key` to `value` (minified JSON text).
struct SetKey {
  std::string key;
  std::string value;
  std::optional<int64_t> expected_version;  // If-Match / expected_version
  bool must_be_absent = false;              // If-None-Match: * / "absent":true
  // etcd's Put: setting the value the key already has still commits (a new
  // revision, version and event), where the native API's no-op rule
  // appends nothing (SPEC §7).
  bool commit_unchanged = false;
  // etcd's Put with a lease: the lease's id, recorded in the event. The lease
  // must exist when the put is decided (the store checks its stream).
  std::optional<int64_t> lease = std::nullopt;
};

// Delete `key`; it must exist, unless `if_exists` (etcd's DeleteRange of
// one key: a missing key deletes nothing and is not an error).
struct DeleteKey {
  std::string key;
  std::optional<int64_t> expected_version;
  bool if_exists = false;
};

// Assert `key` is at `expected_version`; changes nothing.
struct CheckKey {
  std::string key;
  int64_t expected_version = 0;
};

using Op = std::variant<SetKey, DeleteKey, CheckKey>;

const std::string& OpKey(const Op& op);

// All ops or none, in one commit.
struct Transaction {
  std::vector<Op> ops;
  CommitMeta meta;
  // The version of the schemas stream (SPEC §8) whose schemas found every
  // value it sets valid, checked on the submitting thread (-1: not
  // checked). The committer checks the values again only if it moved.
  int64_t schemas_checked = -1;
};

// Make the config under `prefix` equal to its state at `revision`.
struct RevertTo {
  int64_t revision = 0;
  std::string prefix;
  CommitMeta meta;
};

// Load `values`; with `replace`, delete the keys under `prefix` not in it.
struct Import {
  std::vector<std::pair<std::string, std::string>> values;  // key, minified value
  bool replace = false;
  std::string prefix;
  CommitMeta meta;
};

// Delete every key k that exists with `start` <= k < `end` (bytes; an empty
// `end`: no upper bound): etcd's DeleteRange over a range. Resolved from the
// read model by the application, like RevertTo; matching nothing is no
// commit.
struct DeleteKeyRange {
  std::string start;
  std::string end;
  CommitMeta meta;
};

// etcd's Txn (domain/etcd_txn.h): DecideEtcdTxn, against the read model,
// picks the branches whose writes are committed (puts with
// SetKey::commit_unchanged; range deletes resolved then), all in one commit;
// none when they write nothing.
struct EtcdTxn {
  EtcdTxnBody body;
  CommitMeta meta;
};

// Grant, revoke or expire a lease (domain/system_stream.h). Revoke and
// expire delete the lease's keys in the same commit, whose actor is the
// lease's grantor and whose reason names the lease.
struct LeaseChange {
  enum class Kind { kGrant, kRevoke, kExpire };
  Kind kind = Kind::kGrant;
  int64_t id = 0;
  int64_t ttl = 0;  // seconds; a grant only
  CommitMeta meta;  // a grant's; revoke and expire take the grantor's
  // An expiry: asked again inside the committer, just before the decision,
  // so that a keep-alive that arrived meanwhile keeps the lease. False
  // decides nothing (the command answers OK, unchanged).
  std::function<bool()> still_expired;
};

// Set or delete the JSON Schema every value under `prefix` must satisfy
// (SPEC §8). A set that current values break is refused (schema_conflict)
// unless `force`.
struct SchemaChange {
  std::string prefix;
  std::optional<std::string> schema;  // minified JSON; nullopt: delete
  bool force = false;
  CommitMeta meta;
};

// Set (approvals >= 1) or delete (nullopt) the number of approvals a change
// under `prefix` needs before it is applied (SPEC §8).
struct PolicyChange {
  std::string prefix;
  std::optional<int64_t> approvals;
  CommitMeta meta;
};

// Propose `txn`'s ops as a review change (SPEC §8): decided now (so a change
// that could not commit is refused at once) and recorded with the version of
// every key it names, which apply checks again. Answers the new change's id.
struct ProposeChange {
  Transaction txn;
};

// Approve or reject change `id` (SPEC §8). The proposer cannot approve; a
// reject closes the change (the proposer may withdraw it that way).
struct ReviewChange {
  int64_t id = 0;
  bool approve = true;
  CommitMeta meta;
};

// Commit change `id`'s ops as one commit that names the change and its
// approvers, once it has the approvals the policies over its keys require
// and none of its keys moved since it was proposed.
struct ApplyChange {
  int64_t id = 0;
  CommitMeta meta;
};

using Command = std::variant<Transaction, RevertTo, Import, DeleteKeyRange, EtcdTxn, LeaseChange,
                             SchemaChange, PolicyChange, ProposeChange, ReviewChange, ApplyChange>;

// The most ops one POST /v1/txn may hold (revert and import are not limited).
inline constexpr size_t kMaxTransactionOps = 1000;

// Limits on the texts a commit records (SPEC §2.1).
inline constexpr size_t kMaxReasonBytes = 4096;
inline constexpr size_t kMaxActorBytes = 256;
inline constexpr size_t kMaxRequestIdBytes = 256;

// The one check of every text that enters the immutable log: valid UTF-8,
// no NUL (PostgreSQL's text cannot hold one), within its limit. The log can
// never be repaired, so a strict JSON reader must accept all of it.
// Errors: kInvalidRequest naming the text.
Status ValidateCommitMeta(const CommitMeta& meta);
// The same check for one text; `what` names it in the error.
Status ValidateLogText(std::string_view text, size_t max_bytes, std::string_view what);

const CommitMeta& MetaOf(const Command& command);

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_COMMANDS_H_
