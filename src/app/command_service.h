// CommandService: the WRITE side. Commands go in, events come out, and a
// request is answered only once its commit is durable and in the read model.
// One pipeline, read in one pass (leveldb's DBImpl::Write group commit, with
// commanded's strong consistency):
//
//   Submit(command) -> queue -> the committer thread takes every command
//   waiting (a batch), then
//     pin     the state it decides against: the read model at its applied
//             head R (multi-versioned, so the applier goes on meanwhile)
//             plus the key states of the batches appended after R and not
//             applied yet (`inflight_`, in order). On a store other nodes
//             also write, it first learns the store's head and waits, with a
//             deadline, until the read model has applied every commit up to
//             it but its own batches in flight (the only difference);
//     decide  each command with KeyAggregate against the pin plus the
//             batch's earlier effects;
//     append  all the resulting commits in ONE store transaction (one
//             fsync), which checks every key's version again;
//     hand    the batch to the Follower, the one applier, which applies it
//             in revision order (reading another node's commits before it
//             from the store first) and answers each command with its own
//             revision — while the committer decides the next batch.
//
// A failed decision (conflict, not found) fails only its own command. A
// store conflict (another node wrote first) decides the batch again against
// the store's head; when a key keeps moving past the retries, only the
// commands that expected a version of a key that moved get kConflict (a
// blind write is decided again until its deadline, then kUnavailable). A
// store failure fails the batch with kUnavailable (nothing written) or
// kOutcomeUnknown (the COMMIT's answer was lost: it may have landed).
//
// Threads: the committer here, the applier (and a LISTEN thread) in the
// Follower. One lock and one condition variable: the queue and inflight_.
//
// Shutdown order: Stop() this service (it answers everything queued and
// waits until every handed batch is answered), then the Follower.
//
// Thread safety: Submit/Execute may be called from any thread.
#ifndef CHRONOCONF_APP_COMMAND_SERVICE_H_
#define CHRONOCONF_APP_COMMAND_SERVICE_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "app/follower.h"
#include "common/histogram.h"
#include "common/mutex.h"
#include "domain/commands.h"
#include "projection/projection.h"
#include "store/event_store.h"

namespace chronoconf {

struct OpResult {
  std::string key;
  bool changed = false;
  // Set: the entry after; delete: the entry just before; check or no-op: the
  // current entry. Null when the key does not exist.
  std::shared_ptr<const std::string> entry;
  int64_t version = 0;  // the key's version at the result's revision
};

// What a dry run would have committed (SPEC §8 "Dry run"): decided like
// the real write, against the state at `decided_at`, never appended.
struct DryRunResult {
  int64_t decided_at = 0;
  std::optional<CommitData> commit;  // nullopt: it would change nothing
};

struct CommandResult {
  Status status;
  std::shared_ptr<const DryRunResult> dry_run;  // set for a dry run that was decided
  int64_t revision = 0;  // the new commit's revision, or the head for a no-op
  bool changed = false;
  std::vector<OpResult> results;  // one per op of the (derived) transaction
  size_t events = 0;
  bool created = false;  // a single set that created its key (HTTP 201)
  bool succeeded = true;  // an EtcdTxn: its compares held (the success branch ran)
  // An EtcdTxn: the branch each Txn on its path took (EtcdTxnDecision::path).
  std::vector<bool> txn_path;
};

struct CommandStats {
  int64_t commits = 0;
  int64_t events = 0;
  int64_t batches = 0;  // store transactions
  int64_t store_errors = 0;
  int64_t store_conflicts = 0;  // appends refused because another node wrote first
};

// A batch on its way through the pipeline, the state it is decided
// against, and what a batch in flight wrote (the .cc).
struct Batch;
struct Pin;
struct InFlight;

class CommandService {
 public:
  using Callback = std::function<void(CommandResult)>;

  // Hands its batches to `follower` (not owned; it must outlive this
  // service), which brings them into `projection`.
  CommandService(EventStore* store, Projection* projection, Follower* follower);
  // Owns a Follower of its own, stopped after the committer (tests, admin
  // commands).
  CommandService(EventStore* store, Projection* projection);
  ~CommandService();  // Stop()
  CommandService(const CommandService&) = delete;
  CommandService& operator=(const CommandService&) = delete;

  // Answers every command still queued kUnavailable (nothing was written:
  // the server stopped answering requests before this, so no one could
  // learn of a commit made now), waits until the batch being decided and
  // every handed batch are answered, then stops the committer thread (and
  // the owned follower, if any). Later Submits are answered kUnavailable.
  // Idempotent; the destructor calls it.
  void Stop();

  // Replays the store's commits after the projection's head into it (the
  // follower's code path, on the caller's thread).
  Status CatchUp() { return follower_->CatchUp(); }

  // Queues `command`; `done` runs on the follower's applier thread once it
  // is decided and (when it changed anything) durable and applied. `done`
  // must not block.
  void Submit(Command command, Callback done);
  // Decides `command` as Submit would, alone against the current state,
  // and answers what it would commit (CommandResult::dry_run); writes
  // nothing. Errors are the real write's (422, 409, 404...).
  void SubmitDryRun(Command command, Callback done);

  // Submit and wait (CLI admin commands, tests).
  CommandResult Execute(Command command, bool dry_run = false);

  CommandStats stats() const;
  // Commits per store transaction (group-commit batch size), and how long
  // each EventStore::Append took (seconds, failed attempts included).
  HistogramSnapshot batch_commits() const { return batch_commits_.Snapshot(); }
  HistogramSnapshot append_seconds() const { return append_seconds_.Snapshot(); }

  // False after an append failed for a reason other than a conflict, until
  // an append or a probe of the store (every second while idle) succeeds.
  // Also false while the follower's reads of the store fail (so /readyz
  // turns 503 in an outage even when nobody writes).
  bool store_reachable() const {
    return store_reachable_.load() && follower_->store_reachable();
  }

  // Revisions the store holds that the read model has not applied yet.
  int64_t projection_lag() const { return follower_->lag(); }

 private:
  friend struct Batch;
  struct Pending {
    Command command;
    Callback done;
    bool dry_run = false;
    std::chrono::steady_clock::time_point queued_at = std::chrono::steady_clock::now();
  };
  void Queue(Pending pending);
  // Takes out of the queue the commands queued at or before `before` and
  // answers each `failure` (never decided: nothing was written). Each
  // turn of the committer fails those that waited past kQueueDeadline.
  void FailQueued(std::chrono::steady_clock::time_point before, const Status& failure);
  void Run();
  void ProcessBatch(std::shared_ptr<Batch> batch);
  // The state to decide against: the read model at its head, plus inflight_.
  // `alone` (a retry, or a command that reads a whole prefix or range)
  // waits until nothing is in flight. Errors: kUnavailable when the store
  // cannot be reached or a wait passes its deadline.
  Status PinState(bool alone, Pin* pin);
  // The newest revision up to `head` that is not one of this node's batches
  // in flight: what the read model must reach before a decision.
  int64_t LastRevisionNotInFlight(int64_t head);
  // Hands the batch to the follower; it is answered once applied.
  void Hand(std::shared_ptr<Batch> batch, std::vector<RecordedCommit> recorded);
  void Answer(Batch& batch, const Status& applied);

  EventStore* store_;
  Projection* projection_;
  std::unique_ptr<Follower> owned_follower_;  // when none was given
  Follower* follower_;
  Mutex mu_;
  CondVar cv_;  // a command queued, a batch answered, Stop
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  // Batches appended, oldest first, until the follower has applied them.
  std::deque<std::shared_ptr<const InFlight>> inflight_ GUARDED_BY(mu_);
  size_t handed_ GUARDED_BY(mu_) = 0;  // batches handed, not answered yet
  std::atomic<int64_t> commits_{0}, events_{0}, batches_{0}, store_errors_{0},
      store_conflicts_{0};
  std::atomic<bool> store_reachable_{true};
  Histogram batch_commits_{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  Histogram append_seconds_{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                            0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   5.0};
  std::thread committer_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_COMMAND_SERVICE_H_
