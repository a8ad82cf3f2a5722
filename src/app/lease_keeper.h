// LeaseKeeper: the deadlines of etcd leases (SPEC §7), kept in memory on
// the node that keeps them. Keep-alives are not events: they only move a
// deadline here. A lease past its deadline is expired by a LeaseChange
// command whose `still_expired` the committer asks just before deciding, so
// a keep-alive that arrives before that decision keeps the lease, and one
// that arrives after it is answered TTL 0 (the lease is going). The store's
// version check on the lease's stream makes two expirers of one lease
// (another node, a revoke) commit at most one end.
//
// Every lease of the read model is tracked: one granted here, by another
// node, or before a restart starts at its full TTL when this keeper first
// sees it (as etcd restarts every deadline on a leader change).
//
// On a store several nodes share (PostgreSQL) one node at a time keeps the
// deadlines (EventStore::HoldLeaseKeeper: an advisory lock). The others
// expire nothing; a keep-alive that reaches one of them is forwarded to the
// keeper (EventStore::ForwardKeepAlive: a NOTIFY). A node that becomes the
// keeper restarts every deadline at its full TTL, so a forward lost in the
// handover costs nothing.
//
// One thread: it sleeps until the earliest deadline, or a short tick to
// pick up leases the read model gained or lost and forwarded keep-alives.
//
// Thread safety: every method may be called from any thread.
#ifndef CHRONOCONF_APP_LEASE_KEEPER_H_
#define CHRONOCONF_APP_LEASE_KEEPER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "common/mutex.h"

namespace chronoconf {

class CommandService;
class EventStore;
class Projection;

class LeaseKeeper {
 public:
  using Clock = std::chrono::steady_clock;

  // `store` (may be null: this node alone keeps leases) says whether this
  // node is the keeper and carries forwarded keep-alives.
  LeaseKeeper(CommandService* commands, Projection* projection, EventStore* store = nullptr);
  ~LeaseKeeper();  // Stop()
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Stops the thread; expiries already submitted still run. Idempotent.
  void Stop();

  // (Re)starts `id`'s deadline at its full TTL (a grant just committed).
  void Track(int64_t id, int64_t ttl);
  // A keep-alive: the lease's TTL, now its full time again; nullopt when
  // the lease does not exist or its expiry has been decided.
  std::optional<int64_t> KeepAlive(int64_t id);
  // Whether this node keeps the deadlines now.
  bool is_keeper() const { return keeper_.load(); }
  // Whole seconds left before `id` expires (rounded up, as etcd does);
  // nullopt when not tracked.
  std::optional<int64_t> Remaining(int64_t id);

 private:
  struct Deadline {
    int64_t ttl = 0;
    Clock::time_point at;
    bool expiring = false;  // an expiry is submitted
    bool decided = false;   // ... and the committer decided it
  };
  // Shared with the expiry commands, which may outlive this keeper.
  struct State {
    Mutex mu;
    CondVar cv;
    bool stopping GUARDED_BY(mu) = false;
    std::map<int64_t, Deadline> leases GUARDED_BY(mu);
  };
  void Run();
  // Tracks the read model's leases; forgets those it no longer holds.
  void Reconcile();
  void Expire(int64_t id);
  // Asks the store whether this node is the keeper; on taking the role,
  // restarts every deadline; as the keeper, applies forwarded keep-alives.
  bool CheckKeeper();
  // Restarts `id`'s deadline at its full TTL, if tracked.
  void Refresh(int64_t id);

  CommandService* commands_;
  Projection* projection_;
  EventStore* store_;
  std::atomic<bool> keeper_{false};
  bool was_keeper_ = false;  // the thread's own
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::thread thread_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_LEASE_KEEPER_H_
