// Lease: the next issue (leases as events). Until then every method says so,
// on gRPC and on the JSON gateway alike.
#include "etcd/errors.h"
#include "etcd/methods.h"
#include "etcd/services.h"

namespace chronoconf::etcd {
namespace {

grpc::Status NotYet(const char* method) {
  return Unimplemented(method, "leases are not built yet; a key lives until it is deleted");
}

}  // namespace

grpc::Status LeaseGrant(const EtcdContext& /*context*/, const CallMetadata& /*md*/,
                        const pb::LeaseGrantRequest& /*req*/, pb::LeaseGrantResponse* /*resp*/) {
  return NotYet("Lease.LeaseGrant");
}

grpc::Status LeaseRevoke(const EtcdContext& /*context*/, const CallMetadata& /*md*/,
                         const pb::LeaseRevokeRequest& /*req*/,
                         pb::LeaseRevokeResponse* /*resp*/) {
  return NotYet("Lease.LeaseRevoke");
}

grpc::Status LeaseKeepAlive(const EtcdContext& /*context*/, const CallMetadata& /*md*/,
                            const pb::LeaseKeepAliveRequest& /*req*/,
                            pb::LeaseKeepAliveResponse* /*resp*/) {
  return NotYet("Lease.LeaseKeepAlive");
}

grpc::Status LeaseTimeToLive(const EtcdContext& /*context*/, const CallMetadata& /*md*/,
                             const pb::LeaseTimeToLiveRequest& /*req*/,
                             pb::LeaseTimeToLiveResponse* /*resp*/) {
  return NotYet("Lease.LeaseTimeToLive");
}

grpc::Status LeaseLeases(const EtcdContext& /*context*/, const CallMetadata& /*md*/,
                         const pb::LeaseLeasesRequest& /*req*/,
                         pb::LeaseLeasesResponse* /*resp*/) {
  return NotYet("Lease.LeaseLeases");
}

grpc::Status LeaseService::LeaseGrant(grpc::ServerContext* ctx, const pb::LeaseGrantRequest* req,
                                      pb::LeaseGrantResponse* resp) {
  return etcd::LeaseGrant(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status LeaseService::LeaseRevoke(grpc::ServerContext* ctx,
                                       const pb::LeaseRevokeRequest* req,
                                       pb::LeaseRevokeResponse* resp) {
  return etcd::LeaseRevoke(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status LeaseService::LeaseKeepAlive(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<pb::LeaseKeepAliveResponse, pb::LeaseKeepAliveRequest>* /*stream*/) {
  // Not built yet: the stream ends at once with the method's answer.
  pb::LeaseKeepAliveRequest req;
  pb::LeaseKeepAliveResponse resp;
  return etcd::LeaseKeepAlive(*context_, MetadataOf(*ctx), req, &resp);
}

grpc::Status LeaseService::LeaseTimeToLive(grpc::ServerContext* ctx,
                                           const pb::LeaseTimeToLiveRequest* req,
                                           pb::LeaseTimeToLiveResponse* resp) {
  return etcd::LeaseTimeToLive(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status LeaseService::LeaseLeases(grpc::ServerContext* ctx,
                                       const pb::LeaseLeasesRequest* req,
                                       pb::LeaseLeasesResponse* resp) {
  return etcd::LeaseLeases(*context_, MetadataOf(*ctx), *req, resp);
}

}  // namespace chronoconf::etcd
