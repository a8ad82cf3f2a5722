// Cluster: MemberList names this node (SPEC §7; several nodes on one
// PostgreSQL store are not listed yet). Membership changes are not etcd's to
// make here: a member is a `chronoconf serve` sharing the store.
#include <map>

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
  // etcd 3.4 leaves the header's revision out of MemberList.
  context.FillHeader(0, resp->mutable_header());
  const EtcdOptions& options = context.options();
  // Every live node as the store lists it (PostgreSQL); this node always,
  // also before its first announcement or while the store cannot answer.
  std::vector<MemberRecord> members;
  if (options.live_members) {
    if (auto live = options.live_members(); live) members = std::move(*live);
  }
  std::map<std::string, std::string> urls;  // name -> this transport's URL, by name
  for (const MemberRecord& m : members) {
    const std::string& url = options.gateway ? m.gateway_url : m.client_url;
    if (!url.empty()) urls[m.name] = url;
  }
  urls[options.node] = (options.tls_cert_pem.empty() ? "http://" : "https://") + options.listen;
  for (const auto& [name, url] : urls) {
    pb::Member* m = resp->add_members();
    m->set_id(MemberIdOf(name));
    m->set_name(name);
    m->add_peerurls(url);
    m->add_clienturls(url);
  }
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
