// Metrics: counters and histograms, rendered in the Prometheus text format.
//
// Thread safety: all methods may be called from any thread.
#ifndef CHRONOCONF_HTTP_METRICS_H_
#define CHRONOCONF_HTTP_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/histogram.h"
#include "common/mutex.h"

namespace chronoconf::http {

struct GaugeValues {
  int64_t head_revision = 0;
  int64_t projection_lag = 0;
  int64_t commits = 0;
  int64_t events = 0;
  int64_t batches = 0;
  int64_t store_errors = 0;
  int64_t store_conflicts = 0;
  HistogramSnapshot batch_commits;   // commits per store transaction
  HistogramSnapshot append_seconds;  // EventStore::Append latency
  std::string version;               // chronoconf_build_info
  int64_t read_model_bytes = 0;      // rows and text the read model holds
  int64_t read_model_events = 0;
};

class Metrics {
 public:
  // One finished request on `route` (a pattern like "/v1/kv/{key}"; routes
  // are few, at most kMaxRoutes). Lock-free for the usual statuses.
  void ObserveRequest(std::string_view route, std::string_view method, int status,
                      double seconds);
  void WatcherOpened() { watchers_.fetch_add(1); }
  void WatcherClosed() { watchers_.fetch_sub(1); }
  void WatcherDropped() { watchers_dropped_.fetch_add(1); }
  void ConnectionOpened() {
    connections_open_.fetch_add(1);
    connections_accepted_.fetch_add(1);
  }
  void ConnectionClosed() { connections_open_.fetch_sub(1); }
  // Refused because --max-connections were open.
  void ConnectionRefused() { connections_refused_.fetch_add(1); }
  void AcceptError() { accept_errors_.fetch_add(1); }
  // An idle connection closed to make room at the cap.
  void ConnectionEvicted() { connections_evicted_.fetch_add(1); }
  int64_t connections_open() const { return connections_open_.load(); }
  // One finished etcd API call (src/etcd): `method` like "KV.Put", `code`
  // a gRPC status name like "OK" (chronoconf_etcd_requests_total).
  void ObserveEtcdRequest(std::string_view method, std::string_view code);

  std::string Render(const GaugeValues& gauges) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  // The methods and statuses counted without a lock; others take mu_.
  static constexpr std::array<std::string_view, 6> kMethods = {"DELETE", "GET",  "HEAD",
                                                               "POST",   "PUT",  "other"};
  static constexpr std::array<int, 22> kStatuses = {200, 201, 204, 304, 400, 401, 403, 404,
                                                    405, 406, 409, 412, 413, 415, 422, 428,
                                                    429, 431, 500, 501, 503, 504};
  static constexpr size_t kMaxRoutes = 64;  // the route table and the etcd gateway's labels
  struct RouteStats {
    std::string label;  // written once, before route_count_ publishes it
    std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>, kMethods.size()> requests{};
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};  // not cumulative; +Inf last
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_ns{0};
  };
  RouteStats* Route(std::string_view label);

  mutable Mutex mu_;  // adds routes; counts unusual statuses
  std::array<RouteStats, kMaxRoutes> routes_;
  std::atomic<size_t> route_count_{0};
  std::map<std::string, uint64_t> other_requests_ GUARDED_BY(mu_);  // "route|method|status"
  std::map<std::string, uint64_t> etcd_requests_ GUARDED_BY(mu_);   // "method|code"
  std::atomic<int64_t> watchers_{0};
  std::atomic<int64_t> watchers_dropped_{0};
  std::atomic<int64_t> connections_open_{0};
  std::atomic<int64_t> connections_accepted_{0};
  std::atomic<int64_t> connections_refused_{0};
  std::atomic<int64_t> accept_errors_{0};
  std::atomic<int64_t> connections_evicted_{0};
};

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_METRICS_H_
