// The plan of `import-etcd`, free of any IO: which etcd keys and values
// chronoconf cannot hold (checked for the whole import before anything is
// written), and the request bodies of the commits that copy the rest.
//
// Two kinds of commit, each through the server's own write API, so auth,
// prefix scopes, schemas and the audit trail apply as to any client:
//   - the keys as at one etcd revision: POST /v1/import (merge), one commit;
//   - one etcd revision replayed: POST /v3/kv/txn on the server's etcd
//     gateway, one commit of its puts and deletes, committed as etcd
//     committed them (a put of the value a key already has still commits,
//     a delete of a key the server lacks is not an error; SPEC §7).
// A commit over the server's request limits (the gateway's 128 ops per Txn,
// a 1 MiB body) is split into parts, each a commit of its own.
#ifndef CHRONOCONF_CLI_IMPORT_ETCD_PLAN_H_
#define CHRONOCONF_CLI_IMPORT_ETCD_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/etcd_source.h"

namespace chronoconf::cli {

// Parts are cut below the server's defaults: --etcd-max-txn-ops (128) and
// --max-body-bytes (1 MiB, of which base64 and JSON take their share).
inline constexpr size_t kMaxOpsPerTxn = 128;
inline constexpr size_t kMaxPartBytes = 640 * 1024;

// One line per key or value chronoconf cannot hold (a key outside SPEC §1's
// grammar, a value that is not valid UTF-8), naming the key (its bytes shown
// with ShowBytes) and the etcd revision it comes from. Empty: all importable.
// `base_revision` is the revision `base` was read at.
std::vector<std::string> FindUnimportable(const std::vector<EtcdKeyValue>& base,
                                          int64_t base_revision,
                                          const std::vector<EtcdRevision>& revisions);

// `bytes` for a message: valid UTF-8 kept, control characters and bytes that
// are not UTF-8 written as \xNN.
std::string ShowBytes(std::string_view bytes);

// One change per key, its last (etcd writes a key twice in one revision only
// through a Txn that deletes a range and puts a key in it; chronoconf keeps
// one event per key per commit, so the key's end state is what is kept).
// Order otherwise unchanged.
void KeepLastChangePerKey(EtcdRevision* revision);

// The keys in parts of at most kMaxPartBytes of request body each.
std::vector<std::vector<EtcdKeyValue>> SplitKeys(const std::vector<EtcdKeyValue>& keys);
// A revision's changes in parts of at most kMaxOpsPerTxn ops and
// kMaxPartBytes each.
std::vector<std::vector<EtcdChange>> SplitChanges(const std::vector<EtcdChange>& changes);

// The body of POST /v1/import (mode merge) setting `keys`, every key under
// `prefix` when it is not empty. REQUIRES: FindUnimportable found nothing.
std::string ImportBody(const std::vector<EtcdKeyValue>& keys, std::string_view prefix,
                       std::string_view reason);

// The body of POST /v3/kv/txn (protobuf's JSON mapping, bytes in base64)
// whose success branch puts and deletes `changes` in order.
std::string TxnBody(const std::vector<EtcdChange>& changes);

// "<base>", or "<base> (part i of n)" when n > 1.
std::string PartReason(std::string_view base, size_t i, size_t n);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_IMPORT_ETCD_PLAN_H_
