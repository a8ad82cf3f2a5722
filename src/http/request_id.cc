#include "http/request_id.h"

#include <random>

#include <fmt/format.h>

namespace chronoconf::http {

std::string NewRequestId() {
  // One generator per thread: no lock on the request path.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  uint64_t hi = gen(), lo = gen();
  return fmt::format("{:016x}{:016x}", hi, lo);
}

}  // namespace chronoconf::http
