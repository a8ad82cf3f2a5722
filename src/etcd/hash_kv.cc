#include "etcd/hash_kv.h"

#include <array>
#include <string>

#include "domain/system_stream.h"
#include "etcd/range_query.h"

namespace chronoconf::etcd {
namespace {

// Commits read from the log at a time.
constexpr size_t kCommitsPerRead = 1024;

constexpr std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = MakeCrc32cTable();

// etcd's revToBytes, with the tombstone mark of a delete.
void BucketKey(int64_t main, int64_t sub, bool tombstone, std::string* out) {
  out->clear();
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((static_cast<uint64_t>(main) >> shift) & 0xff));
  }
  out->push_back('_');
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((static_cast<uint64_t>(sub) >> shift) & 0xff));
  }
  if (tombstone) out->push_back('t');
}

}  // namespace

uint32_t Crc32c(uint32_t crc, std::string_view bytes) {
  crc = ~crc;
  for (unsigned char b : bytes) crc = kCrc32cTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void KeyBucketHash::Add(int64_t main, int64_t sub, bool tombstone, const mvccpb::KeyValue& kv) {
  BucketKey(main, sub, tombstone, &key_bytes_);
  if (tombstone) {
    mvccpb::KeyValue key_only;
    key_only.set_key(kv.key());
    key_only.SerializeToString(&value_bytes_);
  } else {
    kv.SerializeToString(&value_bytes_);
  }
  crc_ = Crc32c(crc_, key_bytes_);
  crc_ = Crc32c(crc_, value_bytes_);
}

uint32_t HashKvAt(const Projection& projection, int64_t revision, int64_t floor) {
  KeyBucketHash hash;
  // etcd's kvindex.Keep(revision) is empty when no key is live then; it
  // then hashes every entry its compaction left.
  const bool any_live = floor > 0 && !projection.List("", revision, "", 1).entries.empty();
  mvccpb::KeyValue kv;
  int64_t after = 0;
  while (after < revision) {
    const std::vector<CommitPtr> commits = projection.Commits(after, kCommitsPerRead);
    if (commits.empty()) break;
    for (const CommitPtr& c : commits) {
      if (c->revision > revision) return hash.value();
      for (size_t i = 0; i < c->events.size(); ++i) {
        const Event& e = c->events[i];
        if (IsSystemStream(e.key)) continue;  // not a key etcd would hold
        const bool tombstone = e.type != EventType::kConfigSet;
        if (c->revision <= floor) {
          // Kept: the key's entry in force at `revision` (or, with no key
          // live then, at the floor), never a delete.
          if (tombstone) continue;
          const auto kept =
              projection.VersionAt(e.key, any_live ? revision : floor, Text::kValueOnly);
          if (!kept || kept->deleted || kept->revision != c->revision) continue;
        }
        kv.Clear();
        if (tombstone) {
          kv.set_key(e.key);
        } else if (auto v = projection.VersionAt(e.key, c->revision, Text::kValueOnly)) {
          FillKeyValue(*v, /*keys_only=*/false, &kv);
        }
        hash.Add(c->revision, static_cast<int64_t>(i), tombstone, kv);
      }
      after = c->revision;
    }
  }
  return hash.value();
}

}  // namespace chronoconf::etcd
