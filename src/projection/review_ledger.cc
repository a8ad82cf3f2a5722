#include "projection/review_ledger.h"

#include <algorithm>

#include "domain/system_stream.h"
#include "json/json_value.h"

namespace chronoconf {

std::vector<std::string> ChangeRecord::Approvers() const {
  std::vector<std::string> out;
  for (const ChangeReview& r : reviews) {
    if (r.approve && std::find(out.begin(), out.end(), r.actor) == out.end()) {
      out.push_back(r.actor);
    }
  }
  return out;
}

const char* ChangeStateName(ChangeRecord::State state) {
  switch (state) {
    case ChangeRecord::State::kOpen: return "open";
    case ChangeRecord::State::kApplied: return "applied";
    case ChangeRecord::State::kRejected: return "rejected";
  }
  return "open";
}

void ReviewLedger::Fold(std::string_view stream, EventType type, std::string_view value,
                        const FoldedCommit& commit) {
  if (stream == kPoliciesStream) {
    // The payload is {"prefix":P,"approvals":N} or {"prefix":P}, written by
    // this program.
    auto payload = json::Parse(value);
    const json::Value* prefix = payload ? payload->Find("prefix") : nullptr;
    if (!prefix || !prefix->is_string()) return;
    std::shared_ptr<const PolicyInForce> in_force;
    if (type == EventType::kPolicySet) {
      auto p = std::make_shared<PolicyInForce>();
      p->prefix = prefix->str();
      const json::Value* n = payload->Find("approvals");
      p->approvals = n && n->AsInt64() ? *n->AsInt64() : 0;
      p->revision = commit.revision;
      p->set_by = std::string(commit.actor);
      in_force = std::move(p);
    }
    policies_[prefix->str()].emplace_back(commit.revision, std::move(in_force));
    return;
  }
  const std::optional<int64_t> id = ChangeIdOf(stream);
  if (!id) return;
  auto next = std::make_shared<ChangeRecord>();
  if (type == EventType::kChangeProposed) {
    auto proposal = ParseChangeProposed(value);
    if (!proposal) return;  // only this program writes them; the change stays unknown (404)
    next->proposal = std::move(*proposal);
    next->proposer = std::string(commit.actor);
    if (commit.reason) next->reason = std::string(*commit.reason);
    next->proposed_revision = commit.revision;
    next->proposed_at_us = commit.time_us;
  } else {
    auto it = changes_.find(*id);
    if (it == changes_.end()) return;
    *next = *it->second;
    if (type == EventType::kChangeApproved || type == EventType::kChangeRejected) {
      ChangeReview& r = next->reviews.emplace_back();
      r.actor = std::string(commit.actor);
      r.approve = type == EventType::kChangeApproved;
      if (commit.reason) r.comment = std::string(*commit.reason);
      r.revision = commit.revision;
      r.time_us = commit.time_us;
      if (!r.approve) {
        next->state = ChangeRecord::State::kRejected;
        next->closed_revision = commit.revision;
      }
    } else if (type == EventType::kChangeApplied) {
      next->state = ChangeRecord::State::kApplied;
      next->closed_revision = commit.revision;
      next->applied_by = std::string(commit.actor);
    }
  }
  ++next->version;
  if (auto it = changes_.find(*id); it != changes_.end()) {
    ids_by_state_[static_cast<size_t>(it->second->state)].erase(*id);
  }
  ids_by_state_[static_cast<size_t>(next->state)].insert(*id);
  changes_[*id] = std::move(next);
}

std::vector<std::shared_ptr<const PolicyInForce>> ReviewLedger::Policies(int64_t at) const {
  std::vector<std::shared_ptr<const PolicyInForce>> out;
  for (const auto& [prefix, versions] : policies_) {
    auto it = std::upper_bound(versions.begin(), versions.end(), at,
                               [](int64_t r, const auto& v) { return r < v.first; });
    if (it != versions.begin() && std::prev(it)->second) out.push_back(std::prev(it)->second);
  }
  return out;
}

std::shared_ptr<const ChangeRecord> ReviewLedger::Change(int64_t id) const {
  auto it = changes_.find(id);
  return it == changes_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const ChangeRecord>> ReviewLedger::Changes(
    int64_t before, size_t max, std::optional<ChangeRecord::State> only) const {
  std::vector<std::shared_ptr<const ChangeRecord>> out;
  auto take = [&](auto first, auto last, auto record_of) {
    for (auto it = std::make_reverse_iterator(last); it != std::make_reverse_iterator(first) &&
                                                     out.size() < max;
         ++it) {
      out.push_back(record_of(*it));
    }
  };
  if (only) {
    const std::set<int64_t>& ids = ids_by_state_[static_cast<size_t>(*only)];
    take(ids.begin(), ids.lower_bound(before),
         [this](int64_t id) { return changes_.find(id)->second; });
  } else {
    take(changes_.begin(), changes_.lower_bound(before),
         [](const auto& entry) { return entry.second; });
  }
  return out;
}

}  // namespace chronoconf
