// FaultyEventStore: an EventStore wrapper for tests that fails or holds
// appends on demand (leveldb's SpecialEnv, Beast's fail_count), so the
// failure paths above the store can be driven without breaking a real one.
//
// Thread safety: safe for concurrent use, like the store it wraps.
#ifndef CHRONOCONF_STORE_FAULTY_EVENT_STORE_H_
#define CHRONOCONF_STORE_FAULTY_EVENT_STORE_H_

#include <atomic>
#include <mutex>

#include "common/mutex.h"
#include "store/event_store.h"

namespace chronoconf {

class FaultyEventStore final : public EventStore {
 public:
  explicit FaultyEventStore(EventStore* target) : target_(target) {}

  // The next `n` appends (and reads, when `reads_too`) fail with kUnavailable.
  void FailNext(int n, bool reads_too = false) {
    fail_appends_.store(n);
    fail_reads_.store(reads_too ? n : 0);
  }
  // Appends wait until Release(); Held() tells how many are waiting.
  void Hold() {
    MutexLock lock(&mu_);
    held_ = true;
  }
  // Head reads (ReadHead) wait until Release(); HeldReads() tells how many
  // are waiting.
  void HoldReads() {
    MutexLock lock(&mu_);
    reads_held_ = true;
  }
  int HeldReads() {
    MutexLock lock(&mu_);
    return reads_waiting_;
  }
  void Release() {
    {
      MutexLock lock(&mu_);
      held_ = false;
      reads_held_ = false;
    }
    cv_.SignalAll();
  }
  int Held() {
    MutexLock lock(&mu_);
    return waiting_;
  }
  int appends() const { return appends_.load(); }

  std::string_view kind() const override { return target_->kind(); }
  bool MayHaveOtherWriters() const override {
    return !sole_writer_.load() && target_->MayHaveOtherWriters();
  }
  // Says nobody else writes the store (as a claimed SQLite file does).
  void SetSoleWriter() { sole_writer_.store(true); }
  Result<std::vector<RecordedCommit>> Append(const std::vector<CommitData>& commits) override {
    {
      MutexLock lock(&mu_);
      ++waiting_;
      while (held_) cv_.Wait(&mu_);
      --waiting_;
    }
    appends_.fetch_add(1);
    if (fail_appends_.fetch_sub(1) > 0) return Status::Unavailable("injected append failure");
    return target_->Append(commits);
  }
  Result<std::vector<RecordedCommit>> ReadForward(int64_t after, size_t limit) override {
    if (fail_reads_.fetch_sub(1) > 0) return Status::Unavailable("injected read failure");
    return target_->ReadForward(after, limit);
  }
  Result<std::vector<StreamEvent>> ReadStream(std::string_view key) override {
    return target_->ReadStream(key);
  }
  Result<StoreHead> ReadHead() override {
    {
      MutexLock lock(&mu_);
      ++reads_waiting_;
      while (reads_held_) cv_.Wait(&mu_);
      --reads_waiting_;
    }
    if (fail_reads_.fetch_sub(1) > 0) return Status::Unavailable("injected read failure");
    return target_->ReadHead();
  }
  Result<std::string> SnapshotKey() override { return target_->SnapshotKey(); }
  Result<int64_t> ReadEtcdFloor() override { return target_->ReadEtcdFloor(); }
  Result<int64_t> SizeBytes() override { return target_->SizeBytes(); }
  Status Announce(const MemberRecord& me) override { return target_->Announce(me); }
  Status Leave(const std::string& name) override { return target_->Leave(name); }
  Result<std::vector<MemberRecord>> LiveMembers(std::chrono::milliseconds ttl) override {
    return target_->LiveMembers(ttl);
  }
  Result<int64_t> RaiseEtcdFloor(int64_t revision) override {
    return target_->RaiseEtcdFloor(revision);
  }
  // Passed through, so that a wrapped PostgreSQL store still wakes followers.
  Result<bool> WaitForNotification(std::chrono::milliseconds timeout) override {
    return target_->WaitForNotification(timeout);
  }

 private:
  EventStore* target_;
  std::atomic<int> fail_appends_{0};
  std::atomic<int> fail_reads_{0};
  std::atomic<int> appends_{0};
  Mutex mu_;
  CondVar cv_;
  bool held_ GUARDED_BY(mu_) = false;
  std::atomic<bool> sole_writer_{false};
  int waiting_ GUARDED_BY(mu_) = 0;
  bool reads_held_ GUARDED_BY(mu_) = false;
  int reads_waiting_ GUARDED_BY(mu_) = 0;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_STORE_FAULTY_EVENT_STORE_H_
