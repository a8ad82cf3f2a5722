// Auth.AuthStatus (SPEC §7). etcd 3.5 added it; etcd 3.4's rpc.proto, the one
// Debian ships and our code is generated from, does not declare it, so it is
// served as a generic gRPC method with its small answer encoded here. Every
// other method that no service declares answers UNIMPLEMENTED in grpc-go's
// words, as etcd does.
#ifndef CHRONOCONF_ETCD_AUTH_STATUS_H_
#define CHRONOCONF_ETCD_AUTH_STATUS_H_

#include <grpcpp/generic/async_generic_service.h>

#include <string>

#include "etcd/etcd_context.h"

namespace chronoconf::etcd {

inline constexpr const char* kAuthStatusMethod = "/etcdserverpb.Auth/AuthStatus";

// AuthStatusResponse {header = 1, enabled = 2, authRevision = 3} in
// protobuf's wire format.
std::string EncodeAuthStatus(const etcdserverpb::ResponseHeader& header, bool enabled,
                             uint64_t auth_revision);

class GenericMethods final : public grpc::CallbackGenericService {
 public:
  explicit GenericMethods(const EtcdContext* context) : context_(context) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  const EtcdContext* context_;
};

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_AUTH_STATUS_H_
