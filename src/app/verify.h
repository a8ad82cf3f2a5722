// VerifyStore: the audit of a store that `chronoconf verify` runs. It checks
// everything the events promise without trusting any derived state:
//   - revisions run 1..head without a gap, commit times never go back;
//   - every hash recomputes (SPEC §1.1) and links to the previous one;
//   - each key's versions run 1, 2, 3… and every previous_value equals the
//     value the key had (a delete removes an existing key);
//   - the read model rebuilt from the global log equals each key's stream
//     read on its own (the store's per-key index agrees with its log);
//   - a read-model snapshot, when there is one, equals the read model
//     rebuilt from the log up to its revision, byte for byte (its MAC under
//     the store's snapshot key included).
#ifndef CHRONOCONF_APP_VERIFY_H_
#define CHRONOCONF_APP_VERIFY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "store/event_store.h"

namespace chronoconf {

struct VerifyReport {
  int64_t commits = 0;
  int64_t events = 0;
  int64_t keys = 0;  // keys that exist at the head
  std::string head_hash = kZeroHash;
  int64_t snapshot_revision = -1;  // -1: no snapshot was found
};

// OK when every check passes; otherwise kCorruption naming the first
// failure (or the store's own error). `progress` (optional) gets the number
// of commits checked so far. `snapshot_path` ("" : none) names the snapshot
// file to compare; a missing file is no error unless `snapshot_required`
// (the user named it: kNotFound). A path that is not a regular file is
// kUnavailable.
Status VerifyStore(EventStore& store, VerifyReport* report,
                   const std::function<void(int64_t)>& progress = nullptr,
                   const std::string& snapshot_path = "", bool snapshot_required = false);

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_VERIFY_H_
