#include "http/request_id.h"

#include <random>

namespace chronoconf::http {

std::string NewRequestId() {
  // One generator per thread: no lock on the request path. Written by hand,
  // not with fmt::format: every request makes one.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = gen();
    for (int i = 15; i >= 0; --i, bits >>= 4) {
      id[static_cast<size_t>(half * 16 + i)] = kHex[bits & 15];
    }
  }
  return id;
}

}  // namespace chronoconf::http
