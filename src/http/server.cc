#include "http/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <functional>
#include <thread>

#include "http/server_impl.h"

namespace chronoconf::http {

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
  if (options.on_shutdown) options.on_shutdown();
  api->BeginShutdown();  // waits for a revision answer 503 now
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

}  // namespace chronoconf::http
