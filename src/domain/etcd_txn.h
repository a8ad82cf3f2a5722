// etcd's Txn as a chronoconf command (SPEC §7 "Writes follow etcd"): compares
// on one key or a range, then the `success` or the `failure` branch's writes,
// all in one commit. Reads of a branch (Range ops) change nothing, so the
// command holds only what decides the commit; the etcd layer reads them from
// the read model once the commit is made.
#ifndef CHRONOCONF_DOMAIN_ETCD_TXN_H_
#define CHRONOCONF_DOMAIN_ETCD_TXN_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace chronoconf {

struct EtcdCompare {
  enum class Target { kVersion, kCreate, kMod, kValue, kLease };
  enum class Result { kEqual, kGreater, kLess, kNotEqual };
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
  int64_t lease = 0;  // no leases yet: always 0
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

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_ETCD_TXN_H_
