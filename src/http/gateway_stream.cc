// etcd's POST /v3/watch on the HTTP port (Server::Impl::EtcdStream): the
// gateway's JSON lines in HTTP/1.1 chunks, one a line (grpc-gateway's
// framing; Patroni and python-etcd3gw read the chunks), written at the client's pace with the native watch's
// bounds (StreamWrite): nothing queued per stream beyond what it writes at
// a time (kWatchChunkBytes, or one response when that alone is larger), all
// watchers together within kAllWatchersBytes, and a client that stops
// reading dropped after watch_send_timeout. A commit wakes it as it wakes
// the native watches; a shutdown ends it with etcd's "server stopped" line,
// a client that hangs up ends it at once.
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <iterator>

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
  const std::string head = fmt::format(
      "HTTP/1.1 200 OK\r\nServer: chronoconf\r\nContent-Type: application/json\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\n{}X-Chronoconf-Revision: {}\r\n"
      "X-Request-Id: {}\r\n\r\n",
      chunked ? "Transfer-Encoding: chunked\r\n" : "", projection->head(), request_id);
  std::shared_ptr<net::steady_timer> timer =
      co_await BeginStream(conn, req, label, request_id, head);
  if (!timer) co_return;
  bool dropped = false;
  std::string out;    // the lines to write next
  std::string frame;  // the same in a chunk
  auto send = [&](bool last) {
    // One chunk a line, as grpc-gateway flushes each message: python-etcd3gw
    // parses each chunk as one JSON object.
    frame.clear();
    for (size_t begin = 0; chunked && begin < out.size();) {
      const size_t end = std::min(out.find('\n', begin), out.size() - 1) + 1;
      fmt::format_to(std::back_inserter(frame), "{:x}\r\n", end - begin);
      frame.append(out, begin, end - begin).append("\r\n");
      begin = end;
    }
    if (!chunked) frame = std::move(out);
    out.clear();
    out.shrink_to_fit();
    return StreamWrite(conn, *timer, frame, &dropped, last);
  };
  bool ended = false;  // the stream said its last line
  while (!stopping.load() && !conn.hung_up) {
    const GatewayStream::Next next = lines->Read(&out, kWatchChunkBytes);
    if (!out.empty() && !co_await send(false)) break;
    if (next == GatewayStream::Next::kEnd) {
      ended = true;
      break;
    }
    if (next == GatewayStream::Next::kMore) {
      // A catch-up goes on, after whatever else waits on this loop.
      co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    } else if (next == GatewayStream::Next::kNothing) {
      // Until a commit (or, while the read model catches up, a while).
      timer->expires_after(options.watch_keepalive);
      beast::error_code tec;
      co_await timer->async_wait(Into(tec));
    }
  }
  if (!ended && stopping.load() && !dropped) {
    out = lines->StoppedLine();
    ended = co_await send(true);
  }
  if (ended && chunked) {
    std::string last_chunk = "0\r\n\r\n";
    co_await StreamWrite(conn, *timer, last_chunk, &dropped, /*last=*/true);
  }
  EndStream(conn, timer.get(), dropped);
  if (dropped) spdlog::info("dropped an etcd gateway watcher that stopped reading");
  lines.reset();  // logs the call
  beast::error_code ignored;
  stream.socket().close(ignored);
}

}  // namespace chronoconf::http
