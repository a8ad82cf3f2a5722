#include "http/metrics.h"

#include <algorithm>

#include <fmt/format.h>

namespace chronoconf::http {

namespace {

// The method label takes a few values only: a client inventing methods must
// not grow /metrics (and memory) without bound.
std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "PUT", "POST", "DELETE"}) {
    if (method == known) return known;
  }
  return "other";
}

void AppendHistogram(std::string* out, std::string_view name, std::string_view help,
                     const HistogramSnapshot& h) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    fmt::format_to(it, "{}_bucket{{le=\"{}\"}} {}\n", name, h.bounds[i], h.buckets[i]);
  }
  fmt::format_to(it, "{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, h.count, name,
                 h.sum, name, h.count);
}

// A label value in the text format: backslash, quote and newline escaped.
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Metrics::RouteStats* Metrics::Route(std::string_view label) {
  const size_t n = route_count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    if (routes_[i].label == label) return &routes_[i];
  }
  MutexLock lock(&mu_);
  const size_t m = route_count_.load(std::memory_order_relaxed);
  for (size_t i = n; i < m; ++i) {
    if (routes_[i].label == label) return &routes_[i];
  }
  if (m == kMaxRoutes) return nullptr;  // never with the route table's labels
  routes_[m].label = std::string(label);
  route_count_.store(m + 1, std::memory_order_release);
  return &routes_[m];
}

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             double seconds) {
  RouteStats* r = Route(route);
  const std::string_view m = MethodLabel(method);
  const size_t mi = static_cast<size_t>(
      std::find(kMethods.begin(), kMethods.end(), m) - kMethods.begin());
  const size_t si = static_cast<size_t>(
      std::find(kStatuses.begin(), kStatuses.end(), status) - kStatuses.begin());
  if (r && si < kStatuses.size()) {
    r->requests[mi][si].fetch_add(1, std::memory_order_relaxed);
  } else {
    MutexLock lock(&mu_);
    ++other_requests_[fmt::format("{}|{}|{}", route, m, status)];
  }
  if (!r) return;
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin());
  r->buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  r->count.fetch_add(1, std::memory_order_relaxed);
  r->sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void Metrics::ObserveEtcdRequest(std::string_view method, std::string_view code) {
  MutexLock lock(&mu_);
  ++etcd_requests_[fmt::format("{}|{}", method, code)];
}

std::string Metrics::Render(const GaugeValues& g) const {
  std::string out;
  auto it = std::back_inserter(out);
  // Sorted by labels, as a scrape diff expects.
  std::map<std::string, uint64_t> requests;
  std::map<std::string_view, const RouteStats*> routes;
  std::map<std::string, uint64_t> etcd_requests;
  {
    MutexLock lock(&mu_);
    requests = other_requests_;
    etcd_requests = etcd_requests_;
  }
  const size_t n = route_count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    const RouteStats& r = routes_[i];
    routes.emplace(r.label, &r);
    for (size_t mi = 0; mi < kMethods.size(); ++mi) {
      for (size_t si = 0; si < kStatuses.size(); ++si) {
        if (uint64_t v = r.requests[mi][si].load(std::memory_order_relaxed)) {
          requests[fmt::format("{}|{}|{}", r.label, kMethods[mi], kStatuses[si])] += v;
        }
      }
    }
  }
  fmt::format_to(it, "# HELP chronoconf_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE chronoconf_http_requests_total counter\n");
  for (const auto& [labels, v] : requests) {
    size_t a = labels.find('|'), b = labels.rfind('|');
    fmt::format_to(it, "chronoconf_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                   labels.substr(0, a), labels.substr(a + 1, b - a - 1), labels.substr(b + 1), v);
  }
  fmt::format_to(it, "# HELP chronoconf_http_request_duration_seconds Request latency by route.\n"
                     "# TYPE chronoconf_http_request_duration_seconds histogram\n");
  for (const auto& [route, r] : routes) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += r->buckets[i].load(std::memory_order_relaxed);
      fmt::format_to(it, "chronoconf_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                     route, kBuckets[i], cumulative);
    }
    // Read once: +Inf and _count must agree within one scrape.
    const uint64_t count = cumulative + r->buckets[kBuckets.size()].load(std::memory_order_relaxed);
    fmt::format_to(it, "chronoconf_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                   route, count);
    fmt::format_to(it, "chronoconf_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route,
                   static_cast<double>(r->sum_ns.load(std::memory_order_relaxed)) / 1e9);
    fmt::format_to(it, "chronoconf_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                   count);
  }
  auto metric = [&](const char* name, const char* type, const char* help, int64_t v) {
    fmt::format_to(it, "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
  };
  metric("chronoconf_head_revision", "gauge", "Head revision of this node's read model.",
         g.head_revision);
  metric("chronoconf_projection_lag_revisions", "gauge",
         "Revisions the store holds that the read model has not applied yet.", g.projection_lag);
  metric("chronoconf_commits_total", "counter", "Commits appended by this node.", g.commits);
  metric("chronoconf_events_total", "counter", "Events appended by this node.", g.events);
  metric("chronoconf_store_transactions_total", "counter",
         "Store transactions (group commits) by this node.", g.batches);
  metric("chronoconf_store_errors_total", "counter", "Failed store appends.", g.store_errors);
  metric("chronoconf_store_conflicts_total", "counter",
         "Appends refused because another node committed first (then decided again).",
         g.store_conflicts);
  metric("chronoconf_read_model_bytes", "gauge",
         "Bytes of rows and text the read model holds (its indexes and rendered head entries "
         "not counted).",
         g.read_model_bytes);
  metric("chronoconf_read_model_events", "gauge", "Events the read model holds.",
         g.read_model_events);
  metric("chronoconf_watchers", "gauge", "Open watch streams.", watchers_.load());
  metric("chronoconf_watchers_dropped_total", "counter",
         "Watchers dropped because they could not keep up.", watchers_dropped_.load());
  metric("chronoconf_connections_open", "gauge", "Open client connections.",
         connections_open_.load());
  metric("chronoconf_connections_accepted_total", "counter", "Client connections accepted.",
         connections_accepted_.load());
  metric("chronoconf_connections_refused_total", "counter",
         "Connections refused because --max-connections were open.",
         connections_refused_.load());
  metric("chronoconf_connections_evicted_total", "counter",
         "Idle connections closed to make room at --max-connections.",
         connections_evicted_.load());
  metric("chronoconf_accept_errors_total", "counter",
         "Failed accepts (such as running out of file descriptors).", accept_errors_.load());
  AppendHistogram(&out, "chronoconf_group_commit_batch_commits",
                  "Commits per store transaction (group-commit batch size).", g.batch_commits);
  AppendHistogram(&out, "chronoconf_store_append_duration_seconds",
                  "Latency of one store append (one transaction), failed ones included.",
                  g.append_seconds);
  if (!etcd_requests.empty()) {  // only when the etcd API is served
    fmt::format_to(it, "# HELP chronoconf_etcd_requests_total etcd API calls by method and gRPC "
                       "status code.\n"
                       "# TYPE chronoconf_etcd_requests_total counter\n");
    for (const auto& [labels, v] : etcd_requests) {
      const size_t bar = labels.find('|');
      fmt::format_to(it, "chronoconf_etcd_requests_total{{method=\"{}\",code=\"{}\"}} {}\n",
                     labels.substr(0, bar), labels.substr(bar + 1), v);
    }
  }
  fmt::format_to(it, "# HELP chronoconf_build_info The running build.\n"
                     "# TYPE chronoconf_build_info gauge\n"
                     "chronoconf_build_info{{version=\"{}\"}} 1\n",
                 LabelValue(g.version));
  return out;
}

}  // namespace chronoconf::http
