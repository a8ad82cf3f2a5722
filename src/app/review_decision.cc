#include "app/review_decision.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "domain/review_change.h"
#include "domain/system_stream.h"

namespace chronoconf {
namespace {

// Appends `commit` as the decision's commit and folds its events into the
// overlay.
BatchDecision Commit(CommitData commit, std::unordered_map<std::string, KeyState>* overlay,
                     std::vector<CommitData>* commits) {
  BatchDecision d;
  for (const Event& e : commit.events) KeyAggregate::Apply((*overlay)[e.key], e);
  d.changed = {true};
  d.commit_index = static_cast<int>(commits->size());
  commits->push_back(std::move(commit));
  return d;
}

BatchDecision Refused(Status status) {
  BatchDecision d;
  d.status = std::move(status);
  return d;
}

// The next event of system stream `stream` (its state from `lookup`).
Event NextEvent(EventType type, const std::string& stream, const KeyState& state,
                std::string value) {
  return Event{type, stream, state.version + 1, std::move(value),
               state.exists ? std::optional<std::string>(state.value) : std::nullopt};
}

// The open change `id`, or why it cannot be reviewed or applied.
Result<std::shared_ptr<const ChangeRecord>> OpenChange(const Projection& projection, int64_t id) {
  auto change = projection.Change(id);
  if (!change) return Status::NotFound(fmt::format("change {} does not exist", id));
  if (change->state != ChangeRecord::State::kOpen) {
    return Status::ChangeClosed(fmt::format("change {} was {} at revision {}", id,
                                            ChangeStateName(change->state),
                                            change->closed_revision));
  }
  return change;
}

}  // namespace

BatchDecision DecidePolicy(const PolicyChange& cmd, const Projection& projection, int64_t at,
                           const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                           std::vector<CommitData>* commits) {
  std::optional<int64_t> current;
  for (const auto& p : projection.Policies(at)) {
    if (p->prefix == cmd.prefix) current = p->approvals;
  }
  const bool exists = current.has_value();
  if (!cmd.approvals && !exists) {
    return Refused(Status::NotFound(fmt::format("prefix '{}' has no review policy", cmd.prefix)));
  }
  if (cmd.approvals && current == cmd.approvals) {
    BatchDecision same;
    same.changed = {false};  // the policy in force already: a no-op (SPEC §1)
    return same;
  }
  const std::string stream(kPoliciesStream);
  CommitData commit{cmd.meta, {}, {}};
  commit.events.push_back(NextEvent(cmd.approvals ? EventType::kPolicySet
                                                  : EventType::kPolicyDeleted,
                                    stream, lookup(stream), PolicyPayload(cmd.prefix, cmd.approvals)));
  BatchDecision d = Commit(std::move(commit), overlay, commits);
  d.created = cmd.approvals && !exists;
  return d;
}

BatchDecision DecideProposal(const ProposeChange& cmd, const Projection& projection, int64_t at,
                             const Lookup& lookup,
                             std::unordered_map<std::string, KeyState>* overlay,
                             std::vector<CommitData>* commits) {
  // Decided as the write would be now, into scratch: nothing of it commits.
  Transaction trial = cmd.txn;
  trial.meta.needs_review = false;
  std::unordered_map<std::string, KeyState> scratch;
  std::vector<CommitData> scratch_commits;
  BatchDecision tried =
      DecideWrite(std::move(trial), projection, at, lookup, &scratch, &scratch_commits);
  if (!tried.status.ok()) return Refused(std::move(tried.status));
  if (tried.commit_index < 0) {
    return Refused(Status::InvalidRequest(
        "the proposed ops change nothing: every key already is as they would make it"));
  }
  int64_t id = projection.NextChangeId();
  while (lookup(ChangeStream(id)).version > 0) ++id;  // taken in this batch
  std::vector<int64_t> base_versions;
  CommitData commit{cmd.txn.meta, {}, {}};
  for (const Op& op : cmd.txn.ops) {
    base_versions.push_back(lookup(OpKey(op)).version);
    // Recorded as they are now: the store refuses the proposal if another
    // node moved one meanwhile (and it is decided again).
    commit.reads.push_back({OpKey(op), base_versions.back()});
  }
  const std::string stream = ChangeStream(id);
  commit.events.push_back(NextEvent(EventType::kChangeProposed, stream, lookup(stream),
                                    ChangeProposedPayload(id, at, cmd.txn.ops, base_versions)));
  BatchDecision d = Commit(std::move(commit), overlay, commits);
  d.created = true;
  return d;
}

BatchDecision DecideReview(const ReviewChange& cmd, const Projection& projection,
                           const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                           std::vector<CommitData>* commits) {
  auto change = OpenChange(projection, cmd.id);
  if (!change) return Refused(change.status());
  const ChangeRecord& c = **change;
  if (cmd.approve && cmd.meta.actor == c.proposer) {
    return Refused(Status::Forbidden(fmt::format(
        "change {} was proposed by '{}', who cannot approve it: another actor must", cmd.id,
        c.proposer)));
  }
  if (cmd.approve) {
    auto approvers = c.Approvers();
    if (std::find(approvers.begin(), approvers.end(), cmd.meta.actor) != approvers.end()) {
      BatchDecision d;  // approved once already: an approval counts once
      d.changed = {false};
      return d;
    }
  }
  const std::string stream = ChangeStream(cmd.id);
  CommitData commit{cmd.meta, {}, {}};
  commit.events.push_back(NextEvent(cmd.approve ? EventType::kChangeApproved
                                                : EventType::kChangeRejected,
                                    stream, lookup(stream), ChangeReviewPayload(cmd.id)));
  return Commit(std::move(commit), overlay, commits);
}

BatchDecision DecideApply(const ApplyChange& cmd, const Projection& projection, int64_t at,
                          const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                          std::vector<CommitData>* commits) {
  auto change = OpenChange(projection, cmd.id);
  if (!change) return Refused(change.status());
  const ChangeRecord& c = **change;
  const ProposedChange& p = c.proposal;
  // The approvals every policy over its keys requires now, from actors other
  // than the proposer (an approver's token covers every key of the change).
  const std::vector<std::string> approvers = c.Approvers();
  for (const Op& op : p.ops) {
    for (const auto& policy : projection.PoliciesCovering(OpKey(op), at)) {
      if (static_cast<int64_t>(approvers.size()) >= policy->approvals) continue;
      return Refused(Status::ApprovalsMissing(fmt::format(
          "change {} has {} approval(s); prefix '{}' (key '{}') requires {}", cmd.id,
          approvers.size(), policy->prefix, OpKey(op), policy->approvals)));
    }
  }
  // None of its keys moved since it was proposed.
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const std::string& key = OpKey(p.ops[i]);
    const int64_t now = lookup(key).version;
    if (now == p.base_versions[i]) continue;
    Status conflict = Status::Conflict({key, p.base_versions[i], now});
    conflict.WithMessage(fmt::format(
        "key '{}' changed since change {} was proposed (version {} then, {} now): propose it "
        "again",
        key, cmd.id, p.base_versions[i], now));
    return Refused(std::move(conflict));
  }
  Transaction txn{p.ops, cmd.meta};
  txn.meta.needs_review = false;  // this is the reviewed write
  // The proposal's reason is in its own commit; this one names the change
  // and its approvers (all of them are in ChangeApplied), then the
  // applier's reason, within the limit every reason keeps (SPEC §2.1).
  std::string names = approvers.empty() ? "nobody (no approval required)"
                                        : fmt::format("{}", fmt::join(approvers, ", "));
  if (names.size() > kMaxReasonBytes / 2) names = fmt::format("{} actors", approvers.size());
  txn.meta.reason = fmt::format("change {} proposed by {}, approved by {}", cmd.id, c.proposer,
                                names);
  if (cmd.meta.reason) txn.meta.reason = fmt::format("{}: {}", *txn.meta.reason, *cmd.meta.reason);
  if (txn.meta.reason->size() > kMaxReasonBytes) {
    return Refused(Status::InvalidRequest(fmt::format(
        "the reason of change {}'s commit would be {} bytes with the change's own text; the "
        "limit is {}: shorten the reason",
        cmd.id, txn.meta.reason->size(), kMaxReasonBytes)));
  }
  const std::string stream = ChangeStream(cmd.id);
  const KeyState state = lookup(stream);
  std::vector<Event> applied = {NextEvent(EventType::kChangeApplied, stream, state,
                                          ChangeAppliedPayload(cmd.id, approvers))};
  // Decided against the policies at the pin: a policy set on another node
  // meanwhile makes the store refuse this commit (and it is decided again).
  std::vector<ReadCheck> reads = {
      {std::string(kPoliciesStream), lookup(std::string(kPoliciesStream)).version}};
  BatchDecision d = DecideWrite(std::move(txn), projection, at, lookup, overlay, commits,
                                std::move(applied), std::move(reads));
  if (d.status.ok() && d.commit_index < 0) {
    d.status = Status::InvalidRequest(fmt::format(
        "change {} changes nothing now: every key already is as it would make it", cmd.id));
  }
  return d;
}

}  // namespace chronoconf
