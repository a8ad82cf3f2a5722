// Black-box test support: a real `chronoconf serve` process on loopback
// (ServerProcess), fresh temporary directories (TempDir), and a raw TCP
// connection for the tests that must misbehave on the wire (RawConnection).
//
//   TempDir dir;
//   ServerProcess server(dir.SqliteUrl());
//   ASSERT_TRUE(server.Start());
//   chronoconf::client::HttpClient http(server.url());
//   ...
//   server.Kill();              // kill -9
//   ASSERT_TRUE(server.Start());  // same store, same port when possible
//
// Thread safety: none; drive one ServerProcess from one thread. Start() should
// be called from a thread that outlives the server: the child is killed
// (PR_SET_PDEATHSIG) when the thread that forked it exits, so that a crashed
// test run leaves no server behind.
#ifndef CHRONOCONF_TESTS_SUPPORT_TEST_SERVER_H_
#define CHRONOCONF_TESTS_SUPPORT_TEST_SERVER_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_client.h"

namespace chronoconf::test {

// The chronoconf binary under test: the one this build made, unless
// $CHRONOCONF_TEST_BIN names another (to show that a new test fails on an
// older build).
const char* ChronoconfBin();
#define CHRONOCONF_BIN ::chronoconf::test::ChronoconfBin()

// A fresh directory under $TMPDIR (default /tmp), removed with everything in
// it by the destructor.
class TempDir {
 public:
  explicit TempDir(std::string_view tag = "chronoconf-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // "<dir>/<name>"
  std::string File(std::string_view name) const;
  // "sqlite:<dir>/events.db"
  std::string SqliteUrl() const { return "sqlite:" + File("events.db"); }

 private:
  std::string path_;
};

// A loopback TCP port that was free a moment ago (bind port 0, read, close).
int PickFreePort();

class ServerProcess {
 public:
  // `store_url` is passed as --store ("memory:", "sqlite:/tmp/x/events.db");
  // `extra_args` are appended to the command line of every Start().
  explicit ServerProcess(std::string store_url, std::vector<std::string> extra_args = {});
  // Stops the server if it still runs (SIGTERM, SIGKILL after 5 s).
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts `chronoconf serve --store URL --listen 127.0.0.1:PORT --log-level
  // warn [extra args]` and waits (up to ~10 s) until GET /readyz answers 200.
  // The first start picks a free port; later starts reuse it (the URL stays
  // valid) unless it is taken. On failure the result carries the server's log.
  // `while_starting`, when given, is called with a client of the server
  // before each poll of /readyz (polled every millisecond then), to see
  // what it answers while its read model catches up.
  ::testing::AssertionResult Start(
      const std::function<void(client::HttpClient&)>& while_starting = nullptr);

  // SIGTERM, then waits up to `grace` for the exit (SIGKILL after that).
  // Returns true when the server exited by itself within `grace`.
  bool Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // SIGKILL and wait: a crash at an arbitrary moment.
  void Kill();

  // True while the process has not exited.
  bool running();

  // Runs later starts with RLIMIT_NOFILE set to `n` (soft and hard), as
  // `ulimit -n n` would.
  void set_fd_limit(int n) { fd_limit_ = n; }

  // The wait status of the last exit (as from waitpid), -1 before any.
  int last_wait_status() const { return last_wait_status_; }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // "http://127.0.0.1:PORT"
  std::string url() const;
  const std::string& store_url() const { return store_url_; }

  // Everything the server wrote to stdout and stderr, over all starts.
  std::string Log() const;
  const std::string& log_path() const { return log_path_; }

 private:
  bool Spawn();
  void Reap(bool block);

  std::string store_url_;
  std::vector<std::string> extra_args_;
  TempDir log_dir_{"chronoconf-log"};
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  int last_wait_status_ = -1;
  int fd_limit_ = 0;  // 0: inherit
};

// A plain blocking TCP client socket for tests that speak raw bytes:
// malformed requests, never-reading watchers.
class RawConnection {
 public:
  enum class ReadStatus { kData, kTimeout, kClosed };

  RawConnection() = default;
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Connects to 127.0.0.1:port. `recv_buffer` > 0 sets SO_RCVBUF (before the
  // connect, so the TCP window stays small).
  bool Connect(int port, int recv_buffer = 0);
  // Sends everything; false when the peer closed or reset the connection.
  bool SendAll(std::string_view data);
  // Appends what arrives to `out`, waiting up to `timeout` for the first byte.
  ReadStatus ReadSome(std::string* out, std::chrono::milliseconds timeout);
  // Reads until the peer closes (or resets) the connection or `timeout`
  // passes. Returns true when it was closed; `out` (if given) gets the bytes.
  bool ReadUntilClosed(std::chrono::milliseconds timeout, std::string* out = nullptr);
  void Close();
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace chronoconf::test

#endif  // CHRONOCONF_TESTS_SUPPORT_TEST_SERVER_H_
