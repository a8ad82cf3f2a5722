// EtcdContext: what every etcd service shares: the read model and the
// command service (the same ones the HTTP API uses: one write path, one read
// model), the auth in force, and the ids and facts the response headers and
// Status report. A translator's state, nothing of its own (ARCHITECTURE.md,
// "For the etcd façade").
//
// Thread safety: immutable after construction, except through the
// functions it was given, which must be safe to call from any thread.
#ifndef CHRONOCONF_ETCD_ETCD_CONTEXT_H_
#define CHRONOCONF_ETCD_ETCD_CONTEXT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/server_context.h>

#include "app/command_service.h"
#include "app/lease_keeper.h"
#include "app/read_index.h"
#include "etcd/caller.h"
#include "http/auth.h"
#include "http/metrics.h"
#include "projection/projection.h"
#include "etcd/compaction_floor.h"

namespace etcdserverpb {
class ResponseHeader;
}

namespace chronoconf::etcd {

struct EtcdOptions {
  // The deadlines of leases (not owned); null: the Lease methods answer
  // UNAVAILABLE ("leases are off on this node").
  LeaseKeeper* leases = nullptr;
  // gRPC's listen address: "127.0.0.1:2379", "[::1]:2379".
  std::string listen = "127.0.0.1:2379";
  // This node's name (MemberList's name, and the member id's source).
  std::string node = "chronoconf";
  // Status.version: one that etcd's clients and Kubernetes accept.
  std::string version = "3.5.0";
  size_t max_value_bytes = 256 * 1024;
  // TLS for the gRPC port (PEM text of --tls-cert and --tls-key); both
  // empty: plaintext.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // The most ops in one Txn (compares, or ops of one branch): etcd's
  // --max-txn-ops, SPEC §7's --etcd-max-txn-ops.
  size_t max_txn_ops = 128;
  // The largest request gRPC takes: etcd's default (1.5 MiB) plus room for
  // the envelope, as etcd adds grpc overhead bytes to --max-request-bytes.
  int max_request_bytes = 1536 * 1024 + 512 * 1024;
  // The largest Put or Txn that writes, counted on the request itself:
  // etcd's --max-request-bytes (its default), which etcd checks on what it
  // sends through raft.
  size_t max_write_request_bytes = 1536 * 1024;
  // A watch with `progress_notify` that has been idle this long gets an
  // empty response at the head: etcd's
  // --experimental-watch-progress-notify-interval (10 minutes by default),
  // serve's --etcd-watch-progress-interval.
  std::chrono::milliseconds watch_progress_interval{std::chrono::minutes(10)};
  // On shutdown, calls in flight get this long to finish; then they are
  // cancelled.
  std::chrono::milliseconds drain_timeout{10000};
  // The auth table in force now (SIGHUP swaps it); null: auth off.
  std::function<std::shared_ptr<const http::AuthTable>()> auth;
  // False until the read model has caught up with the store at start.
  std::function<bool()> ready;
  // The store's size in bytes (Status.dbSize; EventStore::SizeBytes).
  std::function<Result<int64_t>()> db_size;
  // The nodes serving the store now (MemberList); null: this node alone.
  std::function<Result<std::vector<MemberRecord>>()> live_members;
  // This transport's URL of every node: the gRPC port, or the HTTP port
  // for the JSON gateway (whose clients, Patroni, connect to clientURLs).
  bool gateway = false;
  // The etcd view's compaction floor (SPEC §7), shared by both transports;
  // null: no floor (0), and Compact moves nothing.
  CompactionFloor* floor = nullptr;
  // Makes a Range without `serializable` linearizable (SPEC §7); null: every
  // Range is served from the read model as it is.
  ReadIndex* read_index = nullptr;
  // Where calls are counted (chronoconf_etcd_requests_total); may be null.
  http::Metrics* metrics = nullptr;
};

// A node's member id (and the cluster's, from "chronoconf"): a hash of its
// name, the same on every node.
uint64_t MemberIdOf(std::string_view name);

class EtcdContext {
 public:
  EtcdContext(Projection* projection, CommandService* commands, EtcdOptions options);

  Projection& projection() const { return *projection_; }
  CommandService& commands() const { return *commands_; }
  const EtcdOptions& options() const { return options_; }
  uint64_t cluster_id() const { return cluster_id_; }
  uint64_t member_id() const { return member_id_; }
  std::shared_ptr<const http::AuthTable> auth() const {
    return options_.auth ? options_.auth() : nullptr;
  }

  // The caller `md` names, if it may do what `needed` allows and the read
  // model is ready (else UNAVAILABLE, which clients retry).
  grpc::Status Admit(const CallMetadata& md, http::Role needed, Caller* out) const;

  // OK unless `revision` (> 0) is below the etcd view's compaction floor:
  // then etcd's "required revision has been compacted" (CompactionFloor).
  grpc::Status CheckCompacted(int64_t revision) const;
  // The floor as this node knows it (0 before any Compact).
  int64_t floor() const { return options_.floor ? options_.floor->floor() : 0; }
  // The floor as the store has it now (CompactionFloor::Current).
  grpc::Status CurrentFloor(int64_t* out) const;
  // Compact(revision): raises the floor. Errors: etcd's Compacted when
  // `revision` is at or below the floor, FutureRev above the head, the
  // store's when it cannot be written.
  grpc::Status Compact(int64_t revision) const;

  // etcd's response header: ids, raft term 1, and `revision`.
  void FillHeader(int64_t revision, etcdserverpb::ResponseHeader* header) const;

 private:
  Projection* projection_;
  CommandService* commands_;
  EtcdOptions options_;
  uint64_t cluster_id_;
  uint64_t member_id_;
};

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_ETCD_CONTEXT_H_
