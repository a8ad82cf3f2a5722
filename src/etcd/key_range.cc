#include "etcd/key_range.h"

#include "domain/key.h"
#include "etcd/errors.h"

namespace chronoconf::etcd {
namespace {

// The end of the range of keys that start with `prefix`: the prefix with its
// last byte below 0xff incremented and the rest dropped; empty (no upper
// bound) for a prefix of 0xff bytes only.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace

grpc::Status ParseKeyRange(std::string_view key, std::string_view range_end, KeyRange* out) {
  if (key.empty()) return rpctypes::EmptyKey();
  out->start = std::string(key);
  out->single = range_end.empty();
  if (out->single) {
    if (Status s = ValidateKey(key); !s.ok()) return ToGrpc(s);
    out->end.clear();
    return grpc::Status::OK;
  }
  // "\0": every key >= key (etcd's mkGteRange).
  out->end = range_end == std::string_view("\0", 1) ? std::string() : std::string(range_end);
  return grpc::Status::OK;
}

bool ScopeCovers(const KeyScope& scope, const KeyRange& range) {
  if (scope.all()) return true;
  if (range.single) return scope.Contains(range.start);
  // Inside one prefix: start under it, and end no further than its end.
  for (const std::string& prefix : scope.prefixes()) {
    if (!range.start.starts_with(prefix)) continue;
    const std::string limit = PrefixEnd(prefix);
    if (limit.empty()) return true;
    if (!range.end.empty() && range.end <= limit) return true;
  }
  return false;
}

}  // namespace chronoconf::etcd
