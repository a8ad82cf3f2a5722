// Every etcd call, over gRPC or the JSON gateway, is counted in
// chronoconf_etcd_requests_total{method,code} and gets one access line
// (method, gRPC code, latency; never a token), as the HTTP server does for
// each request: gRPC's through one server interceptor, except KV's unary
// methods, which call RecordEtcdCall themselves (kv_service.cc: an
// interceptor costs about an eighth of a Range's CPU); the gateway's through
// RecordEtcdCall. A watch stream is one call, logged when it ends.
#ifndef CHRONOCONF_ETCD_CALL_LOG_H_
#define CHRONOCONF_ETCD_CALL_LOG_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/support/server_interceptor.h>

#include "http/metrics.h"

namespace chronoconf::etcd {

// "/etcdserverpb.KV/Range" -> "KV.Range".
std::string ShortMethodName(std::string_view full);

// Counts and logs one finished call of `method` ("KV.Range") begun at
// `started`. `metrics` may be null.
void RecordEtcdCall(http::Metrics* metrics, std::string_view method, grpc::StatusCode code,
                    std::chrono::steady_clock::time_point started);

// The prefix of the methods that record themselves, not intercepted.
inline constexpr std::string_view kSelfRecordingMethods = "/etcdserverpb.KV/";

// `metrics` may be null (then only the log line); it must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewCallLogFactory(
    http::Metrics* metrics);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_CALL_LOG_H_
