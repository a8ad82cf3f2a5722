// etcd's key and range_end (SPEC §7 "Keys"), in chronoconf's one key space.
//
//   range_end empty   the single key `key`
//   range_end "\0"    every key >= key
//   otherwise         every key k with key <= k < range_end (bytes)
//
// A prefix is key with range_end = key with its last byte incremented
// (clientv3's GetPrefixRangeEnd); "\0" as key and range_end is every key.
#ifndef CHRONOCONF_ETCD_KEY_RANGE_H_
#define CHRONOCONF_ETCD_KEY_RANGE_H_

#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "domain/key_scope.h"

namespace chronoconf::etcd {

struct KeyRange {
  std::string start;
  std::string end;  // exclusive; empty: no upper bound (only when !single)
  bool single = true;
};

// The range a request names. A single key must be a valid chronoconf key
// (SPEC §1); the bounds of a range may be any bytes (clients send "\0" for
// "from the first key"). Errors: etcd's EmptyKey; InvalidArgument for a
// single key that breaks SPEC §1.
grpc::Status ParseKeyRange(std::string_view key, std::string_view range_end, KeyRange* out);

// True when every key `range` could hold is in `scope` (etcd checks a
// range's permission as a whole, and so do we: no silent filtering).
bool ScopeCovers(const KeyScope& scope, const KeyRange& range);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_KEY_RANGE_H_
