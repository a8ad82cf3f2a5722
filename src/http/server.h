// Server: Boost.Beast on Asio. One event loop (io_context) per thread, as
// nginx has one per worker; a listener deals connections to them round
// robin. Each connection is a coroutine on one loop (read the header ->
// Api::Admit -> read the body -> Api::Serve -> write, keep-alive), so its
// handlers never run at once and need no strand. GET /v1/watch turns the
// connection into a Server-Sent Events stream fed from the read model.
//
// Thread safety: Run blocks; Stop may be called from any thread.
#ifndef CHRONOCONF_HTTP_SERVER_H_
#define CHRONOCONF_HTTP_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/api.h"

namespace chronoconf::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7700;
  int threads = 2;
  size_t max_body_bytes = 1024 * 1024;
  // A watcher whose socket does not take a write within this time is dropped.
  std::chrono::milliseconds watch_send_timeout{10000};
  std::chrono::milliseconds watch_keepalive{15000};
  // Connections beyond this are refused with a 503 (SPEC §6); serve sets it
  // below the file-descriptor limit.
  size_t max_connections = 1000;
  // A keep-alive connection that sends no request for this long is closed;
  // a request must arrive whole within read_timeout of its first byte.
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds read_timeout{30000};
  // On shutdown, requests in flight get this long to be answered.
  std::chrono::milliseconds drain_timeout{10000};
  // Called (on an io_context thread) when the process gets SIGHUP.
  std::function<void()> on_hangup;
  // Called (on an io_context thread) once, when the shutdown begins (a
  // signal or Stop()), so that servers beside this one (the etcd API) drain
  // at the same time. Must not block.
  std::function<void()> on_shutdown;
};

class Server {
 public:
  Server(Api* api, Projection* projection, Metrics* metrics, ServerOptions options);
  ~Server();

  // Binds the listening socket. Errors: kUnavailable (address in use...).
  Status Listen();
  uint16_t port() const;

  // Serves until Stop() (or SIGINT/SIGTERM when `handle_signals`) and the
  // shutdown has finished: no new connections; requests in flight answered
  // (for at most drain_timeout); idle connections and watches closed.
  // A second signal stops at once.
  void Run(bool handle_signals);
  // Begins that shutdown; callable from any thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_SERVER_H_
