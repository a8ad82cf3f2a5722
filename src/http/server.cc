#include "http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "domain/key.h"
#include "http/render.h"
#include "http/request_parsing.h"

namespace chronoconf::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

namespace {

// Limits against abuse: headers are small; an idle keep-alive connection or
// a client that sends a request slowly is closed after this long.
constexpr size_t kHeaderLimit = 16 * 1024;
constexpr std::chrono::seconds kReadTimeout{60};
constexpr std::chrono::seconds kWriteTimeout{60};
// At most this many commits go into one write to a watcher.
constexpr size_t kWatchChunkCommits = 128;

// The route pattern a path is counted under in /metrics.
std::string RouteOf(const std::string& path) {
  for (const char* p : {"/v1/kv/", "/v1/history/", "/v1/revisions/"}) {
    if (path.starts_with(p)) return std::string(p) + (path.starts_with("/v1/revisions/") ? "{R}" : "{key}");
  }
  for (const char* p : {"/v1/kv", "/v1/txn", "/v1/events", "/v1/diff", "/v1/revert", "/v1/watch",
                        "/v1/export", "/v1/import", "/v1/status", "/healthz", "/readyz",
                        "/metrics"}) {
    if (path == p) return path;
  }
  return "other";
}

}  // namespace

struct Server::Impl {
  Impl(Api* a, Projection* p, Metrics* m, ServerOptions o)
      : api(a), projection(p), metrics(m), options(std::move(o)), ioc(options.threads),
        acceptor(ioc) {}

  net::awaitable<void> Accept();
  net::awaitable<void> Session(beast::tcp_stream stream);
  net::awaitable<void> Watch(beast::tcp_stream& stream, const Request& req);
  net::awaitable<void> WriteError(beast::tcp_stream& stream, const Status& status);

  Api* api;
  Projection* projection;
  Metrics* metrics;
  ServerOptions options;
  net::io_context ioc;
  tcp::acceptor acceptor;
};

Server::Server(Api* api, Projection* projection, Metrics* metrics, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, projection, metrics, std::move(options))) {}

Server::~Server() = default;

Status Server::Listen() {
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) return Status::InvalidRequest(fmt::format("bad listen address '{}'", impl_->options.host));
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable(
        fmt::format("cannot listen on {}:{}: {}", impl_->options.host, impl_->options.port,
                    ec.message()));
  }
  return Status::OK();
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::Run(bool handle_signals) {
  auto& ioc = impl_->ioc;
  net::signal_set signals(ioc);
  if (handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.async_wait([&](const beast::error_code&, int) { ioc.stop(); });
  }
  net::co_spawn(ioc, impl_->Accept(), net::detached);
  std::vector<std::thread> workers;
  for (int i = 1; i < impl_->options.threads; ++i) workers.emplace_back([&] { ioc.run(); });
  ioc.run();
  ioc.stop();
  for (auto& t : workers) t.join();
}

void Server::Stop() { impl_->ioc.stop(); }

net::awaitable<void> Server::Impl::Accept() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(ioc), kTuple);
    if (ec) {
      if (ec == net::error::operation_aborted) co_return;
      spdlog::warn("accept: {}", ec.message());
      continue;
    }
    auto executor = socket.get_executor();
    // The one place an exception may stop: the session's completion handler.
    net::co_spawn(executor, Session(beast::tcp_stream(std::move(socket))),
                  [](std::exception_ptr e) {
                    if (!e) return;
                    try {
                      std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                      spdlog::error("session ended by an exception: {}", ex.what());
                    }
                  });
  }
}

net::awaitable<void> Server::Impl::WriteError(beast::tcp_stream& stream, const Status& status) {
  Response r = ErrorResponse(status);
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
  res.set(bhttp::field::content_type, r.content_type);
  res.set("X-Chronoconf-Revision", std::to_string(projection->head()));
  res.keep_alive(false);
  res.body() = std::move(r.body);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(stream, res, kTuple);
  // Drain what the client is still sending (briefly) so that it reads our
  // answer instead of a connection reset.
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  char sink[8192];
  size_t drained = 0;
  stream.expires_after(std::chrono::seconds(2));
  while (drained < (64u << 20)) {
    auto [rec, n] = co_await stream.async_read_some(net::buffer(sink), kTuple);
    if (rec) break;
    drained += n;
  }
}

net::awaitable<void> Server::Impl::Session(beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options.max_body_bytes);
    stream.expires_after(kReadTimeout);
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == beast::error::timeout || ec == net::error::connection_reset) {
      break;
    }
    if (ec == bhttp::error::body_limit) {
      co_await WriteError(stream, Status::TooLarge(fmt::format(
                                      "the body is over the limit of {} bytes",
                                      options.max_body_bytes)));
      break;
    }
    if (ec) {
      co_await WriteError(stream,
                          Status::InvalidRequest(fmt::format("malformed HTTP: {}", ec.message())));
      break;
    }
    auto started = std::chrono::steady_clock::now();
    auto& msg = parser.get();
    Request req;
    req.method = std::string(msg.method_string());
    if (Status s = ParseTarget(msg.target(), &req); !s.ok()) {
      co_await WriteError(stream, s);
      break;
    }
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace(std::move(name), std::string(field.value()));
    }
    req.body = std::move(msg.body());
    if (req.path == "/v1/watch" && req.method == "GET" && api->ready()) {
      co_await Watch(stream, req);
      co_return;
    }

    Response r = co_await api->Handle(req);
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), msg.version()};
    res.set(bhttp::field::server, "chronoconf");
    res.set(bhttp::field::content_type, r.content_type);
    res.set("X-Chronoconf-Revision", std::to_string(projection->head()));
    for (auto& [name, value] : r.headers) res.set(name, value);
    res.keep_alive(msg.keep_alive());
    if (req.method == "HEAD") {
      res.content_length(r.body.size());
    } else {
      res.body() = std::move(r.body);
      res.prepare_payload();
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics->ObserveRequest(RouteOf(req.path), req.method, r.status, seconds);
    stream.expires_after(kWriteTimeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> Server::Impl::Watch(beast::tcp_stream& stream, const Request& req) {
  const std::string* prefix_param = req.Query("prefix");
  std::string prefix = prefix_param ? *prefix_param : "";
  if (Status s = ValidatePrefix(prefix); !s.ok()) co_return co_await WriteError(stream, s);
  auto from = IntParam(req, "from_revision", 0, INT64_MAX);
  if (!from) co_return co_await WriteError(stream, from.status());
  int64_t last = projection->head();
  if (*from) last = **from;
  if (const std::string* id = req.Header("last-event-id"); id && !id->empty()) {
    Request tmp;
    tmp.query["Last-Event-ID"] = *id;
    auto parsed = IntParam(tmp, "Last-Event-ID", 0, INT64_MAX);
    if (!parsed) co_return co_await WriteError(stream, parsed.status());
    last = **parsed;
  }
  if (last > projection->head()) {
    co_return co_await WriteError(
        stream, Status::FutureRevision(fmt::format("revision {} is above the head revision {}",
                                                   last, projection->head())));
  }

  std::string header = fmt::format(
      "HTTP/1.1 200 OK\r\nServer: chronoconf\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\nX-Chronoconf-Revision: {}\r\n\r\n",
      projection->head());
  stream.expires_after(options.watch_send_timeout);
  auto [hec, hn] = co_await net::async_write(stream, net::buffer(header), kTuple);
  if (hec) co_return;

  metrics->WatcherOpened();
  auto timer = std::make_shared<net::steady_timer>(co_await net::this_coro::executor);
  uint64_t sub = projection->feed().Subscribe([timer](int64_t) {
    net::post(timer->get_executor(), [timer] { timer->cancel(); });
  });
  // A watcher reads commits from the read model at its own pace; nothing is
  // queued per watcher, so a slow one costs no memory. One that stops
  // reading is dropped when a write does not finish in watch_send_timeout.
  bool dropped = false;
  for (;;) {
    auto commits = projection->Commits(last, kWatchChunkCommits);
    std::string chunk;
    for (const CommitPtr& c : commits) {
      std::vector<size_t> matching;
      for (size_t i = 0; i < c->events.size(); ++i) {
        if (c->events[i].key.starts_with(prefix)) matching.push_back(i);
      }
      for (size_t i : matching) {
        chunk += fmt::format("event: {}\n", EventTypeName(c->events[i].type));
        // The id goes on the commit's last matching event only, so a client
        // that resumes from it never misses part of a commit.
        if (i == matching.back()) chunk += fmt::format("id: {}\n", c->revision);
        chunk += "data: " + RenderEvent(*c, i) + "\n\n";
      }
      last = c->revision;
    }
    if (commits.empty()) {
      timer->expires_after(options.watch_keepalive);
      auto [tec] = co_await timer->async_wait(kTuple);
      if (projection->head() > last) continue;
      if (!tec) chunk = ": keepalive\n\n";  // the keepalive period passed quietly
    }
    if (chunk.empty()) continue;
    stream.expires_after(options.watch_send_timeout);
    auto [wec, wn] = co_await net::async_write(stream, net::buffer(chunk), kTuple);
    if (wec) {
      dropped = wec == beast::error::timeout;
      break;
    }
  }
  projection->feed().Unsubscribe(sub);
  metrics->WatcherClosed();
  if (dropped) {
    metrics->WatcherDropped();
    spdlog::info("dropped a watcher that stopped reading (at revision {})", last);
  }
  beast::error_code ignored;
  stream.socket().close(ignored);
}

}  // namespace chronoconf::http
