// Lease: the next issue (leases as events). Until then every method says so.
#include "etcd/errors.h"
#include "etcd/services.h"

namespace chronoconf::etcd {
namespace {

grpc::Status NotYet(const char* method) {
  return Unimplemented(method, "leases are not built yet; a key lives until it is deleted");
}

}  // namespace

grpc::Status LeaseService::LeaseGrant(grpc::ServerContext* /*ctx*/,
                                      const pb::LeaseGrantRequest* /*req*/,
                                      pb::LeaseGrantResponse* /*resp*/) {
  return NotYet("Lease.LeaseGrant");
}

grpc::Status LeaseService::LeaseRevoke(grpc::ServerContext* /*ctx*/,
                                       const pb::LeaseRevokeRequest* /*req*/,
                                       pb::LeaseRevokeResponse* /*resp*/) {
  return NotYet("Lease.LeaseRevoke");
}

grpc::Status LeaseService::LeaseKeepAlive(
    grpc::ServerContext* /*ctx*/,
    grpc::ServerReaderWriter<pb::LeaseKeepAliveResponse, pb::LeaseKeepAliveRequest>* /*stream*/) {
  return NotYet("Lease.LeaseKeepAlive");
}

grpc::Status LeaseService::LeaseTimeToLive(grpc::ServerContext* /*ctx*/,
                                           const pb::LeaseTimeToLiveRequest* /*req*/,
                                           pb::LeaseTimeToLiveResponse* /*resp*/) {
  return NotYet("Lease.LeaseTimeToLive");
}

grpc::Status LeaseService::LeaseLeases(grpc::ServerContext* /*ctx*/,
                                       const pb::LeaseLeasesRequest* /*req*/,
                                       pb::LeaseLeasesResponse* /*resp*/) {
  return NotYet("Lease.LeaseLeases");
}

}  // namespace chronoconf::etcd
