#include "http/server.h"

#include <boost/asio/redirect_error.hpp>
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
// Completion tokens store the error in a named variable: GCC 12 miscompiles
// structured bindings of co_await results (as_tuple) in loops.
auto Into(beast::error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

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
  if (path.starts_with("/v1/kv/")) return "/v1/kv/{key}";
  if (path.starts_with("/v1/history/")) return "/v1/history/{key}";
  if (path.starts_with("/v1/revisions/")) return "/v1/revisions/{R}";
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
  // Takes ownership of `stream`. A raw pointer, not a by-value parameter: GCC
  // 12 can destroy non-trivial coroutine parameters twice.
  net::awaitable<void> Session(beast::tcp_stream* stream);
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
    beast::error_code ec;
    // Named: a strand temporary inside the co_await expression would be
    // destroyed twice by GCC 12, releasing the strand early.
    auto strand = net::make_strand(ioc);
    tcp::socket socket = co_await acceptor.async_accept(strand, Into(ec));
    if (ec) {
      if (ec == net::error::operation_aborted) co_return;
      spdlog::warn("accept: {}", ec.message());
      continue;
    }
    auto executor = socket.get_executor();
    // The one place an exception may stop: the session's completion handler.
    net::co_spawn(executor, Session(new beast::tcp_stream(std::move(socket))),
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
  beast::error_code wec;
  co_await bhttp::async_write(stream, res, Into(wec));
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

net::awaitable<void> Server::Impl::Session(beast::tcp_stream* raw_stream) {
  std::unique_ptr<beast::tcp_stream> owned(raw_stream);
  beast::tcp_stream& stream = *owned;
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options.max_body_bytes);
    stream.expires_after(kReadTimeout);
    beast::error_code ec;
    co_await bhttp::async_read(stream, buffer, parser, Into(ec));
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == beast::error::timeout || ec == net::error::connection_reset) {
      break;
    }
    if (ec) {
      // (Named, not a temporary: GCC 12 mishandles temporaries across co_await.)
      Status error = ec == bhttp::error::body_limit
                         ? Status::TooLarge(fmt::format("the body is over the limit of {} bytes",
                                                        options.max_body_bytes))
                         : Status::InvalidRequest(fmt::format("malformed HTTP: {}", ec.message()));
      co_await WriteError(stream, error);
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
    beast::error_code wec;
    co_await bhttp::async_write(stream, res, Into(wec));
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
  if (!from) {
    Status error = from.status();
    co_return co_await WriteError(stream, error);
  }
  int64_t last = projection->head();
  if (*from) last = **from;
  if (const std::string* id = req.Header("last-event-id"); id && !id->empty()) {
    auto parsed = ParseCount(*id, "Last-Event-ID");
    if (!parsed) {
      Status error = parsed.status();
      co_return co_await WriteError(stream, error);
    }
    last = *parsed;
  }
  if (last > projection->head()) {
    Status error = Status::FutureRevision(
        fmt::format("revision {} is above the head revision {}", last, projection->head()));
    co_return co_await WriteError(stream, error);
  }

  std::string header = fmt::format(
      "HTTP/1.1 200 OK\r\nServer: chronoconf\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\nX-Chronoconf-Revision: {}\r\n\r\n",
      projection->head());
  stream.expires_after(options.watch_send_timeout);
  beast::error_code hec;
  co_await net::async_write(stream, net::buffer(header), Into(hec));
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
      beast::error_code tec;
      co_await timer->async_wait(Into(tec));
      if (projection->head() > last) continue;
      if (!tec) chunk = ": keepalive\n\n";  // the keepalive period passed quietly
    }
    if (chunk.empty()) continue;
    stream.expires_after(options.watch_send_timeout);
    beast::error_code wec;
    co_await net::async_write(stream, net::buffer(chunk), Into(wec));
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
