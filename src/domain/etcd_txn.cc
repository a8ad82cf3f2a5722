#include "domain/etcd_txn.h"

#include <map>
#include <set>

namespace chronoconf {
namespace {

int Sign(int64_t a, int64_t b) { return a < b ? -1 : a > b ? 1 : 0; }

bool Holds(const EtcdCompare& c, const EtcdKeyView& kv) {
  int cmp = 0;
  switch (c.target) {
    case EtcdCompare::Target::kValue:
      cmp = kv.value.compare(c.value);
      cmp = cmp < 0 ? -1 : cmp > 0 ? 1 : 0;
      break;
    case EtcdCompare::Target::kCreate:
      cmp = Sign(kv.create_revision, c.number);
      break;
    case EtcdCompare::Target::kMod:
      cmp = Sign(kv.mod_revision, c.number);
      break;
    case EtcdCompare::Target::kVersion:
      cmp = Sign(kv.version, c.number);
      break;
    case EtcdCompare::Target::kLease:
      cmp = Sign(kv.lease, c.number);
      break;
    case EtcdCompare::Target::kUnknown:
      break;  // etcd compares nothing: equal
  }
  switch (c.result) {
    case EtcdCompare::Result::kEqual:
      return cmp == 0;
    case EtcdCompare::Result::kNotEqual:
      return cmp != 0;
    case EtcdCompare::Result::kGreater:
      return cmp > 0;
    case EtcdCompare::Result::kLess:
      return cmp < 0;
    case EtcdCompare::Result::kUnknown:
      return true;
  }
  return true;
}

// etcd's compareToPath: the branch each Txn on the chosen path takes, all
// decided on the state before the Txn (a nested Txn's compares do not see
// the writes of the ops before it: etcd 3.4 reads them up front).
void ChoosePath(const EtcdTxnBody& txn, const EtcdReader& read, EtcdTxnDecision* d) {
  bool holds = true;
  for (const EtcdCompare& c : txn.compares) {
    std::vector<EtcdKeyView> views;
    for (EtcdKeyRead& k : read(c.start, c.end, c.single)) {
      d->compared.push_back(std::move(k.key));
      views.push_back(std::move(k.view));
    }
    if (c.single && views.empty()) d->compared.push_back(c.start);
    if (!CompareHolds(c, views)) holds = false;
  }
  d->path.push_back(holds);
  for (const EtcdTxnBody::Write& w : holds ? txn.success : txn.failure) {
    if (const auto* nested = std::get_if<NestedEtcdTxn>(&w)) ChoosePath(*nested->txn, read, d);
  }
}

bool InRange(const RangeDelete& del, const std::string& key) {
  return key >= del.start && (del.end.empty() || key < del.end);
}

// etcd's checkRequests and applyTxn along the path from `*at`: the writes
// of the chosen branches, in order. `written`: each key the Txn wrote so
// far, and whether it exists after that write. A range deletes what it holds
// as the Txn left it (etcd's deleteRange reads the Txn's own puts): the keys
// it did not write yet as they were, and those it put (a put the Txn then
// deletes is two writes of one key, which the commit refuses). A second
// range over a deleted key deletes nothing. A Range above `head` sets
// `*future` (etcd checks the puts first, then the ranges).
Status Apply(const EtcdTxnBody& txn, const EtcdReader& read, int64_t head, size_t* at,
             std::map<std::string, bool>* written, Status* future, EtcdTxnDecision* d) {
  const bool succeeded = d->path[(*at)++];
  for (const EtcdTxnBody::Write& w : succeeded ? txn.success : txn.failure) {
    if (const auto* put = std::get_if<EtcdPut>(&w)) {
      std::optional<std::string> value = put->value;
      int64_t lease = put->lease;
      if (put->must_exist) {
        std::vector<EtcdKeyRead> current = read(put->key, "", true);
        if (current.empty()) return Status::InvalidRequest("key not found");
        if (put->keep_value) value = std::move(current.front().stored_value);
        if (put->keep_lease) lease = current.front().view.lease;
      }
      (*written)[put->key] = true;
      d->writes.emplace_back(put->key, std::move(value));
      d->write_leases.push_back(lease);
    } else if (const auto* del = std::get_if<RangeDelete>(&w)) {
      std::set<std::string> gone;  // in key order, as etcd deletes them
      for (EtcdKeyRead& k : read(del->start, del->end, false)) {
        if (!written->contains(k.key)) gone.insert(std::move(k.key));
      }
      for (const auto& [key, exists] : *written) {
        if (exists && InRange(*del, key)) gone.insert(key);
      }
      for (const std::string& key : gone) {
        (*written)[key] = false;
        d->writes.emplace_back(key, std::nullopt);
        d->write_leases.push_back(0);
      }
    } else if (const auto* range = std::get_if<EtcdRangeAt>(&w)) {
      if (range->revision > head && future->ok()) {
        *future = Status::FutureRevision("mvcc: required revision is a future revision");
      } else if (range->compacted && future->ok()) {
        *future = Status::Compacted("mvcc: required revision has been compacted");
      }
    } else {
      Status s = Apply(*std::get<NestedEtcdTxn>(w).txn, read, head, at, written, future, d);
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

}  // namespace

bool CompareHolds(const EtcdCompare& compare, const std::vector<EtcdKeyView>& keys) {
  if (keys.empty()) {
    // "nil == empty string in grpc; no way to represent missing value"
    // (etcd's applyCompare): a value compare on no key fails.
    if (compare.target == EtcdCompare::Target::kValue) return false;
    return Holds(compare, EtcdKeyView{});
  }
  for (const EtcdKeyView& kv : keys) {
    if (!Holds(compare, kv)) return false;
  }
  return true;
}

EtcdTxnDecision DecideEtcdTxn(const EtcdTxnBody& txn, const EtcdReader& read, int64_t head) {
  EtcdTxnDecision d;
  ChoosePath(txn, read, &d);
  size_t at = 0;
  std::map<std::string, bool> written;
  Status future;
  d.status = Apply(txn, read, head, &at, &written, &future, &d);
  if (d.status.ok()) d.status = std::move(future);
  if (!d.status.ok()) {
    d.writes.clear();
    d.write_leases.clear();
  }
  return d;
}

}  // namespace chronoconf
