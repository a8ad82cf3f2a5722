// One access line per request (SPEC §4): method, route pattern, status,
// latency, bytes, request id, actor, and for a refused malformed request
// what was wrong with it. Never a token, a path (keys) or a body (values).
//
// Thread safety: any thread.
#ifndef CHRONOCONF_HTTP_ACCESS_LOG_H_
#define CHRONOCONF_HTTP_ACCESS_LOG_H_

#include <cstddef>
#include <string_view>

namespace chronoconf::http {

struct AccessRecord {
  std::string_view method;
  std::string_view route;  // the pattern ("/v1/kv/{key}"), or "malformed"
  int status = 0;
  double seconds = 0;
  size_t bytes = 0;  // response body bytes
  std::string_view request_id;
  std::string_view actor;
  std::string_view error;  // for a malformed request only: the HTTP-level reason
};

// Whether a response with `status` is logged at the current level: callers
// skip building the record (the actor) when it is not.
bool AccessLogOn(int status);

// Info level, warn for a 5xx; costs one level check when that level is off.
void LogAccess(const AccessRecord& r);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_ACCESS_LOG_H_
