// bench watch: how fast one write reaches many watchers (SPEC §2.3 watch).
//
// N streams `GET /v1/watch?prefix=P&from_revision=H` (H: the head before the
// first write, so no write can be missed however late a stream subscribes)
// run on one or two Asio threads, not one thread per stream. Once all are
// connected (their 200 header arrived), the main thread PUTs `writes`
// single-key writes under P on a keep-alive connection, one every
// `interval_ms` (a fixed schedule), recording when each was sent and
// acknowledged and which revision it got. Each stream stamps the time a read
// completed (before parsing it) for every event it carries.
//
// Latencies are measured from the PUT's SEND: what a watcher sees is the
// write's durable commit plus the fan-out, as a user would time it. The
// PUT's own acknowledgement latency is printed beside them, so the fan-out
// alone is roughly the difference.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "cli/bench_command.h"
#include "cli/client_sse.h"
#include "client/http_client.h"
#include "json/json_value.h"

namespace chronoconf::cli {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// One watch stream. Touched only by the coroutine that runs it while the
// io threads run, and by the main thread after they were joined.
struct Watcher {
  explicit Watcher(net::io_context& io) : strand(net::make_strand(io)), socket(strand) {}
  // The stream's coroutine and its closing run here, so two io threads
  // never touch one socket at once.
  net::strand<net::io_context::executor_type> strand;
  tcp::socket socket;
  bool header_done = false;
  std::string header;
  int status = 0;
  SseParser parser;
  // (revision, arrival) for every event with an id (the last event of its
  // commit that matches the prefix: every write here is one event).
  std::vector<std::pair<int64_t, SteadyClock::time_point>> arrivals;
  std::string error;
};

struct Shared {
  std::atomic<int64_t> connected{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> events{0};
  std::atomic<bool> stopping{false};
};

struct Target {
  std::string host;
  std::string port;
};

// "http://host:port[/]" -> host, port ("80" when none).
Result<Target> ParseServer(const std::string& url) {
  std::string rest = url;
  if (rest.starts_with("http://")) {
    rest = rest.substr(7);
  } else if (rest.find("://") != std::string::npos) {
    return Status::InvalidRequest("bench watch speaks plain http:// only: " + url);
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  Target t;
  if (auto colon = rest.rfind(':'); colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
    t.host = rest.substr(0, colon);
    t.port = rest.substr(colon + 1);
  } else {
    t.host = rest;
    t.port = "80";
  }
  if (t.host.size() >= 2 && t.host.front() == '[' && t.host.back() == ']') {
    t.host = t.host.substr(1, t.host.size() - 2);
  }
  if (t.host.empty()) return Status::InvalidRequest("no host in --server " + url);
  return t;
}

// Reads one watch stream until the bench stops or the server closes it.
net::awaitable<void> RunWatcher(Watcher& w, tcp::endpoint ep, std::string request, Shared& shared) {
  boost::system::error_code ec;
  // A burst of connects may meet a full accept backlog: retry a few times.
  for (int attempt = 0; attempt < 5 && !shared.stopping.load(); ++attempt) {
    if (attempt > 0) {
      net::steady_timer t(co_await net::this_coro::executor);
      t.expires_after(std::chrono::milliseconds(100 * attempt));
      co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
      w.socket.close(ec);
    }
    ec.clear();
    co_await w.socket.async_connect(ep, net::redirect_error(net::use_awaitable, ec));
    if (!ec) break;
  }
  if (ec || !w.socket.is_open()) {
    w.error = "connect: " + (ec ? ec.message() : std::string("stopped"));
    shared.failed.fetch_add(1);
    co_return;
  }
  w.socket.set_option(tcp::no_delay(true), ec);
  co_await net::async_write(w.socket, net::buffer(request),
                            net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    w.error = "send: " + ec.message();
    shared.failed.fetch_add(1);
    co_return;
  }
  std::vector<char> buf(64 * 1024);
  auto on_event = [&](const SseEvent& e, SteadyClock::time_point at) {
    if (e.id.empty()) return;
    int64_t revision = 0;
    for (char c : e.id) {
      if (c < '0' || c > '9') return;
      revision = revision * 10 + (c - '0');
    }
    w.arrivals.emplace_back(revision, at);
    shared.events.fetch_add(1, std::memory_order_relaxed);
  };
  while (!shared.stopping.load()) {
    size_t n = co_await w.socket.async_read_some(net::buffer(buf),
                                                 net::redirect_error(net::use_awaitable, ec));
    SteadyClock::time_point now = SteadyClock::now();  // before any parsing
    if (ec) {
      if (!shared.stopping.load()) w.error = "read: " + ec.message();
      break;
    }
    std::string_view chunk(buf.data(), n);
    if (!w.header_done) {
      w.header.append(chunk);
      auto end = w.header.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (w.header.size() > 64 * 1024) {
          w.error = "no end of the response header";
          shared.failed.fetch_add(1);
          break;
        }
        continue;
      }
      w.header_done = true;
      // "HTTP/1.1 200 OK"
      if (w.header.size() > 12) w.status = std::atoi(w.header.c_str() + 9);
      if (w.status != 200) {
        w.error = "status " + std::to_string(w.status) + ": " + w.header.substr(0, 200);
        shared.failed.fetch_add(1);
        break;
      }
      shared.connected.fetch_add(1);
      std::string body = w.header.substr(end + 4);
      w.header.resize(end);
      w.parser.Feed(body, [&](const SseEvent& e) { on_event(e, now); });
      continue;
    }
    w.parser.Feed(chunk, [&](const SseEvent& e) { on_event(e, now); });
  }
  w.socket.close(ec);
}

// The q-quantile (0..1) of sorted `v` (nearest rank); NaN when empty.
double Quantile(const std::vector<double>& v, double q) {
  if (v.empty()) return std::nan("");
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Raises this process's open-file soft limit to its hard limit.
void RaiseFdLimit(int64_t want) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && static_cast<int64_t>(lim.rlim_cur) < want) {
    std::cerr << fmt::format(
        "warning: the open-file limit is {} (hard), too low for {} watchers: expect failed "
        "connects (raise it with ulimit -n as root)\n",
        lim.rlim_cur, want);
  }
}

struct Write {
  SteadyClock::time_point sent;
  SteadyClock::time_point acked;
  int64_t revision = -1;
};

}  // namespace

int RunBenchWatch(const BenchWatchOptions& o) {
  if (o.watchers < 1 || o.writes < 1 || o.interval_ms < 0 || o.threads < 1) {
    std::cerr << "error: --watchers, --writes and --threads must be at least 1\n";
    return 2;
  }
  auto target = ParseServer(o.server);
  if (!target) {
    std::cerr << "error: " << target.status().message() << "\n";
    return 2;
  }
  RaiseFdLimit(o.watchers + 64);

  client::HttpClient writer(o.server, std::chrono::seconds(30));
  // The head before the first write: every stream starts after it.
  auto status = writer.Get("/v1/status");
  if (!status || status->status != 200) {
    std::cerr << "error: GET " << o.server << "/v1/status failed: "
              << (status ? std::to_string(status->status) + " " + status->body
                         : status.status().message())
              << "\n";
    return 1;
  }
  int64_t head = 0;
  if (auto parsed = json::Parse(status->body); parsed) {
    if (const json::Value* r = parsed->Find("revision"); r && r->AsInt64()) head = *r->AsInt64();
  }

  net::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code rec;
  auto resolved = resolver.resolve(target->host, target->port, rec);
  if (rec || resolved.empty()) {
    std::cerr << "error: cannot resolve " << target->host << ": " << rec.message() << "\n";
    return 1;
  }
  tcp::endpoint ep = resolved.begin()->endpoint();
  std::string request = fmt::format(
      "GET /v1/watch?prefix={}&from_revision={} HTTP/1.1\r\nHost: {}:{}\r\n"
      "Accept: text/event-stream\r\nUser-Agent: chronoconf-bench\r\n\r\n",
      client::UrlEncode(o.prefix), head, target->host, target->port);

  Shared shared;
  std::vector<std::unique_ptr<Watcher>> watchers;
  watchers.reserve(static_cast<size_t>(o.watchers));
  for (int64_t i = 0; i < o.watchers; ++i) watchers.push_back(std::make_unique<Watcher>(io));
  // Connects go out in waves of 64, so the server's accept backlog is not
  // flooded by a thousand SYNs at once.
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        net::steady_timer pause(co_await net::this_coro::executor);
        for (size_t i = 0; i < watchers.size(); ++i) {
          if (shared.stopping.load()) break;
          net::co_spawn(watchers[i]->strand, RunWatcher(*watchers[i], ep, request, shared),
                        net::detached);
          if (i % 64 == 63) {
            pause.expires_after(std::chrono::milliseconds(5));
            boost::system::error_code ec;
            co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
          }
        }
      },
      net::detached);
  auto work = net::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < o.threads; ++t) threads.emplace_back([&io] { io.run(); });
  // Closes every stream on its strand and lets the coroutines finish, so
  // nothing is left pending when the io_context goes.
  auto stop_all = [&] {
    shared.stopping.store(true);
    for (auto& w : watchers) {
      net::post(w->strand, [&w] {
        boost::system::error_code ec;
        w->socket.close(ec);
      });
    }
    work.reset();
    for (auto& t : threads) t.join();
  };

  const auto connect_start = SteadyClock::now();
  const auto connect_deadline = connect_start + std::chrono::milliseconds(o.connect_timeout_ms);
  while (shared.connected.load() + shared.failed.load() < o.watchers &&
         SteadyClock::now() < connect_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double connect_ms = Ms(SteadyClock::now() - connect_start);
  const int64_t connected = shared.connected.load();
  std::cerr << fmt::format("# {} of {} watchers connected in {:.0f} ms ({} failed)\n", connected,
                           o.watchers, connect_ms, shared.failed.load());
  if (connected == 0) {
    stop_all();
    for (const auto& w : watchers) {
      if (!w->error.empty()) {
        std::cerr << "error: no watcher connected; first error: " << w->error << "\n";
        break;
      }
    }
    return 1;
  }

  // The writes, on a fixed schedule.
  std::vector<Write> writes(static_cast<size_t>(o.writes));
  const auto write_start = SteadyClock::now();
  int64_t write_errors = 0;
  for (int64_t i = 0; i < o.writes; ++i) {
    auto due = write_start + std::chrono::milliseconds(o.interval_ms * i);
    std::this_thread::sleep_until(due);
    std::string key = fmt::format("{}k{}", o.prefix, i % 8);
    std::string body = fmt::format(
        R"({{"value":{{"service":"checkout","feature":"new-pricing","enabled":true,"rollout":{},"run":{},"seq":{}}}}})",
        i % 101, head, i);  // "run": no write repeats a value of an earlier run (a no-op)
    Write& w = writes[static_cast<size_t>(i)];
    w.sent = SteadyClock::now();
    auto res = writer.Request("PUT", "/v1/kv/" + client::UrlEncode(key, true), body,
                              {{"X-Actor", "bench"}});
    w.acked = SteadyClock::now();
    if (!res || (res->status != 200 && res->status != 201)) {
      ++write_errors;
      std::cerr << "PUT " << key << " failed: "
                << (res ? std::to_string(res->status) + " " + res->body : res.status().message())
                << "\n";
      continue;
    }
    auto parsed = json::Parse(res->body);
    const json::Value* r = parsed ? parsed->Find("revision") : nullptr;
    const json::Value* changed = parsed ? parsed->Find("changed") : nullptr;
    if (!r || !r->AsInt64() || !changed || !changed->as_bool()) {
      ++write_errors;  // a no-op makes no commit, so no watcher would get it
      std::cerr << "PUT " << key << " made no commit: " << res->body << "\n";
      continue;
    }
    w.revision = *r->AsInt64();
  }
  const int64_t good_writes = o.writes - write_errors;
  const int64_t expected = connected * good_writes;
  // Wait for the last deliveries (or give up after settle_ms).
  const auto settle_deadline = SteadyClock::now() + std::chrono::milliseconds(o.settle_ms);
  while (shared.events.load() < expected && SteadyClock::now() < settle_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop_all();

  // Join arrivals with the writes by revision.
  std::map<int64_t, size_t> write_of;  // revision -> index in writes
  for (size_t i = 0; i < writes.size(); ++i) {
    if (writes[i].revision > 0) write_of[writes[i].revision] = i;
  }
  std::vector<double> all;            // every delivery, ms since the PUT's send
  all.reserve(static_cast<size_t>(expected));
  // per write: each connected watcher's latency (infinity when it never came)
  std::vector<std::vector<double>> per_write(writes.size());
  int64_t received = 0;
  int64_t duplicates = 0;
  for (const auto& w : watchers) {
    if (!w->header_done || w->status != 200) continue;
    std::vector<bool> seen(writes.size(), false);
    for (const auto& [revision, at] : w->arrivals) {
      auto it = write_of.find(revision);
      if (it == write_of.end()) continue;  // another writer's commit
      if (seen[it->second]) {
        ++duplicates;
        continue;
      }
      seen[it->second] = true;
      double ms = Ms(at - writes[it->second].sent);
      all.push_back(ms);
      per_write[it->second].push_back(ms);
      ++received;
    }
    for (size_t i = 0; i < writes.size(); ++i) {
      if (!seen[i] && writes[i].revision > 0) {
        per_write[i].push_back(std::numeric_limits<double>::infinity());
      }
    }
  }
  std::sort(all.begin(), all.end());
  int64_t within = std::count_if(all.begin(), all.end(), [&](double v) { return v <= o.target_ms; });
  std::vector<double> write_p99;  // per write: 99 % of the watchers had it within this
  std::vector<double> put_ms;
  for (size_t i = 0; i < writes.size(); ++i) {
    if (writes[i].revision <= 0) continue;
    put_ms.push_back(Ms(writes[i].acked - writes[i].sent));
    std::sort(per_write[i].begin(), per_write[i].end());
    write_p99.push_back(Quantile(per_write[i], 0.99));
  }
  std::sort(write_p99.begin(), write_p99.end());
  std::sort(put_ms.begin(), put_ms.end());
  int64_t writes_within = std::count_if(write_p99.begin(), write_p99.end(),
                                        [&](double v) { return v <= o.target_ms; });
  double fraction = expected > 0 ? static_cast<double>(within) / static_cast<double>(expected) : 0;
  const double write_span_s = Ms(writes.back().acked - write_start) / 1000;

  std::string first_error;
  int64_t with_errors = 0;
  for (const auto& w : watchers) {
    if (!w->error.empty()) {
      ++with_errors;
      if (first_error.empty()) first_error = w->error;
    }
  }
  std::cout << fmt::format(
      "watchers connected: {} of {} (in {:.0f} ms){}\n"
      "writes: {} PUTs under {} every {} ms over {:.2f} s ({} failed); PUT ack p50 {:.2f} ms, "
      "p99 {:.2f} ms\n"
      "deliveries: {} expected, {} received ({} duplicates)\n"
      "latency from the PUT's send to the watcher: p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n"
      "deliveries within {} ms: {:.4f} ({} of {})\n"
      "per write, the time by which 99 % of the watchers had it: p50 {:.2f} ms, p99 {:.2f} ms, "
      "max {:.2f} ms; {} of {} writes reached 99 % within {} ms\n",
      connected, o.watchers, connect_ms,
      with_errors > 0 ? fmt::format("; {} streams ended with an error, first: {}", with_errors,
                                    first_error)
                      : "",
      o.writes, o.prefix, o.interval_ms, write_span_s, write_errors, Quantile(put_ms, 0.5),
      Quantile(put_ms, 0.99), expected, received, duplicates, Quantile(all, 0.5),
      Quantile(all, 0.99), all.empty() ? std::nan("") : all.back(), o.target_ms, fraction, within,
      expected, Quantile(write_p99, 0.5), Quantile(write_p99, 0.99),
      write_p99.empty() ? std::nan("") : write_p99.back(), writes_within, write_p99.size(),
      o.target_ms);
  std::cout << fmt::format(
      "BENCH-WATCH watchers={} connected={} writes={} write_errors={} expected={} received={} "
      "p50_ms={:.3f} p99_ms={:.3f} max_ms={:.3f} within_target={:.4f} target_ms={} "
      "write_p99_p50_ms={:.3f} write_p99_p99_ms={:.3f} write_p99_max_ms={:.3f} "
      "writes_within_target={} put_p50_ms={:.3f} put_p99_ms={:.3f} connect_ms={:.0f} "
      "latency_from=send\n",
      o.watchers, connected, o.writes, write_errors, expected, received, Quantile(all, 0.5),
      Quantile(all, 0.99), all.empty() ? std::nan("") : all.back(), fraction, o.target_ms,
      Quantile(write_p99, 0.5), Quantile(write_p99, 0.99),
      write_p99.empty() ? std::nan("") : write_p99.back(), writes_within, Quantile(put_ms, 0.5),
      Quantile(put_ms, 0.99), connect_ms);
  bool complete = connected == o.watchers && write_errors == 0 && received == expected;
  return complete ? 0 : 1;
}

}  // namespace chronoconf::cli
