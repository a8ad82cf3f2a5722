// HttpClient: a small blocking HTTP/1.1 client (Boost.Beast) for the CLI and
// the tests. One client holds one keep-alive connection and reconnects when
// the server closed it.
//
// Thread safety: none; use one client per thread.
#ifndef CHRONOCONF_CLIENT_HTTP_CLIENT_H_
#define CHRONOCONF_CLIENT_HTTP_CLIENT_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chronoconf::client {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lowercase
  std::string body;

  // The header's value, or "" when absent. `name` in lowercase.
  std::string Header(const std::string& name) const;
};

using Headers = std::map<std::string, std::string>;

class HttpClient {
 public:
  // `base_url` is "http://host:port" (a trailing '/' is ignored).
  explicit HttpClient(std::string base_url,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request; `target` is the path and query ("/v1/kv/a?x=1").
  // A JSON body is sent with Content-Type: application/json unless `headers`
  // sets another. Errors: kUnavailable when the server cannot be reached or
  // the connection fails mid-request.
  Result<HttpResponse> Request(std::string_view method, std::string_view target,
                               std::string_view body = {}, const Headers& headers = {});

  Result<HttpResponse> Get(std::string_view target, const Headers& headers = {}) {
    return Request("GET", target, {}, headers);
  }

  // Opens a streaming GET (Server-Sent Events) and calls `on_data` with each
  // chunk of body bytes as it arrives until it returns false, the server
  // closes the stream, or `timeout` passes. Returns the response status.
  Result<int> Stream(std::string_view target, const Headers& headers,
                     const std::function<bool(std::string_view)>& on_data,
                     std::chrono::milliseconds timeout);

  const std::string& base_url() const { return base_url_; }

 private:
  struct Connection;
  std::string base_url_;
  std::string host_;
  std::string port_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Connection> conn_;
};

// Percent-encodes a query parameter value or a key path segment ('/' kept).
std::string UrlEncode(std::string_view s, bool keep_slash = false);

}  // namespace chronoconf::client

#endif  // CHRONOCONF_CLIENT_HTTP_CLIENT_H_
