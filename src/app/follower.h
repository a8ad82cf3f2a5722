// Follower: the one path by which commits reach the read model, and the one
// applier. It applies in revision order, on one thread, both
//   - the batches the committer appended (ApplyInOrder): applied from the
//     commits the committer hands over, with no read back, and answered
//     right after, in the order they were handed; when the read model is
//     not at the batch's first revision (another node committed in
//     between), it first reads the gap from the store;
//   - every other node's commits, read forward from the store's head when
//     it is woken: by the store's notifications (PostgreSQL LISTEN/NOTIFY,
//     on a listener thread that only waits and wakes), by a reader that
//     needs the store's head (SyncWithStore), and by a periodic poll, the
//     safety net for a lost notification or a dropped LISTEN connection:
//     every `poll_interval`, every `error_interval` while the store fails.
// Startup catch-up (CatchUp) applies on the caller's thread, under the same
// lock, before the applier applies anything.
//
// Shutdown: stop the committer (CommandService) first, then the follower.
// A batch still queued when the follower stops is answered kUnavailable;
// waiters still blocked get kUnavailable.
//
// Thread safety: all methods may be called from any thread.
#ifndef CHRONOCONF_APP_FOLLOWER_H_
#define CHRONOCONF_APP_FOLLOWER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

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
  // The applier applies nothing before the first CatchUp: a server loads its
  // snapshot into the empty read model first.
  bool wait_for_catch_up = false;
};

class Follower {
 public:
  // Starts the applier thread and, for stores that notify, the listener.
  Follower(EventStore* store, Projection* projection, FollowerOptions options = {});
  ~Follower();  // Stop()
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Stops and joins both threads; answers every queued batch kUnavailable
  // and wakes every waiter. Idempotent.
  void Stop();

  // Runs `load` (a snapshot into the empty read model), then applies, on
  // the caller's thread, every commit the store holds after the projection's
  // head (startup catch-up, tests). Errors: the store's, or kCorruption when
  // the store hands out a gap.
  Status CatchUp(const std::function<void()>& load = nullptr);

  // Queues `commits` (appended by this process, in revision order; empty
  // for a batch that committed nothing) for the applier, which applies them
  // after everything queued before them and then runs `then` on its thread
  // with the outcome: OK once the read model holds them; kUnavailable when
  // it could not take them within kAwaitTimeout (they are durable: the
  // follower reads them from the store later) or the follower stopped.
  // `then` must not block.
  using Then = std::function<void(Status)>;
  void ApplyInOrder(std::vector<RecordedCommit> commits, Then then);

  // Wakes the applier and waits until the projection's head is at least
  // `revision`, for at most `timeout` (every wait has a deadline, SPEC §6).
  // Errors: kUnavailable when the follower stops first, kTimeout when the
  // deadline passes.
  static constexpr std::chrono::milliseconds kAwaitTimeout{10000};
  Status AwaitRevision(int64_t revision, std::chrono::milliseconds timeout = kAwaitTimeout);

  // Reads the store's head (one round trip; nothing on a store only this
  // process writes, once caught up) and waits until the projection has
  // reached it: what is read afterwards includes every commit that existed
  // when this was called (etcd's ReadIndex). `needed`, given the head, may
  // lower the revision to wait for (the committer overlays its own batches
  // in flight). Errors: the store's (kUnavailable when it cannot be
  // reached), or kUnavailable when the follower stops first or the deadline
  // passes.
  Status SyncWithStore(const std::function<int64_t(int64_t)>& needed = nullptr);

  // Store head last seen minus the projection's head (>= 0).
  int64_t lag() const;
  // False while the follower's last read of the store failed.
  bool store_reachable() const { return reachable_.load(); }
  // True once CatchUp has run on a store only this process writes: every
  // commit the store will hold from now on is one this process appends.
  bool sole_writer_caught_up() const { return sole_writer_caught_up_.load(); }

  // Tells the follower that the store holds `revision`: feeds the lag gauge
  // (tests; the applier notes what it is handed and what it reads).
  void NoteStoreHead(int64_t revision);

 private:
  struct Queued {
    std::vector<RecordedCommit> commits;
    Then then;
  };
  void Wake();
  void RunApplier();
  void RunListener();
  // Applies a handed batch, reading any gap before it from the store.
  Status ApplyHanded(std::vector<RecordedCommit> commits);
  // Reads forward from the projection's head and applies every page.
  Status ApplyPending();
  // Wakes every AwaitRevision and SyncWithStore (after an apply).
  void NotifyApplied();
  bool stopping() const;

  EventStore* store_;
  Projection* projection_;
  FollowerOptions options_;
  Mutex apply_mu_;  // held while applying: the applier, or CatchUp

  mutable Mutex mu_;
  CondVar wake_cv_;     // the applier waits here
  CondVar applied_cv_;  // AwaitRevision and SyncWithStore wait here
  std::deque<Queued> queued_ GUARDED_BY(mu_);
  bool woken_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t read_failures_ GUARDED_BY(mu_) = 0;  // failed ReadForward calls
  std::string last_error_ GUARDED_BY(mu_);

  std::atomic<int64_t> store_head_{0};
  std::atomic<bool> reachable_{true};
  std::atomic<bool> sole_writer_caught_up_{false};
  std::atomic<bool> catch_up_started_{false};
  std::thread applier_;
  std::thread listener_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_FOLLOWER_H_
