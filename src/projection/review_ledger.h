// ReviewLedger: the review policies and review changes of SPEC §8, folded
// from their events for the read model (Projection owns one, under its
// lock). Policies are kept by revision, as schemas are, so they read at any
// revision; a change is kept as it is now, with every review it had.
//
// Thread safety: none; the Projection guards it. Records handed out are
// immutable (a fold replaces a change's record), so they outlive the lock.
#ifndef CHRONOCONF_PROJECTION_REVIEW_LEDGER_H_
#define CHRONOCONF_PROJECTION_REVIEW_LEDGER_H_

#include <cstdint>
#include <array>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/events.h"
#include "domain/review_change.h"

namespace chronoconf {

// A prefix's review policy (SPEC §8).
struct PolicyInForce {
  std::string prefix;
  int64_t approvals = 0;
  int64_t revision = 0;  // the commit that set it
  std::string set_by;
};

// One review of a change.
struct ChangeReview {
  std::string actor;
  bool approve = true;
  std::optional<std::string> comment;  // the review commit's reason
  int64_t revision = 0;
  int64_t time_us = 0;
};

// A review change and everything that happened to it.
struct ChangeRecord {
  enum class State { kOpen, kApplied, kRejected };
  ProposedChange proposal;
  std::string proposer;
  std::optional<std::string> reason;
  int64_t proposed_revision = 0;
  int64_t proposed_at_us = 0;
  std::vector<ChangeReview> reviews;
  State state = State::kOpen;
  int64_t closed_revision = 0;  // the commit that applied or rejected it
  std::string applied_by;
  int64_t version = 0;  // events in its stream

  // The actors who approved it, in order, each once.
  std::vector<std::string> Approvers() const;
};

const char* ChangeStateName(ChangeRecord::State state);

// What a commit says about an event the ledger folds.
struct FoldedCommit {
  int64_t revision = 0;
  int64_t time_us = 0;
  std::string_view actor;
  std::optional<std::string_view> reason;
};

class ReviewLedger {
 public:
  // Folds one event of `stream` (any stream; others are ignored).
  void Fold(std::string_view stream, EventType type, std::string_view value,
            const FoldedCommit& commit);

  std::vector<std::shared_ptr<const PolicyInForce>> Policies(int64_t at) const;
  std::shared_ptr<const ChangeRecord> Change(int64_t id) const;
  // Up to `max` changes with ids below `before`, newest first; only those
  // in state `only` when given. Costs what it returns: each state keeps
  // its own index of ids.
  std::vector<std::shared_ptr<const ChangeRecord>> Changes(
      int64_t before, size_t max, std::optional<ChangeRecord::State> only) const;
  // The id the next proposal takes: one above the highest ever proposed.
  int64_t NextChangeId() const { return changes_.empty() ? 1 : changes_.rbegin()->first + 1; }
  bool has_policies() const { return !policies_.empty(); }

 private:
  // prefix -> (revision, policy then; null: deleted then), by revision.
  std::map<std::string, std::vector<std::pair<int64_t, std::shared_ptr<const PolicyInForce>>>,
           std::less<>>
      policies_;
  std::map<int64_t, std::shared_ptr<const ChangeRecord>> changes_;
  std::array<std::set<int64_t>, 3> ids_by_state_;  // indexed by ChangeRecord::State
};

}  // namespace chronoconf

#endif  // CHRONOCONF_PROJECTION_REVIEW_LEDGER_H_
