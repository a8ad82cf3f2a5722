#include "etcd/compaction_floor.h"

#include <algorithm>

#include "etcd/errors.h"

namespace chronoconf::etcd {

CompactionFloor::CompactionFloor(EventStore* store, bool ignore) : store_(store), ignore_(ignore) {
  // A floor that cannot be read now is read again by the first time-travel
  // request on a shared store, or by Compact.
  if (auto floor = store_->ReadEtcdFloor(); floor) floor_.store(*floor);
}

void CompactionFloor::RaiseCache(int64_t revision) {
  int64_t seen = floor_.load();
  while (seen < revision && !floor_.compare_exchange_weak(seen, revision)) {
  }
}

grpc::Status CompactionFloor::Check(int64_t revision, int64_t head) {
  if (revision <= 0) return grpc::Status::OK;
  if (revision < floor_.load()) return rpctypes::Compacted();
  if (store_->MayHaveOtherWriters() && revision < head) {
    auto floor = store_->ReadEtcdFloor();
    if (!floor) return ToGrpc(floor.status());
    RaiseCache(*floor);
    if (revision < *floor) return rpctypes::Compacted();
  }
  return grpc::Status::OK;
}

grpc::Status CompactionFloor::Current(int64_t* out) {
  if (store_->MayHaveOtherWriters()) {
    auto floor = store_->ReadEtcdFloor();
    if (!floor) return ToGrpc(floor.status());
    RaiseCache(*floor);
  }
  *out = floor_.load();
  return grpc::Status::OK;
}

grpc::Status CompactionFloor::Compact(int64_t revision, int64_t head) {
  if (revision > head) return rpctypes::FutureRev();
  if (ignore_) return grpc::Status::OK;
  auto before = store_->RaiseEtcdFloor(revision);
  if (!before) return ToGrpc(before.status());
  RaiseCache(std::max(*before, revision));
  if (revision <= *before) return rpctypes::Compacted();
  return grpc::Status::OK;
}

}  // namespace chronoconf::etcd
