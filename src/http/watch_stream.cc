// GET /v1/watch (Server::Impl::Watch): a Server-Sent Events stream of the
// commits after a revision, read from the read model at the watcher's own
// pace.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <iterator>

#include "domain/key.h"
#include "domain/system_stream.h"
#include "http/access_log.h"
#include "http/render.h"
#include "http/request_parsing.h"
#include "http/server_impl.h"

namespace chronoconf::http {

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

net::awaitable<void> Server::Impl::Watch(Conn& conn, const Request& req,
                                         const RouteMatch& match,
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
  std::shared_ptr<net::steady_timer> timer =
      co_await BeginStream(conn, req, "/v1/watch", request_id, header);
  if (!timer) co_return;
  // A watcher reads commits from the read model at its own pace; nothing is
  // queued per watcher. What it holds is bounded in bytes: the commits it
  // reads at a time (kWatchReadBytes) and the frames it writes at a time
  // (kWatchChunkBytes, or one event's frame when that alone is larger),
  // and all watchers together write at most kAllWatchersBytes at once. One
  // that stops reading is dropped when a write does not finish in
  // watch_send_timeout; it resumes with Last-Event-ID.
  bool dropped = false;
  uint64_t auth_seen = api->auth_generation();
  std::string chunk;
  RenderedEvents& rendered = WatchersOf(stream.get_executor()).rendered;
  auto send = [&]() { return StreamWrite(conn, *timer, chunk, &dropped); };
  // A catch-up skips the commits where no watched key changed (the key
  // index tells), so it costs what it sends, not the log it passes over.
  std::vector<Projection::KeySpan> spans;
  auto set_spans = [&] {
    spans.clear();
    for (const std::string& p : filter.scope.Within(filter.prefix)) {
      spans.push_back(Projection::SpanOfPrefix(p));
    }
  };
  set_spans();
  // Before each commit it sends, the stream re-checks its token under the
  // auth in force (SPEC §6): a SIGHUP that narrows its prefixes narrows
  // what it sends; one that removes the token or its role ends it (false).
  auto still_allowed = [&] {
    if (uint64_t now = api->auth_generation(); now != auth_seen) {
      auth_seen = now;
      auto who = api->Reauthorize(req, match);
      if (!who) {
        spdlog::info("closed a watch: {}", who.status().message());
        return false;
      }
      filter.scope = who->scope;
      set_spans();
    }
    return true;
  };
  bool matched = false;  // the last commits read had an event to send
  while (!stopping.load() && !conn.hung_up) {
    if (!still_allowed()) break;
    // (Only far behind: a live watcher reads the few new commits.)
    if (!matched && projection->head() - last > static_cast<int64_t>(kWatchChunkCommits)) {
      last = projection->QuietUntil(spans, last, Projection::kQuietKeys);
    }
    auto commits = projection->Commits(last, kWatchChunkCommits, kWatchReadBytes);
    matched = false;
    bool ok = true;
    for (const CommitPtr& c : commits) {
      if (!(ok = still_allowed())) break;
      std::vector<size_t> matching;
      for (size_t i = 0; i < c->events.size(); ++i) {
        // A watch of keys never sees a system stream (a lease's events).
        if (filter.Matches(c->events[i].key) && !IsSystemStream(c->events[i].key)) {
          matching.push_back(i);
        }
      }
      matched = matched || !matching.empty();
      for (size_t i : matching) {
        fmt::format_to(std::back_inserter(chunk), "event: {}\n",
                       EventTypeName(c->events[i].type));
        // The id goes on the commit's last matching event only, so a client
        // that resumes from it never misses part of a commit.
        if (i == matching.back()) {
          fmt::format_to(std::back_inserter(chunk), "id: {}\n", c->revision);
        }
        chunk += "data: ";
        chunk += rendered.Event(c, i);
        chunk += "\n\n";
        if (chunk.size() >= kWatchChunkBytes && !(ok = co_await send())) break;
      }
      if (!ok) break;
      last = c->revision;
    }
    if (!ok) break;
    if (!commits.empty() && chunk.empty()) {
      // Nothing to send in these commits: let the loop's other connections
      // run before the next read (a catch-up never holds the thread).
      co_await net::post(stream.get_executor(), net::use_awaitable);
      if (stopping.load() || conn.hung_up) break;
      continue;
    }
    if (commits.empty()) {
      timer->expires_after(options.watch_keepalive);
      beast::error_code tec;
      co_await timer->async_wait(Into(tec));
      if (stopping.load() || conn.hung_up) break;
      if (projection->head() > last) continue;
      if (!tec) chunk = ": keepalive\n\n";  // the keepalive period passed quietly
    }
    if (!chunk.empty() && !co_await send()) break;
  }
  EndStream(conn, timer.get(), dropped);
  if (dropped) spdlog::info("dropped a watcher that stopped reading (at revision {})", last);
  beast::error_code ignored;
  stream.socket().close(ignored);
}

net::awaitable<std::shared_ptr<net::steady_timer>> Server::Impl::BeginStream(
    Conn& conn, const Request& req, std::string_view label, const std::string& request_id,
    const std::string& head) {
  beast::tcp_stream& stream = conn.stream;
  stream.expires_after(options.watch_send_timeout);
  beast::error_code hec;
  co_await net::async_write(stream, net::buffer(head), Into(hec));
  if (hec) co_return nullptr;
  // Counted and logged once the stream has begun (an error before it is
  // counted where it is answered).
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
  WatchersOf(executor).timers.insert(timer.get());  // a commit cancels its wait
  co_return timer;
}

net::awaitable<bool> Server::Impl::StreamWrite(Conn& conn, net::steady_timer& timer,
                                               std::string& bytes, bool* dropped, bool last) {
  const auto deadline = std::chrono::steady_clock::now() + options.watch_send_timeout;
  // (A shutdown also ends the hang-up detector's read: a last write is
  // tried anyway; to a client that has gone it just fails.)
  auto must_end = [&] { return !last && (stopping.load() || conn.hung_up); };
  while (!watch_bytes.TryReserve(bytes.size())) {
    if (std::chrono::steady_clock::now() >= deadline || must_end()) {
      *dropped = true;
      co_return false;
    }
    timer.expires_after(kWatchBudgetRetry);
    beast::error_code tec;
    co_await timer.async_wait(Into(tec));
  }
  // A live watcher's socket takes the frame at once: one non-blocking send,
  // with no asynchronous operation, timer or resumption per watcher (fan-out
  // to thousands of them costs what their sends cost). Only what the socket
  // does not take waits, under the send timeout.
  beast::error_code wec;
  tcp::socket& socket = conn.stream.socket();
  size_t sent = 0;
  if (!socket.non_blocking()) socket.non_blocking(true, wec);  // once: it is a syscall
  if (!wec) sent = socket.write_some(net::buffer(bytes), wec);
  if (wec == net::error::would_block || wec == net::error::try_again) wec = {};
  if (!wec && sent < bytes.size()) {
    conn.stream.expires_after(options.watch_send_timeout);
    co_await net::async_write(conn.stream, net::buffer(bytes) + sent, Into(wec));
  }
  watch_bytes.Release(bytes.size());
  bytes.clear();
  // A large frame is not kept while the stream waits; a small one's room is
  // (the next commit's frame reuses it).
  if (bytes.capacity() > kKeptFrameBytes) bytes.shrink_to_fit();
  if (wec) *dropped = wec == beast::error::timeout;
  co_return !wec;
}

void Server::Impl::EndStream(Conn& conn, net::steady_timer* timer, bool dropped) {
  WatchersOf(conn.stream.get_executor()).timers.erase(timer);
  metrics->WatcherClosed();
  if (dropped) metrics->WatcherDropped();
}

}  // namespace chronoconf::http
