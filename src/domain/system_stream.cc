#include "domain/system_stream.h"

#include <charconv>

namespace chronoconf {
namespace {
// The mark as a literal of its own: a hex escape takes every hex digit that
// follows, so "\x01change/" would be "\x1c" "hange/", no system stream.
constexpr std::string_view kLeasePrefix = "\x01" "lease/";
constexpr std::string_view kChangePrefix = "\x01" "change/";

std::optional<int64_t> IdAfter(std::string_view prefix, std::string_view stream) {
  if (!stream.starts_with(prefix)) return std::nullopt;
  stream.remove_prefix(prefix.size());
  int64_t id = 0;
  auto [end, ec] = std::from_chars(stream.data(), stream.data() + stream.size(), id);
  if (ec != std::errc() || end != stream.data() + stream.size()) return std::nullopt;
  return id;
}
}  // namespace

std::string LeaseStream(int64_t id) { return std::string(kLeasePrefix) + std::to_string(id); }
std::optional<int64_t> LeaseIdOf(std::string_view stream) { return IdAfter(kLeasePrefix, stream); }

std::string ChangeStream(int64_t id) { return std::string(kChangePrefix) + std::to_string(id); }
std::optional<int64_t> ChangeIdOf(std::string_view stream) {
  return IdAfter(kChangePrefix, stream);
}

}  // namespace chronoconf
