// The compact read model gives back exactly what was applied, and a snapshot
// of it loads into the same read model; a damaged file is refused whole.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/sha256.h"
#include "projection/projection.h"
#include "store/commit_hash.h"

namespace chronoconf {
namespace {

// The store's snapshot key, as EventStore::SnapshotKey gives it.
const std::string kKey(32, 'k');

// A history with sets, deletes, a key created again, a commit of several
// events, reasons, request ids and several actors; hashes chained for real.
std::vector<RecordedCommit> History() {
  std::vector<RecordedCommit> out;
  std::map<std::string, std::optional<std::string>> value;
  std::map<std::string, int64_t> version;
  auto commit = [&](std::vector<std::pair<std::string, std::optional<std::string>>> changes,
                    std::string actor, std::optional<std::string> reason,
                    std::optional<std::string> request_id) {
    RecordedCommit c;
    c.revision = static_cast<int64_t>(out.size()) + 1;
    c.timestamp_us = 1'700'000'000'000'000 + c.revision * 1500;
    c.meta = {std::move(actor), std::move(reason), std::move(request_id)};
    for (auto& [key, v] : changes) {
      Event e;
      e.type = v ? EventType::kConfigSet : EventType::kConfigDeleted;
      e.key = key;
      e.version = ++version[key];
      e.value = v;
      e.previous_value = value[key];
      value[key] = v;
      c.events.push_back(std::move(e));
    }
    c.prev_hash = out.empty() ? kZeroHash : out.back().hash;
    c.hash = ComputeCommitHash(c);
    out.push_back(std::move(c));
  };
  commit({{"app/a", R"({"x":1})"}}, "alice", "first", "req-1");
  commit({{"app/b", "[1,2,3]"}, {"app/c", "\"caf\u00e9\""}}, "bob", std::nullopt, std::nullopt);
  commit({{"app/a", R"({"x":2})"}}, "alice", "", "req-3");
  commit({{"app/b", std::nullopt}}, "carol", "gone", std::nullopt);
  commit({{"app/b", "null"}, {"other/z", "true"}}, "alice", std::nullopt, "req-5");
  for (int i = 0; i < 40; ++i) {
    commit({{"app/n" + std::to_string(i % 7), std::to_string(i)}}, "bot", std::nullopt,
           std::nullopt);
  }
  commit({{"app/a", std::nullopt}}, "alice", std::nullopt, std::nullopt);
  return out;
}

Projection* Build(Projection* p, const std::vector<RecordedCommit>& commits) {
  for (const RecordedCommit& c : commits) EXPECT_TRUE(p->Apply(c).ok());
  return p;
}

void ExpectSameCommit(const RecordedCommit& a, const RecordedCommit& b) {
  EXPECT_EQ(a.revision, b.revision);
  EXPECT_EQ(a.timestamp_us, b.timestamp_us);
  EXPECT_EQ(a.meta.actor, b.meta.actor);
  EXPECT_EQ(a.meta.reason, b.meta.reason);
  EXPECT_EQ(a.meta.request_id, b.meta.request_id);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.prev_hash, b.prev_hash);
  EXPECT_EQ(a.hash, b.hash);
}

// Every question the API asks, at every revision.
void ExpectSameAnswers(const Projection& p, const Projection& q,
                       const std::vector<RecordedCommit>& history) {
  EXPECT_EQ(p.head(), q.head());
  EXPECT_EQ(p.Stats().head_hash, q.Stats().head_hash);
  EXPECT_EQ(p.Stats().keys, q.Stats().keys);
  EXPECT_EQ(p.Stats().events, q.Stats().events);
  for (int64_t rev = 0; rev <= p.head(); ++rev) {
    ListPage a = p.List("", rev, "", 1000), b = q.List("", rev, "", 1000);
    ASSERT_EQ(a.entries.size(), b.entries.size()) << rev;
    for (size_t i = 0; i < a.entries.size(); ++i) EXPECT_EQ(*a.entries[i], *b.entries[i]) << rev;
  }
  for (const RecordedCommit& c : history) {
    ExpectSameCommit(*p.Commit(c.revision), *q.Commit(c.revision));
    for (const Event& e : c.events) {
      auto ha = p.History(e.key, INT64_MAX, 1000), hb = q.History(e.key, INT64_MAX, 1000);
      ASSERT_TRUE(ha.ok() && hb.ok());
      ASSERT_EQ(ha->size(), hb->size());
      for (size_t i = 0; i < ha->size(); ++i) EXPECT_EQ((*ha)[i].event(), (*hb)[i].event());
    }
  }
}

TEST(CompactProjectionTest, GivesBackEveryCommitAsApplied) {
  auto history = History();
  Projection p;
  Build(&p, history);
  for (const RecordedCommit& c : history) ExpectSameCommit(*p.Commit(c.revision), c);
  auto all = p.Commits(0, 10000);
  ASSERT_EQ(all.size(), history.size());
  for (size_t i = 0; i < all.size(); ++i) ExpectSameCommit(*all[i], history[i]);
}

TEST(CompactProjectionTest, OneBatchAndOneCommitAtATimeGiveTheSameReadModel) {
  auto history = History();
  Projection one_by_one, batched;
  Build(&one_by_one, history);
  ASSERT_TRUE(batched.Apply(std::vector<RecordedCommit>(history)).ok());
  EXPECT_EQ(one_by_one.SerializeSnapshot(kKey), batched.SerializeSnapshot(kKey));
  ExpectSameAnswers(one_by_one, batched, history);
  // The head entry rendered for the batch equals one rendered on its own.
  auto a = one_by_one.Get("app/n3"), b = batched.Get("app/n3");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a->entry, *b->entry);
  EXPECT_EQ(a->value(), b->value());
}

TEST(CompactProjectionTest, BulkLoadingGivesTheSameAnswersAndEntries) {
  auto history = History();
  Projection normal, bulk;
  Build(&normal, history);
  bulk.SetBulkLoading(true);
  for (size_t i = 0; i < history.size(); i += 7) {
    std::vector<RecordedCommit> page(history.begin() + static_cast<long>(i),
                                     history.begin() + static_cast<long>(std::min(i + 7, history.size())));
    ASSERT_TRUE(bulk.Apply(std::move(page)).ok());
    // Asked meanwhile, an entry is rendered on demand, and right.
    auto a = normal.Get("app/a", bulk.head()), b = bulk.Get("app/a");
    ASSERT_EQ(a.ok(), b.ok());
    if (a.ok()) {
      EXPECT_EQ(*a->entry, *b->entry);
    }
  }
  bulk.SetBulkLoading(false);
  EXPECT_EQ(normal.SerializeSnapshot(kKey), bulk.SerializeSnapshot(kKey));
  ExpectSameAnswers(normal, bulk, history);
  for (const char* key : {"app/b", "app/c", "app/n0", "app/n6", "other/z"}) {
    auto a = normal.Get(key), b = bulk.Get(key);
    ASSERT_TRUE(a.ok() && b.ok()) << key;
    EXPECT_EQ(*a->entry, *b->entry) << key;
    EXPECT_EQ(a->value(), b->value()) << key;
  }
}

TEST(CompactProjectionTest, ADeleteShowsTheEntryItRemovedAtEveryRevision) {
  auto history = History();
  Projection p;
  Build(&p, history);
  // app/b: set at 2, deleted at 4, set again (to null) at 5.
  auto at3 = p.Get("app/b", 3);
  ASSERT_TRUE(at3.ok());
  EXPECT_EQ(at3->value(), "[1,2,3]");
  EXPECT_EQ(p.Get("app/b", 4).status().code(), Code::kNotFound);
  auto deleted = p.VersionAt("app/b", 4);
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(deleted->value(), "[1,2,3]");
  auto again = p.Get("app/b");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->value(), "null");
  EXPECT_EQ(again->created_revision, 5);
  EXPECT_EQ(again->version, 3);
}

class SnapshotFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("chronoconf-snapshot-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "read-model.snapshot").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string ReadAll() const {
    std::ifstream in(path_, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  void WriteAll(const std::string& bytes) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }
  static Status Accept(int64_t, const std::string&) { return Status::OK(); }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SnapshotFileTest, LoadsIntoTheSameReadModel) {
  auto history = History();
  Projection p;
  Build(&p, history);
  auto written = p.WriteSnapshot(path_, kKey);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, p.head());
  EXPECT_EQ(ReadAll(), p.SerializeSnapshot(kKey));
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));

  Projection q;
  int64_t checked_revision = 0;
  std::string checked_hash;
  Status s = q.LoadSnapshot(path_, kKey, [&](int64_t revision, const std::string& hash) {
    checked_revision = revision;
    checked_hash = hash;
    return Status::OK();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(checked_revision, history.back().revision);
  EXPECT_EQ(checked_hash, history.back().hash);
  EXPECT_EQ(q.SerializeSnapshot(kKey), p.SerializeSnapshot(kKey));
  ExpectSameAnswers(p, q, history);

  // The loaded model goes on from its head like the original.
  RecordedCommit next;
  next.revision = p.head() + 1;
  next.timestamp_us = history.back().timestamp_us + 1;
  next.events.push_back({EventType::kConfigSet, "app/a", 5, "7", std::nullopt});
  next.prev_hash = history.back().hash;
  next.hash = ComputeCommitHash(next);
  ASSERT_TRUE(p.Apply(next).ok());
  ASSERT_TRUE(q.Apply(next).ok());
  EXPECT_EQ(q.SerializeSnapshot(kKey), p.SerializeSnapshot(kKey));
  EXPECT_EQ(q.Get("app/a")->created_revision, next.revision);
}

TEST_F(SnapshotFileTest, TheHeaderNamesTheRevision) {
  Projection p;
  Build(&p, History());
  const std::string bytes = p.SerializeSnapshot(kKey);
  EXPECT_EQ(Projection::SnapshotRevision(bytes), p.head());
  EXPECT_EQ(Projection::SnapshotRevision(bytes.substr(0, 16)), p.head());
  EXPECT_EQ(Projection::SnapshotRevision(bytes.substr(0, 15)), std::nullopt);
  EXPECT_EQ(Projection::SnapshotRevision(""), std::nullopt);
  EXPECT_EQ(Projection::SnapshotRevision("SQLite format 3\0 and more bytes"), std::nullopt);
}

TEST_F(SnapshotFileTest, AnEmptyReadModelRoundTrips) {
  Projection p;
  ASSERT_EQ(*p.WriteSnapshot(path_, kKey), 0);
  Projection q;
  ASSERT_TRUE(q.LoadSnapshot(path_, kKey, Accept).ok());
  EXPECT_EQ(q.head(), 0);
}

TEST_F(SnapshotFileTest, ATruncatedOrAlteredFileIsRefusedAndLoadsNothing) {
  auto history = History();
  Projection p;
  Build(&p, history);
  ASSERT_TRUE(p.WriteSnapshot(path_, kKey).ok());
  const std::string good = ReadAll();
  std::vector<std::string> damaged = {
      "",
      good.substr(0, 20),
      good.substr(0, good.size() / 2),
      good.substr(0, good.size() - 1),
      good + "x",
  };
  for (size_t at : {size_t{9}, good.size() / 3, good.size() / 2, good.size() - 40}) {
    std::string flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x20);
    damaged.push_back(flipped);
  }
  for (const std::string& bytes : damaged) {
    WriteAll(bytes);
    Projection q;
    bool checked = false;
    Status s = q.LoadSnapshot(path_, kKey, [&](int64_t, const std::string&) {
      checked = true;
      return Status::OK();
    });
    EXPECT_EQ(s.code(), Code::kCorruption) << bytes.size() << ": " << s.ToString();
    EXPECT_FALSE(checked);
    EXPECT_EQ(q.head(), 0);
    EXPECT_EQ(q.Stats().events, 0);
    // Still usable: the events replay from revision 1.
    ASSERT_TRUE(Build(&q, history)->head() == p.head());
    EXPECT_EQ(q.SerializeSnapshot(kKey), p.SerializeSnapshot(kKey));
  }
}

TEST_F(SnapshotFileTest, ACheckThatFailsLoadsNothing) {
  auto history = History();
  Projection p;
  Build(&p, history);
  ASSERT_TRUE(p.WriteSnapshot(path_, kKey).ok());
  Projection q;
  Status s = q.LoadSnapshot(
      path_, kKey, [](int64_t, const std::string&) { return Status::Corruption("another history"); });
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.message(), "another history");
  EXPECT_EQ(q.head(), 0);
  EXPECT_EQ(q.Stats().keys, 0);
}

TEST_F(SnapshotFileTest, NoFileIsNotFoundAndANonEmptyModelRefusesToLoad) {
  Projection q;
  EXPECT_EQ(q.LoadSnapshot(path_, kKey, Accept).code(), Code::kNotFound);
  Projection p;
  Build(&p, History());
  ASSERT_TRUE(p.WriteSnapshot(path_, kKey).ok());
  EXPECT_EQ(p.LoadSnapshot(path_, kKey, Accept).code(), Code::kInvalidRequest);
}

// Issue 13 item 5: whoever can write the file can recompute a digest; only
// the store's key makes a snapshot load.
TEST_F(SnapshotFileTest, OnlyTheStoresKeyMakesASnapshotLoad) {
  auto history = History();
  Projection p;
  Build(&p, history);
  ASSERT_TRUE(p.WriteSnapshot(path_, kKey).ok());
  const std::string good = ReadAll();
  Projection other_key;
  Status s = other_key.LoadSnapshot(path_, std::string(32, 'x'), Accept);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_EQ(other_key.head(), 0);
  // A value changed and the trailer recomputed as a plain SHA-256.
  std::string forged = good;
  const size_t at = forged.find("\"x\"");
  ASSERT_NE(at, std::string::npos);
  forged[at + 1] = 'y';
  std::string body = forged.substr(0, forged.size() - 32);
  Sha256Stream digest;
  digest.Update(body);
  WriteAll(body + digest.Finish());
  Projection q;
  s = q.LoadSnapshot(path_, kKey, Accept);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_EQ(q.head(), 0);
  // Format 1 (a plain digest) is not taken either.
  std::string v1 = good;
  v1[6] = '1';
  WriteAll(v1);
  EXPECT_EQ(q.LoadSnapshot(path_, kKey, Accept).code(), Code::kCorruption);
}

TEST_F(SnapshotFileTest, ADirectoryIsNotASnapshot) {
  std::filesystem::create_directory(path_);
  Projection q;
  Status s = q.LoadSnapshot(path_, kKey, Accept);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("not a regular file"), std::string::npos) << s.ToString();
  EXPECT_EQ(Projection::ReadSnapshotFile(path_).status().code(), Code::kUnavailable);
}

TEST_F(SnapshotFileTest, AnUnwritableDirectoryIsAnError) {
  Projection p;
  Build(&p, History());
  auto r = p.WriteSnapshot((dir_ / "missing" / "x.snapshot").string(), kKey);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace chronoconf
