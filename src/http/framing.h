// HTTP/1.1 framing rules Beast does not enforce by itself (RFC 9112), kept
// apart from the socket code so tests and fuzzers can call them directly.
#ifndef CHRONOCONF_HTTP_FRAMING_H_
#define CHRONOCONF_HTTP_FRAMING_H_

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <string>
#include <string_view>

#include "common/status.h"

namespace chronoconf::http {

// RFC 9112: framing that is not exactly understood is refused, never
// guessed at; a body the parser did not frame would be read as the next
// request (request smuggling). §6.1/§6.3: the only transfer coding taken is
// `chunked`, alone; not with Content-Length; not in HTTP/1.0. §3.2: an
// HTTP/1.1 request has exactly one Host. Errors: kInvalidRequest.
Status CheckFraming(const boost::beast::http::request_header<>& h);

// What a header block (the request line and fields, through the blank
// line) may not hold although Beast would take it: obsolete line folding
// (RFC 9112 §5.2), which proxies and servers read differently.
Status CheckHeaderBlock(std::string_view block);

// Lower-cased ASCII.
std::string Lower(std::string_view s);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_FRAMING_H_
