// libFuzzer harness for JSON Schema (SPEC §8): an admin's schema and a
// writer's value, both untrusted. The input is the schema's text, a newline,
// then the value's. Invariants: Compile and Validate never crash, overflow
// the stack or run past libFuzzer's timeout, whatever either holds; a
// schema that compiles answers every value, with a pointer that starts with
// "/" (or is empty) for each failure.
//   scripts/fuzz.sh [seconds] json_schema_fuzz
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "json/json_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view schema_text = input.substr(0, newline);
  const std::string_view value_text =
      newline == std::string_view::npos ? std::string_view("null") : input.substr(newline + 1);
  auto schema = chronoconf::json::CompiledSchema::Compile(schema_text);
  if (!schema) return 0;
  for (std::string_view value : {value_text, std::string_view(R"({"a":[1,1.0,"x"]})")}) {
    for (const auto& f : (*schema)->Validate(value)) {
      if (!f.pointer.empty() && f.pointer.front() != '/') std::abort();
      if (f.rule.empty()) std::abort();
    }
  }
  return 0;
}
