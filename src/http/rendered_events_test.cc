#include "http/rendered_events.h"

#include <gtest/gtest.h>

#include "http/render.h"

namespace chronoconf::http {
namespace {

CommitPtr Commit(int64_t revision, int events) {
  auto c = std::make_shared<RecordedCommit>();
  c->revision = revision;
  c->timestamp_us = 1'700'000'000'000'000 + revision;
  c->meta.actor = "alice";
  for (int i = 0; i < events; ++i) {
    c->events.push_back({EventType::kConfigSet, "app/k" + std::to_string(i), revision,
                         "\"" + std::string(100, 'x') + "\"", std::nullopt});
  }
  return c;
}

TEST(RenderedEventsTest, RendersEachEventOnceAndAsRenderEventDoes) {
  RenderedEvents cache;
  CommitPtr c = Commit(7, 3);
  const std::string* first = &cache.Event(c, 1);
  EXPECT_EQ(*first, RenderEvent(*c, 1));
  EXPECT_EQ(&cache.Event(c, 1), first);  // the same text, not a new render
  EXPECT_EQ(cache.Event(c, 2), RenderEvent(*c, 2));
  EXPECT_EQ(cache.commits_kept(), 1u);
}

TEST(RenderedEventsTest, KeepsCommitsInRevisionOrderWhateverOrderTheyAreAskedIn) {
  RenderedEvents cache;
  CommitPtr c5 = Commit(5, 1), c9 = Commit(9, 1), c7 = Commit(7, 1);
  cache.Event(c5, 0);
  cache.Event(c9, 0);
  EXPECT_EQ(cache.Event(c7, 0), RenderEvent(*c7, 0));  // between two kept ones
  EXPECT_EQ(cache.commits_kept(), 3u);
  const std::string* seven = &cache.Event(c7, 0);
  EXPECT_EQ(&cache.Event(c7, 0), seven);
}

TEST(RenderedEventsTest, DropsTheOldestPastItsBytesAndRendersOlderCommitsWithoutKeepingThem) {
  RenderedEvents cache(1000);  // room for a few ~200-byte events
  std::vector<CommitPtr> commits;
  for (int r = 1; r <= 20; ++r) {
    commits.push_back(Commit(r, 1));
    EXPECT_EQ(cache.Event(commits.back(), 0), RenderEvent(*commits.back(), 0));
  }
  EXPECT_LT(cache.commits_kept(), 10u);
  EXPECT_GE(cache.commits_kept(), 1u);
  const size_t kept = cache.commits_kept();
  // A watcher far behind still gets the right text; nothing old is kept.
  EXPECT_EQ(cache.Event(commits[0], 0), RenderEvent(*commits[0], 0));
  EXPECT_EQ(cache.commits_kept(), kept);
}

}  // namespace
}  // namespace chronoconf::http
