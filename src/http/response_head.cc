#include "http/response_head.h"

#include <boost/beast/http/status.hpp>

#include <fmt/format.h>

namespace chronoconf::http {

std::string ResponseHead(const Response& r, const ResponseFraming& f) {
  std::string out;
  out.reserve(256);
  auto it = std::back_inserter(out);
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(r.status));
  fmt::format_to(it, "HTTP/1.{} {} {}\r\nServer: chronoconf\r\nContent-Type: {}\r\n",
                 f.version == 10 ? 0 : 1, r.status, std::string_view(reason.data(), reason.size()),
                 r.content_type);
  fmt::format_to(it, "X-Chronoconf-Revision: {}\r\nX-Request-Id: {}\r\n", f.revision,
                 f.request_id);
  for (const auto& [name, value] : r.headers) fmt::format_to(it, "{}: {}\r\n", name, value);
  if (f.version == 10 && f.keep_alive) out += "Connection: keep-alive\r\n";
  if (f.version != 10 && !f.keep_alive) out += "Connection: close\r\n";
  // Not Modified has no body and no Content-Length (RFC 9110 §15.4.5).
  if (r.status != 304) fmt::format_to(it, "Content-Length: {}\r\n", r.Body().size());
  out += "\r\n";
  return out;
}

}  // namespace chronoconf::http
