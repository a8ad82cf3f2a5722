#include "etcd/etcd_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "etcd/auth_status.h"
#include "etcd/call_log.h"
#include "etcd/services.h"
#include "etcd/watch_service.h"

namespace chronoconf::etcd {

EtcdServer::EtcdServer(Projection* projection, CommandService* commands, EtcdOptions options)
    : context_(projection, commands, std::move(options)),
      kv_(std::make_unique<KvService>(&context_)),
      maintenance_(std::make_unique<MaintenanceService>(&context_)),
      cluster_(std::make_unique<ClusterService>(&context_)),
      auth_(std::make_unique<AuthService>(&context_)),
      lease_(std::make_unique<LeaseService>(&context_)),
      watch_(std::make_unique<WatchService>(&context_)),
      generic_(std::make_unique<GenericMethods>(&context_)) {}

EtcdServer::~EtcdServer() {
  BeginShutdown();
  Wait();
}

Status EtcdServer::Start() {
  const EtcdOptions& o = context_.options();
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!o.tls_cert_pem.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({o.tls_key_pem, o.tls_cert_pem});
    credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(o.listen, credentials, &port_);
  builder.SetMaxReceiveMessageSize(o.max_request_bytes);
  // etcd's clients ping every few seconds (etcdctl: --keepalive-time 2s);
  // gRPC's default policy would answer a long watch's pings with GOAWAY.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> hooks;
  hooks.push_back(NewCallLogFactory(o.metrics));
  builder.experimental().SetInterceptorCreators(std::move(hooks));
  builder.RegisterService(kv_.get());
  builder.RegisterService(maintenance_.get());
  builder.RegisterService(cluster_.get());
  builder.RegisterService(auth_.get());
  builder.RegisterService(lease_.get());
  builder.RegisterService(watch_.get());
  builder.RegisterCallbackGenericService(generic_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    return Status::Unavailable(fmt::format("cannot listen on --etcd-listen {}", o.listen));
  }
  return Status::OK();
}

void EtcdServer::BeginShutdown() {
  MutexLock lock(&mu_);
  if (shutting_down_ || !server_) return;
  shutting_down_ = true;
  shutdown_ = std::thread([this] {
    watch_->Stop();  // streams never end by themselves: end them first
    const auto deadline = std::chrono::system_clock::now() + context_.options().drain_timeout;
    server_->Shutdown(deadline);  // returns once every call is finished or cancelled
    spdlog::info("etcd API stopped");
  });
}

void EtcdServer::Wait() {
  std::thread t;
  {
    MutexLock lock(&mu_);
    t = std::move(shutdown_);
  }
  if (t.joinable()) t.join();
  if (server_) server_->Wait();
}

}  // namespace chronoconf::etcd
