#include "common/status.h"

#include <fmt/format.h>

namespace chronoconf {

Status Status::Conflict(ConflictDetail d) {
  std::string msg = fmt::format("key '{}' is at version {}, not the expected version {}", d.key,
                                d.current_version, d.expected_version);
  Status s(Code::kConflict, std::move(msg));
  s.conflict_ = std::move(d);
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return fmt::format("{}: {}", CodeName(code_), message_);
}

Status Status::SchemaViolation(std::string m, std::vector<ValueFailure> failures) {
  Status s(Code::kSchemaViolation, std::move(m));
  s.failures_ = std::make_shared<const std::vector<ValueFailure>>(std::move(failures));
  return s;
}

Status Status::SchemaConflict(std::string m, std::vector<ValueFailure> failures) {
  Status s(Code::kSchemaConflict, std::move(m));
  s.failures_ = std::make_shared<const std::vector<ValueFailure>>(std::move(failures));
  return s;
}

const std::vector<ValueFailure>& Status::failures() const {
  static const std::vector<ValueFailure> kNone;
  return failures_ ? *failures_ : kNone;
}

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidKey: return "invalid_key";
    case Code::kInvalidJson: return "invalid_json";
    case Code::kInvalidRequest: return "invalid_request";
    case Code::kFutureRevision: return "future_revision";
    case Code::kCompacted: return "compacted";
    case Code::kUnauthorized: return "unauthorized";
    case Code::kForbidden: return "forbidden";
    case Code::kNotFound: return "not_found";
    case Code::kConflict: return "version_conflict";
    case Code::kTooLarge: return "too_large";
    case Code::kUnsupportedMediaType: return "unsupported_media_type";
    case Code::kUnavailable: return "unavailable";
    case Code::kOutcomeUnknown: return "outcome_unknown";
    case Code::kTimeout: return "timeout";
    case Code::kSchemaViolation: return "schema_violation";
    case Code::kSchemaConflict: return "schema_conflict";
    case Code::kReviewRequired: return "review_required";
    case Code::kChangeClosed: return "change_closed";
    case Code::kApprovalsMissing: return "approvals_missing";
    case Code::kCorruption: return "corruption";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace chronoconf
