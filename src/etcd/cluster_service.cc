// Cluster: MemberList names this node (SPEC §7; several nodes on one
// PostgreSQL store are not listed yet). Membership changes are not etcd's to
// make here: a member is a `chronoconf serve` sharing the store.
#include "etcd/errors.h"
#include "etcd/methods.h"
#include "etcd/services.h"

namespace chronoconf::etcd {
namespace {

constexpr const char* kMembersInstead =
    "members are the chronoconf serve processes that share a store: start or stop one";

}  // namespace

grpc::Status ClusterMemberList(const EtcdContext& context, const CallMetadata& md,
                               const pb::MemberListRequest& /*req*/, pb::MemberListResponse* resp) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kRead, &caller); !s.ok()) return s;
  context.FillHeader(context.projection().head(), resp->mutable_header());
  pb::Member* me = resp->add_members();
  me->set_id(context.member_id());
  me->set_name(context.options().node);
  const std::string url = "http://" + context.options().listen;
  me->add_peerurls(url);
  me->add_clienturls(url);
  return grpc::Status::OK;
}

grpc::Status ClusterService::MemberList(grpc::ServerContext* ctx, const pb::MemberListRequest* req,
                                        pb::MemberListResponse* resp) {
  return ClusterMemberList(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status ClusterService::MemberAdd(grpc::ServerContext* /*ctx*/,
                                       const pb::MemberAddRequest* /*req*/,
                                       pb::MemberAddResponse* /*resp*/) {
  return Unimplemented("Cluster.MemberAdd", kMembersInstead);
}

grpc::Status ClusterService::MemberRemove(grpc::ServerContext* /*ctx*/,
                                          const pb::MemberRemoveRequest* /*req*/,
                                          pb::MemberRemoveResponse* /*resp*/) {
  return Unimplemented("Cluster.MemberRemove", kMembersInstead);
}

grpc::Status ClusterService::MemberUpdate(grpc::ServerContext* /*ctx*/,
                                          const pb::MemberUpdateRequest* /*req*/,
                                          pb::MemberUpdateResponse* /*resp*/) {
  return Unimplemented("Cluster.MemberUpdate", kMembersInstead);
}

grpc::Status ClusterService::MemberPromote(grpc::ServerContext* /*ctx*/,
                                           const pb::MemberPromoteRequest* /*req*/,
                                           pb::MemberPromoteResponse* /*resp*/) {
  return Unimplemented("Cluster.MemberPromote", kMembersInstead);
}

}  // namespace chronoconf::etcd
