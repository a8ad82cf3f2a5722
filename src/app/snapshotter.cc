#include "app/snapshotter.h"

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace chronoconf {
namespace {

// After a failed write, the next try waits at least this long.
constexpr auto kRetryAfterError = std::chrono::seconds(10);

}  // namespace

int64_t LoadSnapshotIfValid(const std::string& path, EventStore& store, Projection* projection) {
  const auto started = std::chrono::steady_clock::now();
  auto key = store.SnapshotKey();
  if (!key) {
    spdlog::warn("ignored the snapshot {} and replaying every event instead: {}", path,
                 key.status().message());
    return 0;
  }
  Status s = projection->LoadSnapshot(path, *key, [&](int64_t revision, const std::string& hash) {
    auto commits = store.ReadForward(revision - 1, 1);
    if (!commits) return commits.status();
    if (commits->empty() || commits->front().revision != revision) {
      return Status::Corruption(
          fmt::format("it is at revision {}, above the store's head", revision));
    }
    if (commits->front().hash != hash) {
      return Status::Corruption(fmt::format(
          "its commit {} has hash {}, the store's has {}: it belongs to another history",
          revision, hash, commits->front().hash));
    }
    return Status::OK();
  });
  if (s.code() == Code::kNotFound) return 0;
  if (!s.ok()) {
    spdlog::warn("ignored the snapshot {} and replaying every event instead: {}", path,
                 s.message());
    return 0;
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              started).count();
  spdlog::info("loaded the snapshot {} at revision {} in {:.0f} ms", path, projection->head(), ms);
  return projection->head();
}

Snapshotter::Snapshotter(Projection* projection, EventStore* store, std::string path,
                         int64_t every, int64_t last_written)
    : projection_(projection), path_(std::move(path)), every_(every), last_written_(last_written) {
  if (auto key = store->SnapshotKey()) {
    key_ = std::move(*key);
  } else {
    spdlog::warn("no snapshots will be written to {}: {}", path_, key.status().message());
    return;  // no thread: nothing to write
  }
  // The feed's listeners must not block: this one only wakes the thread.
  subscription_ = projection_->feed().Subscribe([this](int64_t head) {
    MutexLock lock(&mu_);
    if (head - last_written_ >= every_) cv_.Signal();
  });
  thread_ = std::thread([this] { Run(); });
}

Snapshotter::~Snapshotter() { Stop(); }

void Snapshotter::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  if (subscription_ != 0) projection_->feed().Unsubscribe(subscription_);
  subscription_ = 0;
}

int64_t Snapshotter::last_written() const {
  MutexLock lock(&mu_);
  return last_written_;
}

void Snapshotter::Run() {
  auto not_before = std::chrono::steady_clock::now();
  mu_.Lock();
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (projection_->head() - last_written_ < every_ || now < not_before) {
      // Also a poll: a signal sent before this thread waited is not lost.
      cv_.WaitUntil(&mu_, std::max(not_before, now + std::chrono::seconds(1)));
      continue;
    }
    mu_.Unlock();
    auto written = projection_->WriteSnapshot(path_, key_);
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - now).count();
    mu_.Lock();
    if (written) {
      last_written_ = *written;
      spdlog::info("wrote the snapshot {} at revision {} in {:.0f} ms", path_, *written, ms);
    } else {
      not_before = std::chrono::steady_clock::now() + kRetryAfterError;
      spdlog::warn("cannot write the snapshot {} (retrying in {} s): {}", path_,
                   kRetryAfterError.count(), written.status().message());
    }
  }
  mu_.Unlock();
}

}  // namespace chronoconf
