#include "domain/key_aggregate.h"

#include <unordered_set>

#include <fmt/format.h>

#include "domain/key.h"

namespace chronoconf {
namespace {

Status CheckExpected(const std::string& key, const KeyState& state,
                     const std::optional<int64_t>& expected) {
  if (expected && *expected != state.version) {
    return Status::Conflict({key, *expected, state.version});
  }
  return Status::OK();
}

}  // namespace

void KeyAggregate::Apply(KeyState& state, const Event& event) {
  state.version = event.version;
  state.exists = !EndsStream(event.type);
  state.value = state.exists ? event.value.value_or("null") : std::string();
  state.lease = state.exists ? event.lease : std::nullopt;
}

Result<std::optional<Event>> KeyAggregate::Decide(const KeyState& state, const Op& op) {
  if (Status s = ValidateKey(OpKey(op)); !s.ok()) return s;
  if (const auto* set = std::get_if<SetKey>(&op)) {
    if (Status s = CheckExpected(set->key, state, set->expected_version); !s.ok()) return s;
    if (set->must_be_absent && state.exists) {
      Status s = Status::Conflict({set->key, 0, state.version});
      return s.WithMessage(fmt::format("key '{}' already exists", set->key));
    }
    if (state.exists && state.value == set->value && state.lease == set->lease &&
        !set->commit_unchanged) {
      return std::optional<Event>();
    }
    Event e{EventType::kConfigSet, set->key, state.version + 1, set->value, std::nullopt};
    if (state.exists) e.previous_value = state.value;
    e.lease = set->lease;
    return std::optional<Event>(std::move(e));
  }
  if (const auto* del = std::get_if<DeleteKey>(&op)) {
    if (Status s = CheckExpected(del->key, state, del->expected_version); !s.ok()) return s;
    if (!state.exists) {
      if (del->if_exists) return std::optional<Event>();
      return Status::NotFound(fmt::format("key '{}' does not exist", del->key));
    }
    return std::optional<Event>(
        Event{EventType::kConfigDeleted, del->key, state.version + 1, std::nullopt, state.value});
  }
  const auto& check = std::get<CheckKey>(op);
  if (Status s = CheckExpected(check.key, state, check.expected_version); !s.ok()) return s;
  return std::optional<Event>();
}

Result<TransactionDecision> DecideTransaction(
    const Transaction& txn, const std::function<KeyState(const std::string&)>& lookup) {
  if (txn.ops.empty()) return Status::InvalidRequest("a transaction needs at least one op");
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < txn.ops.size(); ++i) {
    if (!seen.insert(OpKey(txn.ops[i])).second) {
      return Status::InvalidRequest(
                 fmt::format("key '{}' is named twice in the transaction", OpKey(txn.ops[i])))
          .WithOpIndex(static_cast<int>(i));
    }
  }
  TransactionDecision out;
  for (size_t i = 0; i < txn.ops.size(); ++i) {
    auto decided = KeyAggregate::Decide(lookup(OpKey(txn.ops[i])), txn.ops[i]);
    if (!decided) {
      Status s = decided.status();
      return s.WithOpIndex(static_cast<int>(i));
    }
    out.changed.push_back(decided->has_value());
    if (decided->has_value()) out.events.push_back(std::move(**decided));
  }
  return out;
}

}  // namespace chronoconf
