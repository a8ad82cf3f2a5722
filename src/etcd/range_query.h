// etcd's Range over the read model (etcd 3.4's applierV3backend.Range):
// time travel to `revision`, `limit` with `more`, `count` of the whole
// range, min/max mod and create revision filters, sort by key, version,
// create or mod revision or value, keys_only and count_only. The header's
// revision is the head (as etcd's), whatever revision was read.
#ifndef CHRONOCONF_ETCD_RANGE_QUERY_H_
#define CHRONOCONF_ETCD_RANGE_QUERY_H_

#include <set>
#include <string>

#include <grpcpp/support/status.h>

#include "etcd/key_range.h"
#include "projection/projection.h"

namespace etcdserverpb {
class RangeRequest;
class RangeResponse;
}  // namespace etcdserverpb
namespace mvccpb {
class KeyValue;
}

namespace chronoconf::etcd {

// Answers `req` (its key range already parsed and admitted) from
// `projection` at `head`, a revision the projection has applied.
// Errors: FutureRev.
grpc::Status RunRange(const Projection& projection, int64_t head, const KeyRange& range,
                      const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* resp);

// A Range inside a Txn whose commit (if any) is `post` and whose reads
// before it saw `pre` (post - 1, or post when nothing was committed): the
// keys the branch wrote before this op (`written`) as they are at `post`,
// every other key as at `pre`, so that the op sees the branch's earlier
// writes and none of its later ones. A request revision reads that revision.
grpc::Status RunRangeInTxn(const Projection& projection, int64_t pre, int64_t post,
                           const std::set<std::string>& written, const KeyRange& range,
                           const etcdserverpb::RangeRequest& req,
                           etcdserverpb::RangeResponse* resp);

// An etcd KeyValue from a key as it was: create_revision and version of its
// current life (SPEC §7), its value as etcd bytes (none with `keys_only`).
void FillKeyValue(const KeyVersion& v, bool keys_only, mvccpb::KeyValue* kv);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_RANGE_QUERY_H_
