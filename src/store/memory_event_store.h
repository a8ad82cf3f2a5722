// MemoryEventStore: the store for unit tests and demos; nothing survives the
// process. It keeps the same contract as the durable stores (the contract
// suite runs against it), so it is also the executable specification.
#ifndef CHRONOCONF_STORE_MEMORY_EVENT_STORE_H_
#define CHRONOCONF_STORE_MEMORY_EVENT_STORE_H_

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/sha256.h"
#include "store/event_store.h"

namespace chronoconf {

class MemoryEventStore final : public EventStore {
 public:
  explicit MemoryEventStore(Clock* clock = SystemClock::Default()) : clock_(clock) {}

  std::string_view kind() const override { return "memory"; }
  Result<std::vector<RecordedCommit>> Append(const std::vector<CommitData>& commits) override;
  Status AppendRecorded(const std::vector<RecordedCommit>& commits) override;
  Result<std::vector<RecordedCommit>> ReadForward(int64_t after, size_t limit) override;
  Result<std::vector<StreamEvent>> ReadStream(std::string_view key) override;
  Result<StoreHead> ReadHead() override;
  // Random, made with the store: a snapshot outlives a memory store only
  // in tests, and then it belongs to that instance alone.
  Result<std::string> SnapshotKey() override { return snapshot_key_; }
  Result<int64_t> SizeBytes() override {
    MutexLock lock(&mu_);
    return bytes_;
  }
  Result<int64_t> ReadEtcdFloor() override {
    MutexLock lock(&mu_);
    return etcd_floor_;
  }
  Result<int64_t> RaiseEtcdFloor(int64_t revision) override {
    MutexLock lock(&mu_);
    const int64_t before = etcd_floor_;
    etcd_floor_ = std::max(etcd_floor_, revision);
    return before;
  }

 private:
  // Checks each event's version against versions_ (and the batch's earlier
  // events) into `next`; kConflict on a mismatch.
  template <typename Commits>
  Status CheckVersionsLocked(const Commits& commits,
                             std::map<std::string, int64_t, std::less<>>* next) REQUIRES(mu_);

  Clock* clock_;
  const std::string snapshot_key_ = RandomBytes(32);
  Mutex mu_;
  std::vector<RecordedCommit> commits_ GUARDED_BY(mu_);  // [i] = revision i+1
  std::map<std::string, int64_t, std::less<>> versions_ GUARDED_BY(mu_);
  int64_t etcd_floor_ GUARDED_BY(mu_) = 0;
  int64_t bytes_ GUARDED_BY(mu_) = 0;  // the texts of commits_ (SizeBytes)
};

}  // namespace chronoconf

#endif  // CHRONOCONF_STORE_MEMORY_EVENT_STORE_H_
