// The server's log lines: spdlog's text pattern, or one JSON object per line
// (--log-format json) for log shippers. A line carries ts, level and msg;
// lines written with StructuredLine() also carry their fields as members.
//
// Thread safety: SetLogFormat before the server starts; the rest from any
// thread.
#ifndef CHRONOCONF_HTTP_LOG_FORMAT_H_
#define CHRONOCONF_HTTP_LOG_FORMAT_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace chronoconf::http {

enum class LogFormat { kText, kJson };

// "text" or "json"; anything else is kInvalidRequest and changes nothing.
Status SetLogFormat(std::string_view name);
LogFormat CurrentLogFormat();

// Marks a JSON-format message whose payload, after the marker, is the
// members of the line (`"k":v,...`) to write after "msg". A byte no
// ordinary message holds.
inline constexpr char kStructuredMarker = '\x1e';

// Text that is safe inside a log line: valid UTF-8 as it is, else with every
// byte outside printable ASCII replaced by '?'. Control bytes are escaped by
// the JSON writer (JSON) or replaced (text).
std::string LogSafe(std::string_view s);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_LOG_FORMAT_H_
