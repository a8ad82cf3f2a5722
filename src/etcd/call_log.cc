#include "etcd/call_log.h"

#include <chrono>
#include <string>

#include <spdlog/spdlog.h>

#include "http/buffered_log.h"

namespace chronoconf::etcd {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "OTHER";
  }
}

class CallLog final : public grpc::experimental::Interceptor {
 public:
  CallLog(std::string method, http::Metrics* metrics)
      : method_(std::move(method)), metrics_(metrics) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      RecordEtcdCall(metrics_, method_, methods->GetSendStatus().error_code(), started_);
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  http::Metrics* metrics_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

class CallLogFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallLogFactory(http::Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (std::string_view(info->method()).starts_with(kSelfRecordingMethods)) return nullptr;
    return new CallLog(ShortMethodName(info->method()), metrics_);
  }

 private:
  http::Metrics* metrics_;
};

}  // namespace

std::string ShortMethodName(std::string_view full) {
  // "/etcdserverpb.KV/Range": the service after the package's '.', the method.
  if (full.starts_with('/')) full.remove_prefix(1);
  const size_t slash = full.find('/');
  if (slash == std::string_view::npos) return std::string(full);
  std::string_view service = full.substr(0, slash);
  if (size_t dot = service.rfind('.'); dot != std::string_view::npos) {
    service.remove_prefix(dot + 1);
  }
  return std::string(service) + "." + std::string(full.substr(slash + 1));
}

void RecordEtcdCall(http::Metrics* metrics, std::string_view method, grpc::StatusCode code,
                    std::chrono::steady_clock::time_point started) {
  const char* name = CodeName(code);
  if (metrics) metrics->ObserveEtcdRequest(method, name);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
          .count();
  // A server-side failure is a warning; a refused request is the client's.
  const bool ours = code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
                    code == grpc::StatusCode::DATA_LOSS;
  const auto level = ours ? spdlog::level::warn : spdlog::level::info;
  if (spdlog::should_log(level)) {
    http::AccessLogger().log(level, "etcd {} {} {:.3f}ms", method, name, ms);
  }
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewCallLogFactory(
    http::Metrics* metrics) {
  return std::make_unique<CallLogFactory>(metrics);
}

}  // namespace chronoconf::etcd
