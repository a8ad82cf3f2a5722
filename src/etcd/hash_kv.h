// etcd 3.4's HashKV (mvcc/kvstore.go, HashByRev), computed from chronoconf's
// history, which holds every entry etcd's key bucket would:
//
//   hash := CRC-32C("key" || entry*)      entries up to `revision`, in order
//   entry := bucket_key || value
//   bucket_key := main:be64 '_' sub:be64 ['t' for a delete]
//                 (main: the revision; sub: the event's index in its commit)
//   value := mvccpb.KeyValue as a Put stored it (key, create_revision,
//            mod_revision, version, value; lease 0: no leases yet), or
//            KeyValue{key} for a delete
//
// Below the compaction floor etcd has deleted what compaction removes and
// skips what a compaction at `revision` would: an entry at or below the
// floor counts only when it is a live key's current entry at `revision`
// (when no key is live then, every entry that survived the compaction at
// the floor). With the same history and floor, every node answers the same
// hash; etcd itself gives another for the same writes, as its revisions are
// ours plus one (SPEC §7).
//
// Thread safety: reads the Projection, which is safe from any thread.
#ifndef CHRONOCONF_ETCD_HASH_KV_H_
#define CHRONOCONF_ETCD_HASH_KV_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "etcd/mvcc/mvccpb/kv.pb.h"
#include "projection/projection.h"

namespace chronoconf::etcd {

// CRC-32C (Castagnoli) of `bytes` continued from `crc` (0 to begin), as Go's
// crc32.Update with crc32.MakeTable(crc32.Castagnoli).
uint32_t Crc32c(uint32_t crc, std::string_view bytes);

// The hash of entries as etcd's key bucket holds them, added in bucket
// order (the grammar above).
class KeyBucketHash {
 public:
  // A Put's entry (`kv` as it stored it) or a delete's (`tombstone`: only
  // kv.key() counts).
  void Add(int64_t main, int64_t sub, bool tombstone, const mvccpb::KeyValue& kv);
  uint32_t value() const { return crc_; }

 private:
  uint32_t crc_ = Crc32c(0, "key");  // etcd hashes the bucket's name first
  std::string key_bytes_, value_bytes_;
};

// The hash of the key bucket at `revision` (<= projection.head(); a
// negative one hashes no entry, as etcd) under the compaction `floor`
// (0: none). Reads every commit up to `revision`: as etcd's, it costs the
// size of the history.
uint32_t HashKvAt(const Projection& projection, int64_t revision, int64_t floor);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_HASH_KV_H_
