#include "app/lease_keeper.h"

#include <set>

#include <spdlog/spdlog.h>

#include "app/command_service.h"
#include "store/event_store.h"

namespace chronoconf {
namespace {

// How often the keeper looks for leases other nodes granted or ended: well
// inside the 1 s of slack an expiry has (SPEC §7: within TTL + 1 s).
constexpr std::chrono::milliseconds kTick{200};
// After a failed expiry (the store unreachable), when to try again.
constexpr std::chrono::seconds kRetry{1};

}  // namespace

LeaseKeeper::LeaseKeeper(CommandService* commands, Projection* projection, EventStore* store)
    : commands_(commands), projection_(projection), store_(store), thread_([this] { Run(); }) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Stop() {
  {
    MutexLock lock(&state_->mu);
    state_->stopping = true;
  }
  state_->cv.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::Track(int64_t id, int64_t ttl) {
  {
    MutexLock lock(&state_->mu);
    Deadline& d = state_->leases[id];
    d = Deadline{ttl, Clock::now() + std::chrono::seconds(ttl), false, false};
  }
  state_->cv.SignalAll();
}

std::optional<int64_t> LeaseKeeper::KeepAlive(int64_t id) {
  // Revoked or expired (here or on another node), even if not forgotten yet.
  std::optional<LeaseInfo> info = projection_->Lease(id);
  if (!info) return std::nullopt;
  std::optional<int64_t> ttl;
  {
    MutexLock lock(&state_->mu);
    auto it = state_->leases.find(id);
    if (it != state_->leases.end()) {
      if (it->second.decided) return std::nullopt;
      // An expiry submitted but not decided yet asks again and finds this.
      it->second.at = Clock::now() + std::chrono::seconds(it->second.ttl);
      ttl = it->second.ttl;
    }
  }
  if (!ttl) {
    Track(id, info->ttl);  // granted on another node, not picked up yet
    ttl = info->ttl;
  }
  if (store_ && !keeper_.load()) {
    if (Status s = store_->ForwardKeepAlive(id); !s.ok()) {
      spdlog::warn("cannot forward a keep-alive of lease {} to the keeper: {}", id, s.ToString());
    }
  }
  return ttl;
}

std::optional<int64_t> LeaseKeeper::Remaining(int64_t id) {
  MutexLock lock(&state_->mu);
  auto it = state_->leases.find(id);
  if (it == state_->leases.end() || it->second.decided) return std::nullopt;
  const auto left = it->second.at - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  return std::chrono::ceil<std::chrono::seconds>(left).count();
}

void LeaseKeeper::Reconcile() {
  std::set<int64_t> live;
  std::vector<LeaseInfo> leases = projection_->Leases();
  MutexLock lock(&state_->mu);
  for (const LeaseInfo& l : leases) {
    live.insert(l.id);
    if (!state_->leases.contains(l.id)) {
      state_->leases[l.id] =
          Deadline{l.ttl, Clock::now() + std::chrono::seconds(l.ttl), false, false};
    }
  }
  // A lease the read model no longer holds ended, here or elsewhere. (A
  // grant is tracked once applied, so this never forgets a live lease for
  // longer than a tick, and then it starts again at its full TTL.)
  std::erase_if(state_->leases,
                [&](const auto& entry) { return !live.contains(entry.first); });
}

void LeaseKeeper::Refresh(int64_t id) {
  MutexLock lock(&state_->mu);
  auto it = state_->leases.find(id);
  if (it != state_->leases.end() && !it->second.decided) {
    it->second.at = Clock::now() + std::chrono::seconds(it->second.ttl);
  }
}

bool LeaseKeeper::CheckKeeper() {
  bool held = true;
  if (store_) {
    auto r = store_->HoldLeaseKeeper();
    held = r.ok() && *r;
  }
  if (held && !was_keeper_) {
    // Taking over (or starting): every deadline starts again at its full
    // TTL, as etcd does on a leader change.
    spdlog::info("this node keeps the lease deadlines now");
    MutexLock lock(&state_->mu);
    for (auto& [id, d] : state_->leases) {
      if (!d.expiring) d.at = Clock::now() + std::chrono::seconds(d.ttl);
    }
  } else if (!held && was_keeper_) {
    spdlog::warn("this node no longer keeps the lease deadlines");
  }
  was_keeper_ = held;
  keeper_.store(held);
  if (held && store_) {
    auto forwarded = store_->TakeForwardedKeepAlives();
    if (!forwarded.ok()) {  // the role went with the connection
      was_keeper_ = false;
      keeper_.store(false);
      return false;
    }
    for (int64_t id : *forwarded) Refresh(id);
  }
  return held;
}

void LeaseKeeper::Run() {
  while (true) {
    const bool keeper = CheckKeeper();
    Reconcile();
    std::vector<int64_t> due;
    {
      MutexLock lock(&state_->mu);
      if (state_->stopping) return;
      const Clock::time_point now = Clock::now();
      Clock::time_point wake = now + kTick;
      for (auto& [id, d] : state_->leases) {
        if (d.expiring || !keeper) continue;  // only the keeper expires
        if (d.at <= now) {
          d.expiring = true;
          due.push_back(id);
        } else {
          wake = std::min(wake, d.at);
        }
      }
      if (due.empty()) {
        state_->cv.WaitUntil(&state_->mu, wake);
        continue;
      }
    }
    for (int64_t id : due) Expire(id);
  }
}

void LeaseKeeper::Expire(int64_t id) {
  LeaseChange change;
  change.kind = LeaseChange::Kind::kExpire;
  change.id = id;
  change.meta.actor = "chronoconf";
  std::weak_ptr<State> weak = state_;
  change.still_expired = [weak, id] {
    auto state = weak.lock();
    if (!state) return false;  // the keeper is gone: its node is stopping
    MutexLock lock(&state->mu);
    auto it = state->leases.find(id);
    if (it == state->leases.end()) return false;
    if (it->second.at > Clock::now()) {
      it->second.expiring = false;  // kept alive meanwhile
      return false;
    }
    it->second.decided = true;
    return true;
  };
  commands_->Submit(std::move(change), [weak, id](CommandResult r) {
    auto state = weak.lock();
    if (!state) return;
    MutexLock lock(&state->mu);
    auto it = state->leases.find(id);
    if (it == state->leases.end()) return;
    if (r.status.ok() && r.changed) {
      state->leases.erase(it);
    } else if (r.status.code() == Code::kNotFound) {
      state->leases.erase(it);  // revoked, or expired by another node
    } else if (!r.status.ok()) {
      spdlog::warn("lease {} could not expire yet: {}", id, r.status.ToString());
      it->second.decided = false;
      it->second.expiring = false;
      it->second.at = Clock::now() + kRetry;
    }
    // OK and unchanged: a keep-alive came first (still_expired reset it).
  });
}

}  // namespace chronoconf
