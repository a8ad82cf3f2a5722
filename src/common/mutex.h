// Mutex, SharedMutex and CondVar: the standard ones, with the lock
// annotations clang's -Wthread-safety checks (a CI configuration builds with
// it, CHRONOCONF_THREAD_SAFETY), as leveldb's port/thread_annotations.h:
//
//   Mutex mu_;
//   int n_ GUARDED_BY(mu_) = 0;
//   void AddLocked() REQUIRES(mu_);
//   { MutexLock lock(&mu_); ++n_; }
//
// The macros are empty for other compilers.
#ifndef CHRONOCONF_COMMON_MUTEX_H_
#define CHRONOCONF_COMMON_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define CC_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CC_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) CC_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY CC_THREAD_ANNOTATION(scoped_lockable)
// Abseil's legacy thread_annotations.h (included by gRPC's headers, which
// src/etcd uses) defines three of these names to the same attributes; ours
// win in whatever order the headers come.
#undef GUARDED_BY
#undef PT_GUARDED_BY
#undef NO_THREAD_SAFETY_ANALYSIS
#define GUARDED_BY(x) CC_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) CC_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) CC_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) CC_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) CC_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) CC_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) CC_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) CC_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) CC_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define EXCLUDES(...) CC_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS CC_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace chronoconf {

class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // BasicLockable, for std::condition_variable_any (CondVar).
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

// Readers share it; a writer has it alone.
class CAPABILITY("shared mutex") SharedMutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  void LockShared() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void UnlockShared() RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

class SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~WriterLock() RELEASE() { mu_->Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex* mu_;
};

class SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex* mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_->LockShared(); }
  ~ReaderLock() RELEASE() { mu_->UnlockShared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex* mu_;
};

// A condition variable used with a Mutex the caller holds. Callers loop on
// their own condition (so the lock analysis sees every guarded read):
//
//   while (!ready_) cv_.Wait(&mu_);
class CondVar {
 public:
  void Wait(Mutex* mu) REQUIRES(*mu) { cv_.wait(*mu); }
  // False when `deadline` passed first.
  bool WaitUntil(Mutex* mu, std::chrono::steady_clock::time_point deadline) REQUIRES(*mu) {
    return cv_.wait_until(*mu, deadline) == std::cv_status::no_timeout;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_MUTEX_H_
