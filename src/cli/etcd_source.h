// EtcdSource: reads a live etcd (v3 gRPC, plaintext) for `import-etcd`: its
// head revision, the keys as at a revision, and the changes of a span of
// revisions, grouped by revision. It only reads; nothing here writes to etcd.
//
// Keys and values are etcd's bytes as they are: checking that chronoconf can
// hold them is the import plan's job (import_etcd_plan.h).
//
// Thread safety: none; one command uses it from one thread.
#ifndef CHRONOCONF_CLI_ETCD_SOURCE_H_
#define CHRONOCONF_CLI_ETCD_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chronoconf::cli {

// One key and its value, as etcd holds them.
struct EtcdKeyValue {
  std::string key;
  std::string value;
};

// One change of one key inside an etcd revision.
struct EtcdChange {
  bool deleted = false;
  std::string key;
  std::string value;  // empty for a delete
};

// Everything one etcd revision changed (within the prefix), in etcd's order.
struct EtcdRevision {
  int64_t revision = 0;
  std::vector<EtcdChange> changes;
};

class EtcdSource {
 public:
  // `endpoint` is "http://host:port" or "host:port" (etcdctl's form). Only
  // checks its shape; the first call connects. Errors: kInvalidRequest for an
  // https:// or malformed endpoint.
  static Result<std::unique_ptr<EtcdSource>> Open(std::string_view endpoint);
  ~EtcdSource();
  EtcdSource(const EtcdSource&) = delete;
  EtcdSource& operator=(const EtcdSource&) = delete;

  // etcd's current revision. Errors: kUnavailable naming the endpoint when
  // etcd cannot be reached or does not answer within the deadline.
  Result<int64_t> Head();

  // The keys under `prefix` ("" = every key) as at `revision`, sorted by key,
  // read in pages all at that one revision. Errors: kUnavailable as Head;
  // kInvalidRequest naming etcd's compact revision when `revision` was
  // compacted away.
  Result<std::vector<EtcdKeyValue>> KeysAt(int64_t revision, std::string_view prefix);

  // The changes of revisions `from`..`to` (both included) to keys under
  // `prefix`, one EtcdRevision per revision that changed such a key, oldest
  // first. REQUIRES: 1 <= from <= to <= Head(). Errors as KeysAt.
  Result<std::vector<EtcdRevision>> ChangesBetween(int64_t from, int64_t to,
                                                   std::string_view prefix);

  // The revision etcd compacted its history at (0: never compacted).
  Result<int64_t> CompactRevision();

  // "http://host:port", as given (for messages and commit reasons).
  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Stubs;
  EtcdSource(std::string endpoint, std::unique_ptr<Stubs> stubs);

  std::string endpoint_;
  std::unique_ptr<Stubs> stubs_;
};

// The end of etcd's range of every key starting with `prefix` (clientv3's
// GetPrefixRangeEnd): the prefix with its last byte below 0xff incremented
// and what follows it dropped; "\0" (no upper bound) for "" or all 0xff.
std::string PrefixRangeEnd(std::string_view prefix);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_ETCD_SOURCE_H_
