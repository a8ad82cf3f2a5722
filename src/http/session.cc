// One client connection (Server::Impl::Session): read a request's header,
// admit it (Api::Admit: Host, origin, token, readiness) before reading its
// body, read the body, answer, keep alive. A refused request is answered
// and the connection closed.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>

#include <array>

#include "domain/commands.h"
#include "http/access_log.h"
#include "http/framing.h"
#include "http/render.h"
#include "http/request_id.h"
#include "http/request_parsing.h"
#include "http/response_head.h"
#include "http/routes.h"
#include "http/server_impl.h"

namespace chronoconf::http {

namespace {

// The client's X-Request-Id when it is valid log text, else a new one.
std::string ResponseRequestId(const Request& req) {
  const std::string* id = req.Header("x-request-id");
  if (id && !id->empty() && ValidateLogText(*id, kMaxRequestIdBytes, "").ok()) return *id;
  return NewRequestId();
}

}  // namespace

std::string_view ActorForLog(const Request& req) {
  if (req.principal.authenticated) return req.principal.name;
  const std::string* actor = req.Header("x-actor");
  if (actor && !actor->empty() && ValidateLogText(*actor, kMaxActorBytes, "").ok()) return *actor;
  return "anonymous";
}

namespace {

// The headers that have one meaning: a second copy is refused, never
// resolved by picking one (which Authorization would a proxy have checked?).
constexpr std::array<std::string_view, 16> kSingletonHeaders = {
    "host",          "content-length", "content-type",      "authorization",
    "last-event-id", "x-request-id",   "x-actor",           "if-match",
    "if-none-match", "if-modified-since", "if-unmodified-since", "if-range",
    "origin",        "sec-fetch-site", "expect",            "cookie"};

// The request as the API sees it, from the parsed header (no body yet).
// Errors: kInvalidRequest for a target that does not decode.
Status RequestFromHeader(const bhttp::request_header<>& h, Request* req) {
  req->method = std::string(h.method_string());
  if (Status s = ParseTarget(h.target(), req); !s.ok()) return s;
  for (const auto& field : h) {
    std::string name = Lower(field.name_string());
    auto [it, inserted] = req->headers.emplace(name, std::string(field.value()));
    if (!inserted && req->repeated_header.empty() &&
        std::find(kSingletonHeaders.begin(), kSingletonHeaders.end(), name) !=
            kSingletonHeaders.end()) {
      req->repeated_header = std::move(name);
    }
  }
  return Status::OK();
}

// The method and target of a request line ("POST /v3/kv/put HTTP/1.1").
Status RequestLineOf(std::string_view line, Request* req) {
  const size_t sp = line.find(' ');
  const size_t sp2 = line.find(' ', sp == std::string_view::npos ? sp : sp + 1);
  if (sp == std::string_view::npos || sp2 == std::string_view::npos) {
    return Status::InvalidRequest("malformed request line");
  }
  req->method = std::string(line.substr(0, sp));
  return ParseTarget(line.substr(sp + 1, sp2 - sp - 1), req);
}

// The client went away or was timed out: nothing to answer.
bool IsClosed(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == beast::error::timeout || ec == net::error::connection_reset ||
         ec == net::error::operation_aborted;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Status Server::Impl::ReadError(const beast::error_code& ec) const {
  // (Named, not a temporary: GCC 12 mishandles temporaries across co_await.)
  if (ec == bhttp::error::body_limit) {
    return Status::TooLarge(
        fmt::format("the body is over the limit of {} bytes", options.max_body_bytes));
  }
  return Status::InvalidRequest(fmt::format("malformed HTTP: {}", ec.message()));
}

net::awaitable<void> Server::Impl::WriteError(beast::tcp_stream& stream, const Status& status,
                                              const std::string& request_id,
                                              std::string_view route, const Request* req) {
  Response r = Api::Refusal(status);
  // A malformed request's reason is about framing, never a value.
  co_await WriteResponseAndClose(stream, r, request_id, route, req,
                                 req ? std::string_view() : std::string_view(status.message()));
}

net::awaitable<void> Server::Impl::WriteResponseAndClose(beast::tcp_stream& stream,
                                                         const Response& r,
                                                         const std::string& request_id,
                                                         std::string_view route,
                                                         const Request* req,
                                                         std::string_view error) {
  auto started = std::chrono::steady_clock::now();
  std::string_view method = req ? std::string_view(req->method) : std::string_view("other");
  metrics->ObserveRequest(route, method, r.status, 0);
  ResponseFraming fields{.version = 11,
                         .keep_alive = false,
                         .revision = r.revision >= 0 ? r.revision : projection->head(),
                         .request_id = request_id};
  const std::string head = ResponseHead(r, fields);
  const bool with_body = !(req && req->method == "HEAD");
  const std::array<net::const_buffer, 2> out = {
      net::buffer(head), net::buffer(r.Body().data(), with_body ? r.Body().size() : 0)};
  stream.expires_after(std::chrono::seconds(5));
  beast::error_code wec;
  co_await net::async_write(stream, out, Into(wec));
  if (AccessLogOn(r.status)) {
    LogAccess({.method = req ? std::string_view(req->method) : std::string_view("-"),
               .route = route,
               .status = r.status,
               .seconds = SecondsSince(started),
               .bytes = r.Body().size(),
               .request_id = request_id,
               .actor = req ? ActorForLog(*req) : std::string_view("-"),
               .error = error});
  }
  // Drain what the client is still sending (briefly) so that it reads our
  // answer instead of a connection reset.
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  char sink[8192];
  size_t drained = 0;
  stream.expires_after(std::chrono::seconds(2));
  while (drained < (64u << 20)) {
    beast::error_code rec;
    size_t n = co_await stream.async_read_some(net::buffer(sink), Into(rec));
    if (rec) break;
    drained += n;
  }
}

net::awaitable<beast::error_code> Server::Impl::ReadHeaderBlock(beast::tcp_stream& stream,
                                                               beast::flat_buffer& buffer,
                                                               Status* refusal) {
  bool started = buffer.size() > 0;
  stream.expires_after(started ? options.read_timeout : options.idle_timeout);
  size_t scanned = 0;
  for (;;) {
    std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
    size_t begin = data.find_first_not_of("\r\n");
    if (begin != std::string_view::npos && (data[begin] < 'A' || data[begin] > 'Z')) {
      // A method is an upper-case token: this is not HTTP (TLS, garbage).
      *refusal = Status::InvalidRequest("malformed HTTP: the request does not start with a method");
      co_return beast::error_code{};
    }
    size_t end = data.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0);
    if (end != std::string_view::npos) {
      *refusal = CheckHeaderBlock(data.substr(0, end + 2));
      co_return beast::error_code{};
    }
    scanned = data.size();
    if (data.size() > kHeaderLimit) {
      *refusal = Status::InvalidRequest(
          fmt::format("malformed HTTP: the header is over the limit of {} bytes", kHeaderLimit));
      co_return beast::error_code{};
    }
    beast::error_code ec;
    size_t n = co_await stream.async_read_some(buffer.prepare(4096), Into(ec));
    buffer.commit(n);
    if (ec) co_return ec;
    if (!started) {
      started = true;
      stream.expires_after(options.read_timeout);
    }
  }
}

net::awaitable<void> Server::Impl::Session(tcp::socket* raw_socket) {
  auto conn = std::make_shared<Conn>(std::move(*raw_socket));
  delete raw_socket;
  {
    MutexLock lock(&conns_mu);
    conns.emplace(conn.get(), conn);
  }
  // Runs when the coroutine ends, also when the io_context destroys it.
  struct Unregister {
    Impl* impl;
    Conn* c;
    ~Unregister() {
      MutexLock lock(&impl->conns_mu);
      impl->conns.erase(c);
      impl->metrics->ConnectionClosed();
    }
  } unregister{this, conn.get()};

  beast::tcp_stream& stream = conn->stream;
  beast::flat_buffer buffer;
  while (!stopping.load()) {
    conn->idle_since.store(SteadyNanos());
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options.max_body_bytes);
    Status refusal;
    beast::error_code ec = co_await ReadHeaderBlock(stream, buffer, &refusal);
    if (!ec && !refusal.ok()) {
      std::string id = NewRequestId();
      co_await WriteError(stream, refusal, id);
      break;
    }
    // The whole block is in `buffer`: parse it here, without a read (and
    // without the post an async read that needs no I/O would cost).
    std::string request_line;  // for a refusal that the parser gives before the route
    if (!ec) {
      std::string_view block(static_cast<const char*>(buffer.data().data()), buffer.size());
      block.remove_prefix(std::min(block.find_first_not_of("\r\n"), block.size()));
      request_line = block.substr(0, block.find("\r\n"));
      size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        co_await bhttp::async_read_header(stream, buffer, parser, Into(ec));
      }
    }
    if (IsClosed(ec)) break;
    if (ec) {
      Status error = ReadError(ec);
      std::string id = NewRequestId();
      // A Content-Length over the limit fails the header already; etcd's
      // gateway clients still get their error shape.
      if (Request over; ec == bhttp::error::body_limit &&
                        RequestLineOf(request_line, &over).ok()) {
        RouteMatch match = MatchRoute(over.method, over.path);
        api->LabelEtcdRoute(&match);
        if (match.route && match.route->id == RouteId::kEtcdGateway) {
          Response r = api->RefusalFor(match, error);
          co_await WriteResponseAndClose(stream, r, id, MetricsLabel(match), &over);
          break;
        }
      }
      co_await WriteError(stream, error, id);
      break;
    }
    if (Status s = CheckFraming(parser.get().base()); !s.ok()) {
      std::string id = NewRequestId();
      co_await WriteError(stream, s, id);
      break;
    }
    if (conn->idle_since.exchange(0) == kEvicting) {
      // Chosen to make room at the connection cap just as its request came:
      // refused like a connection over the cap, so the cap holds.
      std::string id = NewRequestId();
      co_await WriteError(stream, Status::Unavailable("too many open connections; retry later"),
                          id);
      break;
    }
    auto started = std::chrono::steady_clock::now();
    Request req;
    if (Status s = RequestFromHeader(parser.get().base(), &req); !s.ok()) {
      std::string id = NewRequestId();
      co_await WriteError(stream, s, id);
      break;
    }
    std::string request_id = ResponseRequestId(req);
    // A write records the id it is answered with (SPEC §2.1).
    // (An invalid one stays, for Admit to refuse.)
    if (const std::string* given = req.Header("x-request-id"); !given || given->empty()) {
      req.headers["x-request-id"] = request_id;
    }
    RouteMatch match = MatchRoute(req.method, req.path);
    api->LabelEtcdRoute(&match);
    // Everything the header decides, decided before the body is read: an
    // unauthenticated or cross-site client costs no body.
    if (!match.route) {
      Response r = co_await api->Handle(req, match);  // 404 or 405, from the path alone
      co_await WriteResponseAndClose(stream, r, request_id, MetricsLabel(match), &req);
      break;
    }
    if (match.route->id == RouteId::kWatch && req.method == "GET") {
      conn->watching = true;
      if (Status s = api->Admit(req, match); !s.ok()) {
        co_await WriteError(stream, s, request_id, "/v1/watch", &req);
        break;
      }
      if (!parser.is_done()) {  // a watch takes no body
        co_await WriteError(stream, Status::InvalidRequest("GET /v1/watch takes no body"),
                            request_id, "/v1/watch", &req);
        break;
      }
      net::co_spawn(stream.get_executor(), DetectHangup(new std::shared_ptr<Conn>(conn)),
                    net::detached);
      co_await Watch(*conn, req, match, request_id);
      break;
    }
    if (Status s = api->Admit(req, match); !s.ok()) {
      Response r = api->RefusalFor(match, s);
      co_await WriteResponseAndClose(stream, r, request_id, MetricsLabel(match), &req);
      break;
    }
    // A client that waits for "100 Continue" before sending its body.
    if (auto expect = parser.get().find(bhttp::field::expect);
        expect != parser.get().end() && beast::iequals(expect->value(), "100-continue") &&
        !parser.is_done()) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      beast::error_code cec;
      co_await net::async_write(stream, net::buffer(kContinue), Into(cec));
      if (cec) break;
    }
    if (!parser.is_done()) co_await bhttp::async_read(stream, buffer, parser, Into(ec));
    if (IsClosed(ec)) break;
    if (ec) {
      Response r = api->RefusalFor(match, ReadError(ec));
      co_await WriteResponseAndClose(stream, r, request_id, MetricsLabel(match), &req);
      break;
    }
    auto& msg = parser.get();
    req.body = std::move(msg.body());
    if (api->IsEtcdStream(match)) {
      conn->watching = true;
      net::co_spawn(stream.get_executor(), DetectHangup(new std::shared_ptr<Conn>(conn)),
                    net::detached);
      co_await EtcdStream(*conn, req, match, request_id, msg.version());
      break;
    }

    Response r = co_await api->Serve(req, match);
    const bool head = req.method == "HEAD";
    // A server that is shutting down answers, then closes.
    const bool keep_alive = msg.keep_alive() && !stopping.load();
    const std::string response_head =
        ResponseHead(r, {.version = msg.version(),
                         .keep_alive = keep_alive,
                         .revision = r.revision >= 0 ? r.revision : projection->head(),
                         .request_id = request_id});
    double seconds = SecondsSince(started);
    metrics->ObserveRequest(MetricsLabel(match), req.method, r.status, seconds);
    stream.expires_after(kWriteTimeout);
    beast::error_code wec;
    const bool with_body = !head && r.status != 304;
    const std::array<net::const_buffer, 2> out = {
        net::buffer(response_head), net::buffer(r.Body().data(), with_body ? r.Body().size() : 0)};
    co_await net::async_write(stream, out, Into(wec));
    if (AccessLogOn(r.status)) {
      // Latency here includes writing the response.
      LogAccess({.method = req.method,
                 .route = MetricsLabel(match),
                 .status = r.status,
                 .seconds = SecondsSince(started),
                 .bytes = with_body ? r.Body().size() : 0,
                 .request_id = request_id,
                 .actor = ActorForLog(req),
                 .error = {}});
    }
    if (wec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace chronoconf::http
