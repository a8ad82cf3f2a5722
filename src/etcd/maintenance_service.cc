// Maintenance: Status, an empty Alarm list, a no-op Defragment, and Hash and
// HashKV from the history (hash_kv.h) (SPEC §7); what depends on etcd's
// storage engine answers UNIMPLEMENTED.
#include "etcd/errors.h"
#include "etcd/hash_kv.h"
#include "etcd/methods.h"
#include "etcd/services.h"

namespace chronoconf::etcd {

namespace {

// etcd 3.4 lets only root defragment and hash
// (authMaintenanceServer.isAuthenticated), and answers anyone else with its
// auth package's error as it is (code Unknown, "auth: …").
grpc::Status AdmitAdmin(const EtcdContext& context, const CallMetadata& md) {
  Caller caller;
  grpc::Status s = context.Admit(md, http::Role::kAdmin, &caller);
  if (s.ok()) return s;
  if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) return rpctypes::AuthPermissionDenied();
  if (s.error_message() == rpctypes::UserEmpty().error_message()) {
    return {grpc::StatusCode::UNKNOWN, "auth: user name is empty"};
  }
  if (s.error_message() == rpctypes::InvalidAuthToken().error_message()) {
    return {grpc::StatusCode::UNKNOWN, "auth: invalid auth token"};
  }
  return s;
}

}  // namespace

grpc::Status MaintenanceAlarm(const EtcdContext& context, const CallMetadata& md,
                              const pb::AlarmRequest& req, pb::AlarmResponse* resp) {
  Caller caller;
  // Raising or clearing an alarm is an admin's act, even one recorded nowhere.
  const http::Role needed =
      req.action() == pb::AlarmRequest::GET ? http::Role::kRead : http::Role::kAdmin;
  if (grpc::Status s = context.Admit(md, needed, &caller); !s.ok()) return s;
  // chronoconf has no space quota or corruption alarm: the list is empty.
  context.FillHeader(context.projection().head(), resp->mutable_header());
  return grpc::Status::OK;
}

grpc::Status MaintenanceStatus(const EtcdContext& context, const CallMetadata& md,
                               const pb::StatusRequest& /*req*/, pb::StatusResponse* resp) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kRead, &caller); !s.ok()) return s;
  const int64_t head = context.projection().head();
  int64_t size = 0;
  if (context.options().db_size) {
    Result<int64_t> bytes = context.options().db_size();
    if (!bytes) return ToGrpc(bytes.status());
    size = *bytes;
  }
  context.FillHeader(head, resp->mutable_header());
  resp->set_version(context.options().version);
  resp->set_dbsize(size);
  resp->set_dbsizeinuse(size);
  // Every node accepts writes; each reports itself as the leader.
  resp->set_leader(context.member_id());
  resp->set_raftindex(static_cast<uint64_t>(head));
  resp->set_raftappliedindex(static_cast<uint64_t>(head));
  resp->set_raftterm(1);
  return grpc::Status::OK;
}

grpc::Status MaintenanceDefragment(const EtcdContext& context, const CallMetadata& md,
                                   const pb::DefragmentRequest& /*req*/,
                                   pb::DefragmentResponse* resp) {
  if (grpc::Status s = AdmitAdmin(context, md); !s.ok()) return s;
  // Nothing to defragment: the store is SQLite or PostgreSQL.
  context.FillHeader(context.projection().head(), resp->mutable_header());
  return grpc::Status::OK;
}

grpc::Status MaintenanceHashKV(const EtcdContext& context, const CallMetadata& md,
                               const pb::HashKVRequest& req, pb::HashKVResponse* resp) {
  if (grpc::Status s = AdmitAdmin(context, md); !s.ok()) return s;
  int64_t floor = 0;
  if (grpc::Status s = context.CurrentFloor(&floor); !s.ok()) return s;
  const int64_t head = context.projection().head();
  // etcd's HashByRev: at or below the floor is compacted (unlike a Range,
  // which may read at the floor), above the head is the future.
  if (req.revision() > 0 && floor > 0 && req.revision() <= floor) return rpctypes::Compacted();
  if (req.revision() > head) return rpctypes::FutureRev();
  const int64_t revision = req.revision() == 0 ? head : req.revision();
  context.FillHeader(head, resp->mutable_header());
  resp->set_hash(HashKvAt(context.projection(), revision, floor));
  // etcd's compactMainRev is -1 until the first compaction.
  resp->set_compact_revision(floor > 0 ? floor : -1);
  return grpc::Status::OK;
}

grpc::Status MaintenanceHash(const EtcdContext& context, const CallMetadata& md,
                             const pb::HashRequest& /*req*/, pb::HashResponse* resp) {
  if (grpc::Status s = AdmitAdmin(context, md); !s.ok()) return s;
  int64_t floor = 0;
  if (grpc::Status s = context.CurrentFloor(&floor); !s.ok()) return s;
  // etcd hashes its whole bolt file, which chronoconf has not: the key
  // bucket's hash at the head (HashKV's) stands for it.
  const int64_t head = context.projection().head();
  context.FillHeader(head, resp->mutable_header());
  resp->set_hash(HashKvAt(context.projection(), head, floor));
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::Alarm(grpc::ServerContext* ctx, const pb::AlarmRequest* req,
                                       pb::AlarmResponse* resp) {
  return MaintenanceAlarm(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status MaintenanceService::Status(grpc::ServerContext* ctx, const pb::StatusRequest* req,
                                        pb::StatusResponse* resp) {
  return MaintenanceStatus(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status MaintenanceService::Defragment(grpc::ServerContext* ctx,
                                            const pb::DefragmentRequest* req,
                                            pb::DefragmentResponse* resp) {
  return MaintenanceDefragment(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status MaintenanceService::Hash(grpc::ServerContext* ctx, const pb::HashRequest* req,
                                      pb::HashResponse* resp) {
  return MaintenanceHash(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status MaintenanceService::HashKV(grpc::ServerContext* ctx, const pb::HashKVRequest* req,
                                        pb::HashKVResponse* resp) {
  return MaintenanceHashKV(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status MaintenanceService::Snapshot(grpc::ServerContext* /*ctx*/,
                                          const pb::SnapshotRequest* /*req*/,
                                          grpc::ServerWriter<pb::SnapshotResponse>* /*writer*/) {
  return Unimplemented("Maintenance.Snapshot",
                       "back up the store itself (chronoconf copy --from URL --to URL, or the "
                       "database's own backup)");
}

grpc::Status MaintenanceService::MoveLeader(grpc::ServerContext* /*ctx*/,
                                            const pb::MoveLeaderRequest* /*req*/,
                                            pb::MoveLeaderResponse* /*resp*/) {
  return Unimplemented("Maintenance.MoveLeader",
                       "there is no leader to move: every chronoconf node accepts writes");
}

}  // namespace chronoconf::etcd
