// The insides of Server (server.h), shared by the files that implement it:
//   server.cc        the listener, the connection cap, signals and shutdown
//   session.cc       one connection: read a request, admit it, answer it
//   watch_stream.cc  GET /v1/watch as a Server-Sent Events stream
//   gateway_stream.cc  etcd's POST /v3/watch as a stream of JSON lines
// Nothing outside src/http/server*.cc, session.cc and watch_stream.cc
// includes this file.
#ifndef CHRONOCONF_HTTP_SERVER_IMPL_H_
#define CHRONOCONF_HTTP_SERVER_IMPL_H_

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/mutex.h"
#include "http/rendered_events.h"
#include "http/routes.h"
#include "http/server.h"

namespace chronoconf::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
// Completion tokens store the error in a named variable: GCC 12 miscompiles
// structured bindings of co_await results (as_tuple) in loops.
inline auto Into(beast::error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

// Who the access log names: the token's name, else a valid X-Actor, else
// "anonymous" (as the commit would). (session.cc)
std::string_view ActorForLog(const Request& req);

// Limits against abuse: headers are small; a response the client does not
// read is abandoned after this long. (Idle and read timeouts are options.)
inline constexpr size_t kHeaderLimit = 16 * 1024;
inline constexpr std::chrono::seconds kWriteTimeout{60};
// A watcher reads at most this many commits, or this many bytes of their
// values, from the read model at a time, and writes its frames in chunks
// of about kWatchChunkBytes.
inline constexpr size_t kWatchChunkCommits = 128;
inline constexpr size_t kWatchReadBytes = 256 * 1024;
inline constexpr size_t kWatchChunkBytes = 64 * 1024;
// The room a stream keeps for its next frame between writes.
inline constexpr size_t kKeptFrameBytes = 4 * 1024;
// What all watchers together may be writing at once; a watcher over it
// waits (for at most its send timeout), retrying this often.
inline constexpr size_t kAllWatchersBytes = 64 * 1024 * 1024;
inline constexpr std::chrono::milliseconds kWatchBudgetRetry{5};

// Bytes reserved from a shared budget, without a lock. A reservation larger
// than the whole budget is allowed when nothing else is reserved, so one
// large frame still goes out.
class ByteBudget {
 public:
  explicit ByteBudget(size_t limit) : limit_(limit) {}
  bool TryReserve(size_t n) {
    size_t used = used_.load();
    do {
      if (used > 0 && used + n > limit_) return false;
    } while (!used_.compare_exchange_weak(used, used + n));
    return true;
  }
  void Release(size_t n) { used_.fetch_sub(n); }
  size_t used() const { return used_.load(); }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};
// After a failed accept (out of file descriptors...) the listener waits,
// doubling from the first to the last, instead of spinning on the error.
inline constexpr std::chrono::milliseconds kFirstAcceptBackoff{10};
inline constexpr std::chrono::milliseconds kMaxAcceptBackoff{1000};
// A warning that can repeat per connection is written at most this often.
inline constexpr std::chrono::seconds kWarnEvery{10};
// How often a shutting-down server checks whether its connections are done.
inline constexpr std::chrono::milliseconds kDrainPoll{20};


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

inline constexpr int64_t kEvicting = -1;

// The watch streams of one event loop. A commit wakes them with one post to
// the loop, not one per watcher from the thread that applied it (that
// thread is on the write path).
struct LoopWatchers {
  std::atomic<bool> wake_pending{false};
  std::set<net::steady_timer*> timers;  // only touched on the loop's thread
  RenderedEvents rendered;              // the same: the loop's watchers share it
};

inline int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}


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
  net::awaitable<void> Watch(Conn& conn, const Request& req, const RouteMatch& match,
                             const std::string& request_id);
  // What every stream (GET /v1/watch, POST /v3/watch) shares
  // (watch_stream.cc). BeginStream writes the response head `head`, counts
  // and logs the stream under `label`, and registers a timer that a commit
  // cancels (a wait on it ends); null when the head could not be written.
  net::awaitable<std::shared_ptr<net::steady_timer>> BeginStream(
      Conn& conn, const Request& req, std::string_view label, const std::string& request_id,
      const std::string& head);
  // Writes `bytes` within the budget of all watchers (kAllWatchersBytes),
  // then frees them. False: the stream must end; *dropped when the client
  // stopped reading. A `last` write (a stream's last line at shutdown) is
  // made while the server stops too.
  net::awaitable<bool> StreamWrite(Conn& conn, net::steady_timer& timer, std::string& bytes,
                                   bool* dropped, bool last = false);
  // Undoes BeginStream's registration and counts the stream's end.
  void EndStream(Conn& conn, net::steady_timer* timer, bool dropped);
  // Streams an admitted etcd gateway call (POST /v3/watch, its body read)
  // as chunked JSON lines.
  net::awaitable<void> EtcdStream(Conn& conn, const Request& req, const RouteMatch& match,
                                  const std::string& request_id, int http_version);
  // A watch client sends nothing after its request, so a read that
  // completes means it has gone: the stream ends now, not at the next write.
  // Takes ownership of `holder` (a raw pointer for GCC 12, as Session).
  net::awaitable<void> DetectHangup(std::shared_ptr<Conn>* holder);
  // Answers `r` and closes the connection, after draining (briefly) what
  // the client still sends, so that it reads the answer instead of a reset;
  // counted and logged under `route`. `req` is null when the request could
  // not be parsed; `error` is then why, for the log.
  net::awaitable<void> WriteResponseAndClose(beast::tcp_stream& stream, const Response& r,
                                            const std::string& request_id,
                                            std::string_view route, const Request* req,
                                            std::string_view error = {});
  // What a failed read of a request means to its client (413, 400).
  Status ReadError(const beast::error_code& ec) const;
  // The same with the answer to a refusal `status`.
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
  ByteBudget watch_bytes{kAllWatchersBytes};
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

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_SERVER_IMPL_H_
