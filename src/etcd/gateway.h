// JsonGateway: etcd's JSON gateway (grpc-gateway, as etcd 3.4 serves it on
// its client port) on chronoconf's main HTTP port (SPEC §7). A request body
// is etcd's request message in protobuf's JSON mapping (unknown fields
// ignored, an empty body is {}); it calls the same transport-free method
// as the gRPC service (methods.h) and answers etcd's response message in
// the same mapping, as etcd's gateway writes it: proto field names
// ("cluster_id", "clientURLs"), int64 as strings, bytes as base64, enums by
// name, default values left out. Errors have grpc-gateway's shape,
// {"error":...,"message":...,"code":N}, with the HTTP status grpc-gateway
// gives the code. POST /v3/watch streams one {"result":{...}} line per
// WatchResponse.
//
// Auth is etcd's: the token Authenticate hands out travels in the
// Authorization header (as etcd's gateway takes it; "Bearer <token>" is
// also taken), x-actor, x-reason and x-request-id as the gRPC metadata.
//
// Thread safety: any thread.
#ifndef CHRONOCONF_ETCD_GATEWAY_H_
#define CHRONOCONF_ETCD_GATEWAY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/etcd_context.h"
#include "http/etcd_gateway.h"

namespace chronoconf::etcd {

class JsonGateway final : public http::EtcdGateway {
 public:
  // `context` must outlive the gateway.
  explicit JsonGateway(const EtcdContext* context) : context_(context) {}

  Kind KindOf(std::string_view method) const override;
  std::string_view Label(std::string_view method) const override;
  void Call(const http::Request& req, std::string_view method,
            std::function<void(http::Response)> done) override;
  std::unique_ptr<http::GatewayStream> Open(const http::Request& req, std::string_view method,
                                            http::Response* refusal) override;
  http::Response Version() const override;
  http::Response Error(const Status& status) const override;

 private:
  const EtcdContext* context_;
};

// grpc-gateway's HTTP status for a gRPC code (runtime.HTTPStatusFromCode of
// the v1 gateway etcd 3.4 uses: FAILED_PRECONDITION is 412).
int HttpStatusForCode(grpc::StatusCode code);

// The values of a body that holds one JSON object after another (a
// streaming call's requests), as grpc-gateway's decoder reads them: up to
// the first that is not a whole object (then *rest_invalid is set).
std::vector<std::string_view> SplitJsonObjects(std::string_view body, bool* rest_invalid);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_GATEWAY_H_
