// WatchSession without a transport: progress notices (etcd's progress
// ticker) and fragments (etcd's sendFragments), over a memory store.
#include "etcd/watch_session.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "app/command_service.h"
#include "etcd/compaction_floor.h"
#include "store/memory_event_store.h"

namespace chronoconf::etcd {
namespace {

namespace pb = ::etcdserverpb;

class WatchSessionTest : public ::testing::Test {
 protected:
  explicit WatchSessionTest(int max_request_bytes = 1536 * 1024 + 512 * 1024)
      : commands_(&store_, &projection_),
        context_(&projection_, &commands_, Options(max_request_bytes, &floor_)),
        session_(&context_, CallMetadata{}) {}

  static EtcdOptions Options(int max_request_bytes, CompactionFloor* floor) {
    EtcdOptions options;
    options.max_request_bytes = max_request_bytes;
    options.floor = floor;
    return options;
  }

  void Put(const std::string& key, const std::string& text) {
    // A JSON string: etcd reads back its text.
    Command c = Transaction{{SetKey{key, "\"" + text + "\"", std::nullopt, false, true}}, {}};
    ASSERT_TRUE(commands_.Execute(std::move(c)).status.ok());
  }

  // Creates a watch on `key` (and `range_end`) and takes its "created".
  int64_t Watch(const std::string& key, const std::string& range_end, bool progress_notify,
                bool fragment, int64_t start_revision = 0) {
    pb::WatchRequest req;
    pb::WatchCreateRequest* create = req.mutable_create_request();
    create->set_key(key);
    create->set_range_end(range_end);
    create->set_progress_notify(progress_notify);
    create->set_fragment(fragment);
    create->set_start_revision(start_revision);
    session_.Handle(req);
    pb::WatchResponse created;
    EXPECT_EQ(Pop(&created), WatchSession::Next::kResponse);
    EXPECT_TRUE(created.created());
    return created.watch_id();
  }

  WatchSession::Next Pop(pb::WatchResponse* out) {
    grpc::Status end;
    return session_.Pop(out, &end);
  }

  MemoryEventStore store_;
  Projection projection_;
  CommandService commands_;
  CompactionFloor floor_{&store_, /*ignore=*/false};
  EtcdContext context_;
  WatchSession session_;
};

TEST_F(WatchSessionTest, ATickTellsAnIdleWatchWithProgressNotifyTheHead) {
  Put("x", "1");
  const int64_t asked = Watch("a", "", /*progress_notify=*/true, false);
  Watch("b", "", /*progress_notify=*/false, false);
  session_.Tick();
  pb::WatchResponse r;
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_EQ(r.watch_id(), asked);
  EXPECT_EQ(r.events_size(), 0);
  EXPECT_FALSE(r.created());
  EXPECT_EQ(r.header().revision(), projection_.head());
  EXPECT_EQ(Pop(&r), WatchSession::Next::kNothing);  // nothing for "b"

  // As etcd: events since the last tick elide the next notice, not the one after.
  Put("a", "2");
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_EQ(r.events_size(), 1);
  session_.Tick();
  EXPECT_EQ(Pop(&r), WatchSession::Next::kNothing);
  session_.Tick();
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_EQ(r.events_size(), 0);
  EXPECT_EQ(r.header().revision(), projection_.head());
}

TEST_F(WatchSessionTest, AWatchWithEventsLeftToSendGetsNoNotice) {
  const int64_t id = Watch("a", "", /*progress_notify=*/true, false);
  Put("a", "1");  // not popped yet: the watch is behind the head
  session_.Tick();
  pb::WatchResponse r;
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_EQ(r.watch_id(), id);
  EXPECT_EQ(r.events_size(), 1);
  EXPECT_EQ(Pop(&r), WatchSession::Next::kNothing);
}

TEST_F(WatchSessionTest, ACompactedWatchKeepsItsIdUntilCancelledAsEtcdDoes) {
  Put("a", "1");
  Put("a", "2");
  ASSERT_TRUE(context_.Compact(2).ok());
  auto create = [&](int64_t id, int64_t start) {
    pb::WatchRequest req;
    req.mutable_create_request()->set_key("a");
    req.mutable_create_request()->set_watch_id(id);
    req.mutable_create_request()->set_start_revision(start);
    session_.Handle(req);
  };
  auto cancel = [&](int64_t id) {
    pb::WatchRequest req;
    req.mutable_cancel_request()->set_watch_id(id);
    session_.Handle(req);
  };
  pb::WatchResponse r;
  create(30, 1);
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_TRUE(r.created());
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_TRUE(r.canceled());
  EXPECT_EQ(r.compact_revision(), 2);
  Put("a", "3");
  EXPECT_EQ(Pop(&r), WatchSession::Next::kNothing);  // it sends nothing more

  create(30, 0);  // the id is still taken
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_EQ(r.watch_id(), -1);
  EXPECT_EQ(r.cancel_reason(), "mvcc: duplicate watch ID provided on the WatchStream");

  cancel(30);  // answered, as etcd's watchStream.Cancel of a compacted watcher
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_EQ(r.watch_id(), 30);
  EXPECT_TRUE(r.canceled());
  cancel(30);  // now unknown: no answer
  EXPECT_EQ(Pop(&r), WatchSession::Next::kNothing);

  create(30, 0);  // and free again
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  EXPECT_TRUE(r.created());
  EXPECT_EQ(r.watch_id(), 30);
}

// A request limit of 4 KiB, so that a few values of 1 kB make a big response.
class WatchFragmentTest : public WatchSessionTest {
 protected:
  WatchFragmentTest() : WatchSessionTest(4096) {}
};

TEST_F(WatchFragmentTest, ABigResponseComesInFragmentsUnderTheLimitTheLastUnflagged) {
  for (int i = 0; i < 10; ++i) Put("big/" + std::to_string(i), std::string(1000, 'v'));
  Watch("big/", "big0", false, /*fragment=*/true, /*start_revision=*/1);
  std::vector<pb::WatchResponse> got;
  pb::WatchResponse r;
  while (Pop(&r) == WatchSession::Next::kResponse) got.push_back(r);
  ASSERT_GE(got.size(), 3u);
  std::string keys;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].fragment(), i + 1 < got.size()) << i;
    EXPECT_LT(got[i].ByteSizeLong(), 4096u) << i;
    for (const auto& e : got[i].events()) keys += e.kv().key() + " ";
  }
  EXPECT_EQ(keys, "big/0 big/1 big/2 big/3 big/4 big/5 big/6 big/7 big/8 big/9 ");
}

TEST_F(WatchFragmentTest, WithoutFragmentTheResponseIsWholeAndOneEventIsNeverSplit) {
  for (int i = 0; i < 10; ++i) Put("big/" + std::to_string(i), std::string(1000, 'v'));
  Put("huge", std::string(8000, 'h'));
  const int64_t whole = Watch("big/", "big0", false, /*fragment=*/false, /*start_revision=*/1);
  const int64_t huge = Watch("huge", "", false, /*fragment=*/true, /*start_revision=*/1);
  std::map<int64_t, std::vector<int>> events;  // watch id -> events of each response
  pb::WatchResponse r;
  while (Pop(&r) == WatchSession::Next::kResponse) {
    EXPECT_FALSE(r.fragment());
    events[r.watch_id()].push_back(r.events_size());
  }
  EXPECT_EQ(events[whole], std::vector<int>{10});
  EXPECT_EQ(events[huge], std::vector<int>{1});
}

// A watch of a quiet key from long ago scans the log in bounded steps: each
// Pop says it is behind until the scan reaches the key's event, so one
// catch-up never holds the thread every stream shares (SPEC §6).
// A quiet key watched from long ago: the key index skips the commits that
// do not touch it, so the catch-up is one step, whatever the log's length.
TEST_F(WatchSessionTest, ACatchUpOfAQuietKeySkipsTheLogItPassesOver) {
  for (int i = 0; i < 10'000; ++i) Put("busy/" + std::to_string(i), "1");
  Put("quiet", "at last");
  Watch("quiet", "", false, false, /*start_revision=*/1);
  pb::WatchResponse r;
  ASSERT_EQ(Pop(&r), WatchSession::Next::kResponse);
  ASSERT_EQ(r.events_size(), 1);
  EXPECT_EQ(r.events(0).kv().key(), "quiet");
  EXPECT_EQ(Pop(&r), WatchSession::Next::kNothing);
}

// A range of more keys than the index is asked about reads the commits,
// and then in bounded steps, so one catch-up does not hold the thread.
TEST_F(WatchSessionTest, ACatchUpOfAWideRangeOverALongQuietLogGoesInBoundedSteps) {
  for (int i = 0; i < static_cast<int>(Projection::kQuietKeys) + 1; ++i) {
    Put("wide/" + std::to_string(i), "1");
  }
  const int64_t start = projection_.head() + 1;
  for (int i = 0; i < 10'000; ++i) Put("busy/" + std::to_string(i), "1");
  Put("wide/0", "at last");
  Watch("wide/", "wide0", false, false, start);
  pb::WatchResponse r;
  int behind = 0;
  WatchSession::Next next;
  while ((next = Pop(&r)) == WatchSession::Next::kBehind) ++behind;
  ASSERT_EQ(next, WatchSession::Next::kResponse);
  EXPECT_GE(behind, 2) << "10,000 quiet commits took one Pop";
  ASSERT_EQ(r.events_size(), 1);
  EXPECT_EQ(r.events(0).kv().key(), "wide/0");
  EXPECT_EQ(Pop(&r), WatchSession::Next::kNothing);
}

}  // namespace
}  // namespace chronoconf::etcd
