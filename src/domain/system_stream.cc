#include "domain/system_stream.h"

#include <charconv>

namespace chronoconf {
namespace {
constexpr std::string_view kLeasePrefix = "\x01lease/";
}  // namespace

std::string LeaseStream(int64_t id) { return std::string(kLeasePrefix) + std::to_string(id); }

std::optional<int64_t> LeaseIdOf(std::string_view stream) {
  if (!stream.starts_with(kLeasePrefix)) return std::nullopt;
  stream.remove_prefix(kLeasePrefix.size());
  int64_t id = 0;
  auto [end, ec] = std::from_chars(stream.data(), stream.data() + stream.size(), id);
  if (ec != std::errc() || end != stream.data() + stream.size()) return std::nullopt;
  return id;
}

}  // namespace chronoconf
