// HashKV as etcd 3.4 computes it. The expected values are what Debian's
// etcd-server 3.4.23 answered (`etcdctl endpoint hashkv --rev=R`) after:
//   r2 put a 1; r3 put b 2; r4 del a; r5 txn {put c x; put d y};
//   r6 put a 3; r7 put c z; compact 6; r8..r11 del a, b, c, d.
// chronoconf makes the same writes one revision lower (an empty etcd is at
// revision 1, SPEC §7), so its hashes differ from etcd's by construction;
// the encoding is checked on etcd's revisions (KeyBucketHash) and the
// choice of entries on chronoconf's (HashKvAt), against the same lists.
#include "etcd/hash_kv.h"

#include <gtest/gtest.h>

#include <vector>

#include "app/command_service.h"
#include "store/memory_event_store.h"

namespace chronoconf::etcd {
namespace {

struct Entry {
  int64_t main, sub;
  bool tombstone;
  const char* key;
  int64_t create, version;
  const char* value;
};

uint32_t HashOf(const std::vector<Entry>& entries, int64_t shift = 0) {
  KeyBucketHash hash;
  for (const Entry& e : entries) {
    mvccpb::KeyValue kv;
    kv.set_key(e.key);
    if (!e.tombstone) {
      kv.set_create_revision(e.create + shift);
      kv.set_mod_revision(e.main + shift);
      kv.set_version(e.version);
      kv.set_value(e.value);
    }
    hash.Add(e.main + shift, e.sub, e.tombstone, kv);
  }
  return hash.value();
}

// What etcd's key bucket holds (on etcd's revisions), and what HashKV counts.
const std::vector<Entry> kAt5 = {{2, 0, false, "a", 2, 1, "1"},
                                 {3, 0, false, "b", 3, 1, "2"},
                                 {4, 0, true, "a", 0, 0, ""},
                                 {5, 0, false, "c", 5, 1, "x"},
                                 {5, 1, false, "d", 5, 1, "y"}};
// At 7 after compact 6: below it only the entries live at 7.
const std::vector<Entry> kAt7Compacted6 = {{3, 0, false, "b", 3, 1, "2"},
                                           {5, 1, false, "d", 5, 1, "y"},
                                           {6, 0, false, "a", 6, 1, "3"},
                                           {7, 0, false, "c", 5, 2, "z"}};
// At 11, no key live: every entry the compaction at 6 left, and the rest.
const std::vector<Entry> kAt11Compacted6 = {
    {3, 0, false, "b", 3, 1, "2"}, {5, 0, false, "c", 5, 1, "x"}, {5, 1, false, "d", 5, 1, "y"},
    {6, 0, false, "a", 6, 1, "3"}, {7, 0, false, "c", 5, 2, "z"}, {8, 0, true, "a", 0, 0, ""},
    {9, 0, true, "b", 0, 0, ""},   {10, 0, true, "c", 0, 0, ""},  {11, 0, true, "d", 0, 0, ""}};

TEST(KeyBucketHashTest, GivesEtcdsValues) {
  EXPECT_EQ(KeyBucketHash().value(), 1084519789u);  // an empty store
  EXPECT_EQ(HashOf({kAt5.begin(), kAt5.begin() + 1}), 2587454935u);
  EXPECT_EQ(HashOf({kAt5.begin(), kAt5.begin() + 2}), 1827592406u);
  EXPECT_EQ(HashOf({kAt5.begin(), kAt5.begin() + 3}), 1562576432u);
  EXPECT_EQ(HashOf(kAt5), 136380450u);
  EXPECT_EQ(HashOf(kAt7Compacted6), 2509640273u);
  EXPECT_EQ(HashOf(kAt11Compacted6), 4135885263u);
}

class HashKvTest : public ::testing::Test {
 protected:
  HashKvTest() : commands_(&store_, &projection_) {}

  void Run(std::vector<Op> ops) {
    ASSERT_TRUE(commands_.Execute(Transaction{std::move(ops), {}}).status.ok());
  }
  static SetKey Put(const std::string& key, const std::string& text) {
    return SetKey{key, "\"" + text + "\"", std::nullopt, false, true};
  }

  MemoryEventStore store_;
  Projection projection_;
  CommandService commands_;
};

TEST_F(HashKvTest, HashesWhatEtcdsBucketHoldsOnChronoconfsRevisions) {
  EXPECT_EQ(HashKvAt(projection_, 0, 0), 1084519789u);
  Run({Put("a", "1")});
  Run({Put("b", "2")});
  Run({DeleteKey{"a", std::nullopt, false}});
  Run({Put("c", "x"), Put("d", "y")});
  EXPECT_EQ(HashKvAt(projection_, 4, 0), HashOf(kAt5, -1));
  EXPECT_EQ(HashKvAt(projection_, 2, 0), HashOf({kAt5.begin(), kAt5.begin() + 2}, -1));
  Run({Put("a", "3")});
  Run({Put("c", "z")});
  const uint32_t before_compaction = HashKvAt(projection_, 6, 0);
  EXPECT_EQ(HashKvAt(projection_, 6, 5), HashOf(kAt7Compacted6, -1));
  EXPECT_NE(HashKvAt(projection_, 6, 5), before_compaction);
  for (const char* key : {"a", "b", "c", "d"}) Run({DeleteKey{key, std::nullopt, false}});
  EXPECT_EQ(HashKvAt(projection_, 10, 5), HashOf(kAt11Compacted6, -1));
  // A revision is a fixed point of history: later writes do not move it.
  EXPECT_EQ(HashKvAt(projection_, 6, 0), before_compaction);
}

}  // namespace
}  // namespace chronoconf::etcd
