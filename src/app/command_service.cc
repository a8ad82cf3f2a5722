#include "app/command_service.h"

#include <chrono>
#include <future>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace chronoconf {
namespace {

// Commands taken in one batch: enough to share an fsync among many writers,
// small enough that one transaction stays short.
constexpr size_t kMaxBatch = 512;
// A store conflict means another node committed first: catch up and retry.
constexpr int kMaxAttempts = 5;
// How often an idle committer checks whether an unreachable store is back.
constexpr std::chrono::seconds kProbeInterval{1};

using Lookup = std::function<KeyState(const std::string&)>;

// Revert: the ops that make the config under `prefix` equal to its state at R.
Result<Transaction> RevertOps(const RevertTo& cmd, const Projection& projection) {
  auto at = projection.Resolve(cmd.revision, std::nullopt);
  if (!at) return at.status();
  std::map<std::string, std::string> target;
  for (const KeyVersion& v : projection.Snapshot(cmd.prefix, *at)) {
    target.emplace(v.commit->events[v.index].key, std::string(v.value()));
  }
  Transaction txn{{}, cmd.meta};
  std::map<std::string, Op> ops;
  for (const KeyVersion& v : projection.Snapshot(cmd.prefix, projection.head())) {
    const std::string& key = v.commit->events[v.index].key;
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
      const std::string& key = v.commit->events[v.index].key;
      if (!named.contains(key)) txn.ops.push_back(DeleteKey{key, std::nullopt});
    }
  }
  return txn;
}

// What one command of a batch came to before the store is asked.
struct Decision {
  Status status;
  Transaction txn;
  std::vector<bool> changed;
  int commit_index = -1;  // into the batch's commits; -1 for a no-op
  bool created = false;
};

}  // namespace

CommandService::CommandService(EventStore* store, Projection* projection)
    : store_(store), projection_(projection), committer_([this] { Run(); }) {}

CommandService::~CommandService() { Stop(); }

void CommandService::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (committer_.joinable()) committer_.join();
}

Status CommandService::CatchUp() {
  while (true) {
    auto commits = store_->ReadForward(projection_->head(), 1000);
    if (!commits) return commits.status();
    if (commits->empty()) return Status::OK();
    for (RecordedCommit& c : *commits) projection_->Apply(std::move(c));
  }
}

void CommandService::Submit(Command command, Callback done) {
  // Every path into the log (HTTP, CLI admin commands) passes here.
  if (Status s = ValidateCommitMeta(MetaOf(command)); !s.ok()) {
    CommandResult r;
    r.status = std::move(s);
    done(std::move(r));
    return;
  }
  {
    std::unique_lock lock(mu_);
    if (stopping_) {  // Stop() was called: nothing new is taken
      lock.unlock();
      CommandResult r;
      r.status = Status::Unavailable("the server is shutting down");
      done(std::move(r));
      return;
    }
    queue_.push_back({std::move(command), std::move(done)});
  }
  cv_.notify_one();
}

CommandResult CommandService::Execute(Command command) {
  auto promise = std::make_shared<std::promise<CommandResult>>();
  auto future = promise->get_future();
  Submit(std::move(command), [promise](CommandResult r) { promise->set_value(std::move(r)); });
  return future.get();
}

CommandStats CommandService::stats() const {
  return {commits_.load(), events_.load(), batches_.load(), store_errors_.load()};
}

void CommandService::Run() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mu_);
      auto has_work = [&] { return stopping_ || !queue_.empty(); };
      while (!has_work()) {
        if (store_reachable_.load()) {
          cv_.wait(lock, has_work);
        } else if (!cv_.wait_for(lock, kProbeInterval, has_work)) {
          lock.unlock();  // idle while the store is down: probe it
          store_reachable_.store(store_->ReadHead().ok());
          lock.lock();
        }
      }
      if (queue_.empty()) return;  // stopping, and nothing left to do
      // Revert and import read the whole config under a prefix, so each runs
      // in a batch of its own, decided against committed state only.
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        bool alone = !std::holds_alternative<Transaction>(queue_.front().command);
        if (alone && !batch.empty()) break;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (alone) break;
      }
    }
    ProcessBatch(batch);
  }
}

void CommandService::ProcessBatch(std::vector<Pending>& batch) {
  std::vector<Decision> decisions;
  std::vector<RecordedCommit> recorded;
  for (int attempt = 1;; ++attempt) {
    decisions.assign(batch.size(), Decision{});
    // The batch's earlier commands have not reached the projection yet: they
    // live in this overlay while later commands are decided.
    std::unordered_map<std::string, KeyState> overlay;
    Lookup lookup = [&](const std::string& key) {
      auto it = overlay.find(key);
      return it != overlay.end() ? it->second : projection_->State(key);
    };
    std::vector<CommitData> commits;
    for (size_t i = 0; i < batch.size(); ++i) {
      Decision& d = decisions[i];
      if (auto* txn = std::get_if<Transaction>(&batch[i].command)) {
        d.txn = *txn;
      } else if (auto* revert = std::get_if<RevertTo>(&batch[i].command)) {
        auto ops = RevertOps(*revert, *projection_);
        if (!ops) {
          d.status = ops.status();
          continue;
        }
        d.txn = std::move(*ops);
      } else {
        d.txn = ImportOps(std::get<Import>(batch[i].command), *projection_);
      }
      if (d.txn.ops.empty()) continue;  // a revert or import with nothing to do
      auto decided = DecideTransaction(d.txn, lookup);
      if (!decided) {
        d.status = decided.status();
        continue;
      }
      d.changed = decided->changed;
      if (decided->events.empty()) continue;
      for (const Event& e : decided->events) {
        if (e.type == EventType::kConfigSet && !lookup(e.key).exists) d.created = true;
        KeyAggregate::Apply(overlay[e.key], e);
      }
      d.commit_index = static_cast<int>(commits.size());
      commits.push_back({d.txn.meta, std::move(decided->events)});
    }
    if (commits.empty()) break;

    auto appended = store_->Append(commits);
    if (appended) {
      recorded = std::move(*appended);
      batches_.fetch_add(1);
      store_reachable_.store(true);
      break;
    }
    if (appended.status().code() != Code::kConflict) {
      store_errors_.fetch_add(1);
      store_reachable_.store(false);
    }
    if (appended.status().code() == Code::kConflict && attempt < kMaxAttempts) {
      // Another writer moved a key: learn what it wrote, then decide again.
      if (Status s = CatchUp(); !s.ok()) spdlog::warn("catch-up failed: {}", s.ToString());
      continue;
    }
    spdlog::error("append of {} commits failed: {}", commits.size(),
                  appended.status().ToString());
    Status failure = appended.status().code() == Code::kConflict
                         ? appended.status()
                         : Status::Unavailable(fmt::format("the store failed; nothing was "
                                                           "written: {}",
                                                           appended.status().message()));
    for (Decision& d : decisions) {
      if (d.commit_index >= 0) d.status = failure;
    }
    break;
  }

  // Each command is answered with its commit's revision and event count;
  // note them before the commits move into the read model.
  std::vector<std::pair<int64_t, size_t>> sealed;
  for (RecordedCommit& c : recorded) {
    sealed.emplace_back(c.revision, c.events.size());
    commits_.fetch_add(1);
    events_.fetch_add(static_cast<int64_t>(c.events.size()));
    projection_->Apply(std::move(c));
  }

  int64_t head = projection_->head();
  for (size_t i = 0; i < batch.size(); ++i) {
    Decision& d = decisions[i];
    CommandResult r;
    r.status = d.status;
    if (r.status.ok()) {
      r.changed = d.commit_index >= 0;
      r.revision = r.changed ? sealed[static_cast<size_t>(d.commit_index)].first : head;
      r.events = r.changed ? sealed[static_cast<size_t>(d.commit_index)].second : 0;
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
    batch[i].done(std::move(r));
  }
}

}  // namespace chronoconf
