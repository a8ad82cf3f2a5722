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

// Parses an RFC 3339 date-time exactly: "2026-11-26T14:00:00Z", a real
// calendar day, an optional fraction of any length (truncated to
// microseconds), "Z" or an offset "+hh:mm"/"-hh:mm" up to 23:59; "t" and
// "z" may be lower case. A bare date, a missing offset or a space for "T"
// is refused. Errors: kInvalidRequest.
Result<int64_t> ParseRfc3339Micros(std::string_view text);

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_TIME_FORMAT_H_
