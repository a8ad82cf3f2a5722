// Status: the error value that crosses every module boundary (domain, store,
// app, projection, http). OK carries nothing; an error carries a Code that
// mirrors the error codes of SPEC §2.1, a human message, and the optional
// details a client needs (the conflicting key and versions, the failing op).
//
// Thread safety: a Status is a plain value; copy it freely.
#ifndef CHRONOCONF_COMMON_STATUS_H_
#define CHRONOCONF_COMMON_STATUS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <utility>

namespace chronoconf {

enum class Code {
  kOk,
  kInvalidKey,            // 400 invalid_key
  kInvalidJson,           // 400 invalid_json
  kInvalidRequest,        // 400 invalid_request
  kFutureRevision,        // 400 future_revision
  kCompacted,             // the etcd view only: below its compaction floor (SPEC §7)
  kUnauthorized,          // 401 unauthorized
  kForbidden,             // 403 forbidden
  kNotFound,              // 404 not_found
  kConflict,              // 409 version_conflict
  kTooLarge,              // 413 too_large
  kUnsupportedMediaType,  // 415 unsupported_media_type
  kUnavailable,           // 503 unavailable: the store cannot be reached
  kOutcomeUnknown,        // 503 outcome_unknown: COMMIT sent, its answer lost (SPEC §6)
  kTimeout,               // 504 timeout: min_revision not reached in time
  kSchemaViolation,       // 422 schema_violation: a value breaks a prefix's schema (SPEC §8)
  kSchemaConflict,        // 409 schema_conflict: current values break a schema being set
  kReviewRequired,        // 403 review_required: a non-admin write under a reviewed prefix
  kChangeClosed,          // 409 change_closed: the review change was applied or rejected
  kApprovalsMissing,      // 409 approvals_missing: a change applied before its approvals
  kCorruption,            // stored data breaks an invariant (verify)
  kInternal,              // a bug; 500
};

// What a version_conflict names (SPEC §2.1).
struct ConflictDetail {
  std::string key;
  int64_t expected_version = 0;  // 0 also for "must not exist" (If-None-Match: *)
  int64_t current_version = 0;
};

// One way a value breaks a schema (schema_violation, schema_conflict).
struct ValueFailure {
  std::string key;
  std::string prefix;   // the schema's prefix
  std::string pointer;  // RFC 6901, into the value
  std::string rule;     // the schema keyword that failed
  std::string message;

  bool operator==(const ValueFailure&) const = default;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status OK() { return {}; }
  static Status InvalidKey(std::string m) { return {Code::kInvalidKey, std::move(m)}; }
  static Status InvalidJson(std::string m) { return {Code::kInvalidJson, std::move(m)}; }
  static Status InvalidRequest(std::string m) { return {Code::kInvalidRequest, std::move(m)}; }
  static Status FutureRevision(std::string m) { return {Code::kFutureRevision, std::move(m)}; }
  static Status Compacted(std::string m) { return {Code::kCompacted, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status OutcomeUnknown(std::string m) { return {Code::kOutcomeUnknown, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Forbidden(std::string m) { return {Code::kForbidden, std::move(m)}; }
  static Status ReviewRequired(std::string m) { return {Code::kReviewRequired, std::move(m)}; }
  static Status ChangeClosed(std::string m) { return {Code::kChangeClosed, std::move(m)}; }
  static Status ApprovalsMissing(std::string m) { return {Code::kApprovalsMissing, std::move(m)}; }
  static Status Conflict(ConflictDetail d);
  static Status SchemaViolation(std::string m, std::vector<ValueFailure> failures);
  static Status SchemaConflict(std::string m, std::vector<ValueFailure> failures);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::optional<ConflictDetail>& conflict() const { return conflict_; }
  // A schema_violation's or schema_conflict's failures (empty otherwise).
  const std::vector<ValueFailure>& failures() const;
  // The index of the transaction op that failed, when there is one.
  const std::optional<int>& op_index() const { return op_index_; }
  Status& WithOpIndex(int i) {
    op_index_ = i;
    return *this;
  }
  Status& ClearOpIndex() {
    op_index_.reset();
    return *this;
  }
  Status& WithMessage(std::string m) {
    message_ = std::move(m);
    return *this;
  }
  std::string ToString() const;
  // Drops the status on purpose, where no one could act on it (a ROLLBACK
  // after an error that is already being returned). Greppable, unlike (void).
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::optional<ConflictDetail> conflict_;
  std::optional<int> op_index_;
  std::shared_ptr<const std::vector<ValueFailure>> failures_;  // shared: a Status is copied often
};

// The lowercase wire name of a code ("version_conflict").
const char* CodeName(Code code);

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_STATUS_H_
