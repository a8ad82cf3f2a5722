// The status line and header block of a response, written by hand into one
// string: the hot path sends it and the body with one writev, without
// Beast's per-field allocations and serializer.
#ifndef CHRONOCONF_HTTP_RESPONSE_HEAD_H_
#define CHRONOCONF_HTTP_RESPONSE_HEAD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "http/http_types.h"

namespace chronoconf::http {

struct ResponseFraming {
  unsigned version = 11;  // the request's: 10 or 11
  bool keep_alive = true;
  int64_t revision = 0;
  std::string_view request_id;
};

// "HTTP/1.1 200 OK\r\n...\r\n\r\n" for `r`. Content-Length is the body's
// size, also for a HEAD, which sends no body (none on a 304); Connection says what `keep_alive` means for the
// version (close for 1.1, keep-alive for 1.0). Header names and values come
// from the server, never from the client.
std::string ResponseHead(const Response& r, const ResponseFraming& f);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_RESPONSE_HEAD_H_
