// Linearizable reads: the read model catches up with the store's head,
// learned after the read arrived, before the read is served.
#include "app/read_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "app/command_service.h"
#include "common/eventually.h"
#include "store/faulty_event_store.h"
#include "store/memory_event_store.h"

namespace chronoconf {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

Command Set(const std::string& key, const std::string& value) {
  return Transaction{{SetKey{key, value, std::nullopt, false}}, {}};
}

// Waits for one answer of `index`.
std::pair<Status, int64_t> Ask(ReadIndex* index) {
  std::promise<std::pair<Status, int64_t>> answer;
  index->Request([&](Status s, int64_t r) { answer.set_value({std::move(s), r}); });
  return answer.get_future().get();
}

TEST(ReadIndexTest, SeesAWriteAnotherNodeAcknowledgedBeforeTheRead) {
  MemoryEventStore store;  // shared: other writers may append
  Projection ours;
  // Our follower never polls: only the read index can bring the write in.
  Follower follower(&store, &ours, {hours(1), hours(1), milliseconds(50)});
  ReadIndex index(&ours, &follower);
  Projection theirs;
  CommandService other(&store, &theirs);
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(other.Execute(Set("a", std::to_string(i))).status.ok());
    auto [status, revision] = Ask(&index);
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(revision, i);
    EXPECT_EQ(ours.State("a").value, std::to_string(i));
  }
}

TEST(ReadIndexTest, ConcurrentReadsShareHeadReadsAndAllSeeTheirWrites) {
  MemoryEventStore store;
  Projection ours;
  Follower follower(&store, &ours, {hours(1), hours(1), milliseconds(50)});
  ReadIndex index(&ours, &follower);
  Projection theirs;
  CommandService other(&store, &theirs);
  std::atomic<int> stale{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const int64_t acknowledged = theirs.head();
        auto [status, revision] = Ask(&index);
        if (!status.ok() || revision < acknowledged || ours.head() < acknowledged) ++stale;
      }
    });
  }
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(other.Execute(Set("k", std::to_string(i))).status.ok());
  for (auto& t : readers) t.join();
  EXPECT_EQ(stale.load(), 0);
}

TEST(ReadIndexTest, AStoreThatCannotBeReadFailsTheReadInsteadOfServingItStale) {
  MemoryEventStore memory;
  FaultyEventStore store(&memory);
  Projection ours;
  Follower follower(&store, &ours, {hours(1), hours(1), milliseconds(50)});
  ReadIndex index(&ours, &follower);
  store.FailNext(1, /*reads_too=*/true);
  auto [status, revision] = Ask(&index);
  EXPECT_EQ(status.code(), Code::kUnavailable) << status.ToString();
  auto [again, at] = Ask(&index);  // the store answers again
  EXPECT_TRUE(again.ok()) << again.ToString();
}

TEST(ReadIndexTest, OnASoleWriterStoreItAnswersAtOnceFromTheReadModel) {
  MemoryEventStore memory;
  FaultyEventStore store(&memory);
  store.SetSoleWriter();
  Projection projection;
  Follower follower(&store, &projection);
  ASSERT_TRUE(follower.CatchUp().ok());
  CommandService service(&store, &projection, &follower);
  ReadIndex index(&projection, &follower);
  ASSERT_TRUE(service.Execute(Set("a", "1")).status.ok());
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id answered_on;
  int64_t at = -1;
  index.Request([&](Status s, int64_t r) {
    EXPECT_TRUE(s.ok());
    answered_on = std::this_thread::get_id();
    at = r;
  });
  EXPECT_EQ(answered_on, caller);  // no round trip, no hand-off
  EXPECT_EQ(at, 1);
  service.Stop();
}

TEST(ReadIndexTest, StopAnswersEveryLaterRequestUnavailable) {
  MemoryEventStore store;
  Projection ours;
  Follower follower(&store, &ours, {hours(1), hours(1), milliseconds(50)});
  ReadIndex index(&ours, &follower);
  index.Stop();
  index.Stop();  // idempotent
  auto [status, revision] = Ask(&index);
  EXPECT_EQ(status.code(), Code::kUnavailable);
}

// SIGTERM: a linearizable read whose head read hangs on the store is
// answered 503 when the shutdown begins, not when the follower's deadline
// ends (about when the drain gives up on its connection).
TEST(ReadIndexTest, AReadInFlightIsAnsweredWhenTheShutdownBegins) {
  MemoryEventStore memory;
  FaultyEventStore store(&memory);
  Projection ours;
  Follower follower(&store, &ours, {hours(1), hours(1), milliseconds(50)});
  ReadIndex index(&ours, &follower);
  store.HoldReads();
  std::promise<Status> answer;
  index.Request([&](Status s, int64_t) { answer.set_value(std::move(s)); });
  auto answered = answer.get_future();
  ASSERT_TRUE(Eventually([&] { return store.HeldReads() == 1; }));  // the head read hangs
  EXPECT_EQ(answered.wait_for(milliseconds(100)), std::future_status::timeout);
  const auto start = std::chrono::steady_clock::now();
  index.BeginShutdown();
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  Status s = answered.get();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "the server is shutting down");
  auto [later, at] = Ask(&index);  // later ones at once
  EXPECT_EQ(later.code(), Code::kUnavailable);
  store.Release();  // the head read ends; its batch answers nobody twice
  index.Stop();
}

}  // namespace
}  // namespace chronoconf
