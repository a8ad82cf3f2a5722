// Lease (SPEC §7): leases are events (domain/system_stream.h), deadlines are
// the LeaseKeeper's. Grant and Revoke are commands on the one write path;
// KeepAlive, TimeToLive and Leases read the keeper and the read model.
//
// Auth, as etcd 3.4's authApplier: any caller with a role may grant, keep
// alive and read leases; a revoke needs write access to every key the lease
// holds (etcd's checkLeasePuts), since it deletes them.
#include <random>

#include "domain/system_stream.h"
#include "etcd/errors.h"
#include "etcd/methods.h"
#include "etcd/services.h"

namespace chronoconf::etcd {
namespace {

// etcd 3.4's bounds: lessor.MaxLeaseTTL, and the minimum its server derives
// from the election timeout (1.5 x 1 s, rounded up).
constexpr int64_t kMaxLeaseTtl = 9000000000;
constexpr int64_t kMinLeaseTtl = 2;

grpc::Status LeaseExists() {
  return {grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: lease already exists"};
}
grpc::Status TtlTooLarge() {
  return {grpc::StatusCode::OUT_OF_RANGE, "etcdserver: too large lease TTL"};
}
grpc::Status LeasesOff() {
  return {grpc::StatusCode::UNAVAILABLE, "etcdserver: leases are off on this node"};
}

// A server-chosen id: positive, random (etcd's are too), not in use.
int64_t NewLeaseId(const Projection& projection) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  while (true) {
    const auto id = static_cast<int64_t>(rng() >> 1);
    if (id != 0 && !projection.Lease(id)) return id;
  }
}

bool CoversKeys(const KeyScope& scope, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    if (!scope.Contains(k)) return false;
  }
  return true;
}

}  // namespace

grpc::Status LeaseGrant(const EtcdContext& context, const CallMetadata& md,
                        const pb::LeaseGrantRequest& req, pb::LeaseGrantResponse* resp) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kRead, &caller); !s.ok()) return s;
  LeaseKeeper* keeper = context.options().leases;
  if (!keeper) return LeasesOff();
  if (req.ttl() > kMaxLeaseTtl) return TtlTooLarge();
  const int64_t ttl = std::max(req.ttl(), kMinLeaseTtl);
  const bool chosen = req.id() == 0;
  for (int attempt = 0;; ++attempt) {
    LeaseChange grant;
    grant.kind = LeaseChange::Kind::kGrant;
    grant.id = chosen ? NewLeaseId(context.projection()) : req.id();
    grant.ttl = ttl;
    grant.meta = caller.meta;
    const int64_t id = grant.id;
    CommandResult r = context.commands().Execute(std::move(grant));
    if (r.status.ok()) {
      keeper->Track(id, ttl);
      context.FillHeader(r.revision, resp->mutable_header());
      resp->set_id(id);
      resp->set_ttl(ttl);
      return grpc::Status::OK;
    }
    if (r.status.message() != "lease already exists") return ToGrpc(r.status);
    if (!chosen || attempt > 3) return LeaseExists();
  }
}

grpc::Status LeaseRevoke(const EtcdContext& context, const CallMetadata& md,
                         const pb::LeaseRevokeRequest& req, pb::LeaseRevokeResponse* resp) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kWrite, &caller); !s.ok()) return s;
  if (!context.options().leases) return LeasesOff();
  std::optional<LeaseInfo> info = context.projection().Lease(req.id());
  if (!info) return rpctypes::LeaseNotFound();
  if (!CoversKeys(caller.principal.scope, info->keys)) return rpctypes::PermissionDenied();
  LeaseChange revoke;
  revoke.kind = LeaseChange::Kind::kRevoke;
  revoke.id = req.id();
  revoke.meta = caller.meta;
  CommandResult r = context.commands().Execute(std::move(revoke));
  if (!r.status.ok()) return ToGrpc(r.status);
  context.FillHeader(r.revision, resp->mutable_header());
  return grpc::Status::OK;
}

grpc::Status LeaseKeepAlive(const EtcdContext& context, const CallMetadata& md,
                            const pb::LeaseKeepAliveRequest& req,
                            pb::LeaseKeepAliveResponse* resp) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kRead, &caller); !s.ok()) return s;
  LeaseKeeper* keeper = context.options().leases;
  if (!keeper) return LeasesOff();
  // etcd answers an unknown lease with TTL 0, not an error.
  std::optional<int64_t> ttl = keeper->KeepAlive(req.id());
  context.FillHeader(context.projection().head(), resp->mutable_header());
  resp->set_id(req.id());
  resp->set_ttl(ttl.value_or(0));
  return grpc::Status::OK;
}

grpc::Status LeaseTimeToLive(const EtcdContext& context, const CallMetadata& md,
                             const pb::LeaseTimeToLiveRequest& req,
                             pb::LeaseTimeToLiveResponse* resp) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kRead, &caller); !s.ok()) return s;
  LeaseKeeper* keeper = context.options().leases;
  if (!keeper) return LeasesOff();
  context.FillHeader(context.projection().head(), resp->mutable_header());
  resp->set_id(req.id());
  std::optional<LeaseInfo> info = context.projection().Lease(req.id());
  std::optional<int64_t> left = info ? keeper->Remaining(req.id()) : std::nullopt;
  if (!info) {
    resp->set_ttl(-1);  // etcd: an unknown lease is TTL -1, not an error
    return grpc::Status::OK;
  }
  resp->set_ttl(left.value_or(info->ttl));
  resp->set_grantedttl(info->ttl);
  if (req.keys()) {
    for (const std::string& k : info->keys) resp->add_keys(k);
  }
  return grpc::Status::OK;
}

grpc::Status LeaseLeases(const EtcdContext& context, const CallMetadata& md,
                         const pb::LeaseLeasesRequest& /*req*/, pb::LeaseLeasesResponse* resp) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kRead, &caller); !s.ok()) return s;
  if (!context.options().leases) return LeasesOff();
  context.FillHeader(context.projection().head(), resp->mutable_header());
  for (const LeaseInfo& l : context.projection().Leases()) resp->add_leases()->set_id(l.id);
  return grpc::Status::OK;
}

// ---------------------------------------------------------------- gRPC

grpc::Status LeaseService::LeaseGrant(grpc::ServerContext* ctx, const pb::LeaseGrantRequest* req,
                                      pb::LeaseGrantResponse* resp) {
  return etcd::LeaseGrant(*context_, MetadataOf(*ctx), *req, resp);
}

grpc::Status LeaseService::LeaseRevoke(grpc::ServerContext* ctx,
                                       const pb::LeaseRevokeRequest* req,
                                       pb::LeaseRevokeResponse* resp) {
  return etcd::LeaseRevoke(*context_, MetadataOf(*ctx), *req, resp);
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

namespace {

// One keep-alive stream on gRPC's callback API: read a request, write its
// answer, read the next; one operation in flight, no thread of its own.
class KeepAliveStream final
    : public grpc::ServerBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse> {
 public:
  KeepAliveStream(const EtcdContext* context, grpc::CallbackServerContext* ctx)
      : context_(context), md_(MetadataOf(*ctx)) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side
      Finish(grpc::Status::OK);
      return;
    }
    out_.Clear();
    grpc::Status s = etcd::LeaseKeepAlive(*context_, md_, in_, &out_);
    if (!s.ok()) {
      Finish(s);
      return;
    }
    StartWrite(&out_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    StartRead(&in_);
  }
  void OnDone() override { delete this; }

 private:
  const EtcdContext* context_;
  CallMetadata md_;
  pb::LeaseKeepAliveRequest in_;
  pb::LeaseKeepAliveResponse out_;
};

}  // namespace

grpc::ServerBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>*
LeaseService::LeaseKeepAlive(grpc::CallbackServerContext* ctx) {
  return new KeepAliveStream(context_, ctx);
}

}  // namespace chronoconf::etcd
