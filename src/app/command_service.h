// CommandService: the WRITE side. Commands go in, events come out, and a
// request is answered only once its commit is durable and in the read model.
//
//   Submit(command) -> queue -> committer thread:
//     take every command waiting (a batch), catch the read model up to the
//     store's head, decide each with KeyAggregate against the read model
//     plus the batch's earlier effects, append all the resulting commits in
//     ONE store transaction (one fsync), wait until the Follower has applied
//     them (the committer never applies its own commits: one path, in
//     revision order, also for other nodes' commits), then answer each
//     command with its own revision.
//
// A failed decision (conflict, not found) fails only its own command. A
// store conflict (another node wrote first) catches the read model up and
// decides the batch again; when a key keeps moving past the retries, only
// the commands writing the keys that moved get kConflict and the rest are
// committed. A store failure fails the batch with kUnavailable (nothing written)
// or kOutcomeUnknown (the COMMIT's answer was lost: it may have landed).
// This is leveldb's DBImpl::Write group commit with a dedicated leader.
//
// Shutdown order: Stop() this service (its committer waits on the
// follower), then the Follower.
//
// Thread safety: Submit/Execute may be called from any thread.
#ifndef CHRONOCONF_APP_COMMAND_SERVICE_H_
#define CHRONOCONF_APP_COMMAND_SERVICE_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
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

struct CommandResult {
  Status status;
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

// What one command of a batch came to before the store is asked (the .cc).
struct BatchDecision;

class CommandService {
 public:
  using Callback = std::function<void(CommandResult)>;

  // Uses `follower` (not owned; it must outlive this service) to bring
  // commits into `projection`.
  CommandService(EventStore* store, Projection* projection, Follower* follower);
  // Owns a Follower of its own, stopped after the committer (tests, admin
  // commands).
  CommandService(EventStore* store, Projection* projection);
  ~CommandService();  // drains the queue, then stops the committer
  CommandService(const CommandService&) = delete;
  CommandService& operator=(const CommandService&) = delete;

  // Decides and answers every command already queued, then stops the
  // committer thread (and the owned follower, if any). Later Submits are
  // answered kUnavailable. Idempotent; the destructor calls it.
  void Stop();

  // Replays the store's commits after the projection's head into it (the
  // follower's code path, on the caller's thread).
  Status CatchUp() { return follower_->CatchUp(); }

  // Queues `command`; `done` runs on the committer thread once it is decided
  // and (when it changed anything) durable. `done` must not block.
  void Submit(Command command, Callback done);

  // Submit and wait (CLI admin commands, tests).
  CommandResult Execute(Command command);

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
  struct Pending {
    Command command;
    Callback done;
  };
  void Run();
  void ProcessBatch(std::vector<Pending>& batch);
  // Waits until the follower has applied `recorded`, then hands the batch
  // to the answerer, so that the committer goes on with the next batch while
  // the answers are built from the read model and sent; with no next batch
  // waiting, it answers them itself (no hand-off on an idle server).
  void Answer(std::vector<Pending>& batch, std::vector<BatchDecision>& decisions,
              std::vector<RecordedCommit> recorded, int64_t decided_head, uint64_t seq);
  // A batch appended, waiting to be applied (when pipelined) and answered.
  struct Applied {
    std::vector<Pending> batch;
    std::vector<BatchDecision> decisions;
    std::vector<std::pair<int64_t, size_t>> sealed;  // revision, events per commit
    Status applied;
    int64_t noop_revision = 0;
    // Pipelined: the commits the answerer applies first, and the batch's
    // number in inflight_ (0: not pipelined, already applied).
    std::vector<RecordedCommit> recorded;
    uint64_t seq = 0;
  };
  void RunAnswerer();
  // Applies a pipelined batch, then answers it.
  void FinishApplied(Applied& a);
  void AnswerApplied(Applied& a);
  // Pipelining: on a store only this process writes, the committer decides
  // and appends the next batch while the answerer applies and answers the
  // last one. Decisions then read the keys of appended-but-unapplied
  // batches from inflight_ first.
  bool Pipelined() const { return follower_->sole_writer_caught_up(); }
  KeyState Committed(const std::string& key);
  // Waits until every appended batch is applied (before a revert or import,
  // which read a whole prefix, and after a conflict).
  void WaitForInflight();

  EventStore* store_;
  Projection* projection_;
  std::unique_ptr<Follower> owned_follower_;  // when none was given
  Follower* follower_;
  Mutex mu_;
  CondVar cv_;
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<int64_t> commits_{0}, events_{0}, batches_{0}, store_errors_{0},
      store_conflicts_{0};
  std::atomic<bool> store_reachable_{true};
  Histogram batch_commits_{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  Histogram append_seconds_{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                            0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   5.0};
  Mutex inflight_mu_;
  CondVar inflight_cv_;
  // Key -> its state after the newest appended, not yet applied batch that
  // wrote it, and that batch's number.
  std::unordered_map<std::string, std::pair<KeyState, uint64_t>> inflight_
      GUARDED_BY(inflight_mu_);
  uint64_t applied_seq_ GUARDED_BY(inflight_mu_) = 0;
  uint64_t appended_seq_ = 0;           // the committer's
  int64_t last_appended_revision_ = 0;  // the committer's
  Mutex answer_mu_;
  CondVar answer_cv_;
  std::deque<Applied> applied_ GUARDED_BY(answer_mu_);
  bool committer_done_ GUARDED_BY(answer_mu_) = false;
  std::thread answerer_;  // started before the committer, stopped after it
  std::thread committer_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_COMMAND_SERVICE_H_
