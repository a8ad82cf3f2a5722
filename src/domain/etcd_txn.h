// etcd's Txn as a chronoconf command (SPEC §7 "Writes follow etcd"): compares
// on one key or a range, then the `success` or the `failure` branch's writes
// (and nested Txns), all in one commit. Reads of a branch (Range ops) change
// nothing, so the command holds only what decides the commit; the etcd layer
// reads them from the read model once the commit is made, along the path of
// branches the decision took.
#ifndef CHRONOCONF_DOMAIN_ETCD_TXN_H_
#define CHRONOCONF_DOMAIN_ETCD_TXN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace chronoconf {

struct EtcdCompare {
  // kUnknown: a target or result etcd does not know, which it still
  // evaluates (compareKV): an unknown target compares as equal, an unknown
  // result always holds.
  enum class Target { kVersion, kCreate, kMod, kValue, kLease, kUnknown };
  enum class Result { kEqual, kGreater, kLess, kNotEqual, kUnknown };
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  // The keys compared: [start, end) by bytes; `end` empty with `single`
  // false: every key >= start.
  std::string start;
  std::string end;
  bool single = true;
  int64_t number = 0;  // kVersion (etcd's), kCreate, kMod, kLease
  std::string value;   // kValue: etcd's bytes
};

// A key as etcd sees it, for compares.
struct EtcdKeyView {
  int64_t version = 0;  // writes since the key was last created
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  std::string value;  // etcd's bytes
  int64_t lease = 0;  // 0: none
};

// etcd's applyCompare: true when every key in the range satisfies the
// compare; on no key, a VALUE compare fails and the others compare zeros.
bool CompareHolds(const EtcdCompare& compare, const std::vector<EtcdKeyView>& keys);

// Deletes every key in [start, end) (end empty: no upper bound). One key is
// [key, key + "\0").
struct RangeDelete {
  std::string start;
  std::string end;
};

// Sets `key`: to `value` (stored form), or, with `keep_value` (etcd's
// ignore_value), to the value it has. With `must_exist` (ignore_value or
// ignore_lease) the key must exist before the Txn, as etcd's checkPut asks.
struct EtcdPut {
  std::string key;
  std::string value;
  bool keep_value = false;
  bool must_exist = false;
  int64_t lease = 0;        // 0: none
  bool keep_lease = false;  // etcd's ignore_lease: the lease the key has
};

// A Range of a branch: it changes nothing, but a revision above the head,
// or below the etcd view's compaction floor, fails the Txn when the branch
// is taken (etcd's checkRange).
struct EtcdRangeAt {
  int64_t revision = 0;
  bool compacted = false;  // below the etcd view's floor when asked (SPEC §7)
};

struct EtcdTxnBody;

// A Txn in a branch (etcd's RequestOp.request_txn). Shared: a command is
// copied as it is decided, never changed.
struct NestedEtcdTxn {
  std::shared_ptr<const EtcdTxnBody> txn;
};

// The compares and the two branches of an etcd Txn, outer or nested.
struct EtcdTxnBody {
  using Write = std::variant<EtcdPut, RangeDelete, NestedEtcdTxn, EtcdRangeAt>;
  std::vector<EtcdCompare> compares;
  std::vector<Write> success;
  std::vector<Write> failure;
};

// One key as the decision reads it at the head: etcd's view of it, and its
// value as stored (what a put with `keep_value` writes again).
struct EtcdKeyRead {
  std::string key;
  EtcdKeyView view;
  std::string stored_value;
};

// The keys in [start, end) by key (end empty: no upper bound), or with
// `single` only `start`, as they are when the Txn is decided.
using EtcdReader = std::function<std::vector<EtcdKeyRead>(
    const std::string& start, const std::string& end, bool single)>;

// What a Txn comes to, as etcd 3.4 applies one (apply.go): every compare on
// the chosen path (compareToPath) and every check (checkRequests) reads the
// state before the Txn; then the chosen branches' writes run in order.
struct EtcdTxnDecision {
  // InvalidRequest "key not found": a put that must find its key did not
  // (etcd's checkPut); else FutureRevision: a Range above the head.
  Status status;
  // Which branch ran: the outer Txn's, then each nested Txn's of the chosen
  // branches, depth first in request order (etcd's txnPath).
  std::vector<bool> path;
  // The writes in order: a value for a put, none for a delete of a key that
  // exists (each key deleted once; a range deletes the keys it holds).
  std::vector<std::pair<std::string, std::optional<std::string>>> writes;
  // Per write: a put's lease (0: none), beside `writes`.
  std::vector<int64_t> write_leases;
  // Every key a compare read, missing ones too (their absence was read).
  std::vector<std::string> compared;
};

// `head`: the revision `read` reads.
EtcdTxnDecision DecideEtcdTxn(const EtcdTxnBody& txn, const EtcdReader& read, int64_t head);

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_ETCD_TXN_H_
