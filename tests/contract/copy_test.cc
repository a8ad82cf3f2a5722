// `chronoconf copy` across stores: SQLite -> PostgreSQL -> SQLite keeps every
// commit and the head hash exactly.
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "app/copy.h"
#include "event_store_contract.h"
#include "store/pg_connection.h"

namespace chronoconf {
namespace {

class CopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("cc-copy-{}", getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!db_.empty()) {
      pg::Connection admin(base_);
      if (Status s = admin.Ensure(); s.ok()) {
        auto r = admin.Exec("drop", fmt::format("DROP DATABASE {} WITH (FORCE)", db_).c_str());
        EXPECT_TRUE(r) << r.status().ToString();
      }
    }
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<EventStore> Open(const std::string& url) {
    auto s = OpenEventStore(url, &clock_);
    EXPECT_TRUE(s) << url << ": " << s.status().ToString();
    return s ? std::move(*s) : nullptr;
  }
  // A fresh PostgreSQL database, or "" (and the test is skipped or failed).
  std::string PostgresUrl() {
    const char* base = std::getenv("CHRONOCONF_TEST_PG_URL");
    if (base == nullptr || *base == '\0') return "";
    base_ = base;
    pg::Connection admin(base_);
    if (!admin.Ensure().ok()) return "";
    db_ = fmt::format("cc_copy_{}", getpid());
    if (!admin.Exec("create", fmt::format("CREATE DATABASE {}", db_).c_str())) return "";
    std::string url = base_.substr(0, base_.rfind('/') + 1) + db_;
    return url;
  }

  ManualClock clock_{1'700'000'000'000'000};
  std::filesystem::path dir_;
  std::string base_, db_;
};

void Fill(EventStore& store, ManualClock& clock) {
  for (int i = 1; i <= 2500; ++i) {  // more than one page of the copy
    CommitData c;
    c.meta.actor = i % 2 ? "alice" : "bob";
    if (i % 3 == 0) c.meta.reason = fmt::format("reason \"{}\"", i);
    if (i % 5 == 0) c.meta.request_id = fmt::format("req-{}", i);
    std::optional<std::string> prev;
    if (i > 1) prev = std::to_string(i - 1);
    c.events = {Event{EventType::kConfigSet, "k", i, std::to_string(i), prev}};
    if (i % 7 == 0) c.events.push_back(Event{EventType::kConfigSet, fmt::format("x/{}", i), 1,
                                              R"({"a":1.50})", std::nullopt});
    ASSERT_TRUE(store.Append({c}));
    clock.Advance(i % 4 == 0 ? 0 : 17);
  }
}

TEST_F(CopyTest, SqliteToPostgresAndBackKeepsEveryCommit) {
  std::string pg_url = PostgresUrl();
  CHRONOCONF_REQUIRE(pg_url.empty() ? "no PostgreSQL: set CHRONOCONF_TEST_PG_URL "
                                      "(scripts/pg-test-cluster.sh)"
                                    : "");
  auto sqlite = Open("sqlite:" + (dir_ / "a.db").string());
  ASSERT_NE(sqlite, nullptr);
  Fill(*sqlite, clock_);
  auto pg = Open(pg_url);
  auto back = Open("sqlite:" + (dir_ / "b.db").string());
  ASSERT_NE(pg, nullptr);
  ASSERT_NE(back, nullptr);

  CopyReport there, home;
  int64_t calls = 0;
  Status s = CopyStore(*sqlite, *pg, &there, [&](int64_t, int64_t) { ++calls; });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(there.commits, 2500);
  EXPECT_EQ(calls, 3);
  s = CopyStore(*pg, *back, &home);
  ASSERT_TRUE(s.ok()) << s.ToString();

  auto a = sqlite->ReadForward(0, 10'000);
  auto b = pg->ReadForward(0, 10'000);
  auto c = back->ReadForward(0, 10'000);
  ASSERT_TRUE(a && b && c);
  ASSERT_EQ(a->size(), b->size());
  ASSERT_EQ(a->size(), c->size());
  for (size_t i = 0; i < a->size(); ++i) {
    ExpectSameCommit((*a)[i], (*b)[i]);
    ExpectSameCommit((*a)[i], (*c)[i]);
  }
  EXPECT_EQ(pg->ReadHead()->hash, sqlite->ReadHead()->hash);
  EXPECT_EQ(back->ReadHead()->hash, sqlite->ReadHead()->hash);
  EXPECT_EQ(home.head_hash, there.head_hash);
}

// Issue 13 item 12: an interrupted copy leaves a partial target (which
// PostgreSQL's triggers keep from being deleted); copying again resumes.
TEST_F(CopyTest, ResumesIntoATargetThatHoldsAPrefixOfTheSource) {
  auto from = Open("sqlite:" + (dir_ / "from.db").string());
  auto to = Open("sqlite:" + (dir_ / "to.db").string());
  ASSERT_NE(from, nullptr);
  ASSERT_NE(to, nullptr);
  Fill(*from, clock_);
  auto prefix = from->ReadForward(0, 1200);  // as if the copy stopped there
  ASSERT_TRUE(prefix);
  ASSERT_TRUE(to->AppendRecorded(*prefix).ok());
  CopyReport report;
  Status s = CopyStore(*from, *to, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(report.resumed_after, 1200);
  EXPECT_EQ(report.commits, 1300);
  EXPECT_EQ(to->ReadHead()->hash, from->ReadHead()->hash);
  // Again, with nothing left to copy: a no-op, not an error.
  s = CopyStore(*from, *to, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(report.commits, 0);
  EXPECT_EQ(report.head_hash, from->ReadHead()->hash);
}

TEST_F(CopyTest, RefusesATargetThatIsNotAPrefixOfTheSource) {
  MemoryEventStore from(&clock_), to(&clock_);
  CommitData c;
  c.events = {Event{EventType::kConfigSet, "a", 1, "1", std::nullopt}};
  ASSERT_TRUE(from.Append({c}));
  c.events[0].value = "2";  // another history
  ASSERT_TRUE(to.Append({c}));
  CopyReport report;
  Status s = CopyStore(from, to, &report);
  EXPECT_EQ(s.code(), Code::kInvalidRequest);
  EXPECT_NE(s.message().find("not a prefix"), std::string::npos) << s.ToString();
  EXPECT_EQ(to.ReadHead()->revision, 1);
  // A target ahead of the source is no prefix either.
  CommitData d;
  d.events = {Event{EventType::kConfigSet, "b", 1, "1", std::nullopt}};
  ASSERT_TRUE(to.Append({d}));
  MemoryEventStore empty(&clock_);
  s = CopyStore(empty, to, &report);
  EXPECT_EQ(s.code(), Code::kInvalidRequest) << s.ToString();
  EXPECT_EQ(to.ReadHead()->revision, 2);
}

}  // namespace
}  // namespace chronoconf
