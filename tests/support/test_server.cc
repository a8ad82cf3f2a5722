#include "support/test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/http_client.h"

#ifndef CHRONOCONF_BUILT_BIN
#error "CHRONOCONF_BUILT_BIN must be defined (full path of the chronoconf binary)"
#endif

namespace chronoconf::test {

const char* ChronoconfBin() {
  static const char* bin = [] {
    const char* env = std::getenv("CHRONOCONF_TEST_BIN");
    return env && *env ? env : CHRONOCONF_BUILT_BIN;
  }();
  return bin;
}

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Tests write to sockets the server may have closed: that must be an EPIPE,
// not the death of the test binary.
const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string Tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

}  // namespace

// ---------------------------------------------------------------- TempDir

TempDir::TempDir(std::string_view tag) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" +
                        std::string(tag) + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << pattern << "): " << std::strerror(errno);
    path_ = pattern;
    return;
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::File(std::string_view name) const { return path_ + "/" + std::string(name); }

// ---------------------------------------------------------------- ports

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// ---------------------------------------------------------------- ServerProcess

ServerProcess::ServerProcess(std::string store_url, std::vector<std::string> extra_args)
    : store_url_(std::move(store_url)),
      extra_args_(std::move(extra_args)),
      log_path_(log_dir_.File("server.log")) {}

ServerProcess::~ServerProcess() {
  // SIGTERM first: a clean exit also writes the coverage data of an
  // instrumented build; SIGKILL only when it does not stop in time.
  if (pid_ > 0) Stop(std::chrono::seconds(5));
}

std::string ServerProcess::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ServerProcess::Spawn() {
  std::vector<std::string> args = {CHRONOCONF_BIN, "serve",
                                   "--store", store_url_,
                                   "--listen", "127.0.0.1:" + std::to_string(port_),
                                   "--log-level", "warn"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  {
    std::string banner = "=== start:";
    for (const auto& a : args) banner += " " + a;
    banner += "\n";
    ssize_t ignored = ::write(log_fd, banner.data(), banner.size());
    (void)ignored;
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(126);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (fd_limit_ > 0) {
      rlimit r{static_cast<rlim_t>(fd_limit_), static_cast<rlim_t>(fd_limit_)};
      ::setrlimit(RLIMIT_NOFILE, &r);
    }
    ::execv(argv[0], argv.data());
    static const char kMsg[] = "exec of chronoconf failed\n";
    ssize_t ignored = ::write(2, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    _exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) return false;
  pid_ = pid;
  return true;
}

void ServerProcess::Reap(bool block) {
  if (pid_ <= 0) return;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    last_wait_status_ = r == pid_ ? status : -1;
    pid_ = -1;
  }
}

bool ServerProcess::running() {
  Reap(false);
  return pid_ > 0;
}

::testing::AssertionResult ServerProcess::Start(
    const std::function<void(client::HttpClient&)>& while_starting) {
  if (running()) return ::testing::AssertionFailure() << "server already running";
  std::string why;
  for (int attempt = 0; attempt < 3; ++attempt) {
    // Keep the port across restarts so that clients' URLs stay valid; pick a
    // new one when it was taken meanwhile (the server then exits at once).
    if (port_ == 0 || attempt > 0) port_ = PickFreePort();
    if (port_ == 0) return ::testing::AssertionFailure() << "no free port";
    if (!Spawn()) return ::testing::AssertionFailure() << "fork failed: " << std::strerror(errno);

    const auto deadline = Clock::now() + std::chrono::seconds(10);
    int last_status = 0;
    while (Clock::now() < deadline) {
      if (!running()) break;
      client::HttpClient http(url(), milliseconds(1000));
      if (while_starting) while_starting(http);
      auto res = http.Get("/readyz");
      if (res) {
        last_status = res->status;
        if (res->status == 200) return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(milliseconds(while_starting ? 1 : 20));
    }
    if (pid_ > 0) {
      Kill();
      return ::testing::AssertionFailure()
             << "chronoconf did not become ready within 10 s (last /readyz status "
             << last_status << ") on port " << port_ << "; log:\n"
             << Tail(Log(), 6000);
    }
    why = "chronoconf exited during start (wait status " + std::to_string(last_wait_status_) +
          "); log:\n" + Tail(Log(), 6000);
  }
  return ::testing::AssertionFailure() << why;
}

bool ServerProcess::Stop(milliseconds grace) {
  if (!running()) return true;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    if (!running()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  Kill();
  return false;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  Reap(true);
}

// ---------------------------------------------------------------- RawConnection

RawConnection::~RawConnection() { Close(); }

void RawConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::Connect(int port, int recv_buffer) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  if (recv_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &recv_buffer, sizeof(recv_buffer));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Close();
    return false;
  }
  return true;
}

bool RawConnection::SendAll(std::string_view data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

RawConnection::ReadStatus RawConnection::ReadSome(std::string* out, milliseconds timeout) {
  if (fd_ < 0) return ReadStatus::kClosed;
  pollfd pfd{fd_, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return ReadStatus::kTimeout;
  char buf[65536];
  ssize_t n;
  do {
    n = ::recv(fd_, buf, sizeof(buf), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return ReadStatus::kClosed;  // EOF, or reset by the peer
  if (out != nullptr) out->append(buf, static_cast<size_t>(n));
  return ReadStatus::kData;
}

bool RawConnection::ReadUntilClosed(milliseconds timeout, std::string* out) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    switch (ReadSome(out, left)) {
      case ReadStatus::kClosed:
        return true;
      case ReadStatus::kTimeout:
        return false;
      case ReadStatus::kData:
        break;
    }
  }
}

}  // namespace chronoconf::test
