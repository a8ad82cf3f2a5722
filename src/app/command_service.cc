#include "app/command_service.h"

#include <chrono>
#include <future>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/batch_decision.h"
#include "domain/system_stream.h"

namespace chronoconf {

namespace {

// Commands taken in one batch: enough to share an fsync among many writers,
// small enough that one transaction stays short.
constexpr size_t kMaxBatch = 512;
// A store conflict means another node committed first: catch up and retry.
constexpr int kMaxAttempts = 5;
// A write without an expectation never gets 409: it is decided again until
// it commits, or for at most this long, then answered 503.
constexpr std::chrono::seconds kConflictDeadline{5};
// A command the committer has not taken within this long is answered 503,
// never decided: with the store stuck, each batch waits out the store's own
// timeout, and a queue of N commands decided one batch after another would
// wait N times that (SPEC §6: a bounded time, whatever the queue).
constexpr std::chrono::seconds kQueueDeadline{5};
// How often an idle committer checks whether an unreachable store is back.
constexpr std::chrono::seconds kProbeInterval{1};

}  // namespace

// What a batch appended and not yet applied wrote: each key's state after
// it. Decisions read these over the read model.
struct InFlight {
  int64_t first_revision = 0;
  int64_t last_revision = 0;
  std::unordered_map<std::string, KeyState> states;
  // It changed a schema or a review policy: writes are checked against the
  // read model's, so the next batch waits until this one is applied.
  bool changes_rules = false;
};

// The state a batch is decided against: the read model at `at`, and over it
// the batches appended after `at` (oldest first).
struct Pin {
  int64_t at = 0;
  std::vector<std::shared_ptr<const InFlight>> inflight;

  // The revision the decisions see: what a command that commits nothing
  // answers with.
  int64_t revision() const { return inflight.empty() ? at : inflight.back()->last_revision; }

  KeyState Lookup(const Projection& projection, const std::string& key) const {
    for (auto it = inflight.rbegin(); it != inflight.rend(); ++it) {
      if (auto found = (*it)->states.find(key); found != (*it)->states.end()) {
        return found->second;
      }
    }
    return projection.State(key, at);
  }
};

// A batch on its way: decided, appended, handed to the applier, answered.
struct Batch {
  std::vector<CommandService::Pending> pending;
  std::vector<BatchDecision> decisions;
  std::vector<std::pair<int64_t, size_t>> sealed;  // revision, events per commit
  int64_t noop_revision = 0;
  std::shared_ptr<const InFlight> inflight;  // leaves inflight_ once applied
};

CommandService::CommandService(EventStore* store, Projection* projection, Follower* follower)
    : store_(store),
      projection_(projection),
      follower_(follower),
      committer_([this] { Run(); }) {}

CommandService::CommandService(EventStore* store, Projection* projection)
    : store_(store),
      projection_(projection),
      owned_follower_(std::make_unique<Follower>(store, projection)),
      follower_(owned_follower_.get()),
      committer_([this] { Run(); }) {}

CommandService::~CommandService() { Stop(); }

void CommandService::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (committer_.joinable()) committer_.join();  // the queue answered, the last batch handed
  {
    // Every handed batch answered (the follower answers kUnavailable if it
    // is stopped first), so no answer outlives this service.
    MutexLock lock(&mu_);
    while (handed_ > 0) cv_.Wait(&mu_);
  }
  if (owned_follower_) owned_follower_->Stop();
}

void CommandService::Submit(Command command, Callback done) {
  if (auto* txn = std::get_if<Transaction>(&command)) PrecheckSchemas(*projection_, txn);
  Queue({std::move(command), std::move(done), false});
}

void CommandService::SubmitDryRun(Command command, Callback done) {
  if (auto* txn = std::get_if<Transaction>(&command)) PrecheckSchemas(*projection_, txn);
  Queue({std::move(command), std::move(done), true});
}

void CommandService::Queue(Pending pending) {
  // Every path into the log (HTTP, CLI admin commands) passes here.
  if (Status s = ValidateCommitMeta(MetaOf(pending.command)); !s.ok()) {
    CommandResult r;
    r.status = std::move(s);
    pending.done(std::move(r));
    return;
  }
  bool refused;
  {
    MutexLock lock(&mu_);
    refused = stopping_;  // Stop() was called: nothing new is taken
    if (!refused) queue_.push_back(std::move(pending));
  }
  if (refused) {
    CommandResult r;
    r.status = Status::Unavailable("the server is shutting down");
    pending.done(std::move(r));
    return;
  }
  cv_.SignalAll();
}

CommandResult CommandService::Execute(Command command, bool dry_run) {
  auto promise = std::make_shared<std::promise<CommandResult>>();
  auto future = promise->get_future();
  Queue({std::move(command), [promise](CommandResult r) { promise->set_value(std::move(r)); },
         dry_run});
  return future.get();
}

CommandStats CommandService::stats() const {
  return {commits_.load(), events_.load(), batches_.load(), store_errors_.load(),
          store_conflicts_.load()};
}

void CommandService::FailQueued(std::chrono::steady_clock::time_point before,
                                const Status& failure) {
  std::vector<Pending> failed;
  {
    MutexLock lock(&mu_);
    while (!queue_.empty() && queue_.front().queued_at <= before) {
      failed.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  for (Pending& p : failed) {
    CommandResult r;
    r.status = failure;
    p.done(std::move(r));
  }
}

void CommandService::Run() {
  while (true) {
    // Past their deadline: answered without a decision.
    FailQueued(std::chrono::steady_clock::now() - kQueueDeadline,
               Status::Unavailable(fmt::format(
                   "this write waited {} s for the store behind others; nothing was written: "
                   "retry it",
                   kQueueDeadline.count())));
    auto batch = std::make_shared<Batch>();
    mu_.Lock();
    while (!stopping_ && queue_.empty()) {
      if (store_reachable_.load()) {
        cv_.Wait(&mu_);
      } else if (!cv_.WaitUntil(&mu_, std::chrono::steady_clock::now() + kProbeInterval) &&
                 !stopping_ && queue_.empty()) {
        mu_.Unlock();  // idle while the store is down: probe it
        store_reachable_.store(store_->ReadHead().ok());
        mu_.Lock();
      }
    }
    if (stopping_) {
      mu_.Unlock();
      FailQueued(std::chrono::steady_clock::time_point::max(),
                 Status::Unavailable("the server is shutting down; nothing was written"));
      return;
    }
    // Revert, import, a range delete and an etcd txn read the whole config
    // under a prefix or in a range, so each runs in a batch of its own,
    // decided with nothing in flight.
    while (!queue_.empty() && batch->pending.size() < kMaxBatch) {
      bool alone = !std::holds_alternative<Transaction>(queue_.front().command) ||
                   queue_.front().dry_run;
      if (alone && !batch->pending.empty()) break;
      batch->pending.push_back(std::move(queue_.front()));
      queue_.pop_front();
      if (alone) break;
    }
    mu_.Unlock();
    ProcessBatch(std::move(batch));
  }
}

Status CommandService::PinState(bool alone, Pin* pin) {
  {
    MutexLock lock(&mu_);
    for (const auto& f : inflight_) alone = alone || f->changes_rules;
  }
  if (alone) {
    const auto deadline =
        std::chrono::steady_clock::now() + Follower::kAwaitTimeout + std::chrono::seconds(1);
    MutexLock lock(&mu_);
    while (!inflight_.empty()) {
      if (!cv_.WaitUntil(&mu_, deadline) && !inflight_.empty()) {
        return Status::Unavailable("the read model did not take this node's last commits in time");
      }
    }
  }
  // The one line where a store other nodes write differs: every decision
  // starts from the store's head (a no-op or a check appends nothing, so
  // the store's version check never sees it: this is what makes its answer
  // current). Other nodes' commits up to it are waited for; this node's
  // batches in flight are overlaid instead.
  if (!follower_->sole_writer_caught_up()) {
    if (Status s = follower_->SyncWithStore(
            [this](int64_t head) { return LastRevisionNotInFlight(head); });
        !s.ok()) {
      return s;
    }
  }
  MutexLock lock(&mu_);
  pin->at = projection_->head();
  for (const auto& f : inflight_) {
    if (f->last_revision > pin->at) pin->inflight.push_back(f);
  }
  return Status::OK();
}

int64_t CommandService::LastRevisionNotInFlight(int64_t head) {
  MutexLock lock(&mu_);
  for (auto it = inflight_.rbegin(); it != inflight_.rend(); ++it) {
    if ((*it)->first_revision <= head && head <= (*it)->last_revision) {
      head = (*it)->first_revision - 1;
    }
  }
  return head;
}

void CommandService::ProcessBatch(std::shared_ptr<Batch> b) {
  Batch& batch = *b;
  batch.decisions.resize(batch.pending.size());
  // Commands taken out of the batch after the retries because a key they
  // write kept moving (other nodes wrote it first); they keep their kConflict.
  std::vector<bool> dropped(batch.pending.size(), false);
  const bool ranged = !std::holds_alternative<Transaction>(batch.pending[0].command) ||
                      batch.pending[0].dry_run;
  const auto conflict_deadline = std::chrono::steady_clock::now() + kConflictDeadline;
  auto fail_pending = [&](const Status& failure, bool only_writes) {
    for (size_t i = 0; i < batch.pending.size(); ++i) {
      if (!dropped[i] && (!only_writes || batch.decisions[i].commit_index >= 0)) {
        batch.decisions[i].status = failure;
      }
    }
  };
  std::vector<RecordedCommit> recorded;
  for (int attempt = 1;; ++attempt) {
    // 1. Pin the state to decide against (a retry starts from the store's head).
    Pin pin;
    if (Status s = PinState(ranged || attempt > 1, &pin); !s.ok()) {
      store_errors_.fetch_add(1);
      store_reachable_.store(false);
      spdlog::error("cannot catch up with the store before deciding: {}", s.ToString());
      fail_pending(Status::Unavailable(fmt::format(
                       "the store cannot be reached; nothing was written: {}", s.message())),
                   /*only_writes=*/false);
      break;
    }
    batch.noop_revision = pin.revision();
    // 2. Decide each command; later ones see the earlier ones' effects.
    std::vector<CommitData> commits;
    std::unordered_map<std::string, KeyState> overlay;
    Lookup committed = [&](const std::string& key) { return pin.Lookup(*projection_, key); };
    for (size_t i = 0; i < batch.pending.size(); ++i) {
      if (!dropped[i]) {
        batch.decisions[i] =
            Decide(batch.pending[i].command, *projection_, pin.at, committed, &overlay, &commits);
      }
    }
    if (batch.pending[0].dry_run) {  // alone in its batch: answered, never appended
      BatchDecision& d = batch.decisions[0];
      auto dry = std::make_shared<DryRunResult>();
      dry->decided_at = pin.at;
      if (d.commit_index >= 0) dry->commit = std::move(commits[static_cast<size_t>(d.commit_index)]);
      CommandResult r;
      r.status = d.status;
      r.dry_run = std::move(dry);
      r.revision = pin.at;
      r.created = d.created;
      batch.pending[0].done(std::move(r));
      return;
    }
    if (commits.empty()) break;

    // 3. Append them in one store transaction.
    auto append_started = std::chrono::steady_clock::now();
    auto appended = store_->Append(commits);
    append_seconds_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                          append_started)
                                .count());
    if (appended) {
      batch_commits_.Observe(static_cast<double>(commits.size()));
      recorded = std::move(*appended);
      batches_.fetch_add(1);
      store_reachable_.store(true);
      if (!recorded.empty()) {
        auto inflight = std::make_shared<InFlight>();
        inflight->first_revision = recorded.front().revision;
        inflight->last_revision = recorded.back().revision;
        inflight->changes_rules = overlay.contains(std::string(kSchemasStream)) ||
                                  overlay.contains(std::string(kPoliciesStream));
        inflight->states = std::move(overlay);
        batch.inflight = inflight;
        MutexLock lock(&mu_);
        inflight_.push_back(std::move(inflight));
      }
      break;
    }
    const Status& failure = appended.status();
    if (failure.code() != Code::kConflict) {
      store_errors_.fetch_add(1);
      store_reachable_.store(false);
      spdlog::error("append of {} commits failed: {}", commits.size(), failure.ToString());
      // COMMIT sent, its answer lost: never "nothing was written" (SPEC §6).
      // The follower applies the batch if it landed.
      fail_pending(failure.code() == Code::kOutcomeUnknown
                       ? Status::OutcomeUnknown(fmt::format(
                             "the write may or may not have been committed; read before "
                             "retrying ({})",
                             failure.message()))
                       : Status::Unavailable(fmt::format(
                             "the store failed; nothing was written: {}", failure.message())),
                   /*only_writes=*/true);
      break;
    }
    // Another node moved a key: the next attempt catches up and decides again.
    store_conflicts_.fetch_add(1);
    if (attempt < kMaxAttempts) continue;
    // Past the retries: fail only the commands whose expectations no longer
    // hold, and commit the others; blind writes are decided again until the
    // deadline (a 409 would be a lie: they expected nothing).
    Status synced = follower_->SyncWithStore();
    const bool past_deadline = std::chrono::steady_clock::now() >= conflict_deadline;
    const bool dropped_some =
        synced.ok() && DropMovedKeys(commits, *projection_, &batch.decisions, &dropped,
                                     past_deadline, kConflictDeadline);
    if (!dropped_some && past_deadline) {
      spdlog::error("append of {} commits kept conflicting for {} s: {}", commits.size(),
                    kConflictDeadline.count(), failure.ToString());
      fail_pending(Status::Unavailable(fmt::format(
                       "other nodes kept writing these keys for {} s, so this write could not "
                       "commit; nothing was written: retry it",
                       kConflictDeadline.count())),
                   /*only_writes=*/true);
      break;
    }
    attempt = 0;
  }
  // 4. Hand it to the applier, which answers it once applied.
  Hand(std::move(b), std::move(recorded));
}

void CommandService::Hand(std::shared_ptr<Batch> batch, std::vector<RecordedCommit> recorded) {
  for (const RecordedCommit& c : recorded) {
    batch->sealed.emplace_back(c.revision, c.events.size());
    commits_.fetch_add(1);
    events_.fetch_add(static_cast<int64_t>(c.events.size()));
  }
  // A no-op in a batch that also committed answers with the batch's last
  // revision (its overlay saw them).
  if (!batch->sealed.empty()) batch->noop_revision = batch->sealed.back().first;
  if (recorded.empty() && batch->noop_revision <= projection_->head()) {
    // Nothing to apply, nothing it saw still in flight (a no-op, or a batch
    // the store refused): answered now, not behind an applier that may be
    // waiting on a store that does not answer.
    Answer(*batch, Status::OK());
    return;
  }
  {
    MutexLock lock(&mu_);
    ++handed_;
  }
  // In order after every batch handed before: a no-op decided over batches
  // in flight is answered once they are applied.
  follower_->ApplyInOrder(std::move(recorded), [this, batch](Status applied) {
    {
      MutexLock lock(&mu_);
      if (batch->inflight) {
        // Applied (or, on a failure, left to the follower's reads; the
        // store's version check guards the decisions made without it).
        std::erase(inflight_, batch->inflight);
      }
    }
    cv_.SignalAll();
    Answer(*batch, applied);
    MutexLock lock(&mu_);
    --handed_;
    cv_.SignalAll();  // under the lock: Stop may destroy this service once it sees 0
  });
}

void CommandService::Answer(Batch& batch, const Status& applied) {
  for (size_t i = 0; i < batch.pending.size(); ++i) {
    BatchDecision& d = batch.decisions[i];
    CommandResult r;
    r.status = d.status;
    r.succeeded = d.succeeded;
    r.txn_path = d.txn_path;
    if (r.status.ok() && d.commit_index >= 0 && !applied.ok()) {
      // Only when stopping (after the server stopped answering requests) or
      // when the read model could not take the batch: the commit is durable,
      // but this node cannot show it.
      r.status = Status::Unavailable(
          fmt::format("committed as revision {}, but this node's read model could not take "
                      "it: {}",
                      batch.sealed[static_cast<size_t>(d.commit_index)].first, applied.message()));
    }
    if (r.status.ok()) {
      r.changed = d.commit_index >= 0;
      r.revision = r.changed ? batch.sealed[static_cast<size_t>(d.commit_index)].first
                             : batch.noop_revision;
      r.events = r.changed ? batch.sealed[static_cast<size_t>(d.commit_index)].second : 0;
      r.created = r.changed && d.created;
      for (size_t op = 0; op < d.txn.ops.size(); ++op) {
        OpResult res;
        res.key = OpKey(d.txn.ops[op]);
        res.changed = op < d.changed.size() && d.changed[op];
        if (auto v = projection_->VersionAt(res.key, r.revision)) {
          res.version = v->version;
          if (!v->deleted || res.changed) res.entry = v->entry;
        }
        r.results.push_back(std::move(res));
      }
    }
    batch.pending[i].done(std::move(r));
  }
}

}  // namespace chronoconf
