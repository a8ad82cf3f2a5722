// The decide step of the write pipeline (CommandService): what each
// command of a batch comes to against a pinned state, before the store is
// asked, and which commands to drop when other nodes keep moving their keys.
// Pure functions of the read model and the commands: no threads, no store.
#ifndef CHRONOCONF_APP_BATCH_DECISION_H_
#define CHRONOCONF_APP_BATCH_DECISION_H_

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "domain/commands.h"
#include "domain/key_aggregate.h"
#include "projection/projection.h"
#include "store/event_store.h"

namespace chronoconf {

// What one command of a batch came to before the store is asked.
struct BatchDecision {
  Status status;
  Transaction txn;
  std::vector<bool> changed;
  int commit_index = -1;  // into the batch's commits; -1 for a no-op
  bool created = false;
  bool succeeded = true;  // an EtcdTxn's compares
  std::vector<bool> txn_path;  // an EtcdTxn's branches (EtcdTxnDecision::path)
};

// A key's state as the decisions of a batch see it.
using Lookup = std::function<KeyState(const std::string&)>;

// Decides one command against `committed` (the read model at `at`, plus the
// batches appended after it and not applied yet) and `overlay` (the effects
// of the batch's earlier commands), appending its commit to `commits`.
// Commands that read a prefix or a range (revert, import, range delete, etcd
// txn) read it at `at`: nothing is in flight for them.
BatchDecision Decide(const Command& command, const Projection& projection, int64_t at,
                     const Lookup& committed, std::unordered_map<std::string, KeyState>* overlay,
                     std::vector<CommitData>* commits);

// Checks the values `txn` sets against the schemas in force at the read
// model's head, on the caller's thread, so that the committer (one thread
// for every write) does not: when all pass, records the schemas stream's
// version in txn->schemas_checked. A failure is left to the committer,
// which decides and answers it against the schemas in force then.
void PrecheckSchemas(const Projection& projection, Transaction* txn);

// Decides the writes of `txn` (lookup, overlay, commits as for Decide):
// its ops, the schemas over every value it sets, and, when its meta says
// so, the review policies over its keys. `extra` events follow its own in
// its commit (an applied change's ChangeApplied), `extra_reads` precede its
// read checks.
BatchDecision DecideWrite(Transaction txn, const Projection& projection, int64_t at,
                          const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                          std::vector<CommitData>* commits, std::vector<Event> extra = {},
                          std::vector<ReadCheck> extra_reads = {});

// After a store conflict, with the read model caught up: marks `dropped`
// every command with an expectation that writes a key whose version is no
// longer the one the batch was decided against, and fails it with
// kConflict. A blind write of such a key is dropped too only when
// `blind_too` (past the deadline), failing with kUnavailable; before that it
// is decided again. False when nothing was dropped.
bool DropMovedKeys(const std::vector<CommitData>& commits, const Projection& projection,
                   std::vector<BatchDecision>* decisions, std::vector<bool>* dropped,
                   bool blind_too, std::chrono::seconds deadline);

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_BATCH_DECISION_H_
