// The write side without HTTP: group commit, failure isolation, store faults.
#include "app/command_service.h"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "app/follower.h"
#include "app/verify.h"
#include "store/faulty_event_store.h"
#include "store/memory_event_store.h"

namespace chronoconf {
namespace {

Command Set(const std::string& key, const std::string& value,
            std::optional<int64_t> expected = std::nullopt) {
  return Transaction{{SetKey{key, value, expected, false}}, {}};
}

class CommandServiceTest : public ::testing::Test {
 protected:
  MemoryEventStore memory_;
  FaultyEventStore store_{&memory_};
  Projection projection_;
  CommandService service_{&store_, &projection_};
};

TEST_F(CommandServiceTest, CommandsWaitingTogetherShareOneStoreTransaction) {
  store_.Hold();
  std::promise<void> first_done;
  service_.Submit(Set("first", "0"), [&](CommandResult) { first_done.set_value(); });
  while (store_.Held() == 0) std::this_thread::yield();  // the committer holds "first"
  std::vector<std::future<CommandResult>> waiting;
  std::vector<std::shared_ptr<std::promise<CommandResult>>> promises;
  for (int i = 0; i < 20; ++i) {
    auto p = std::make_shared<std::promise<CommandResult>>();
    waiting.push_back(p->get_future());
    service_.Submit(Set("k" + std::to_string(i), std::to_string(i)),
                    [p](CommandResult r) { p->set_value(std::move(r)); });
  }
  store_.Release();
  first_done.get_future().wait();
  std::set<int64_t> revisions;
  for (auto& f : waiting) {
    CommandResult r = f.get();
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    revisions.insert(r.revision);
  }
  // 21 commits, each with its own revision, in 2 store transactions.
  EXPECT_EQ(revisions.size(), 20u);
  EXPECT_EQ(*revisions.begin(), 2);
  EXPECT_EQ(*revisions.rbegin(), 21);
  EXPECT_EQ(service_.stats().commits, 21);
  EXPECT_EQ(service_.stats().batches, 2);
  EXPECT_EQ(store_.appends(), 2);
}

TEST_F(CommandServiceTest, AConflictFailsOnlyItsOwnCommandInABatch) {
  ASSERT_TRUE(service_.Execute(Set("a", "1")).status.ok());
  store_.Hold();
  std::promise<void> blocker;
  service_.Submit(Set("x", "1"), [&](CommandResult) { blocker.set_value(); });
  while (store_.Held() == 0) std::this_thread::yield();
  auto bad = std::make_shared<std::promise<CommandResult>>();
  auto good = std::make_shared<std::promise<CommandResult>>();
  service_.Submit(Set("a", "2", /*expected=*/7), [bad](CommandResult r) { bad->set_value(r); });
  service_.Submit(Set("b", "2"), [good](CommandResult r) { good->set_value(r); });
  store_.Release();
  blocker.get_future().wait();
  CommandResult b = bad->get_future().get();
  CommandResult g = good->get_future().get();
  EXPECT_EQ(b.status.code(), Code::kConflict);
  EXPECT_TRUE(g.status.ok());
  EXPECT_TRUE(g.created);
  EXPECT_EQ(projection_.State("a").value, "1");
  EXPECT_EQ(projection_.State("b").value, "2");
}

TEST_F(CommandServiceTest, LaterCommandsOfABatchSeeEarlierOnes) {
  store_.Hold();
  std::promise<void> blocker;
  service_.Submit(Set("x", "1"), [&](CommandResult) { blocker.set_value(); });
  while (store_.Held() == 0) std::this_thread::yield();
  auto second = std::make_shared<std::promise<CommandResult>>();
  service_.Submit(Set("a", "1"), [](CommandResult) {});
  service_.Submit(Set("a", "2", /*expected=*/1),
                  [second](CommandResult r) { second->set_value(r); });
  store_.Release();
  blocker.get_future().wait();
  CommandResult r = second->get_future().get();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(projection_.State("a").version, 2);
}

TEST_F(CommandServiceTest, AStoreFailureFailsTheBatchWritesNothingAndRecovers) {
  ASSERT_TRUE(service_.Execute(Set("a", "1")).status.ok());
  store_.FailNext(1);
  CommandResult r = service_.Execute(Set("a", "2"));
  EXPECT_EQ(r.status.code(), Code::kUnavailable);
  EXPECT_FALSE(service_.store_reachable());
  EXPECT_EQ(projection_.head(), 1);
  EXPECT_EQ(projection_.State("a").value, "1");
  EXPECT_EQ(service_.stats().store_errors, 1);
  // The next append goes through and the store counts as reachable again.
  ASSERT_TRUE(service_.Execute(Set("a", "2")).status.ok());
  EXPECT_TRUE(service_.store_reachable());
  EXPECT_EQ(projection_.head(), 2);
}

// SPEC §6: with the store stuck, each batch waits out the store's own
// timeout; a command queued behind it is answered 503 once it has waited
// its deadline, never decided later (so a queue of N does not wait N times).
TEST_F(CommandServiceTest, ACommandThatWaitedPastItsDeadlineIsAnswered503AndNotWritten) {
  store_.Hold();
  std::promise<CommandResult> first;
  service_.Submit(Set("first", "1"), [&](CommandResult r) { first.set_value(std::move(r)); });
  while (store_.Held() == 0) std::this_thread::yield();  // the committer holds "first"
  std::promise<CommandResult> late;
  service_.Submit(Set("late", "2"), [&](CommandResult r) { late.set_value(std::move(r)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(5200));
  store_.Release();
  EXPECT_TRUE(first.get_future().get().status.ok());
  CommandResult r = late.get_future().get();
  EXPECT_EQ(r.status.code(), Code::kUnavailable);
  EXPECT_NE(r.status.message().find("nothing was written"), std::string::npos) << r.status.ToString();
  EXPECT_TRUE(memory_.ReadStream("late")->empty());
  EXPECT_EQ(store_.appends(), 1);
  // Later commands are decided as usual.
  EXPECT_TRUE(service_.Execute(Set("late", "2")).status.ok());
}

// After the server stopped answering, a commit could be told to no one:
// Stop answers what is still queued and writes none of it.
TEST_F(CommandServiceTest, StopAnswersWhatIsStillQueuedAndWritesNoneOfIt) {
  store_.Hold();
  std::promise<CommandResult> first;
  service_.Submit(Set("first", "1"), [&](CommandResult r) { first.set_value(std::move(r)); });
  while (store_.Held() == 0) std::this_thread::yield();
  std::promise<CommandResult> queued;
  service_.Submit(Set("queued", "2"), [&](CommandResult r) { queued.set_value(std::move(r)); });
  std::thread stopper([&] { service_.Stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // Stop has begun
  store_.Release();
  stopper.join();
  EXPECT_TRUE(first.get_future().get().status.ok());  // being decided: finished
  CommandResult r = queued.get_future().get();
  EXPECT_EQ(r.status.code(), Code::kUnavailable);
  EXPECT_EQ(r.status.message(), "the server is shutting down; nothing was written");
  EXPECT_TRUE(memory_.ReadStream("queued")->empty());
}

TEST_F(CommandServiceTest, AnIdleCommitterProbesAnUnreachableStoreUntilItIsBack) {
  store_.FailNext(1, /*reads_too=*/true);
  EXPECT_EQ(service_.Execute(Set("a", "1")).status.code(), Code::kUnavailable);
  EXPECT_FALSE(service_.store_reachable());
  for (int i = 0; i < 50 && !service_.store_reachable(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(service_.store_reachable());
}

TEST_F(CommandServiceTest, RevertAndImportAreDerivedFromTheReadModel) {
  ASSERT_TRUE(service_.Execute(Set("p/a", "1")).status.ok());
  ASSERT_TRUE(service_.Execute(Set("p/b", "1")).status.ok());
  ASSERT_TRUE(service_.Execute(Set("q/c", "1")).status.ok());
  Import replace;
  replace.values = {{"p/a", "2"}};
  replace.replace = true;
  replace.prefix = "p/";
  CommandResult imported = service_.Execute(replace);
  ASSERT_TRUE(imported.status.ok());
  EXPECT_EQ(imported.events, 2u);  // p/a set, p/b deleted; q/c untouched
  EXPECT_FALSE(projection_.State("p/b").exists);
  EXPECT_TRUE(projection_.State("q/c").exists);

  CommandResult reverted = service_.Execute(RevertTo{2, "p/", {}});
  ASSERT_TRUE(reverted.status.ok());
  EXPECT_EQ(reverted.events, 2u);
  EXPECT_EQ(projection_.State("p/a").value, "1");
  EXPECT_TRUE(projection_.State("p/b").exists);
  CommandResult again = service_.Execute(RevertTo{2, "p/", {}});
  EXPECT_TRUE(again.status.ok());
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(service_.Execute(RevertTo{99, "", {}}).status.code(), Code::kFutureRevision);
}

TEST_F(CommandServiceTest, CatchUpReplaysTheStoreIntoAFreshReadModel) {
  ASSERT_TRUE(service_.Execute(Set("a", "1")).status.ok());
  ASSERT_TRUE(service_.Execute(Set("a", "2")).status.ok());
  Projection fresh;
  CommandService other(&store_, &fresh);
  ASSERT_TRUE(other.CatchUp().ok());
  EXPECT_EQ(fresh.head(), 2);
  EXPECT_EQ(fresh.Stats().head_hash, projection_.Stats().head_hash);
  EXPECT_EQ(fresh.State("a").value, "2");
}

// Another node that always wins the race for `hot`: before every append it
// commits a new version of `hot` straight to the store.
class RacingStore final : public EventStore {
 public:
  explicit RacingStore(EventStore* target) : target_(target) {}
  std::string_view kind() const override { return target_->kind(); }
  Result<std::vector<RecordedCommit>> Append(const std::vector<CommitData>& commits) override {
    auto stream = target_->ReadStream("hot");
    if (!stream) return stream.status();
    const auto version = static_cast<int64_t>(stream->size());
    std::optional<std::string> previous;
    if (!stream->empty()) previous = stream->back().event.value;
    CommitData race{
        {}, {{EventType::kConfigSet, "hot", version + 1, "\"theirs\"", previous}}, {}};
    auto raced = target_->Append({race});
    if (!raced) return raced.status();
    ++races;
    return target_->Append(commits);
  }
  Result<std::vector<RecordedCommit>> ReadForward(int64_t after, size_t limit) override {
    return target_->ReadForward(after, limit);
  }
  Result<std::vector<StreamEvent>> ReadStream(std::string_view key) override {
    return target_->ReadStream(key);
  }
  Result<StoreHead> ReadHead() override { return target_->ReadHead(); }
  Result<int64_t> ReadEtcdFloor() override { return target_->ReadEtcdFloor(); }
  Result<int64_t> RaiseEtcdFloor(int64_t r) override { return target_->RaiseEtcdFloor(r); }
  std::atomic<int> races{0};

 private:
  EventStore* target_;
};

// Another node moves `hot` before every append of ours. A command that
// expected a version of it fails with 409; a blind write of it has nothing
// to conflict with, so it is decided again until the deadline, then 503
// (never a 409: issue 14); a command on another key commits.
TEST(CommandServiceMultiWriterTest, AKeyThatKeepsMovingFailsOnlyTheCommandsWritingIt) {
  MemoryEventStore memory;
  RacingStore racing(&memory);
  FaultyEventStore store(&racing);
  Projection projection;
  CommandService service(&store, &projection);
  store.Hold();
  std::promise<void> blocker;
  service.Submit(Set("x", "1"), [&](CommandResult) { blocker.set_value(); });
  while (store.Held() == 0) std::this_thread::yield();
  auto hot = std::make_shared<std::promise<CommandResult>>();
  auto expecting = std::make_shared<std::promise<CommandResult>>();
  auto cold = std::make_shared<std::promise<CommandResult>>();
  service.Submit(Set("hot", "\"ours\""), [hot](CommandResult r) { hot->set_value(r); });
  service.Submit(Set("hot", "\"if absent\"", 0),
                 [expecting](CommandResult r) { expecting->set_value(r); });
  service.Submit(Set("cold", "1"), [cold](CommandResult r) { cold->set_value(r); });
  store.Release();
  blocker.get_future().wait();
  CommandResult h = hot->get_future().get();
  CommandResult e = expecting->get_future().get();
  CommandResult c = cold->get_future().get();
  EXPECT_EQ(h.status.code(), Code::kUnavailable) << h.status.ToString();
  EXPECT_EQ(e.status.code(), Code::kConflict) << e.status.ToString();
  ASSERT_TRUE(e.status.conflict().has_value());
  EXPECT_EQ(e.status.conflict()->key, "hot");
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_TRUE(c.changed);
  // The read model followed every commit, the other node's included, in order.
  auto head = memory.ReadHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(projection.head(), head->revision);
  EXPECT_EQ(projection.State("cold").value, "1");
  EXPECT_EQ(projection.State("hot").value, "\"theirs\"");
  EXPECT_GE(racing.races.load(), 5);
}

TEST(CommandServiceMultiWriterTest, AConflictDecidesTheBatchAgainAgainstTheOtherNodesWrite) {
  MemoryEventStore memory;
  Projection ours, theirs;
  FaultyEventStore store(&memory);
  CommandService service(&store, &ours);
  CommandService other(&memory, &theirs);
  ASSERT_TRUE(service.Execute(Set("a", "1")).status.ok());
  // The other node writes `a` (its own read model catches up first).
  CommandResult moved = other.Execute(Set("a", "2"));
  ASSERT_TRUE(moved.status.ok()) << moved.status.ToString();
  EXPECT_EQ(moved.revision, 2);
  // An unconditional set on our node is decided against version 2, not 1.
  CommandResult r = service.Execute(Set("a", "3"));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.revision, 3);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].version, 3);
  // An expectation that was current on our node before the other node's
  // write is a 409, naming the version the store holds.
  ASSERT_TRUE(other.Execute(Set("a", "4")).status.ok());
  CommandResult stale = service.Execute(Set("a", "5", /*expected=*/3));
  EXPECT_EQ(stale.status.code(), Code::kConflict);
  ASSERT_TRUE(stale.status.conflict().has_value());
  EXPECT_EQ(stale.status.conflict()->current_version, 4);
}

// The other node writes `a` between our decision and our append, every time
// our transaction names it.
class MovesAOnAppend final : public EventStore {
 public:
  explicit MovesAOnAppend(EventStore* target) : target_(target) {}
  std::string_view kind() const override { return target_->kind(); }
  Result<std::vector<RecordedCommit>> Append(const std::vector<CommitData>& commits) override {
    if (moves.load() > 0) {
      --moves;
      auto stream = target_->ReadStream("a");
      if (!stream) return stream.status();
      const auto v = static_cast<int64_t>(stream->size());
      std::optional<std::string> previous;
      if (!stream->empty()) previous = stream->back().event.value;
      CommitData move{
          {}, {{EventType::kConfigSet, "a", v + 1, std::to_string(v + 1), previous}}, {}};
      if (auto moved = target_->Append({move}); !moved) return moved.status();
    }
    return target_->Append(commits);
  }
  Result<std::vector<RecordedCommit>> ReadForward(int64_t after, size_t limit) override {
    return target_->ReadForward(after, limit);
  }
  Result<std::vector<StreamEvent>> ReadStream(std::string_view key) override {
    return target_->ReadStream(key);
  }
  Result<StoreHead> ReadHead() override { return target_->ReadHead(); }
  Result<int64_t> ReadEtcdFloor() override { return target_->ReadEtcdFloor(); }
  Result<int64_t> RaiseEtcdFloor(int64_t r) override { return target_->RaiseEtcdFloor(r); }
  std::atomic<int> moves{0};

 private:
  EventStore* target_;
};

TEST(CommandServiceMultiWriterTest, ACheckBesideWritesStillHoldsAtCommitTime) {
  MemoryEventStore memory;
  MovesAOnAppend store(&memory);
  Projection projection;
  CommandService service(&store, &projection);
  ASSERT_TRUE(service.Execute(Set("a", "1")).status.ok());
  // check a@1 + set b: `a` moves to 2 just before the append. Committing b
  // would break the check; the store refuses, the batch is decided again and
  // the check now fails.
  store.moves = 1;
  Command txn = Transaction{{CheckKey{"a", 1}, SetKey{"b", "1", std::nullopt, false}}, {}};
  CommandResult r = service.Execute(txn);
  EXPECT_EQ(r.status.code(), Code::kConflict) << r.status.ToString();
  ASSERT_TRUE(r.status.conflict().has_value());
  EXPECT_EQ(r.status.conflict()->current_version, 2);
  EXPECT_FALSE(projection.State("b").exists);
  EXPECT_FALSE(memory.ReadStream("b")->size());
}

TEST(CommandServiceMultiWriterTest, NoOpsAndChecksAreDecidedAgainstTheStoresHead) {
  MemoryEventStore memory;
  Projection ours, theirs;
  // Our follower never polls: only the committer's catch-up to the store's
  // head can make our node see the other node's write.
  Follower follower(&memory, &ours, {std::chrono::hours(1), std::chrono::hours(1),
                                     std::chrono::milliseconds(50)});
  CommandService service(&memory, &ours, &follower);
  CommandService other(&memory, &theirs);
  ASSERT_TRUE(other.Execute(Set("a", "1")).status.ok());
  // A pure check commits nothing, so the store cannot check it: against a
  // stale read model (a at version 0) it would pass.
  Command check = Transaction{{CheckKey{"a", 0}}, {}};
  CommandResult checked = service.Execute(check);
  EXPECT_EQ(checked.status.code(), Code::kConflict) << checked.status.ToString();
  // Setting the value the other node set is a no-op at the store's head.
  ASSERT_TRUE(other.Execute(Set("b", "7")).status.ok());
  CommandResult same = service.Execute(Set("b", "7"));
  ASSERT_TRUE(same.status.ok()) << same.status.ToString();
  EXPECT_FALSE(same.changed);
  EXPECT_EQ(same.revision, 2);
  ASSERT_EQ(same.results.size(), 1u);
  EXPECT_EQ(same.results[0].version, 1);
  service.Stop();
  follower.Stop();
}

// On a store only this service writes, the committer decides the next batch
// while the last one is still being applied (pipelined). Under contention on
// three keys, every acknowledged write must be its key's next version, a
// check must see every write acknowledged before it, reverts read a whole
// prefix, and the log must verify.
TEST(CommandServicePipelineTest, ConcurrentWritersChecksAndRevertsStayConsistent) {
  MemoryEventStore memory;
  FaultyEventStore store(&memory);
  store.SetSoleWriter();
  Projection projection;
  Follower follower(&store, &projection);
  ASSERT_TRUE(follower.CatchUp().ok());
  CommandService service(&store, &projection, &follower);

  constexpr int kThreads = 6, kWrites = 150;
  std::mutex mu;
  std::map<std::string, std::set<int64_t>> acked;  // key -> versions acknowledged
  std::atomic<int> failed_checks{0}, revert_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        const std::string key = "p/k" + std::to_string((t + i) % 3);
        KeyState seen = projection.State(key);
        CommandResult r = service.Execute(
            Set(key, std::to_string(t * 1000 + i), seen.exists ? std::optional(seen.version)
                                                               : std::nullopt));
        if (!r.status.ok()) continue;  // someone else wrote it first
        const int64_t version = r.results.at(0).version;
        {
          std::lock_guard<std::mutex> lock(mu);
          EXPECT_TRUE(acked[key].insert(version).second) << key << " v" << version << " twice";
        }
        // Acknowledged: a check against an older version must fail.
        CommandResult stale = service.Execute(
            Transaction{{CheckKey{key, version - 1}}, {}});
        if (stale.status.ok()) ++failed_checks;
        if (t == 0 && i % 25 == 0) {
          CommandResult rv = service.Execute(RevertTo{std::max<int64_t>(1, r.revision - 5), "p/", {}});
          if (!rv.status.ok()) ++revert_failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed_checks.load(), 0) << "a check passed on a version already superseded";
  // Decisions read batches still in flight, so the store never refuses one.
  EXPECT_EQ(service.stats().store_conflicts, 0);
  EXPECT_EQ(revert_failures.load(), 0);
  for (const auto& [key, versions] : acked) {
    // Versions of a key are acknowledged at most once; the head is at least
    // the highest acknowledged.
    EXPECT_GE(projection.State(key).version, *versions.rbegin()) << key;
  }
  VerifyReport report;
  Status s = VerifyStore(store, &report);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(report.commits, projection.head());
  EXPECT_EQ(report.head_hash, projection.Stats().head_hash);
}

}  // namespace
}  // namespace chronoconf
