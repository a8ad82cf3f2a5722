// The follower: the one path from the store into the read model.
#include "app/follower.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include "app/command_service.h"
#include "common/eventually.h"
#include "store/faulty_event_store.h"
#include "store/memory_event_store.h"

namespace chronoconf {
namespace {

using std::chrono::milliseconds;

Command Set(const std::string& key, const std::string& value) {
  return Transaction{{SetKey{key, value, std::nullopt, false}}, {}};
}

TEST(FollowerTest, PollsInCommitsAnotherWriterMade) {
  MemoryEventStore store;
  Projection ours;
  Follower follower(&store, &ours, {milliseconds(20), milliseconds(10), milliseconds(50)});
  // Another node: its own read model and committer on the same store.
  Projection theirs;
  CommandService other(&store, &theirs);
  ASSERT_TRUE(other.Execute(Set("a", "1")).status.ok());
  ASSERT_TRUE(other.Execute(Set("b", "2")).status.ok());
  // Nobody tells our follower (a memory store sends no notifications): the
  // poll finds both, in order.
  EXPECT_TRUE(Eventually([&] { return ours.head() == 2; }));
  EXPECT_EQ(ours.State("b").value, "2");
  EXPECT_EQ(ours.Stats().head_hash, theirs.Stats().head_hash);
  EXPECT_EQ(follower.lag(), 0);
}

TEST(FollowerTest, AwaitRevisionWakesTheApplier) {
  MemoryEventStore store;
  Projection ours;
  // A poll so slow that only the wake-up can make the test pass in time.
  Follower follower(&store, &ours, {std::chrono::hours(1), std::chrono::hours(1),
                                    milliseconds(50)});
  Projection theirs;
  CommandService other(&store, &theirs);
  ASSERT_TRUE(other.Execute(Set("a", "1")).status.ok());
  ASSERT_TRUE(follower.AwaitRevision(1).ok());
  EXPECT_EQ(ours.head(), 1);
  ASSERT_TRUE(other.Execute(Set("a", "2")).status.ok());
  ASSERT_TRUE(follower.SyncWithStore().ok());
  EXPECT_EQ(ours.State("a").value, "2");
}

// A handed batch whose first revision is not the next one (another node
// committed in between) is applied after the gap is read from the store,
// then answered.
TEST(FollowerTest, AHandedBatchAfterAGapReadsTheGapFirst) {
  MemoryEventStore store;
  Projection ours;
  // No poll in time: only the handed batch can bring the commits in.
  Follower follower(&store, &ours, {std::chrono::hours(1), std::chrono::hours(1),
                                    milliseconds(50)});
  Projection theirs;
  CommandService other(&store, &theirs);
  ASSERT_TRUE(other.Execute(Set("a", "1")).status.ok());
  ASSERT_TRUE(other.Execute(Set("b", "2")).status.ok());
  auto second = store.ReadForward(1, 10);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  std::promise<std::pair<Status, int64_t>> answered;
  follower.ApplyInOrder(std::move(*second), [&](Status s) {
    answered.set_value({std::move(s), ours.head()});
  });
  auto [status, head] = answered.get_future().get();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(head, 2);
  EXPECT_EQ(ours.State("a").value, "1");
}

// Fan-out stays off the write path: a handed batch is answered before the
// change feed wakes the watchers, so a write's acknowledgement is queued on
// its event loop ahead of the wake-ups of every watcher there.
TEST(FollowerTest, AHandedBatchIsAnsweredBeforeTheFeedWakesWatchers) {
  MemoryEventStore store;
  Projection projection;
  CommandService commands(&store, &projection);
  Mutex mu;
  std::vector<std::string> order;
  const uint64_t id = projection.feed().Subscribe([&](int64_t head) {
    MutexLock lock(&mu);
    order.push_back("published " + std::to_string(head));
  });
  for (int i = 1; i <= 3; ++i) {
    std::promise<void> done;
    commands.Submit(Set("k", std::to_string(i)), [&](CommandResult r) {
      {
        MutexLock lock(&mu);
        order.push_back("answered " + std::to_string(r.revision));
      }
      done.set_value();
    });
    done.get_future().wait();
    ASSERT_TRUE(Eventually([&] {
      MutexLock lock(&mu);
      return order.size() == static_cast<size_t>(2 * i);
    }));
  }
  projection.feed().Unsubscribe(id);
  MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<std::string>{"answered 1", "published 1", "answered 2",
                                             "published 2", "answered 3", "published 3"}));
}

TEST(FollowerTest, ABatchHandedToAStoppedFollowerIsAnsweredUnavailable) {
  MemoryEventStore store;
  Projection ours;
  Follower follower(&store, &ours);
  follower.Stop();
  Status answered = Status::OK();
  follower.ApplyInOrder({}, [&](Status s) { answered = std::move(s); });
  EXPECT_EQ(answered.code(), Code::kUnavailable);
}

TEST(FollowerTest, AWaiterIsReleasedWhenTheFollowerStops) {
  MemoryEventStore store;
  Projection ours;
  Follower follower(&store, &ours);
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(50));
    follower.Stop();
  });
  // Revision 5 never comes.
  EXPECT_EQ(follower.AwaitRevision(5).code(), Code::kUnavailable);
  stopper.join();
}

// Every wait has a deadline: a store that cannot be read after a commit
// (another node's, here) must not hang the waiter (issue 14).
TEST(FollowerTest, AWaitForARevisionTheStoreCannotServeHasADeadline) {
  MemoryEventStore memory;
  FaultyEventStore store(&memory);
  Projection ours, theirs;
  Follower follower(&store, &ours);
  CommandService other(&memory, &theirs);
  ASSERT_TRUE(other.Execute(Set("a", "1")).status.ok());
  store.FailNext(1000000, /*reads_too=*/true);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(follower.AwaitRevision(1, milliseconds(200)).code(), Code::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  store.FailNext(0, true);
  EXPECT_TRUE(follower.AwaitRevision(1, std::chrono::seconds(30)).ok());
  follower.Stop();
}

TEST(FollowerTest, ReportsAFailingStoreAndCatchesUpWhenItIsBack) {
  MemoryEventStore memory;
  FaultyEventStore store(&memory);
  Projection ours;
  Follower follower(&store, &ours, {milliseconds(20), milliseconds(10), milliseconds(50)});
  Projection theirs;
  CommandService other(&memory, &theirs);
  ASSERT_TRUE(other.Execute(Set("a", "1")).status.ok());
  store.FailNext(20, /*reads_too=*/true);  // about 200 ms of failed polls
  EXPECT_TRUE(Eventually([&] { return !follower.store_reachable(); }));
  // The poll goes on at the error interval and finds the commit once reads work.
  EXPECT_TRUE(Eventually([&] { return ours.head() == 1 && follower.store_reachable(); }));
  EXPECT_EQ(ours.State("a").value, "1");
}

TEST(FollowerTest, ReportsLagFromTheStoreHeadItSaw) {
  MemoryEventStore store;
  Projection ours;
  Follower follower(&store, &ours, {std::chrono::hours(1), std::chrono::hours(1),
                                    milliseconds(50)});
  follower.NoteStoreHead(7);
  EXPECT_EQ(follower.lag(), 7);
  follower.NoteStoreHead(3);  // never goes back
  EXPECT_EQ(follower.lag(), 7);
}

}  // namespace
}  // namespace chronoconf
