// Times as people type them at a terminal, turned into the RFC 3339 text the
// server takes: an RFC 3339 time as it is, a date ("2026-11-30", its
// midnight UTC), or a moment relative to now ("90s ago", "15m ago", "2h
// ago", "3d ago", "1w ago").
#ifndef CHRONOCONF_CLI_FRIENDLY_TIME_H_
#define CHRONOCONF_CLI_FRIENDLY_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chronoconf::cli {

// `now_micros`: the current time (µs since the epoch), for the relative forms.
// Errors: kInvalidRequest with a sentence that names the accepted forms.
Result<std::string> ToRfc3339(std::string_view text, int64_t now_micros);

// The same, against the system clock.
Result<std::string> ToRfc3339Now(std::string_view text);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_FRIENDLY_TIME_H_
