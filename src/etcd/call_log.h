// One gRPC server interceptor for every etcd call: counts it in
// chronoconf_etcd_requests_total{method,code} and writes its access line
// (method, gRPC code, latency; never a token), as the HTTP server does for
// each request. A watch stream is one call, logged when it ends.
#ifndef CHRONOCONF_ETCD_CALL_LOG_H_
#define CHRONOCONF_ETCD_CALL_LOG_H_

#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "http/metrics.h"

namespace chronoconf::etcd {

// "/etcdserverpb.KV/Range" -> "KV.Range".
std::string ShortMethodName(std::string_view full);

// `metrics` may be null (then only the log line); it must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewCallLogFactory(
    http::Metrics* metrics);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_CALL_LOG_H_
