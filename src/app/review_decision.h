// The decide step for review policies and review changes (SPEC §8), beside
// batch_decision.h's for writes. Each of these commands runs alone in its
// batch (nothing in flight), so the read model at the pin is the state of
// this node; another node's commit in between is caught by the store's
// version checks on the streams they write, and the command is decided
// again.
#ifndef CHRONOCONF_APP_REVIEW_DECISION_H_
#define CHRONOCONF_APP_REVIEW_DECISION_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "app/batch_decision.h"

namespace chronoconf {

// A policy's set or delete: one event in the policies stream.
BatchDecision DecidePolicy(const PolicyChange& cmd, const Projection& projection, int64_t at,
                           const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                           std::vector<CommitData>* commits);

// A proposal: its ops are decided as a write would be (a change that could
// not commit now is refused with that write's error), then recorded in a new
// change stream with each key's version. BatchDecision::created holds true;
// the new id is the stream's, ChangeIdOf(the commit's first event key).
BatchDecision DecideProposal(const ProposeChange& cmd, const Projection& projection, int64_t at,
                             const Lookup& lookup,
                             std::unordered_map<std::string, KeyState>* overlay,
                             std::vector<CommitData>* commits);

// An approval or rejection of an open change, by anyone but its proposer
// for an approval. Approving twice changes nothing.
BatchDecision DecideReview(const ReviewChange& cmd, const Projection& projection,
                           const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                           std::vector<CommitData>* commits);

// An application: enough approvals for every policy over its keys now, no
// key moved since the proposal, then its ops and ChangeApplied in one commit
// whose reason names the change and its approvers.
BatchDecision DecideApply(const ApplyChange& cmd, const Projection& projection, int64_t at,
                          const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                          std::vector<CommitData>* commits);

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_REVIEW_DECISION_H_
