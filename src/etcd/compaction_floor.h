// CompactionFloor: the etcd view's compaction floor (SPEC §7 "Compaction").
// History is never deleted; Compact(R) records R in the store (durable,
// shared by every node) and the etcd API answers "compacted" for reads and
// watches below it. One per process, shared by the gRPC services and the
// JSON gateway, with the floor cached in memory: on a store only this
// process writes the cache is the floor; on a shared store a revision the
// cache allows is checked against the store (another node may have
// compacted).
//
// Thread safety: all methods may be called from any thread.
#ifndef CHRONOCONF_ETCD_COMPACTION_FLOOR_H_
#define CHRONOCONF_ETCD_COMPACTION_FLOOR_H_

#include <atomic>
#include <cstdint>

#include <grpcpp/support/status.h>

#include "store/event_store.h"

namespace chronoconf::etcd {

class CompactionFloor {
 public:
  // `ignore`: `--etcd-compaction ignore`, Compact accepts and moves nothing.
  CompactionFloor(EventStore* store, bool ignore);

  // OK unless `revision` (> 0) is below the floor: etcd's Compacted.
  // Reads the store's floor only when it may have moved elsewhere and
  // `revision` is below `head` (time travel). Errors: the store's.
  grpc::Status Check(int64_t revision, int64_t head);
  // Raises the floor to `revision`. Errors: etcd's FutureRev above `head`,
  // Compacted at or below the floor, the store's.
  grpc::Status Compact(int64_t revision, int64_t head);
  // The floor as this process knows it (0 before any Compact).
  int64_t floor() const { return floor_.load(); }
  // The floor now: read from the store when other nodes may have moved it
  // (HashKV, which every node must answer alike). Errors: the store's.
  grpc::Status Current(int64_t* out);

 private:
  void RaiseCache(int64_t revision);

  EventStore* store_;
  const bool ignore_;
  std::atomic<int64_t> floor_{0};  // only rises
};

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_COMPACTION_FLOOR_H_
