#include "app/follower.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace chronoconf {
namespace {

// Commits read per store round trip.
constexpr size_t kPage = 1000;
// How long a decision waits for the read model to reach the store's head
// before the batch is failed with 503 (a store that serves its head but not
// its commits). A failed read fails it sooner.
constexpr std::chrono::seconds kSyncTimeout{10};

using Steady = std::chrono::steady_clock;

}  // namespace

Follower::Follower(EventStore* store, Projection* projection, FollowerOptions options)
    : store_(store), projection_(projection), options_(options) {
  applier_ = std::thread([this] { RunApplier(); });
  listener_ = std::thread([this] { RunListener(); });
}

Follower::~Follower() { Stop(); }

void Follower::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_cv_.SignalAll();
  applied_cv_.SignalAll();
  if (applier_.joinable()) applier_.join();  // answers what is still queued
  // At most one listen_timeout: WaitForNotification is not interruptible.
  if (listener_.joinable()) listener_.join();
}

bool Follower::stopping() const {
  MutexLock lock(&mu_);
  return stopping_;
}

Status Follower::CatchUp(const std::function<void()>& load) {
  if (load) {
    MutexLock apply(&apply_mu_);
    load();
  }
  catch_up_started_.store(true);
  // The whole log at once: heads are rendered at the end, not per page.
  projection_->SetBulkLoading(true);
  Status s = ApplyPending();
  projection_->SetBulkLoading(false);
  // From here on, nobody else appends: the head is this read model's.
  if (s.ok() && !store_->MayHaveOtherWriters()) sole_writer_caught_up_.store(true);
  return s;
}

void Follower::Wake() {
  {
    MutexLock lock(&mu_);
    woken_ = true;
  }
  wake_cv_.Signal();
}

void Follower::NoteStoreHead(int64_t revision) {
  int64_t seen = store_head_.load();
  while (seen < revision && !store_head_.compare_exchange_weak(seen, revision)) {
  }
}

int64_t Follower::lag() const {
  return std::max<int64_t>(0, store_head_.load() - projection_->head());
}

Status Follower::AwaitRevision(int64_t revision, std::chrono::milliseconds timeout) {
  if (projection_->head() >= revision) return Status::OK();
  Wake();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (!stopping_ && projection_->head() < revision) {
    if (!applied_cv_.WaitUntil(&mu_, deadline) && projection_->head() < revision) {
      return Status::Timeout(fmt::format(
          "the read model did not reach revision {} within {} ms (it is at {}; the store "
          "cannot be read)",
          revision, timeout.count(), projection_->head()));
    }
  }
  if (projection_->head() >= revision) return Status::OK();
  return Status::Unavailable(fmt::format(
      "the server is stopping before its read model reached revision {}", revision));
}

void Follower::ApplyInOrder(std::vector<RecordedCommit> commits, Then then) {
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      queued_.push_back({std::move(commits), std::move(then)});
      wake_cv_.Signal();
      return;
    }
  }
  then(Status::Unavailable("the server is stopping"));
}

Status Follower::ApplyHanded(std::vector<RecordedCommit> commits) {
  if (commits.empty()) return Status::OK();
  const int64_t last = commits.back().revision;
  NoteStoreHead(last);
  const auto deadline = Steady::now() + kAwaitTimeout;
  while (true) {
    {
      MutexLock apply(&apply_mu_);
      const int64_t head = projection_->head();
      if (head >= last) return Status::OK();  // read from the store already
      if (commits.front().revision <= head + 1) {
        // The next ones in revision order (less any a store read brought).
        commits.erase(commits.begin(),
                      std::find_if(commits.begin(), commits.end(),
                                   [head](const RecordedCommit& c) { return c.revision > head; }));
        // The feed is told once the batch is answered (RunApplier).
        Status s = projection_->Apply(std::move(commits), Projection::Publish::kByCaller);
        NotifyApplied();
        return s;
      }
    }
    // A gap: another node committed before this batch. Read it.
    Status s = ApplyPending();
    if (stopping()) return Status::Unavailable("the server is stopping");
    if (Steady::now() >= deadline) {
      return Status::Unavailable(fmt::format(
          "the read model did not reach revision {} within {} ms (it is at {}){}", last,
          kAwaitTimeout.count(), projection_->head(), s.ok() ? "" : ": " + s.ToString()));
    }
    if (!s.ok()) std::this_thread::sleep_for(options_.error_interval);
  }
}

Status Follower::SyncWithStore(const std::function<int64_t(int64_t)>& needed) {
  // Only this process appends, and it applies each append before answering
  // it: the read model holds every commit there is (no read needed).
  if (sole_writer_caught_up_.load() && projection_->head() >= store_head_.load()) {
    return Status::OK();
  }
  auto head = store_->ReadHead();
  if (!head) {
    reachable_.store(false);
    return head.status();
  }
  NoteStoreHead(head->revision);
  const int64_t target = needed ? needed(head->revision) : head->revision;
  if (projection_->head() >= target) return Status::OK();
  MutexLock lock(&mu_);
  // Nothing is written on a decision that waits: when the store stops
  // answering meanwhile (a read fails), the batch gets its 503 at once
  // rather than after the timeout.
  const uint64_t failures = read_failures_;
  woken_ = true;
  wake_cv_.Signal();
  const auto deadline = Steady::now() + kSyncTimeout;
  while (!stopping_ && read_failures_ == failures && projection_->head() < target) {
    if (!applied_cv_.WaitUntil(&mu_, deadline)) break;
  }
  if (projection_->head() >= target) return Status::OK();
  return Status::Unavailable(fmt::format(
      "the read model did not reach the store's head revision {} (it is at {}){}", target,
      projection_->head(), read_failures_ != failures ? ": " + last_error_ : ""));
}

Status Follower::ApplyPending() {
  Status result;
  {
    MutexLock apply(&apply_mu_);
    while (true) {
      auto page = store_->ReadForward(projection_->head(), kPage);
      if (!page) {
        reachable_.store(false);
        result = page.status();
        MutexLock lock(&mu_);
        ++read_failures_;
        last_error_ = result.ToString();
        break;
      }
      reachable_.store(true);
      const size_t n = page->size();
      result = projection_->Apply(std::move(*page));
      NoteStoreHead(projection_->head());
      // A short page is the end of the log as of this read: no extra round
      // trip to learn that the next one is empty.
      if (!result.ok() || n < kPage) break;
    }
  }
  NotifyApplied();
  return result;
}

void Follower::NotifyApplied() {
  {
    // Under mu_, so that a waiter that just saw the old head is already
    // waiting when it is told.
    MutexLock lock(&mu_);
  }
  applied_cv_.SignalAll();
}

void Follower::RunApplier() {
  bool failing = false;  // log a failure once, not at every retry
  mu_.Lock();
  while (!stopping_) {
    if (!queued_.empty()) {  // the committer's batches first, in order
      Queued q = std::move(queued_.front());
      queued_.pop_front();
      mu_.Unlock();
      // Writers first, watchers after: a write's acknowledgement is posted
      // to its event loop before the wake-ups of (maybe thousands of)
      // watchers are, so fan-out never delays it (issue 14).
      q.then(ApplyHanded(std::move(q.commits)));
      projection_->feed().Publish(projection_->head());
      mu_.Lock();
      continue;
    }
    const auto interval = reachable_.load() && !failing ? options_.poll_interval
                                                        : options_.error_interval;
    const auto deadline = Steady::now() + interval;
    while (!stopping_ && !woken_ && queued_.empty()) {
      if (!wake_cv_.WaitUntil(&mu_, deadline)) break;
    }
    if (stopping_) break;
    if (!queued_.empty()) continue;
    const bool woken = woken_;
    woken_ = false;
    mu_.Unlock();
    Status s;
    if (!woken) {
      // The safety net: learn the store's head (the lag gauge, and another
      // node's commits whose notification was lost), then read forward.
      auto head = store_->ReadHead();
      if (head) {
        NoteStoreHead(head->revision);
      } else {
        reachable_.store(false);
        s = head.status();
      }
    }
    if (s.ok() && (!options_.wait_for_catch_up || catch_up_started_.load())) s = ApplyPending();
    if (!s.ok() && !failing) {
      spdlog::error("the read model cannot follow the store (retrying every {} ms): {}",
                    options_.error_interval.count(), s.ToString());
    } else if (s.ok() && failing) {
      spdlog::info("the read model follows the store again, at revision {}", projection_->head());
    }
    failing = !s.ok();
    mu_.Lock();
  }
  std::deque<Queued> left;
  left.swap(queued_);
  mu_.Unlock();
  for (Queued& q : left) q.then(Status::Unavailable("the server is stopping"));
}

void Follower::RunListener() {
  while (!stopping()) {
    const Steady::time_point start = Steady::now();
    Result<bool> notified = store_->WaitForNotification(options_.listen_timeout);
    const bool quick = Steady::now() - start < options_.listen_timeout / 2;
    if (notified.ok() && *notified) {
      Wake();
    } else if (notified.ok() && quick) {
      // A store that has no other writers answers false at once (the
      // EventStore contract): nothing to listen for, the poll covers the rest.
      return;
    } else if (!notified.ok() && quick) {
      // Errors normally wait out the timeout; never spin on one that does not.
      std::this_thread::sleep_for(options_.error_interval);
    }
  }
}

}  // namespace chronoconf
