// The payloads of the review events (SPEC §8, domain/events.h): what a
// ChangeProposed records and how it is read back. The ops are recorded as
// POST /v1/txn takes them, each with the version its key had when the change
// was proposed (`base_version`), which apply checks again.
#ifndef CHRONOCONF_DOMAIN_REVIEW_CHANGE_H_
#define CHRONOCONF_DOMAIN_REVIEW_CHANGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "domain/commands.h"

namespace chronoconf {

// A change as proposed.
struct ProposedChange {
  int64_t id = 0;
  int64_t base_revision = 0;       // the revision it was decided at
  std::vector<Op> ops;             // as proposed, expectations included
  std::vector<int64_t> base_versions;  // [i]: ops[i]'s key's version then (0: no events)
  std::string ops_json;            // the "ops" member as recorded
};

// {"id":N,"base_revision":R,"ops":[{"op":"set","key":K,"value":V,
// "expected_version":E?,"absent":true?,"base_version":B},...]}.
// REQUIRES: base_versions.size() == ops.size().
std::string ChangeProposedPayload(int64_t id, int64_t base_revision, const std::vector<Op>& ops,
                                  const std::vector<int64_t>& base_versions);
// Reads a ChangeProposed payload back. Errors: kCorruption when it is not one.
Result<ProposedChange> ParseChangeProposed(std::string_view payload);

// {"id":N}: an approval or a rejection.
std::string ChangeReviewPayload(int64_t id);
// {"id":N,"approvers":[A,...]}.
std::string ChangeAppliedPayload(int64_t id, const std::vector<std::string>& approvers);

// {"prefix":P,"approvals":N} (a set) or {"prefix":P} (a delete).
std::string PolicyPayload(std::string_view prefix, std::optional<int64_t> approvals);

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_REVIEW_CHANGE_H_
