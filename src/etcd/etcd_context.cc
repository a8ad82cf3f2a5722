#include "etcd/etcd_context.h"

#include "etcd/errors.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"

namespace chronoconf::etcd {

// FNV-1a, 64 bits: a stable id from a name (never 0, which etcd reads as
// "no member").
uint64_t MemberIdOf(std::string_view name) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h;
}

EtcdContext::EtcdContext(Projection* projection, CommandService* commands, EtcdOptions options)
    : projection_(projection),
      commands_(commands),
      options_(std::move(options)),
      // One cluster: every node that shares the store reports the same id.
      cluster_id_(MemberIdOf("chronoconf")),
      member_id_(MemberIdOf(options_.node)) {}

grpc::Status EtcdContext::CheckCompacted(int64_t revision) const {
  if (!options_.floor) return grpc::Status::OK;
  return options_.floor->Check(revision, projection_->head());
}

grpc::Status EtcdContext::CurrentFloor(int64_t* out) const {
  *out = 0;
  if (!options_.floor) return grpc::Status::OK;
  return options_.floor->Current(out);
}

grpc::Status EtcdContext::Compact(int64_t revision) const {
  if (revision > projection_->head()) return rpctypes::FutureRev();
  if (!options_.floor) return grpc::Status::OK;
  return options_.floor->Compact(revision, projection_->head());
}

grpc::Status EtcdContext::Admit(const CallMetadata& md, http::Role needed, Caller* out) const {
  auto table = auth();
  if (grpc::Status s = IdentifyCaller(md, table.get(), needed, out); !s.ok()) return s;
  if (options_.ready && !options_.ready()) {
    return {grpc::StatusCode::UNAVAILABLE,
            "etcdserver: the read model is catching up with the store"};
  }
  return grpc::Status::OK;
}

void EtcdContext::FillHeader(int64_t revision, etcdserverpb::ResponseHeader* header) const {
  header->set_cluster_id(cluster_id_);
  header->set_member_id(member_id_);
  header->set_revision(revision);
  header->set_raft_term(1);
}

}  // namespace chronoconf::etcd
