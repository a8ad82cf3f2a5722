#include "etcd/errors.h"

#include <string>

#include <fmt/format.h>

namespace chronoconf::etcd {

namespace rpctypes {
namespace {
grpc::Status Make(grpc::StatusCode code, const char* text) { return {code, text}; }
}  // namespace

grpc::Status EmptyKey() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided");
}
grpc::Status KeyNotFound() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key not found");
}
grpc::Status ValueProvided() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: value is provided");
}
grpc::Status LeaseProvided() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: lease is provided");
}
grpc::Status TooManyOps() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT,
              "etcdserver: too many operations in txn request");
}
grpc::Status DuplicateKey() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT,
              "etcdserver: duplicate key given in txn request");
}
grpc::Status FutureRev() {
  return Make(grpc::StatusCode::OUT_OF_RANGE,
              "etcdserver: mvcc: required revision is a future revision");
}
grpc::Status Compacted() {
  return Make(grpc::StatusCode::OUT_OF_RANGE,
              "etcdserver: mvcc: required revision has been compacted");
}
grpc::Status AuthPermissionDenied() {
  return Make(grpc::StatusCode::UNKNOWN, "auth: permission denied");
}
std::string WatchCancelReason(const grpc::Status& status) {
  // grpc-go's codes.Code.String() for the codes a refusal can have.
  const char* code = "Unknown";
  switch (status.error_code()) {
    case grpc::StatusCode::PERMISSION_DENIED: code = "PermissionDenied"; break;
    case grpc::StatusCode::INVALID_ARGUMENT: code = "InvalidArgument"; break;
    case grpc::StatusCode::UNAUTHENTICATED: code = "Unauthenticated"; break;
    case grpc::StatusCode::UNAVAILABLE: code = "Unavailable"; break;
    default: break;
  }
  return "rpc error: code = " + std::string(code) + " desc = " + status.error_message();
}
grpc::Status LeaseNotFound() {
  return Make(grpc::StatusCode::NOT_FOUND, "etcdserver: requested lease not found");
}
grpc::Status RequestTooLarge() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: request is too large");
}
grpc::Status UserEmpty() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: user name is empty");
}
grpc::Status AuthFailed() {
  return Make(grpc::StatusCode::INVALID_ARGUMENT,
              "etcdserver: authentication failed, invalid user ID or password");
}
grpc::Status PermissionDenied() {
  return Make(grpc::StatusCode::PERMISSION_DENIED, "etcdserver: permission denied");
}
grpc::Status AuthNotEnabled() {
  return Make(grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: authentication is not enabled");
}
grpc::Status InvalidAuthToken() {
  return Make(grpc::StatusCode::UNAUTHENTICATED, "etcdserver: invalid auth token");
}
grpc::Status Stopped() {
  return Make(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped");
}
grpc::Status Timeout() {
  return Make(grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out");
}
}  // namespace rpctypes

grpc::Status NotUtf8Value() {
  return {grpc::StatusCode::INVALID_ARGUMENT,
          "etcdserver: chronoconf stores text values; this value is not valid UTF-8"};
}

grpc::Status Unimplemented(std::string_view method, std::string_view instead) {
  return {grpc::StatusCode::UNIMPLEMENTED,
          fmt::format("etcdserver: chronoconf does not implement {}: {}", method, instead)};
}

grpc::Status ToGrpc(const Status& status) {
  const std::string message = "etcdserver: " + status.message();
  switch (status.code()) {
    case Code::kOk:
      return grpc::Status::OK;
    case Code::kFutureRevision:
      return rpctypes::FutureRev();
    case Code::kCompacted:
      return rpctypes::Compacted();
    case Code::kTooLarge:
      return rpctypes::RequestTooLarge();
    case Code::kUnauthorized:
      return rpctypes::InvalidAuthToken();
    case Code::kForbidden:
      return rpctypes::PermissionDenied();
    case Code::kTimeout:
      return rpctypes::Timeout();
    case Code::kUnavailable:
    case Code::kOutcomeUnknown:
      // Clients retry UNAVAILABLE; keep the reason (store down, shutting
      // down, or a commit whose outcome is unknown: etcd answers that case
      // with a timeout, also UNAVAILABLE).
      return {grpc::StatusCode::UNAVAILABLE, message};
    case Code::kInvalidKey:
    case Code::kInvalidJson:
    case Code::kInvalidRequest:
      return {grpc::StatusCode::INVALID_ARGUMENT, message};
    case Code::kSchemaViolation:  // the message names the key, the place and the rule
    case Code::kSchemaConflict:
    case Code::kChangeClosed:
    case Code::kApprovalsMissing:
      return {grpc::StatusCode::FAILED_PRECONDITION, message};
    case Code::kReviewRequired:  // the message says to propose it on the native API
      return {grpc::StatusCode::PERMISSION_DENIED, message};
    case Code::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, message};
    case Code::kConflict:
      // Only when other nodes kept moving a key past every retry.
      return {grpc::StatusCode::ABORTED, message};
    case Code::kUnsupportedMediaType:
    case Code::kCorruption:
    case Code::kInternal:
      break;
  }
  return {grpc::StatusCode::INTERNAL, message};
}

}  // namespace chronoconf::etcd
