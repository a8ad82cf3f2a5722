// The etcd v3 gRPC services (SPEC §7): thin gRPC wrappers around the
// transport-free methods of methods.h, which the JSON gateway calls too.
//
//   KvService           kv_service.cc           callback API: Put and
//                                               DeleteRange wait for the group
//                                               commit holding no thread
//   MaintenanceService  maintenance_service.cc  sync API (rare, quick calls)
//   ClusterService      cluster_service.cc
//   AuthService         auth_service.cc
//   LeaseService        lease_service.cc        sync API; KeepAlive a callback stream
//
// Thread safety: every method may run on many gRPC threads at once.
#ifndef CHRONOCONF_ETCD_SERVICES_H_
#define CHRONOCONF_ETCD_SERVICES_H_

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "etcd/etcd_context.h"
#include "etcd/key_range.h"

namespace chronoconf::etcd {

namespace pb = ::etcdserverpb;

class KvService final : public pb::KV::CallbackService {
 public:
  explicit KvService(const EtcdContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx, const pb::RangeRequest* req,
                                  pb::RangeResponse* resp) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const pb::PutRequest* req,
                                pb::PutResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const pb::DeleteRangeRequest* req,
                                        pb::DeleteRangeResponse* resp) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* ctx, const pb::TxnRequest* req,
                                pb::TxnResponse* resp) override;
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* ctx,
                                    const pb::CompactionRequest* req,
                                    pb::CompactionResponse* resp) override;

 private:
  const EtcdContext* context_;
};

class MaintenanceService final : public pb::Maintenance::Service {
 public:
  explicit MaintenanceService(const EtcdContext* context) : context_(context) {}

  grpc::Status Alarm(grpc::ServerContext* ctx, const pb::AlarmRequest* req,
                     pb::AlarmResponse* resp) override;
  grpc::Status Status(grpc::ServerContext* ctx, const pb::StatusRequest* req,
                      pb::StatusResponse* resp) override;
  grpc::Status Defragment(grpc::ServerContext* ctx, const pb::DefragmentRequest* req,
                          pb::DefragmentResponse* resp) override;
  grpc::Status Hash(grpc::ServerContext* ctx, const pb::HashRequest* req,
                    pb::HashResponse* resp) override;
  grpc::Status HashKV(grpc::ServerContext* ctx, const pb::HashKVRequest* req,
                      pb::HashKVResponse* resp) override;
  grpc::Status Snapshot(grpc::ServerContext* ctx, const pb::SnapshotRequest* req,
                        grpc::ServerWriter<pb::SnapshotResponse>* writer) override;
  grpc::Status MoveLeader(grpc::ServerContext* ctx, const pb::MoveLeaderRequest* req,
                          pb::MoveLeaderResponse* resp) override;

 private:
  const EtcdContext* context_;
};

class ClusterService final : public pb::Cluster::Service {
 public:
  explicit ClusterService(const EtcdContext* context) : context_(context) {}

  grpc::Status MemberAdd(grpc::ServerContext* ctx, const pb::MemberAddRequest* req,
                         pb::MemberAddResponse* resp) override;
  grpc::Status MemberRemove(grpc::ServerContext* ctx, const pb::MemberRemoveRequest* req,
                            pb::MemberRemoveResponse* resp) override;
  grpc::Status MemberUpdate(grpc::ServerContext* ctx, const pb::MemberUpdateRequest* req,
                            pb::MemberUpdateResponse* resp) override;
  grpc::Status MemberList(grpc::ServerContext* ctx, const pb::MemberListRequest* req,
                          pb::MemberListResponse* resp) override;
  grpc::Status MemberPromote(grpc::ServerContext* ctx, const pb::MemberPromoteRequest* req,
                             pb::MemberPromoteResponse* resp) override;

 private:
  const EtcdContext* context_;
};

class AuthService final : public pb::Auth::Service {
 public:
  explicit AuthService(const EtcdContext* context) : context_(context) {}

  grpc::Status Authenticate(grpc::ServerContext* ctx, const pb::AuthenticateRequest* req,
                            pb::AuthenticateResponse* resp) override;
  grpc::Status AuthEnable(grpc::ServerContext* ctx, const pb::AuthEnableRequest* req,
                          pb::AuthEnableResponse* resp) override;
  grpc::Status AuthDisable(grpc::ServerContext* ctx, const pb::AuthDisableRequest* req,
                           pb::AuthDisableResponse* resp) override;
  grpc::Status UserAdd(grpc::ServerContext* ctx, const pb::AuthUserAddRequest* req,
                       pb::AuthUserAddResponse* resp) override;
  grpc::Status UserGet(grpc::ServerContext* ctx, const pb::AuthUserGetRequest* req,
                       pb::AuthUserGetResponse* resp) override;
  grpc::Status UserList(grpc::ServerContext* ctx, const pb::AuthUserListRequest* req,
                        pb::AuthUserListResponse* resp) override;
  grpc::Status UserDelete(grpc::ServerContext* ctx, const pb::AuthUserDeleteRequest* req,
                          pb::AuthUserDeleteResponse* resp) override;
  grpc::Status UserChangePassword(grpc::ServerContext* ctx,
                                  const pb::AuthUserChangePasswordRequest* req,
                                  pb::AuthUserChangePasswordResponse* resp) override;
  grpc::Status UserGrantRole(grpc::ServerContext* ctx, const pb::AuthUserGrantRoleRequest* req,
                             pb::AuthUserGrantRoleResponse* resp) override;
  grpc::Status UserRevokeRole(grpc::ServerContext* ctx, const pb::AuthUserRevokeRoleRequest* req,
                              pb::AuthUserRevokeRoleResponse* resp) override;
  grpc::Status RoleAdd(grpc::ServerContext* ctx, const pb::AuthRoleAddRequest* req,
                       pb::AuthRoleAddResponse* resp) override;
  grpc::Status RoleGet(grpc::ServerContext* ctx, const pb::AuthRoleGetRequest* req,
                       pb::AuthRoleGetResponse* resp) override;
  grpc::Status RoleList(grpc::ServerContext* ctx, const pb::AuthRoleListRequest* req,
                        pb::AuthRoleListResponse* resp) override;
  grpc::Status RoleDelete(grpc::ServerContext* ctx, const pb::AuthRoleDeleteRequest* req,
                          pb::AuthRoleDeleteResponse* resp) override;
  grpc::Status RoleGrantPermission(grpc::ServerContext* ctx,
                                   const pb::AuthRoleGrantPermissionRequest* req,
                                   pb::AuthRoleGrantPermissionResponse* resp) override;
  grpc::Status RoleRevokePermission(grpc::ServerContext* ctx,
                                    const pb::AuthRoleRevokePermissionRequest* req,
                                    pb::AuthRoleRevokePermissionResponse* resp) override;

 private:
  const EtcdContext* context_;
};

// Unary methods on the sync API (a grant or revoke waits for its commit on
// a gRPC thread; they are rare), KeepAlive on the callback API (many
// long-lived streams, no thread each).
class LeaseService final
    : public pb::Lease::WithCallbackMethod_LeaseKeepAlive<pb::Lease::Service> {
 public:
  explicit LeaseService(const EtcdContext* context) : context_(context) {}

  grpc::Status LeaseGrant(grpc::ServerContext* ctx, const pb::LeaseGrantRequest* req,
                          pb::LeaseGrantResponse* resp) override;
  grpc::Status LeaseRevoke(grpc::ServerContext* ctx, const pb::LeaseRevokeRequest* req,
                           pb::LeaseRevokeResponse* resp) override;
  grpc::ServerBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>* LeaseKeepAlive(
      grpc::CallbackServerContext* ctx) override;
  grpc::Status LeaseTimeToLive(grpc::ServerContext* ctx, const pb::LeaseTimeToLiveRequest* req,
                               pb::LeaseTimeToLiveResponse* resp) override;
  grpc::Status LeaseLeases(grpc::ServerContext* ctx, const pb::LeaseLeasesRequest* req,
                           pb::LeaseLeasesResponse* resp) override;

 private:
  const EtcdContext* context_;
};

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_SERVICES_H_
