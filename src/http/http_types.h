// The HTTP request and response as the API handlers see them: plain values,
// no sockets, so every handler is testable without a network (Beast's
// handle_request split).
#ifndef CHRONOCONF_HTTP_HTTP_TYPES_H_
#define CHRONOCONF_HTTP_HTTP_TYPES_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/principal.h"

namespace chronoconf::http {

struct Request {
  std::string method;                        // "GET"
  std::string path;                          // percent-decoded, without the query
  std::map<std::string, std::string> query;  // percent-decoded; the first value wins
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  // A header the request repeats that must appear once ("" : none):
  // refused by CheckRequestShape (which Authorization, Host... would count?).
  std::string repeated_header;
  // Who sent it: set by Api::Admit before any route runs.
  Principal principal;

  const std::string* Header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? nullptr : &it->second;
  }
  const std::string* Query(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? nullptr : &it->second;
  }
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body instead of `body`, shared rather than copied: a
  // read-model entry answered as it is.
  std::shared_ptr<const std::string> shared_body;
  // The read model's head this answer was read at (X-Chronoconf-Revision);
  // -1: the head when the response is written (a write, which the read
  // model has applied by then, or a read that did not pin one).
  int64_t revision = -1;

  std::string_view Body() const { return shared_body ? std::string_view(*shared_body) : body; }
};

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_HTTP_TYPES_H_
