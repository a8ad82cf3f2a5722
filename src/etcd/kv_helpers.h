// Small pieces the KV service's files share (kv_service.cc, kv_txn.cc).
#ifndef CHRONOCONF_ETCD_KV_HELPERS_H_
#define CHRONOCONF_ETCD_KV_HELPERS_H_

#include <string>

#include "projection/projection.h"

namespace mvccpb {
class KeyValue;
}

namespace chronoconf::etcd {

// `key` as it was at `revision` into `kv`; false when it did not exist. With
// the revision before a commit, this is the commit's prev_kv, exactly.
bool KeyValueAt(const Projection& projection, const std::string& key, int64_t revision,
                mvccpb::KeyValue* kv);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_KV_HELPERS_H_
