#include "client/http_client.h"

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace chronoconf::client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpClient::Connection {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;
};

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(std::string base_url, std::chrono::milliseconds timeout)
    : base_url_(std::move(base_url)), timeout_(timeout), conn_(std::make_unique<Connection>()) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  std::string_view rest = base_url_;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    host_ = std::string(rest);
    port_ = "80";
  } else {
    host_ = std::string(rest.substr(0, colon));
    port_ = std::string(rest.substr(colon + 1));
  }
  if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']') {
    host_ = host_.substr(1, host_.size() - 2);
  }
}

HttpClient::~HttpClient() = default;

namespace {

// Host as RFC 9110 §7.2 wants it: the port too unless it is 80, an IPv6
// literal in brackets (the server compares it with a browser's Origin).
std::string HostHeader(const std::string& host, const std::string& port) {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != "80") out += ":" + port;
  return out;
}

template <typename Message>
void SetHeaders(Message& req, const std::string& host, std::string_view body,
                const Headers& headers) {
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "chronoconf-client");
  if (!body.empty() && headers.find("Content-Type") == headers.end() &&
      headers.find("content-type") == headers.end()) {
    req.set(http::field::content_type, "application/json");
  }
  for (const auto& [name, value] : headers) req.set(name, value);
}

// True when an idle connection has something to read (the peer's FIN, or
// bytes nobody asked for): it cannot carry another request.
bool PeerClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

HttpResponse ToResponse(http::response<http::string_body>& res) {
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(res.body());
  return out;
}

}  // namespace

Result<HttpResponse> HttpClient::Request(std::string_view method, std::string_view target,
                                         std::string_view body, const Headers& headers) {
  http::request<http::string_body> req{http::string_to_verb(method), std::string(target), 11};
  SetHeaders(req, HostHeader(host_, port_), body, headers);
  req.body() = std::string(body);
  req.prepare_payload();
  req.keep_alive(true);

  // A kept-alive connection may have been closed by the server meanwhile:
  // try once more on a fresh connection, but only a request that reads
  // (GET, HEAD) or one that was never sent. A write whose answer was lost
  // may have been applied: sent again, a delete that succeeded would say
  // 404, a set with --expect 409.
  const bool safe_to_repeat = method == "GET" || method == "HEAD";
  std::string last_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    // A kept-alive connection the server has closed meanwhile (it timed out
    // or restarted) shows as readable before anything is sent: open a new
    // one instead of sending a write that could not be repeated.
    if (conn_->open && PeerClosed(conn_->stream.socket().native_handle())) conn_->open = false;
    bool reused = conn_->open;
    if (!conn_->open) {
      conn_ = std::make_unique<Connection>();
      tcp::resolver resolver(conn_->ioc);
      auto results = resolver.resolve(host_, port_, ec);
      if (!ec) {
        conn_->stream.expires_after(timeout_);
        conn_->stream.connect(results, ec);
      }
      if (ec) {
        return Status::Unavailable(
            fmt::format("cannot reach {}: {}", base_url_, ec.message()));
      }
      conn_->open = true;
    }
    conn_->stream.expires_after(timeout_);
    http::write(conn_->stream, req, ec);
    const bool sent = !ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ULL << 32);
    if (!ec) http::read(conn_->stream, conn_->buffer, parser, ec);
    if (ec) {
      conn_->open = false;
      last_error = ec.message();
      if (reused && (!sent || safe_to_repeat)) continue;
      if (sent && !safe_to_repeat) {
        return Status::Unavailable(fmt::format(
            "request to {} failed after it was sent ({}): it may or may not have been applied; "
            "read before retrying",
            base_url_, last_error));
      }
      return Status::Unavailable(fmt::format("request to {} failed: {}", base_url_, last_error));
    }
    auto res = parser.release();
    if (!res.keep_alive()) conn_->open = false;
    return ToResponse(res);
  }
  return Status::Unavailable(fmt::format("request to {} failed: {}", base_url_, last_error));
}

Result<int> HttpClient::Stream(std::string_view target, const Headers& headers,
                               const std::function<bool(std::string_view)>& on_data,
                               std::chrono::milliseconds timeout) {
  Connection conn;
  beast::error_code ec;
  tcp::resolver resolver(conn.ioc);
  auto results = resolver.resolve(host_, port_, ec);
  if (!ec) {
    conn.stream.expires_after(timeout_);
    conn.stream.connect(results, ec);
  }
  if (ec) return Status::Unavailable(fmt::format("cannot reach {}: {}", base_url_, ec.message()));

  http::request<http::empty_body> req{http::verb::get, std::string(target), 11};
  SetHeaders(req, HostHeader(host_, port_), {}, headers);
  req.set(http::field::accept, "text/event-stream");
  conn.stream.expires_after(timeout);
  http::write(conn.stream, req, ec);
  if (ec) return Status::Unavailable(fmt::format("watch request failed: {}", ec.message()));

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::read_header(conn.stream, conn.buffer, parser, ec);
  if (ec) return Status::Unavailable(fmt::format("watch request failed: {}", ec.message()));
  int status = static_cast<int>(parser.get().result_int());
  char chunk[8192];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    http::read_some(conn.stream, conn.buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) break;  // closed by the server, or the timeout passed
    size_t n = sizeof(chunk) - parser.get().body().size;
    if (n > 0 && !on_data(std::string_view(chunk, n))) break;
  }
  return status;
}

std::string UrlEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace chronoconf::client
