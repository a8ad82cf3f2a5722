// EventStore: the narrow interface every store implements (memory, SQLite,
// PostgreSQL), modelled on commanded's adapter behaviour. The store is the
// source of truth; everything else is derived from what it returns.
//
// Thread safety: implementations are safe for concurrent use.
#ifndef CHRONOCONF_STORE_EVENT_STORE_H_
#define CHRONOCONF_STORE_EVENT_STORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "domain/events.h"

namespace chronoconf {

struct StoreHead {
  int64_t revision = 0;  // 0 for an empty store
  std::string hash = kZeroHash;
  int64_t timestamp_us = 0;
};

// A node that serves the store, as etcd's MemberList shows it (SPEC §7).
struct MemberRecord {
  std::string name;         // --node: unique per node
  std::string client_url;   // its etcd gRPC API ("http://127.0.0.1:2379"); empty: none
  std::string gateway_url;  // its HTTP port, where etcd's JSON gateway is
  bool operator==(const MemberRecord&) const = default;
};

// One event of a key's stream, with the revision of its commit.
struct StreamEvent {
  int64_t revision = 0;
  Event event;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // "memory", "sqlite" or "postgres".
  virtual std::string_view kind() const = 0;

  // Appends `commits` in order, atomically: all are durable when this returns
  // OK, none when it fails. The store assigns each the next revision (gap-free),
  // the time max(previous commit time, now) and the hash chain. Every event's
  // version must be its key's current version + 1, checked in the same
  // transaction. Errors: kConflict when a key moved on (another writer got
  // there first), kUnavailable when the store cannot be reached.
  virtual Result<std::vector<RecordedCommit>> Append(const std::vector<CommitData>& commits) = 0;

  // Appends commits recorded by another store verbatim (copy, SPEC §3):
  // revision, time, metadata and hashes are kept, each must be the next link
  // of the chain (CheckRecordedCommit) and each event's version its key's
  // current version + 1. One transaction, like Append. Errors: kConflict when
  // a commit does not follow, kCorruption when one is damaged; stores that
  // cannot take copies answer kInvalidRequest.
  virtual Status AppendRecorded(const std::vector<RecordedCommit>& /*commits*/) {
    return Status::InvalidRequest(std::string(kind()) + " stores cannot take copied commits");
  }

  // Up to `limit` commits with revision > `after`, in revision order.
  virtual Result<std::vector<RecordedCommit>> ReadForward(int64_t after, size_t limit) = 0;

  // Every event of `key`, in version order (empty when never written).
  virtual Result<std::vector<StreamEvent>> ReadStream(std::string_view key) = 0;

  // The newest commit's revision, hash and time.
  virtual Result<StoreHead> ReadHead() = 0;

  // Claims the store for this process as its only serving node, for stores
  // that allow one (SQLite): held until the store is closed. Admin commands
  // that only read (verify, copy --from) do not claim. Errors: kUnavailable
  // naming the process that holds it.
  virtual Status ClaimSoleWriter() { return Status::OK(); }

  // True when commits may appear that this process did not append (another
  // node on a shared store, an unclaimed file, a memory store that tests
  // share between services). When false, what this process appended and
  // read is all there is: its read model, once caught up, knows the head
  // without asking.
  virtual bool MayHaveOtherWriters() const { return true; }

  // The key that authenticates this store's read-model snapshots: random
  // bytes kept in the store itself (made with its schema), so a snapshot
  // file that anyone could rewrite loads only when its MAC verifies under
  // it. Errors: kInvalidRequest for stores that keep none.
  virtual Result<std::string> SnapshotKey() {
    return Status::InvalidRequest(std::string(kind()) + " stores keep no snapshot key");
  }

  // The etcd view's compaction floor (SPEC §7): 0 until the first Compact.
  // History is never deleted; the floor only tells the etcd API which
  // revisions it answers "compacted" for. Durable, and shared by every node
  // of the store. Errors: kUnavailable.
  virtual Result<int64_t> ReadEtcdFloor() = 0;
  // Raises the floor to `revision` when it is lower, atomically (two nodes
  // compacting at once raise it once), and returns the floor as it was
  // before: at or above `revision`, nothing changed. Errors: kUnavailable.
  virtual Result<int64_t> RaiseEtcdFloor(int64_t revision) = 0;

  // The bytes the store takes (etcd's Status.dbSize, SPEC §7): the SQLite
  // file and its WAL, PostgreSQL's tables with their indexes and TOAST, the
  // memory store's recorded texts. Errors: kUnavailable; kInvalidRequest
  // for a store that cannot tell.
  virtual Result<int64_t> SizeBytes() {
    return Status::InvalidRequest(std::string(kind()) + " stores do not report their size");
  }

  // The nodes serving this store (etcd's MemberList, SPEC §7). Each node
  // announces itself about every second and leaves when it stops; a node
  // is live while its last announcement is younger than `ttl`. Stores that
  // only one node serves (memory, SQLite) keep nothing: LiveMembers is
  // empty, and the node lists itself alone. Errors: kUnavailable.
  virtual Status Announce(const MemberRecord& /*me*/) { return Status::OK(); }
  virtual Status Leave(const std::string& /*name*/) { return Status::OK(); }
  virtual Result<std::vector<MemberRecord>> LiveMembers(std::chrono::milliseconds /*ttl*/) {
    return std::vector<MemberRecord>{};
  }

  // Lease deadlines (SPEC §7, app/lease_keeper.h) on a store several nodes
  // share: one node at a time keeps them. True while this node is the
  // keeper (taking the role when it is free); a store one node serves
  // always says true. Errors: kUnavailable (not the keeper meanwhile).
  virtual Result<bool> HoldLeaseKeeper() { return true; }
  // A keep-alive that reached a node that is not the keeper, passed on to
  // whichever node is. At most once: a keeper that takes over restarts
  // every deadline at its full TTL anyway.
  virtual Status ForwardKeepAlive(int64_t /*lease_id*/) { return Status::OK(); }
  // The keeper's: the lease ids forwarded since the last call.
  virtual Result<std::vector<int64_t>> TakeForwardedKeepAlives() {
    return std::vector<int64_t>{};
  }

  // Waits up to `timeout` for a commit made by another node; true when one
  // may have landed (read forward to learn which). Only stores shared by
  // several nodes have such commits: the others return false at once, and a
  // caller that loops must pace itself.
  virtual Result<bool> WaitForNotification(std::chrono::milliseconds /*timeout*/) {
    return false;
  }
};

// How a store is opened.
enum class StoreAccess {
  // serve, migrate, copy --to: creates the store and migrates its schema.
  kReadWrite,
  // verify, copy --from (SPEC §6): never creates, migrates or writes; the
  // store must exist with this build's schema version.
  kReadOnly,
};

// Opens the store a URL names ("memory:", "sqlite:PATH", "postgres://…",
// "postgresql://…"). Errors: kInvalidRequest for an unknown URL; kNotFound
// (read-only) when the file, database or schema is missing, naming it;
// kUnavailable when it cannot be opened, or its schema is of another version
// than read-only access can take.
Result<std::unique_ptr<EventStore>> OpenEventStore(const std::string& url,
                                                   Clock* clock = SystemClock::Default(),
                                                   StoreAccess access = StoreAccess::kReadWrite);

// Where a read-model snapshot of the store at `url` lives by default:
// "<file>.snapshot" beside a SQLite file; "" for other stores (a node of a
// PostgreSQL cluster keeps its own, named with --snapshot-path).
std::string DefaultSnapshotPath(const std::string& url);

}  // namespace chronoconf

#endif  // CHRONOCONF_STORE_EVENT_STORE_H_
