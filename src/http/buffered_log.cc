#include "http/buffered_log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace chronoconf::http {
namespace {

// The bytes waiting to go to stdout, written with one write(2).
class StdoutBuffer {
 public:
  void Append(const spdlog::memory_buf_t& line, bool now) {
    std::lock_guard<std::mutex> lock(mu_);
    buffer_.append(line.data(), line.size());
    if (now || buffer_.size() >= kLimit) WriteLocked();
  }
  void Flush() {
    std::lock_guard<std::mutex> lock(mu_);
    WriteLocked();
  }

 private:
  static constexpr size_t kLimit = 64 * 1024;
  void WriteLocked() {
    size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(STDOUT_FILENO, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stdout is gone: the lines are dropped, not the server
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }
  std::mutex mu_;
  std::string buffer_;
};

// A sink into the shared buffer: `deferred` lines wait for the next flush,
// the others are written at once (with everything before them).
class BufferSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  BufferSink(std::shared_ptr<StdoutBuffer> out, bool deferred)
      : out_(std::move(out)), deferred_(deferred) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    out_->Append(line, !deferred_);
  }
  void flush_() override { out_->Flush(); }

 private:
  std::shared_ptr<StdoutBuffer> out_;
  bool deferred_;
};

// Set once, before the server's threads start; owned by g_access_owner.
std::shared_ptr<spdlog::logger> g_access_owner;
std::atomic<spdlog::logger*> g_access{nullptr};

}  // namespace

void InstallBufferedLog(std::chrono::seconds interval) {
  auto out = std::make_shared<StdoutBuffer>();
  const auto level = spdlog::get_level();
  auto main = std::make_shared<spdlog::logger>("", std::make_shared<BufferSink>(out, false));
  main->set_level(level);
  spdlog::set_default_logger(main);  // registered: flush_every reaches it
  g_access_owner =
      std::make_shared<spdlog::logger>("", std::make_shared<BufferSink>(out, true));
  g_access_owner->set_level(spdlog::level::trace);  // callers check the level first
  g_access.store(g_access_owner.get());
  spdlog::flush_every(interval);
}

spdlog::logger& AccessLogger() {
  spdlog::logger* access = g_access.load(std::memory_order_acquire);
  return access ? *access : *spdlog::default_logger_raw();
}

void FlushLog() {
  AccessLogger().flush();
  spdlog::default_logger_raw()->flush();
}

}  // namespace chronoconf::http
