// KeyAggregate: the rules for one key's stream of events.
//
// State is rebuilt by applying events (Apply never fails: an event that was
// recorded cannot be refused). Decide checks a command against the state and
// returns the event it produces, none for a no-op, or the error. Pure: no IO,
// no clock, no JSON parsing; values are compared as minified text.
#ifndef CHRONOCONF_DOMAIN_KEY_AGGREGATE_H_
#define CHRONOCONF_DOMAIN_KEY_AGGREGATE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "domain/commands.h"
#include "domain/events.h"

namespace chronoconf {

struct KeyState {
  int64_t version = 0;  // events in the stream; 0 = never written
  bool exists = false;
  std::string value;  // current minified value when exists
  std::optional<int64_t> lease = std::nullopt;  // the lease its last set was made with
};

class KeyAggregate {
 public:
  // Folds one event into `state`.
  static void Apply(KeyState& state, const Event& event);

  // The event `op` produces against `state`, or nullopt when it changes
  // nothing (same value unless SetKey::commit_unchanged, a check, or a
  // DeleteKey::if_exists of a missing key). Expectations are checked first.
  // Errors: kConflict (expected version or absence not met), kNotFound
  // (deleting a key that does not exist), kInvalidKey.
  static Result<std::optional<Event>> Decide(const KeyState& state, const Op& op);
};

// The outcome of deciding a whole transaction.
struct TransactionDecision {
  std::vector<Event> events;   // in op order, index = position
  std::vector<bool> changed;   // per op
};

// Decides every op of `txn` against the state `lookup` returns for its key.
// All or nothing: the first failing op's error, with its op_index. A key named
// twice or an empty transaction: kInvalidRequest.
Result<TransactionDecision> DecideTransaction(
    const Transaction& txn, const std::function<KeyState(const std::string&)>& lookup);

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_KEY_AGGREGATE_H_
