// The write side without HTTP: group commit, failure isolation, store faults.
#include "app/command_service.h"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

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

}  // namespace
}  // namespace chronoconf
