// libFuzzer harness for RFC 3339 times (at_time, since, until; stored
// commit times). Invariant: a time that parses formats to a text that
// parses to the same instant.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/time_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = chronoconf::ParseRfc3339Micros(text);
  if (!t) return 0;
  auto again = chronoconf::ParseRfc3339Micros(chronoconf::FormatRfc3339Micros(*t));
  if (!again || *again != *t) std::abort();
  return 0;
}
