// The etcd methods, free of any transport: each takes the caller's metadata
// and etcd's request message and fills etcd's response message. Both the
// gRPC services (services.h, thin wrappers) and the JSON gateway on the HTTP
// port (gateway.cc) call these, so there is one place per method for its
// checks, its auth, its commands and its reads.
//
// A method that may wait (a write waits for the group commit; a
// linearizable Range will wait for the read model) finishes through `done`,
// called exactly once, possibly on another thread (the committer's) and
// possibly before it returns; `req` and `resp` must live until then. The
// others answer at once.
//
// Thread safety: any thread, many calls at once.
#ifndef CHRONOCONF_ETCD_METHODS_H_
#define CHRONOCONF_ETCD_METHODS_H_

#include <functional>

#include <grpcpp/support/status.h>

#include "etcd/etcd_context.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"

namespace chronoconf::etcd {

namespace pb = ::etcdserverpb;

using Done = std::function<void(const grpc::Status&)>;

// KV (kv_service.cc, kv_txn.cc)
void KvRange(const EtcdContext& context, const CallMetadata& md, const pb::RangeRequest& req,
             pb::RangeResponse* resp, Done done);
void KvPut(const EtcdContext& context, const CallMetadata& md, const pb::PutRequest& req,
           pb::PutResponse* resp, Done done);
void KvDeleteRange(const EtcdContext& context, const CallMetadata& md,
                   const pb::DeleteRangeRequest& req, pb::DeleteRangeResponse* resp, Done done);
void KvTxn(const EtcdContext& context, const CallMetadata& md, const pb::TxnRequest& req,
           pb::TxnResponse* resp, Done done);
void KvCompact(const EtcdContext& context, const CallMetadata& md,
               const pb::CompactionRequest& req, pb::CompactionResponse* resp, Done done);

// Maintenance (maintenance_service.cc)
grpc::Status MaintenanceStatus(const EtcdContext& context, const CallMetadata& md,
                               const pb::StatusRequest& req, pb::StatusResponse* resp);
grpc::Status MaintenanceAlarm(const EtcdContext& context, const CallMetadata& md,
                              const pb::AlarmRequest& req, pb::AlarmResponse* resp);
grpc::Status MaintenanceDefragment(const EtcdContext& context, const CallMetadata& md,
                                   const pb::DefragmentRequest& req,
                                   pb::DefragmentResponse* resp);
// Hash and HashKV read the whole history (hash_kv.h): as long as etcd's.
grpc::Status MaintenanceHash(const EtcdContext& context, const CallMetadata& md,
                             const pb::HashRequest& req, pb::HashResponse* resp);
grpc::Status MaintenanceHashKV(const EtcdContext& context, const CallMetadata& md,
                               const pb::HashKVRequest& req, pb::HashKVResponse* resp);

// Cluster (cluster_service.cc)
grpc::Status ClusterMemberList(const EtcdContext& context, const CallMetadata& md,
                               const pb::MemberListRequest& req, pb::MemberListResponse* resp);

// Auth (auth_service.cc)
grpc::Status AuthAuthenticate(const EtcdContext& context, const CallMetadata& md,
                              const pb::AuthenticateRequest& req,
                              pb::AuthenticateResponse* resp);

// Lease (lease_service.cc). KeepAlive is a stream in gRPC; this answers one
// of its requests.
grpc::Status LeaseGrant(const EtcdContext& context, const CallMetadata& md,
                        const pb::LeaseGrantRequest& req, pb::LeaseGrantResponse* resp);
grpc::Status LeaseRevoke(const EtcdContext& context, const CallMetadata& md,
                         const pb::LeaseRevokeRequest& req, pb::LeaseRevokeResponse* resp);
grpc::Status LeaseKeepAlive(const EtcdContext& context, const CallMetadata& md,
                            const pb::LeaseKeepAliveRequest& req,
                            pb::LeaseKeepAliveResponse* resp);
grpc::Status LeaseTimeToLive(const EtcdContext& context, const CallMetadata& md,
                             const pb::LeaseTimeToLiveRequest& req,
                             pb::LeaseTimeToLiveResponse* resp);
grpc::Status LeaseLeases(const EtcdContext& context, const CallMetadata& md,
                         const pb::LeaseLeasesRequest& req, pb::LeaseLeasesResponse* resp);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_METHODS_H_
