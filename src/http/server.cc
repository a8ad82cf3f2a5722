#include "http/server.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/mutex.h"
#include "domain/commands.h"
#include "domain/key.h"
#include "http/access_log.h"
#include "http/framing.h"
#include "http/render.h"
#include "http/request_id.h"
#include "http/request_parsing.h"
#include "http/response_head.h"
#include "http/routes.h"

namespace chronoconf::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
// Completion tokens store the error in a named variable: GCC 12 miscompiles
// structured bindings of co_await results (as_tuple) in loops.
auto Into(beast::error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

namespace {

// Limits against abuse: headers are small; a response the client does not
// read is abandoned after this long. (Idle and read timeouts are options.)
constexpr size_t kHeaderLimit = 16 * 1024;
constexpr std::chrono::seconds kWriteTimeout{60};
// At most this many commits go into one write to a watcher.
constexpr size_t kWatchChunkCommits = 128;
// After a failed accept (out of file descriptors...) the listener waits,
// doubling from the first to the last, instead of spinning on the error.
constexpr std::chrono::milliseconds kFirstAcceptBackoff{10};
constexpr std::chrono::milliseconds kMaxAcceptBackoff{1000};
// A warning that can repeat per connection is written at most this often.
constexpr std::chrono::seconds kWarnEvery{10};
// How often a shutting-down server checks whether its connections are done.
constexpr std::chrono::milliseconds kDrainPoll{20};


// The client's X-Request-Id when it is valid log text, else a new one.
std::string ResponseRequestId(const Request& req) {
  const std::string* id = req.Header("x-request-id");
  if (id && !id->empty() && ValidateLogText(*id, kMaxRequestIdBytes, "").ok()) return *id;
  return NewRequestId();
}

// Who the access log names: the token's name, else a valid X-Actor, else
// "anonymous" (as the commit would).
std::string_view ActorForLog(const Request& req) {
  if (req.principal.authenticated) return req.principal.name;
  const std::string* actor = req.Header("x-actor");
  if (actor && !actor->empty() && ValidateLogText(*actor, kMaxActorBytes, "").ok()) return *actor;
  return "anonymous";
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Writes a warning at most once per kWarnEvery, saying how many were
// suppressed meanwhile. Used from one coroutine at a time (the listener).
class RateLimitedWarning {
 public:
  template <typename... Args>
  void Warn(fmt::format_string<Args...> format, Args&&... args) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < kWarnEvery && last_ != std::chrono::steady_clock::time_point{}) {
      ++suppressed_;
      return;
    }
    std::string text = fmt::format(format, std::forward<Args>(args)...);
    if (suppressed_ > 0) {
      spdlog::warn("{} ({} more like it in the last {} s)", text, suppressed_, kWarnEvery.count());
    } else {
      spdlog::warn("{}", text);
    }
    suppressed_ = 0;
    last_ = now;
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  int64_t suppressed_ = 0;
};

// One client connection. Its coroutine and everything posted to it run on
// its own io_context (one thread), so `watching` needs no lock;
// `idle_since` is also read by the listener, hence atomic.
struct Conn {
  explicit Conn(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  // When the connection began waiting for its next request (steady clock,
  // ns); 0 while a request is answered or the connection is a watch stream;
  // kEvicting once the listener chose to close it.
  std::atomic<int64_t> idle_since{0};
  bool watching = false;  // the connection is a watch stream
  bool hung_up = false;   // the watch client closed its end
  std::shared_ptr<net::steady_timer> watch_timer;
};

constexpr int64_t kEvicting = -1;

// The watch streams of one event loop. A commit wakes them with one post to
// the loop, not one per watcher from the thread that applied it (that
// thread is on the write path).
struct LoopWatchers {
  std::atomic<bool> wake_pending{false};
  std::set<net::steady_timer*> timers;  // only touched on the loop's thread
};

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Server::Impl {
  Impl(Api* a, Projection* p, Metrics* m, ServerOptions o)
      : api(a),
        projection(p),
        metrics(m),
        options(std::move(o)),
        contexts(MakeContexts(options.threads)),
        ioc(*contexts[0]),
        acceptor(ioc) {}

  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int threads) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < std::max(threads, 1); ++i) {
      out.push_back(std::make_unique<net::io_context>(1));  // one thread runs each
    }
    return out;
  }
  void StopAll() {
    for (auto& c : contexts) c->stop();
  }

  net::awaitable<void> Accept();
  // Reads into `buffer` until it holds a whole header block, waiting up to
  // idle_timeout for the request's first byte and read_timeout for the
  // rest. Sets `*refusal` (and returns no error) for bytes that cannot begin
  // a request, a block over the header limit, or obsolete line folding.
  net::awaitable<beast::error_code> ReadHeaderBlock(beast::tcp_stream& stream,
                                                    beast::flat_buffer& buffer, Status* refusal);
  // Takes ownership of `socket`. A raw pointer, not a by-value parameter:
  // GCC 12 can destroy non-trivial coroutine parameters twice.
  net::awaitable<void> Session(tcp::socket* socket);
  net::awaitable<void> Watch(Conn& conn, const Request& req, const std::string& request_id);
  // A watch client sends nothing after its request, so a read that
  // completes means it has gone: the stream ends now, not at the next write.
  // Takes ownership of `holder` (a raw pointer for GCC 12, as Session).
  net::awaitable<void> DetectHangup(std::shared_ptr<Conn>* holder);
  // Answers `status` and closes the connection; counted and logged under
  // `route`. `req` is null when the request could not be parsed.
  net::awaitable<void> WriteError(beast::tcp_stream& stream, const Status& status,
                                  const std::string& request_id,
                                  std::string_view route = "malformed",
                                  const Request* req = nullptr);
  // At the cap, closes the connection that has waited longest for its next
  // request (as nginx reuses idle keep-alive connections), so idle or slow
  // clients cannot lock others out. False when every connection is busy.
  bool EvictIdleConnection();
  // Refuses a connection over the cap with a short 503 and closes it.
  void Refuse(tcp::socket& socket);
  // SIGTERM/SIGINT/Stop(): stop accepting, let requests in flight finish,
  // close idle connections and watches, then stop the io_context once every
  // connection is closed or options.drain_timeout passed. Runs on the
  // io_context; a second call stops at once.
  void BeginShutdown();
  net::awaitable<void> Drain();

  Api* api;
  Projection* projection;
  Metrics* metrics;
  ServerOptions options;
  // The connections, for shutdown. Declared before the contexts: coroutine
  // frames an io_context destroys unregister themselves here.
  Mutex conns_mu;
  std::map<Conn*, std::weak_ptr<Conn>> conns GUARDED_BY(conns_mu);
  std::atomic<bool> stopping{false};
  // One io_context per thread, as nginx has one event loop per worker: a
  // connection lives on one of them, so its handlers never run at the same
  // time and need no strand, and no lock is shared between the loops.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  net::io_context& ioc;  // contexts[0]: also the listener, signals, shutdown
  size_t next_context = 0;  // the listener's round robin
  std::vector<std::unique_ptr<LoopWatchers>> loop_watchers;  // [i]: contexts[i]'s

  LoopWatchers& WatchersOf(const net::any_io_executor& executor) {
    const net::execution_context* ctx = &net::query(executor, net::execution::context);
    for (size_t i = 0; i < contexts.size(); ++i) {
      if (contexts[i].get() == ctx) return *loop_watchers[i];
    }
    return *loop_watchers[0];  // every connection runs on one of the contexts
  }
  tcp::acceptor acceptor;
  RateLimitedWarning accept_warning, refuse_warning;
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
  std::function<void(const beast::error_code&, int)> on_signal;
  if (handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.add(SIGHUP);  // never the default action (exit) for a server
    on_signal = [&](const beast::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        if (impl_->options.on_hangup) {
          impl_->options.on_hangup();
        } else {
          spdlog::info("SIGHUP: nothing to reload (no --auth-file)");
        }
      } else {
        impl_->BeginShutdown();  // a second SIGTERM or SIGINT stops at once
      }
      signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
  }
  net::co_spawn(ioc, impl_->Accept(), net::detached);
  // One listener per loop on the change feed (see LoopWatchers).
  std::vector<uint64_t> subscriptions;
  for (size_t i = 0; i < impl_->contexts.size(); ++i) {
    impl_->loop_watchers.push_back(std::make_unique<LoopWatchers>());
    subscriptions.push_back(impl_->projection->feed().Subscribe(
        [loop = impl_->contexts[i].get(), lw = impl_->loop_watchers[i].get()](int64_t) {
          if (lw->wake_pending.exchange(true)) return;  // a wake-up is on its way
          net::post(*loop, [lw] {
            lw->wake_pending.store(false);
            for (net::steady_timer* t : lw->timers) t->cancel();
          });
        }));
  }
  // Each loop runs until StopAll, also while it has no connection.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  for (auto& c : impl_->contexts) guards.push_back(net::make_work_guard(*c));
  std::vector<std::thread> workers;
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    workers.emplace_back([this, i] { impl_->contexts[i]->run(); });
  }
  ioc.run();
  impl_->StopAll();
  for (auto& t : workers) t.join();
  for (uint64_t id : subscriptions) impl_->projection->feed().Unsubscribe(id);
}

void Server::Stop() {
  net::post(impl_->ioc, [impl = impl_.get()] { impl->BeginShutdown(); });
}

void Server::Impl::BeginShutdown() {
  if (stopping.exchange(true)) {
    spdlog::warn("stopping now, without waiting for open requests");
    StopAll();
    return;
  }
  spdlog::info("shutting down: finishing the requests in flight ({} connections open)",
               metrics->connections_open());
  beast::error_code ec;
  acceptor.close(ec);
  std::vector<std::shared_ptr<Conn>> open;
  {
    MutexLock lock(&conns_mu);
    for (auto& [raw, weak] : conns) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  // Idle connections and watches are closed now; a busy one closes after
  // it has answered (Session checks `stopping`).
  for (auto& c : open) {
    net::post(c->stream.get_executor(), [c] {
      if (c->watch_timer) c->watch_timer->cancel();
      if (c->idle_since.load() != 0 || c->watching) c->stream.cancel();
    });
  }
  net::co_spawn(ioc, Drain(), net::detached);
}

net::awaitable<void> Server::Impl::Drain() {
  auto deadline = std::chrono::steady_clock::now() + options.drain_timeout;
  net::steady_timer timer(ioc);
  while (metrics->connections_open() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(kDrainPoll);
    beast::error_code ec;
    co_await timer.async_wait(Into(ec));
  }
  if (int64_t left = metrics->connections_open(); left > 0) {
    spdlog::warn("{} connections still open after {} ms; closing them", left,
                 options.drain_timeout.count());
  }
  StopAll();
}

bool Server::Impl::EvictIdleConnection() {
  std::shared_ptr<Conn> oldest;
  int64_t oldest_since = 0;
  {
    MutexLock lock(&conns_mu);
    for (auto& [raw, weak] : conns) {
      int64_t since = raw->idle_since.load();
      if (since > 0 && (!oldest || since < oldest_since)) {
        if (auto c = weak.lock()) {
          oldest = std::move(c);
          oldest_since = since;
        }
      }
    }
  }
  if (!oldest) return false;
  // Cancel it on its own loop, and only if no request has begun there
  // meanwhile (the session then overwrote kEvicting with 0).
  if (!oldest->idle_since.compare_exchange_strong(oldest_since, kEvicting)) return false;
  net::post(oldest->stream.get_executor(), [oldest] {
    if (oldest->idle_since.load() == kEvicting) oldest->stream.cancel();
  });
  metrics->ConnectionEvicted();
  return true;
}

void Server::Impl::Refuse(tcp::socket& socket) {
  static const std::string kBody =
      R"({"error":{"code":"unavailable","message":"too many open connections; retry later"}})";
  static const std::string kResponse = fmt::format(
      "HTTP/1.1 503 Service Unavailable\r\nServer: chronoconf\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nRetry-After: 1\r\nContent-Length: {}\r\n\r\n{}",
      kBody.size(), kBody);
  // Never block the listener on this client: one try, then close.
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(net::buffer(kResponse), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

net::awaitable<void> Server::Impl::Accept() {
  std::chrono::milliseconds backoff{0};
  net::steady_timer backoff_timer(ioc);
  while (!stopping.load()) {
    beast::error_code ec;
    // The next loop takes the connection. (Named: GCC 12 destroys some
    // temporaries of a co_await expression twice.)
    net::io_context::executor_type loop =
        contexts[next_context++ % contexts.size()]->get_executor();
    tcp::socket socket = co_await acceptor.async_accept(loop, Into(ec));
    if (ec) {
      if (ec == net::error::operation_aborted || stopping.load()) co_return;
      // Out of file descriptors (or memory): the error repeats until a
      // connection closes, so wait instead of spinning, and say it rarely.
      metrics->AcceptError();
      backoff = std::min(std::max(backoff * 2, kFirstAcceptBackoff), kMaxAcceptBackoff);
      accept_warning.Warn("accept: {} ({} connections open); retrying in {} ms", ec.message(),
                          metrics->connections_open(), backoff.count());
      backoff_timer.expires_after(backoff);
      beast::error_code tec;
      co_await backoff_timer.async_wait(Into(tec));
      continue;
    }
    backoff = std::chrono::milliseconds{0};
    if (metrics->connections_open() >= static_cast<int64_t>(options.max_connections) &&
        !EvictIdleConnection()) {
      metrics->ConnectionRefused();
      refuse_warning.Warn("refused a connection: {} connections are open (--max-connections)",
                          options.max_connections);
      Refuse(socket);
      continue;
    }
    metrics->ConnectionOpened();
    auto executor = socket.get_executor();
    // The one place an exception may stop: the session's completion handler.
    net::co_spawn(executor, Session(new tcp::socket(std::move(socket))),
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

net::awaitable<void> Server::Impl::DetectHangup(std::shared_ptr<Conn>* holder) {
  std::shared_ptr<Conn> conn = std::move(*holder);
  delete holder;
  char byte;
  beast::error_code ec;
  // On the socket itself: the stream's send timeout must not end this read.
  co_await conn->stream.socket().async_read_some(net::buffer(&byte, 1), Into(ec));
  conn->hung_up = true;
  if (conn->watch_timer) conn->watch_timer->cancel();
}

net::awaitable<void> Server::Impl::WriteError(beast::tcp_stream& stream, const Status& status,
                                              const std::string& request_id,
                                              std::string_view route, const Request* req) {
  auto started = std::chrono::steady_clock::now();
  Response r = ErrorResponse(status);
  metrics->ObserveRequest(route, route == "malformed" ? "other" : "GET", r.status, 0);
  const size_t body_bytes = r.body.size();
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
  res.set(bhttp::field::server, "chronoconf");
  res.set(bhttp::field::content_type, r.content_type);
  res.set("X-Chronoconf-Revision", std::to_string(projection->head()));
  res.set("X-Request-Id", request_id);
  if (status.code() == Code::kUnauthorized) {
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"chronoconf\"");
  }
  res.keep_alive(false);
  res.body() = std::move(r.body);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(5));
  beast::error_code wec;
  co_await bhttp::async_write(stream, res, Into(wec));
  if (AccessLogOn(r.status)) {
    // A malformed request's reason is about framing, never a value.
    LogAccess({.method = req ? std::string_view(req->method) : std::string_view("-"),
               .route = route,
               .status = r.status,
               .seconds = SecondsSince(started),
               .bytes = body_bytes,
               .request_id = request_id,
               .actor = req ? ActorForLog(*req) : std::string_view("-"),
               .error = req ? std::string_view() : std::string_view(status.message())});
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
    if (!ec) {
      size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        co_await bhttp::async_read_header(stream, buffer, parser, Into(ec));
      }
    }
    if (!ec) {
      if (Status s = CheckFraming(parser.get().base()); !s.ok()) {
        std::string id = NewRequestId();
        co_await WriteError(stream, s, id);
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
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == beast::error::timeout || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted) {
      break;
    }
    if (ec) {
      // (Named, not a temporary: GCC 12 mishandles temporaries across co_await.)
      Status error = ec == bhttp::error::body_limit
                         ? Status::TooLarge(fmt::format("the body is over the limit of {} bytes",
                                                        options.max_body_bytes))
                         : Status::InvalidRequest(fmt::format("malformed HTTP: {}", ec.message()));
      std::string id = NewRequestId();
      co_await WriteError(stream, error, id);
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
    auto& msg = parser.get();
    Request req;
    req.method = std::string(msg.method_string());
    if (Status s = ParseTarget(msg.target(), &req); !s.ok()) {
      std::string id = NewRequestId();
      co_await WriteError(stream, s, id);
      break;
    }
    for (const auto& field : msg) {
      req.headers.emplace(Lower(field.name_string()), std::string(field.value()));
    }
    req.body = std::move(msg.body());
    std::string request_id = ResponseRequestId(req);
    // A write records the id it is answered with (SPEC §2.1).
    // (An invalid one stays, for Admit to refuse.)
    if (const std::string* given = req.Header("x-request-id"); !given || given->empty()) {
      req.headers["x-request-id"] = request_id;
    }
    RouteMatch match = MatchRoute(req.method, req.path);
    if (match.route && match.route->id == RouteId::kWatch && req.method == "GET") {
      conn->watching = true;
      if (Status s = api->Admit(req, match); !s.ok()) {
        co_await WriteError(stream, s, request_id, "/v1/watch", &req);
        break;
      }
      net::co_spawn(stream.get_executor(), DetectHangup(new std::shared_ptr<Conn>(conn)),
                    net::detached);
      co_await Watch(*conn, req, request_id);
      break;
    }

    Response r = co_await api->Handle(req, match);
    const bool head = req.method == "HEAD";
    // A server that is shutting down answers, then closes.
    const bool keep_alive = msg.keep_alive() && !stopping.load();
    const std::string response_head =
        ResponseHead(r, {.version = msg.version(),
                         .keep_alive = keep_alive,
                         .revision = projection->head(),
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

net::awaitable<void> Server::Impl::Watch(Conn& conn, const Request& req,
                                         const std::string& request_id) {
  beast::tcp_stream& stream = conn.stream;
  const std::string* prefix_param = req.Query("prefix");
  std::string prefix = prefix_param ? *prefix_param : "";
  EventFilter filter{req.principal.scope, prefix};
  if (Status s = ValidatePrefix(prefix); !s.ok()) co_return co_await WriteError(stream, s, request_id, "/v1/watch", &req);
  auto from = IntParam(req, "from_revision", 0, INT64_MAX);
  if (!from) {
    Status error = from.status();
    co_return co_await WriteError(stream, error, request_id, "/v1/watch", &req);
  }
  int64_t last = projection->head();
  if (*from) last = **from;
  if (const std::string* id = req.Header("last-event-id"); id && !id->empty()) {
    auto parsed = ParseCount(*id, "Last-Event-ID");
    if (!parsed) {
      Status error = parsed.status();
      co_return co_await WriteError(stream, error, request_id, "/v1/watch", &req);
    }
    last = *parsed;
  }
  if (last > projection->head()) {
    Status error = Status::FutureRevision(
        fmt::format("revision {} is above the head revision {}", last, projection->head()));
    co_return co_await WriteError(stream, error, request_id, "/v1/watch", &req);
  }

  std::string header = fmt::format(
      "HTTP/1.1 200 OK\r\nServer: chronoconf\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\nX-Chronoconf-Revision: {}\r\n"
      "X-Request-Id: {}\r\n\r\n",
      projection->head(), request_id);
  stream.expires_after(options.watch_send_timeout);
  beast::error_code hec;
  co_await net::async_write(stream, net::buffer(header), Into(hec));
  if (hec) co_return;
  // Counted and logged once the stream has begun (an error before it is
  // counted by WriteError instead).
  metrics->ObserveRequest("/v1/watch", req.method, 200, 0);
  if (AccessLogOn(200)) {
    LogAccess({.method = req.method,
               .route = "/v1/watch",
               .status = 200,
               .seconds = 0,
               .bytes = 0,
               .request_id = request_id,
               .actor = ActorForLog(req),
               .error = {}});
  }

  metrics->WatcherOpened();
  auto executor = co_await net::this_coro::executor;
  auto timer = std::make_shared<net::steady_timer>(executor);
  conn.watch_timer = timer;
  LoopWatchers& loop = WatchersOf(executor);
  loop.timers.insert(timer.get());  // a commit cancels its wait
  // A watcher reads commits from the read model at its own pace; nothing is
  // queued per watcher, so a slow one costs no memory. One that stops
  // reading is dropped when a write does not finish in watch_send_timeout.
  bool dropped = false;
  std::shared_ptr<const AuthTable> auth_at_start = api->auth();
  while (!stopping.load() && !conn.hung_up) {
    auto commits = projection->Commits(last, kWatchChunkCommits);
    std::string chunk;
    for (const CommitPtr& c : commits) {
      std::vector<size_t> matching;
      for (size_t i = 0; i < c->events.size(); ++i) {
        if (filter.Matches(c->events[i].key)) matching.push_back(i);
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
      if (stopping.load() || conn.hung_up) break;
      if (projection->head() > last) continue;
      if (!tec) chunk = ": keepalive\n\n";  // the keepalive period passed quietly
    }
    if (chunk.empty()) continue;
    // A token revoked by a reload (SIGHUP) gets nothing more.
    if (auto table = api->auth(); table != auth_at_start) {
      auth_at_start = table;
      if (req.principal.authenticated &&
          (!table || !table->Authenticate(req.Header("authorization")).ok())) {
        spdlog::info("closed a watch: its token is no longer valid");
        break;
      }
    }
    stream.expires_after(options.watch_send_timeout);
    beast::error_code wec;
    co_await net::async_write(stream, net::buffer(chunk), Into(wec));
    if (wec) {
      dropped = wec == beast::error::timeout;
      break;
    }
  }
  loop.timers.erase(timer.get());
  metrics->WatcherClosed();
  if (dropped) {
    metrics->WatcherDropped();
    spdlog::info("dropped a watcher that stopped reading (at revision {})", last);
  }
  beast::error_code ignored;
  stream.socket().close(ignored);
}

}  // namespace chronoconf::http
