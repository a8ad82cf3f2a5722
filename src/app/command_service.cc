#include "app/command_service.h"

#include <chrono>
#include <future>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "domain/etcd_value.h"

namespace chronoconf {

// What one command of a batch came to before the store is asked.
struct BatchDecision {
  Status status;
  Transaction txn;
  std::vector<bool> changed;
  int commit_index = -1;  // into the batch's commits; -1 for a no-op
  bool created = false;
  bool succeeded = true;  // an EtcdTxn's compares
  std::vector<bool> txn_path;  // an EtcdTxn's branches (EtcdTxnDecision::path)
};

namespace {

// Commands taken in one batch: enough to share an fsync among many writers,
// small enough that one transaction stays short.
constexpr size_t kMaxBatch = 512;
// A store conflict means another node committed first: catch up and retry.
constexpr int kMaxAttempts = 5;
// A write without an expectation never gets 409: it is decided again until
// it commits, or for at most this long, then answered 503.
constexpr std::chrono::seconds kConflictDeadline{5};
// How often an idle committer checks whether an unreachable store is back.
constexpr std::chrono::seconds kProbeInterval{1};

using Lookup = std::function<KeyState(const std::string&)>;

// Revert: the ops that make the config under `prefix` equal to its state at R.
Result<Transaction> RevertOps(const RevertTo& cmd, const Projection& projection) {
  auto at = projection.Resolve(cmd.revision, std::nullopt);
  if (!at) return at.status();
  std::map<std::string, std::string> target;
  for (const KeyVersion& v : projection.Snapshot(cmd.prefix, *at)) {
    target.emplace(v.key, std::string(v.value()));
  }
  Transaction txn{{}, cmd.meta};
  std::map<std::string, Op> ops;
  for (const KeyVersion& v : projection.Snapshot(cmd.prefix, projection.head())) {
    const std::string key(v.key);
    if (!target.contains(key)) ops.emplace(key, DeleteKey{key, std::nullopt});
  }
  for (auto& [key, value] : target) ops.emplace(key, SetKey{key, value, std::nullopt, false});
  for (auto& [key, op] : ops) txn.ops.push_back(std::move(op));
  return txn;
}

// Import: a set per value; with replace, a delete per other key under prefix.
Transaction ImportOps(const Import& cmd, const Projection& projection) {
  Transaction txn{{}, cmd.meta};
  std::set<std::string> named;
  for (const auto& [key, value] : cmd.values) {
    txn.ops.push_back(SetKey{key, value, std::nullopt, false});
    named.insert(key);
  }
  if (cmd.replace) {
    for (const KeyVersion& v : projection.Snapshot(cmd.prefix, projection.head())) {
      const std::string key(v.key);
      if (!named.contains(key)) txn.ops.push_back(DeleteKey{key, std::nullopt});
    }
  }
  return txn;
}

// DeleteKeyRange: a delete per key that exists in [start, end) now.
Transaction RangeDeleteOps(const DeleteKeyRange& cmd, const Projection& projection) {
  Transaction txn{{}, cmd.meta};
  for (const KeyVersion& v :
       projection.Range(cmd.start, cmd.end, projection.head(), SIZE_MAX, nullptr)) {
    txn.ops.push_back(DeleteKey{std::string(v.key), std::nullopt});
  }
  return txn;
}

// The keys in [start, end) (or `start` alone) as an etcd Txn reads them, at
// the head.
std::vector<EtcdKeyRead> EtcdRead(const Projection& projection, const std::string& start,
                                  const std::string& end, bool single) {
  std::vector<KeyVersion> found;
  if (single) {
    if (auto v = projection.Get(start)) found.push_back(std::move(*v));
  } else {
    found = projection.Range(start, end, projection.head(), SIZE_MAX, nullptr);
  }
  std::vector<EtcdKeyRead> out;
  for (const KeyVersion& v : found) {
    // Member by member: GCC 12 at -O3 takes the nested braced temporary's
    // strings for uninitialized (-Wmaybe-uninitialized).
    EtcdKeyRead& read = out.emplace_back();
    read.key = v.key;
    read.view.version = v.version - v.created_version + 1;
    read.view.create_revision = v.created_revision;
    read.view.mod_revision = v.revision;
    read.view.value = EtcdValueFromStored(v.value());
    read.stored_value = v.value();
  }
  return out;
}

// EtcdTxn: DecideEtcdTxn's writes and, when there are any, a check of every
// compared key they do not write, so that the store refuses the commit (and
// the batch is decided again) if another node moved one.
Transaction EtcdTxnOps(const EtcdTxn& cmd, const Projection& projection,
                       EtcdTxnDecision* decided) {
  *decided = DecideEtcdTxn(cmd.body, [&](const std::string& start, const std::string& end,
                                         bool single) {
    return EtcdRead(projection, start, end, single);
  }, projection.head());
  Transaction txn{{}, cmd.meta};
  std::set<std::string> named;
  for (auto& [key, value] : decided->writes) {
    named.insert(key);
    if (value) {
      SetKey set{key, std::move(*value), std::nullopt, false};
      set.commit_unchanged = true;
      txn.ops.push_back(std::move(set));
    } else {
      txn.ops.push_back(DeleteKey{key, std::nullopt});
    }
  }
  if (txn.ops.empty()) return txn;
  for (const std::string& key : decided->compared) {
    if (named.insert(key).second) txn.ops.push_back(CheckKey{key, projection.State(key).version});
  }
  return txn;
}

// Decides one command against `committed` (the read model, plus batches
// appended but not applied yet) and `overlay` (the effects of the batch's
// earlier commands), appending its commit to `commits`.
// REQUIRES: the committed state does not move meanwhile (PauseApplying, or
// a pipelined committer's inflight_).
BatchDecision Decide(const Command& command, const Projection& projection,
                     const Lookup& committed, std::unordered_map<std::string, KeyState>* overlay,
                     std::vector<CommitData>* commits) {
  BatchDecision d;
  Lookup lookup = [&](const std::string& key) {
    auto it = overlay->find(key);
    return it != overlay->end() ? it->second : committed(key);
  };
  if (auto* txn = std::get_if<Transaction>(&command)) {
    d.txn = *txn;
  } else if (auto* revert = std::get_if<RevertTo>(&command)) {
    auto ops = RevertOps(*revert, projection);
    if (!ops) {
      d.status = ops.status();
      return d;
    }
    d.txn = std::move(*ops);
  } else if (auto* import = std::get_if<Import>(&command)) {
    d.txn = ImportOps(*import, projection);
  } else if (auto* etcd = std::get_if<EtcdTxn>(&command)) {
    EtcdTxnDecision decided;
    d.txn = EtcdTxnOps(*etcd, projection, &decided);
    d.succeeded = decided.path.front();
    d.txn_path = std::move(decided.path);
    if (!decided.status.ok()) {
      d.status = std::move(decided.status);
      return d;
    }
  } else {
    d.txn = RangeDeleteOps(std::get<DeleteKeyRange>(command), projection);
  }
  if (d.txn.ops.empty()) return d;  // a revert, import or range delete with nothing to do
  auto decided = DecideTransaction(d.txn, lookup);
  if (!decided) {
    d.status = decided.status();
    return d;
  }
  d.changed = decided->changed;
  if (decided->events.empty()) return d;
  // The keys the transaction only read (checks, ops that changed nothing):
  // the store checks their versions when it appends, so that a check that
  // held here still holds at commit time, whatever another node wrote in
  // between. (A transaction that writes nothing appends nothing: it was
  // decided at the store's head, see ProcessBatch.)
  std::set<std::string> written;
  for (const Event& e : decided->events) written.insert(e.key);
  std::vector<ReadCheck> reads;
  for (const Op& op : d.txn.ops) {
    const std::string& key = OpKey(op);
    if (!written.contains(key)) reads.push_back({key, lookup(key).version});
  }
  for (const Event& e : decided->events) {
    if (e.type == EventType::kConfigSet && !lookup(e.key).exists) d.created = true;
    KeyAggregate::Apply((*overlay)[e.key], e);
  }
  d.commit_index = static_cast<int>(commits->size());
  commits->push_back({d.txn.meta, std::move(decided->events), std::move(reads)});
  return d;
}

// Does the command state what it expects to find (a version, absence, a
// check)? Only such a command can fail with a conflict: a blind write has
// nothing to conflict with, it is decided again.
bool HasExpectation(const Transaction& txn) {
  for (const Op& op : txn.ops) {
    if (const auto* set = std::get_if<SetKey>(&op)) {
      if (set->expected_version || set->must_be_absent) return true;
    } else if (const auto* del = std::get_if<DeleteKey>(&op)) {
      if (del->expected_version) return true;
    } else {
      return true;  // CheckKey
    }
  }
  return false;
}

// After a store conflict, with the read model caught up: marks `dropped`
// every command with an expectation that writes a key whose version is no
// longer the one the batch was decided against, and fails it with
// kConflict. A blind write of such a key is dropped too only when
// `blind_too` (past the deadline), failing with kUnavailable; before that it
// is decided again. False when nothing was dropped.
bool DropMovedKeys(const std::vector<CommitData>& commits, const Projection& projection,
                   std::vector<BatchDecision>* decisions, std::vector<bool>* dropped,
                   bool blind_too, std::chrono::seconds deadline) {
  // The version each key had when the batch was decided: at its first read
  // check, or its first event's version - 1.
  std::unordered_map<std::string, int64_t> base;
  for (const CommitData& c : commits) {
    for (const ReadCheck& r : c.reads) base.emplace(r.key, r.version);
    for (const Event& e : c.events) base.emplace(e.key, e.version - 1);
  }
  bool any = false;
  for (size_t i = 0; i < decisions->size(); ++i) {
    BatchDecision& d = (*decisions)[i];
    if (d.commit_index < 0) continue;
    const bool expects = HasExpectation(d.txn);
    if (!expects && !blind_too) continue;
    const CommitData& commit = commits[static_cast<size_t>(d.commit_index)];
    std::vector<std::string> keys;
    for (const ReadCheck& r : commit.reads) keys.push_back(r.key);
    for (const Event& e : commit.events) keys.push_back(e.key);
    for (const std::string& key : keys) {
      const int64_t current = projection.State(key).version;
      if (current == base[key]) continue;
      if (expects) {
        Status conflict = Status::Conflict({key, base[key], current});
        conflict.WithMessage(fmt::format(
            "key '{}' kept changing on other nodes while this write was retried; retry it",
            key));
        d.status = std::move(conflict);
      } else {
        d.status = Status::Unavailable(fmt::format(
            "other nodes kept writing key '{}' for {} s, so this write could not commit; "
            "nothing was written: retry it",
            key, deadline.count()));
      }
      d.commit_index = -1;
      (*dropped)[i] = true;
      any = true;
      break;
    }
  }
  return any;
}

}  // namespace

CommandService::CommandService(EventStore* store, Projection* projection, Follower* follower)
    : store_(store),
      projection_(projection),
      follower_(follower),
      answerer_([this] { RunAnswerer(); }),
      committer_([this] { Run(); }) {}

CommandService::CommandService(EventStore* store, Projection* projection)
    : store_(store),
      projection_(projection),
      owned_follower_(std::make_unique<Follower>(store, projection)),
      follower_(owned_follower_.get()),
      answerer_([this] { RunAnswerer(); }),
      committer_([this] { Run(); }) {}

CommandService::~CommandService() { Stop(); }

void CommandService::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (committer_.joinable()) committer_.join();
  {
    MutexLock lock(&answer_mu_);
    committer_done_ = true;
  }
  answer_cv_.SignalAll();
  if (answerer_.joinable()) answerer_.join();  // every batch answered
  // After the committer: it waits on the follower until its last batch is
  // in the read model.
  if (owned_follower_) owned_follower_->Stop();
}

void CommandService::Submit(Command command, Callback done) {
  // Every path into the log (HTTP, CLI admin commands) passes here.
  if (Status s = ValidateCommitMeta(MetaOf(command)); !s.ok()) {
    CommandResult r;
    r.status = std::move(s);
    done(std::move(r));
    return;
  }
  bool refused;
  {
    MutexLock lock(&mu_);
    refused = stopping_;  // Stop() was called: nothing new is taken
    if (!refused) queue_.push_back({std::move(command), std::move(done)});
  }
  if (refused) {
    CommandResult r;
    r.status = Status::Unavailable("the server is shutting down");
    done(std::move(r));
    return;
  }
  cv_.Signal();
}

CommandResult CommandService::Execute(Command command) {
  auto promise = std::make_shared<std::promise<CommandResult>>();
  auto future = promise->get_future();
  Submit(std::move(command), [promise](CommandResult r) { promise->set_value(std::move(r)); });
  return future.get();
}

CommandStats CommandService::stats() const {
  return {commits_.load(), events_.load(), batches_.load(), store_errors_.load(),
          store_conflicts_.load()};
}

void CommandService::Run() {
  while (true) {
    std::vector<Pending> batch;
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
    if (queue_.empty()) {  // stopping, and nothing left to do
      mu_.Unlock();
      return;
    }
    // Revert, import, a range delete and an etcd txn read the whole config
    // under a prefix or in a range, so each runs in a batch of its own,
    // decided against committed state only.
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      bool alone = !std::holds_alternative<Transaction>(queue_.front().command);
      if (alone && !batch.empty()) break;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
      if (alone) break;
    }
    mu_.Unlock();
    ProcessBatch(batch);
  }
}

void CommandService::ProcessBatch(std::vector<Pending>& batch) {
  std::vector<BatchDecision> decisions(batch.size());
  // Commands taken out of the batch after the retries because a key they
  // write kept moving (other nodes wrote it first); they keep their kConflict.
  std::vector<bool> dropped(batch.size(), false);
  std::vector<RecordedCommit> recorded;
  int64_t decided_head = 0;  // the read model's head the batch was decided at
  uint64_t seq = 0;          // its number in inflight_, when pipelined
  const auto conflict_deadline = std::chrono::steady_clock::now() + kConflictDeadline;
  auto fail_pending = [&](const Status& failure, bool only_writes) {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!dropped[i] && (!only_writes || decisions[i].commit_index >= 0)) {
        decisions[i].status = failure;
      }
    }
  };
  for (int attempt = 1;; ++attempt) {
    // Decide against every commit the store holds now, not only the ones
    // this node has applied: a no-op or a pure `check` appends nothing, so
    // the store's per-event version check never sees it, and this catch-up
    // to the head read at decision time is what makes its answer current
    // (another node's commit made before this batch was taken is seen).
    // Writes are checked again by the store inside the append transaction.
    const bool pipelined = Pipelined();
    if (pipelined && (attempt > 1 || !std::holds_alternative<Transaction>(batch[0].command))) {
      WaitForInflight();  // a revert/import reads a whole prefix; a retry starts afresh
    }
    if (Status s = pipelined ? Status::OK() : follower_->SyncWithStore(); !s.ok()) {
      store_errors_.fetch_add(1);
      store_reachable_.store(false);
      spdlog::error("cannot catch up with the store before deciding: {}", s.ToString());
      fail_pending(Status::Unavailable(fmt::format(
                       "the store cannot be reached; nothing was written: {}", s.message())),
                   /*only_writes=*/false);
      break;
    }
    std::vector<CommitData> commits;
    std::unordered_map<std::string, KeyState> overlay;
    if (pipelined) {
      // Batches appended before are in inflight_ until applied; nobody else
      // writes the store, so that and the read model are the whole state.
      decided_head = std::max(projection_->head(), last_appended_revision_);
      Lookup committed = [this](const std::string& key) { return Committed(key); };
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!dropped[i]) {
          decisions[i] = Decide(batch[i].command, *projection_, committed, &overlay, &commits);
        }
      }
    } else {
      // One consistent read-model state for the whole batch.
      auto paused = follower_->PauseApplying();
      decided_head = projection_->head();
      Lookup committed = [this](const std::string& key) { return projection_->State(key); };
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!dropped[i]) {
          decisions[i] = Decide(batch[i].command, *projection_, committed, &overlay, &commits);
        }
      }
    }
    if (commits.empty()) break;

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
      if (pipelined && !recorded.empty()) {
        last_appended_revision_ = recorded.back().revision;
        seq = ++appended_seq_;
        MutexLock lock(&inflight_mu_);
        for (auto& [key, state] : overlay) inflight_[key] = {std::move(state), seq};
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
        synced.ok() && DropMovedKeys(commits, *projection_, &decisions, &dropped,
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
  Answer(batch, decisions, std::move(recorded), decided_head, seq);
}

KeyState CommandService::Committed(const std::string& key) {
  {
    MutexLock lock(&inflight_mu_);
    if (auto it = inflight_.find(key); it != inflight_.end()) return it->second.first;
  }
  // Not in flight: the read model has its last change (a batch leaves
  // inflight_ only once applied).
  return projection_->State(key);
}

void CommandService::WaitForInflight() {
  MutexLock lock(&inflight_mu_);
  while (applied_seq_ < appended_seq_) inflight_cv_.Wait(&inflight_mu_);
}

void CommandService::Answer(std::vector<Pending>& batch, std::vector<BatchDecision>& decisions,
                            std::vector<RecordedCommit> recorded, int64_t decided_head,
                            uint64_t seq) {
  // Each command is answered with its commit's revision and event count.
  std::vector<std::pair<int64_t, size_t>> sealed;
  for (const RecordedCommit& c : recorded) {
    sealed.emplace_back(c.revision, c.events.size());
    commits_.fetch_add(1);
    events_.fetch_add(static_cast<int64_t>(c.events.size()));
  }
  // The follower applies the batch (after any other node's commits before
  // it): answers are read from the read model once it holds the last one.
  Status applied;
  // Pipelined, the answerer applies the batch; else it is applied here.
  if (!sealed.empty() && seq == 0) applied = follower_->ApplyAppended(std::move(recorded));
  // A no-op answers with the state it was decided against; in a batch that
  // also committed, with the batch's last revision (its overlay saw them).
  const int64_t noop_revision = sealed.empty() ? decided_head : sealed.back().first;
  Applied a{std::move(batch), std::move(decisions), std::move(sealed), std::move(applied),
            noop_revision, seq != 0 ? std::move(recorded) : std::vector<RecordedCommit>{}, seq};
  // With nothing queued there is no next batch to overlap with: answering
  // here saves the hand-off (one connection's latency).
  bool idle;
  {
    MutexLock lock(&mu_);
    idle = queue_.empty();
  }
  if (idle) {
    MutexLock lock(&answer_mu_);
    idle = applied_.empty();  // and the answerer has no backlog
  }
  if (idle) {
    FinishApplied(a);
    return;
  }
  {
    MutexLock lock(&answer_mu_);
    applied_.push_back(std::move(a));
  }
  answer_cv_.Signal();
}

void CommandService::RunAnswerer() {
  answer_mu_.Lock();
  while (true) {
    while (applied_.empty() && !committer_done_) answer_cv_.Wait(&answer_mu_);
    if (applied_.empty()) break;  // the committer is done, and so is this
    Applied a = std::move(applied_.front());
    applied_.pop_front();
    answer_mu_.Unlock();
    FinishApplied(a);
    answer_mu_.Lock();
  }
  answer_mu_.Unlock();
}

void CommandService::FinishApplied(Applied& a) {
  if (a.seq != 0) {
    a.applied = follower_->ApplyAppended(std::move(a.recorded));
    // In the read model now (or the follower will read it from the store,
    // when the apply failed): its keys leave inflight_ unless a later batch
    // wrote them.
    {
      MutexLock lock(&inflight_mu_);
      for (auto it = inflight_.begin(); it != inflight_.end();) {
        it = it->second.second <= a.seq ? inflight_.erase(it) : std::next(it);
      }
      // (max: a batch finished by the committer itself may pass one the
      // answerer is still applying; its ApplyAppended waited for both.)
      applied_seq_ = std::max(applied_seq_, a.seq);
    }
    inflight_cv_.SignalAll();
  } else if (a.sealed.empty() && a.noop_revision > projection_->head()) {
    // A no-op decided on batches still being applied answers once they are.
    follower_->AwaitRevision(a.noop_revision).IgnoreError();  // stopping: answered as is
  }
  AnswerApplied(a);
}

void CommandService::AnswerApplied(Applied& a) {
  for (size_t i = 0; i < a.batch.size(); ++i) {
    BatchDecision& d = a.decisions[i];
    CommandResult r;
    r.status = d.status;
    r.succeeded = d.succeeded;
    r.txn_path = d.txn_path;
    if (r.status.ok() && d.commit_index >= 0 && !a.applied.ok()) {
      // Only when stopping (after the server stopped answering requests) or
      // when the store handed out a gap: the commit is durable, but this node
      // cannot show it.
      r.status = Status::Unavailable(
          fmt::format("committed as revision {}, but this node's read model could not take "
                      "it: {}",
                      a.sealed[static_cast<size_t>(d.commit_index)].first, a.applied.message()));
    }
    if (r.status.ok()) {
      r.changed = d.commit_index >= 0;
      r.revision =
          r.changed ? a.sealed[static_cast<size_t>(d.commit_index)].first : a.noop_revision;
      r.events = r.changed ? a.sealed[static_cast<size_t>(d.commit_index)].second : 0;
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
    a.batch[i].done(std::move(r));
  }
}

}  // namespace chronoconf
