// EtcdServer: the etcd v3 gRPC endpoint (`serve --etcd-listen ADDR`, SPEC §7)
// beside the HTTP server: HTTP/2 plaintext on ADDR, the services of
// services.h over one EtcdContext.
//
//   EtcdServer etcd(&projection, &commands, options);
//   if (Status s = etcd.Start(); !s.ok()) ...
//   ...                      // SIGTERM: the HTTP server's on_shutdown hook
//   etcd.BeginShutdown();    // stop taking calls, let those in flight finish
//   etcd.Wait();             // (for at most drain_timeout), then cancel them
//   commands.Stop();         // only now: in-flight Puts wait on the committer
//
// Thread safety: BeginShutdown may be called from any thread, more than once.
#ifndef CHRONOCONF_ETCD_ETCD_SERVER_H_
#define CHRONOCONF_ETCD_ETCD_SERVER_H_

#include <atomic>
#include <memory>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "etcd/etcd_context.h"

namespace grpc {
class Server;
}

namespace chronoconf::etcd {

class KvService;
class MaintenanceService;
class ClusterService;
class AuthService;
class LeaseService;
class WatchService;
class GenericMethods;

class EtcdServer {
 public:
  EtcdServer(Projection* projection, CommandService* commands, EtcdOptions options);
  ~EtcdServer();  // BeginShutdown + Wait
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // Binds options.listen and starts serving. Errors: kUnavailable when the
  // address cannot be bound.
  Status Start();
  // The port bound (useful with port 0).
  int port() const { return port_; }

  // Ends the watch streams (clients reconnect elsewhere) and stops accepting
  // calls; those in flight get drain_timeout to finish. Returns at once (the
  // shutdown runs on a thread of its own).
  void BeginShutdown();
  // Returns once the shutdown BeginShutdown started is over.
  void Wait();

 private:
  EtcdContext context_;
  std::unique_ptr<KvService> kv_;
  std::unique_ptr<MaintenanceService> maintenance_;
  std::unique_ptr<ClusterService> cluster_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<LeaseService> lease_;
  std::unique_ptr<WatchService> watch_;
  std::unique_ptr<GenericMethods> generic_;  // AuthStatus, and UNIMPLEMENTED for the rest
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  Mutex mu_;
  std::thread shutdown_ GUARDED_BY(mu_);
  bool shutting_down_ GUARDED_BY(mu_) = false;
};

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_ETCD_SERVER_H_
