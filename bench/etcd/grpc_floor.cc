// grpc_floor: the least any etcd API server built on gRPC C++ can cost.
// It serves KV.Range and KV.Put through the same library, API (callback,
// DefaultReactor) and channel arguments as chronoconf's etcd server, and
// does nothing else: Range answers an empty RangeResponse, Put answers an
// empty PutResponse (nothing stored, nothing durable). Pointed at by
// bench/etcd/etcdbench.go in place of a server, it gives the ceiling that
// the gRPC stack and the load generator put on any server on this machine,
// to set beside issue 15's targets (docs/BENCHMARKS.md). Not a test.
//
//   build-release/bench/grpc_floor 127.0.0.1:23790
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <cstdio>
#include <memory>
#include <string>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace {

class FloorKv final : public etcdserverpb::KV::CallbackService {
  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::RangeRequest* /*req*/,
                                  etcdserverpb::RangeResponse* resp) override {
    resp->mutable_header()->set_revision(1);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx,
                                const etcdserverpb::PutRequest* /*req*/,
                                etcdserverpb::PutResponse* resp) override {
    resp->mutable_header()->set_revision(1);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: grpc_floor HOST:PORT\n");
    return 2;
  }
  FloorKv kv;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(argv[1], grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(&kv);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "grpc_floor: cannot listen on %s\n", argv[1]);
    return 1;
  }
  std::printf("grpc_floor: serving KV.Range and KV.Put on %s\n", argv[1]);
  std::fflush(stdout);
  server->Wait();
}
