// RFC 3339 times, the way the API writes and reads them.
#ifndef CHRONOCONF_COMMON_TIME_FORMAT_H_
#define CHRONOCONF_COMMON_TIME_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chronoconf {

// "2026-11-26T14:00:00.123456Z": UTC, always six fractional digits.
std::string FormatRfc3339Micros(int64_t unix_micros);

// Parses an RFC 3339 date-time ("2026-11-26T14:00:00Z", optional fraction of
// up to 9 digits, "Z" or "+hh:mm"/"-hh:mm"); a bare date means its midnight
// UTC. Errors: kInvalidRequest.
Result<int64_t> ParseRfc3339Micros(std::string_view text);

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_TIME_FORMAT_H_
