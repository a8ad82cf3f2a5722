// System streams: event streams that are not config keys (leases, schemas,
// review policies and review changes).
//
// An event belongs to a stream, the store's `key` column. Config keys never
// hold a control character (SPEC §1), so a system stream's name starts with
// U+0001: no config key can ever equal one, and the store's UNIQUE(key,
// version) gives a system stream the same optimistic concurrency a key has.
// Read models keep these streams out of every key listing, range and watch.
#ifndef CHRONOCONF_DOMAIN_SYSTEM_STREAM_H_
#define CHRONOCONF_DOMAIN_SYSTEM_STREAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chronoconf {

inline constexpr char kSystemStreamMark = '\x01';

// True for a system stream's name (never for a valid config key).
inline bool IsSystemStream(std::string_view stream) {
  return !stream.empty() && stream.front() == kSystemStreamMark;
}

// "\x01schemas": every schema change (SPEC §8), of any prefix, is the
// next version of this one stream (its value names the prefix). So a
// write decided against the schemas at version V checks, when it is
// appended, that the stream is still at V: a schema set on another node
// meanwhile makes it decide again.
inline constexpr std::string_view kSchemasStream = "\x01schemas";

// "\x01policies": every review policy change (SPEC §8), as kSchemasStream.
inline constexpr std::string_view kPoliciesStream = "\x01policies";

// "\x01lease/<id in decimal>": the stream of one lease.
std::string LeaseStream(int64_t id);
// The lease id a stream name holds; nullopt for any other stream or key.
std::optional<int64_t> LeaseIdOf(std::string_view stream);

// "\x01change/<id in decimal>": the stream of one review change (SPEC §8).
std::string ChangeStream(int64_t id);
// The change id a stream name holds; nullopt for any other stream or key.
std::optional<int64_t> ChangeIdOf(std::string_view stream);

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_SYSTEM_STREAM_H_
