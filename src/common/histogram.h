// Histogram: a fixed-bucket histogram that any thread may observe into
// without a lock (atomics only), read as a snapshot for /metrics.
#ifndef CHRONOCONF_COMMON_HISTOGRAM_H_
#define CHRONOCONF_COMMON_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

namespace chronoconf {

struct HistogramSnapshot {
  std::vector<double> bounds;      // upper bounds, ascending ("le")
  std::vector<uint64_t> buckets;   // cumulative count per bound
  uint64_t count = 0;
  double sum = 0;
};

class Histogram {
 public:
  explicit Histogram(std::initializer_list<double> bounds)
      : bounds_(bounds), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size())) {}

  void Observe(double v) {
    // Non-cumulative counts here; Snapshot() accumulates.
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    if (i < bounds_.size()) counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }

  // Each value is read atomically; a snapshot taken during an Observe may
  // be off by that one observation, as any Prometheus scrape may.
  HistogramSnapshot Snapshot() const {
    HistogramSnapshot s;
    s.bounds = bounds_;
    uint64_t running = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      running += counts_[i].load(std::memory_order_relaxed);
      s.buckets.push_back(running);
    }
    s.count = count_.load(std::memory_order_relaxed);
    if (s.count < running) s.count = running;  // +Inf is never below a bucket
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_HISTOGRAM_H_
