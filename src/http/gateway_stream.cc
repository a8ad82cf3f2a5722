// etcd's POST /v3/watch on the HTTP port (Server::Impl::EtcdStream): the
// gateway's JSON lines in HTTP/1.1 chunks (grpc-gateway's framing; Patroni
// reads the chunks), written at the client's pace with the native watch's
// bounds: nothing queued per stream beyond what it writes at a time
// (kWatchChunkBytes, or one response when that alone is larger), all
// watchers together within kAllWatchersBytes, and a client that stops
// reading dropped after watch_send_timeout. A commit wakes it as it wakes
// the native watches (LoopWatchers); a shutdown ends it with etcd's "server
// stopped" line, a client that hangs up ends it at once.
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include "http/access_log.h"
#include "http/server_impl.h"

namespace chronoconf::http {

net::awaitable<void> Server::Impl::EtcdStream(Conn& conn, const Request& req,
                                              const RouteMatch& match,
                                              const std::string& request_id,
                                              int http_version) {
  beast::tcp_stream& stream = conn.stream;
  const std::string_view label = MetricsLabel(match);
  Response refusal;
  std::unique_ptr<GatewayStream> lines = api->etcd_gateway()->Open(req, match.tail, &refusal);
  if (!lines) {
    co_await WriteResponseAndClose(stream, refusal, request_id, label, &req);
    co_return;
  }
  // Chunks need HTTP/1.1; an HTTP/1.0 client reads until the connection closes.
  const bool chunked = http_version >= 11;
  std::string header = fmt::format(
      "HTTP/1.1 200 OK\r\nServer: chronoconf\r\nContent-Type: application/json\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\n{}X-Chronoconf-Revision: {}\r\n"
      "X-Request-Id: {}\r\n\r\n",
      chunked ? "Transfer-Encoding: chunked\r\n" : "", projection->head(), request_id);
  stream.expires_after(options.watch_send_timeout);
  beast::error_code hec;
  co_await net::async_write(stream, net::buffer(header), Into(hec));
  if (hec) co_return;
  metrics->ObserveRequest(label, req.method, 200, 0);
  if (AccessLogOn(200)) {
    LogAccess({.method = req.method,
               .route = label,
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
  bool dropped = false;
  std::string out;    // the lines to write next
  std::string frame;  // the same in a chunk
  // Writes `out` within the global budget. False: the stream must end.
  auto gone = [&] { return conn.hung_up && !stopping.load(); };
  auto send = [&]() -> net::awaitable<bool> {
    frame = chunked ? fmt::format("{:x}\r\n{}\r\n", out.size(), out) : std::move(out);
    out.clear();
    const auto deadline = std::chrono::steady_clock::now() + options.watch_send_timeout;
    while (!watch_bytes.TryReserve(frame.size())) {
      if (std::chrono::steady_clock::now() >= deadline || gone()) {
        dropped = !gone();
        co_return false;
      }
      timer->expires_after(kWatchBudgetRetry);
      beast::error_code tec;
      co_await timer->async_wait(Into(tec));
    }
    stream.expires_after(options.watch_send_timeout);
    beast::error_code wec;
    co_await net::async_write(stream, net::buffer(frame), Into(wec));
    watch_bytes.Release(frame.size());
    frame.clear();
    frame.shrink_to_fit();  // a large response is not kept while the stream waits
    out.shrink_to_fit();
    if (wec) dropped = wec == beast::error::timeout;
    co_return !wec;
  };
  bool ended = false;  // the stream said its last line
  while (!stopping.load() && !conn.hung_up) {
    const GatewayStream::Next next = lines->Read(&out, kWatchChunkBytes);
    if (!out.empty() && !co_await send()) break;
    if (next == GatewayStream::Next::kEnd) {
      ended = true;
      break;
    }
    if (next == GatewayStream::Next::kNothing) {
      // Until a commit (or, while the read model catches up, a while).
      timer->expires_after(options.watch_keepalive);
      beast::error_code tec;
      co_await timer->async_wait(Into(tec));
    }
  }
  // (A shutdown cancels the hang-up detector's read too: `hung_up` is no
  // guide then; a write to a client that has gone just fails.)
  if (!ended && stopping.load() && !dropped) {
    out = lines->StoppedLine();
    ended = co_await send();
  }
  if (ended && chunked && !gone()) {
    static const std::string kLastChunk = "0\r\n\r\n";
    stream.expires_after(std::chrono::seconds(2));
    beast::error_code ignored;
    co_await net::async_write(stream, net::buffer(kLastChunk), Into(ignored));
  }
  loop.timers.erase(timer.get());
  metrics->WatcherClosed();
  if (dropped) {
    metrics->WatcherDropped();
    spdlog::info("dropped an etcd gateway watcher that stopped reading");
  }
  lines.reset();  // logs the call
  beast::error_code ignored;
  stream.socket().close(ignored);
}

}  // namespace chronoconf::http
