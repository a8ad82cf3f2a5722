// Follower: the one path by which commits reach the read model. It reads the
// store forward from the projection's head and applies what it finds in
// revision order — this node's commits and every other node's alike (SPEC §3
// "Several nodes"). Nothing else calls Projection::Apply.
//
// It is woken three ways, so that nothing is missed when one fails:
//   - by the local committer after an append (ApplyAppended),
//   - by the store's notifications (PostgreSQL LISTEN/NOTIFY, on a thread of
//     its own that only waits and wakes; it never applies),
//   - by a periodic poll, the safety net for a lost notification or a dropped
//     LISTEN connection: every `poll_interval`, every `error_interval` while
//     the store fails.
// The applier thread, startup catch-up (CatchUp) and the committer's waits
// all go through ApplyPending(), serialized by one lock, so two paths never
// race on the read model.
//
// Shutdown: the committer (CommandService) waits on the follower, so stop
// the committer first, then the follower. Waiters still blocked when the
// follower stops get kUnavailable.
//
// Thread safety: all methods may be called from any thread.
#ifndef CHRONOCONF_APP_FOLLOWER_H_
#define CHRONOCONF_APP_FOLLOWER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "projection/projection.h"
#include "store/event_store.h"

namespace chronoconf {

struct FollowerOptions {
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds error_interval{100};
  // How long one WaitForNotification call blocks; bounds how long Stop waits
  // for the listening thread.
  std::chrono::milliseconds listen_timeout{250};
  // The applier thread applies nothing before the first CatchUp: a server
  // loads its snapshot into the empty read model first.
  bool wait_for_catch_up = false;
};

class Follower {
 public:
  // Starts the applier thread and, for stores that notify, the listener.
  Follower(EventStore* store, Projection* projection, FollowerOptions options = {});
  ~Follower();  // Stop()
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Stops and joins both threads; wakes every AwaitRevision. Idempotent.
  void Stop();

  // Applies, on the caller's thread, every commit the store holds after the
  // projection's head (startup catch-up, tests). Errors: the store's, or
  // kCorruption when the store hands out a gap.
  Status CatchUp();

  // Wakes the applier and waits until the projection's head is at least
  // `revision`, for at most `timeout` (every wait has a deadline, SPEC §6: a
  // store that cannot be read after a commit must not hang its answer).
  // Errors: kUnavailable when the follower stops first, kTimeout when the
  // deadline passes.
  static constexpr std::chrono::milliseconds kAwaitTimeout{10000};
  Status AwaitRevision(int64_t revision, std::chrono::milliseconds timeout = kAwaitTimeout);

  // The committer's own commits, just appended: applied here when they are
  // the next ones in revision order (no read back, so an answer does not
  // wait on the store — e.g. one that failed right after the COMMIT);
  // otherwise another node committed in between, and this reads forward
  // from the store like any catch-up (AwaitRevision). Same lock, same gap
  // check, same order as every other path.
  Status ApplyAppended(std::vector<RecordedCommit> commits);

  // Reads the store's head (cheap) and waits until the projection has
  // reached it: a decision made afterwards sees every commit that existed
  // when this was called. Errors: the store's (kUnavailable when it cannot
  // be reached), or kUnavailable when the follower stops first.
  Status SyncWithStore();

  // Holds off the applier while the caller reads the projection as one
  // consistent state (a batch being decided). Keep it short; never wait on
  // the follower while holding it.
  std::unique_lock<Mutex> PauseApplying() { return std::unique_lock<Mutex>(apply_mu_); }

  // Tells the follower that the store holds `revision` (the committer's own
  // append): feeds the lag gauge.
  void NoteStoreHead(int64_t revision);

  // Store head last seen minus the projection's head (>= 0).
  int64_t lag() const;
  // False while the follower's last read of the store failed.
  bool store_reachable() const { return reachable_.load(); }
  // True once CatchUp has run on a store only this process writes: every
  // commit the store will hold from now on is one this process appends.
  bool sole_writer_caught_up() const { return sole_writer_caught_up_.load(); }

 private:
  void Wake();
  void RunApplier();
  void RunListener();
  // Reads forward from the projection's head and applies every page (the
  // one path to Projection::Apply).
  Status ApplyPending();
  bool stopping() const;

  EventStore* store_;
  Projection* projection_;
  FollowerOptions options_;
  Mutex apply_mu_;  // held while applying (or while a batch is decided)

  mutable Mutex mu_;
  CondVar wake_cv_;     // the applier waits here
  CondVar applied_cv_;  // AwaitRevision waits here
  bool woken_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t read_failures_ GUARDED_BY(mu_) = 0;  // failed ReadForward calls
  std::string last_error_ GUARDED_BY(mu_);

  std::atomic<int64_t> store_head_{0};
  std::atomic<bool> reachable_{true};
  // Set by a CatchUp on a store nobody else writes (SyncWithStore reads
  // nothing then).
  std::atomic<bool> sole_writer_caught_up_{false};
  std::atomic<bool> catch_up_started_{false};
  std::thread applier_;
  std::thread listener_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_FOLLOWER_H_
