#include "domain/etcd_txn.h"

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
  }
  return false;
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

}  // namespace chronoconf
