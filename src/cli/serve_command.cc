#include "cli/serve_command.h"

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <memory>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/command_service.h"
#include "app/follower.h"
#include "app/lease_keeper.h"
#include "app/snapshotter.h"
#include "app/verify.h"
#include "cli/progress_bar.h"
#include "etcd/etcd_server.h"
#include "etcd/member_announcer.h"
#include "etcd/gateway.h"
#include "http/api.h"
#include "http/buffered_log.h"
#include "http/log_format.h"
#include "http/server.h"
#include "json/json_writer.h"
#include "projection/projection.h"
#include "store/event_store.h"

namespace chronoconf::cli {
namespace {

struct ServeOptions {
  std::string store = kDefaultStore;
  std::string listen = "127.0.0.1:7700";
  std::string etcd_listen;  // "": the etcd API is off
  size_t etcd_max_txn_ops = 128;
  std::string etcd_compaction = "floor";
  int64_t etcd_watch_progress_ms = 10 * 60 * 1000;  // etcd's default, 10 minutes
  std::string tls_cert;  // PEM files for the etcd gRPC port; "": plaintext
  std::string tls_key;
  std::string auth_file;
  bool insecure = false;
  size_t max_value_bytes = 256 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  int64_t snapshot_every = 0;
  std::string snapshot_path;  // "" : DefaultSnapshotPath(store)
  std::string log_level = "info";
  std::string log_format = "text";
  int threads = 0;
  int64_t watch_send_timeout_ms = 10000;
  int64_t watch_keepalive_ms = 15000;
  std::string node;
  int64_t max_connections = 0;  // 0: derived from the file-descriptor limit
  int64_t drain_timeout_ms = 10000;
  int64_t idle_timeout_ms = 60000;
  int64_t read_timeout_ms = 30000;
};

// File descriptors kept free for the store, logs and the listener when the
// connection cap is derived from RLIMIT_NOFILE.
constexpr int64_t kReservedFds = 64;

// The soft limit on open files, 1024 when it cannot be read.
int64_t FdLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 1024;
  return static_cast<int64_t>(r.rlim_cur);
}

// `url` with the password of its user-info (scheme://user:PASSWORD@host)
// replaced by "***": the store URL goes into the log.
std::string RedactedUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t at = url.find('@', scheme + 3);
  const size_t slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

// "host:port" or "[v6]:port".
bool SplitListen(const std::string& listen, std::string* host, uint16_t* port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    *port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

// Resolves a listen address (`flag` names it in errors) to an IP literal and
// a port, and applies the listen rule: a non-loopback address needs
// --auth-file or --insecure. Returns 0, or the exit code (2) after saying why.
int ResolveListen(const ServeOptions& o, const char* flag, const std::string& listen,
                  std::string* host, uint16_t* port) {
  if (!SplitListen(listen, host, port)) {
    std::cerr << fmt::format("error: {} must be HOST:PORT, like 127.0.0.1:7700 or [::1]:7700\n",
                             flag);
    return 2;
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(*host, ec);
  if (ec) {
    // A host name ("localhost"): listen on the first address it resolves to.
    boost::asio::io_context resolver_context;
    boost::asio::ip::tcp::resolver resolver(resolver_context);
    auto results = resolver.resolve(*host, std::to_string(*port), ec);
    if (ec || results.empty()) {
      std::cerr << fmt::format("error: cannot resolve the {} host '{}': {}\n", flag, *host,
                               ec ? ec.message() : "no address");
      return 2;
    }
    address = results.begin()->endpoint().address();
    *host = address.to_string();
  }
  if (!address.is_loopback() && o.auth_file.empty() && !o.insecure) {
    std::cerr << fmt::format(
        "error: refusing to listen on the non-loopback address {} without --auth-file; "
        "pass --insecure to do it anyway\n", *host);
    return 2;
  }
  return 0;
}

// glibc hands the free top of a heap back to the kernel once it passes the
// trim threshold (128 KiB at first), so a response of some tens of KiB,
// built and freed per request on a loop's heap, had its pages faulted in
// again on every request: a listing of 100 keys cost 2-3 x the CPU
// (docs/BENCHMARKS.md). A server keeps what it will need again.
void KeepFreedMemory() {
#ifdef __GLIBC__
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);  // fixed (not raised by each large free)
#endif
}

int Serve(const ServeOptions& o) {
  // A peer that closed its socket must cost an error code, not the process.
  signal(SIGPIPE, SIG_IGN);
  KeepFreedMemory();
  auto level = spdlog::level::from_str(o.log_level);
  if (level == spdlog::level::off && o.log_level != "off") {
    std::cerr << fmt::format(
        "error: --log-level '{}' is not one of trace, debug, info, warn, error, critical, off\n",
        o.log_level);
    return 2;
  }
  spdlog::set_level(level);
  // Access lines batched into one write(2) when stdout is a file or a pipe
  // (a service's log); a terminal keeps spdlog's colored line-at-a-time sink.
  if (!isatty(STDOUT_FILENO)) http::InstallBufferedLog();
  struct FlushAtReturn {
    ~FlushAtReturn() { http::FlushLog(); }
  } flush_at_return;
  if (Status s = http::SetLogFormat(o.log_format); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  std::string host;
  uint16_t port = 0;
  if (int code = ResolveListen(o, "--listen", o.listen, &host, &port); code != 0) return code;
  std::string etcd_host;
  uint16_t etcd_port = 0;
  if (!o.etcd_listen.empty()) {
    if (int code = ResolveListen(o, "--etcd-listen", o.etcd_listen, &etcd_host, &etcd_port);
        code != 0) {
      return code;
    }
  }
  // TLS for the etcd port (SPEC §7): both files or neither, read now so a
  // typo fails the start, not the first client.
  std::string tls_cert_pem, tls_key_pem;
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    std::cerr << "error: give --tls-cert and --tls-key together\n";
    return 2;
  }
  if (!o.tls_cert.empty()) {
    if (o.etcd_listen.empty()) {
      std::cerr << "error: --tls-cert and --tls-key secure the etcd port: give --etcd-listen\n";
      return 2;
    }
    for (auto [path, out] : {std::pair{&o.tls_cert, &tls_cert_pem}, {&o.tls_key, &tls_key_pem}}) {
      std::ifstream in(*path, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      if (!in || text.str().find("-----BEGIN ") == std::string::npos) {
        std::cerr << "error: cannot read a PEM file from " << *path << "\n";
        return 2;
      }
      *out = text.str();
    }
  }
  std::shared_ptr<const http::AuthTable> auth;
  if (!o.auth_file.empty()) {
    auto table = http::AuthTable::Load(o.auth_file);
    if (!table) {
      std::cerr << "error: " << table.status().message() << "\n";
      return 2;
    }
    auth = std::make_shared<const http::AuthTable>(std::move(*table));
  }

  int64_t fd_limit = FdLimit();
  int64_t max_connections = o.max_connections;
  if (max_connections == 0) {
    max_connections = std::max<int64_t>(fd_limit - kReservedFds, fd_limit / 2);
  } else if (max_connections > fd_limit - kReservedFds) {
    spdlog::warn("--max-connections {} is above what the file-descriptor limit ({}) leaves room "
                 "for; accepts will fail (and back off) when descriptors run out",
                 max_connections, fd_limit);
  }

  auto store = OpenEventStore(o.store);
  if (!store) {
    std::cerr << "error: " << store.status().message() << "\n";
    return 1;
  }
  if (Status s = (*store)->ClaimSoleWriter(); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  const std::string snapshot_path =
      o.snapshot_path.empty() ? DefaultSnapshotPath(o.store) : o.snapshot_path;
  if (o.snapshot_every > 0 && snapshot_path.empty()) {
    // Not an error: snapshots only speed up a start, and this store has no
    // file beside it to keep one in.
    spdlog::warn("--snapshot-every is ignored: a {} store keeps no snapshot unless "
                 "--snapshot-path FILE names one",
                 (*store)->kind());
  }
  Projection projection;
  std::unique_ptr<Snapshotter> snapshotter;  // set once the read model is ready
  // The one path from the store into the read model: this node's commits
  // and every other node's (PostgreSQL), woken by the committer, by
  // LISTEN/NOTIFY and by a poll.
  FollowerOptions follower_options;
  follower_options.wait_for_catch_up = true;  // the snapshot, if any, loads first
  Follower follower(store->get(), &projection, follower_options);
  CommandService commands(store->get(), &projection, &follower);
  // The deadlines of etcd leases; every lease starts at its full TTL here.
  LeaseKeeper lease_keeper(&commands, &projection, store->get());
  // Linearizable reads (consistent=true, etcd's default Range): the store's
  // head, learned after the read arrived, applied before it is served.
  ReadIndex read_index(&projection, &follower);
  http::Metrics metrics;
  char hostname[256] = "chronoconf";
  gethostname(hostname, sizeof(hostname) - 1);
  http::ApiOptions api_options;
  api_options.max_value_bytes = o.max_value_bytes;
  api_options.store_kind = std::string((*store)->kind());
  api_options.node = o.node.empty() ? fmt::format("{}:{}", hostname, port) : o.node;
  api_options.read_index = &read_index;
  http::Api api(&projection, &commands, &metrics, api_options);
  api.SetAuth(auth);

  http::ServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.threads =
      o.threads > 0 ? o.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  server_options.max_body_bytes = o.max_body_bytes;
  server_options.watch_send_timeout = std::chrono::milliseconds(o.watch_send_timeout_ms);
  server_options.watch_keepalive = std::chrono::milliseconds(o.watch_keepalive_ms);
  server_options.max_connections = static_cast<size_t>(max_connections);
  server_options.drain_timeout = std::chrono::milliseconds(o.drain_timeout_ms);
  server_options.idle_timeout = std::chrono::milliseconds(o.idle_timeout_ms);
  server_options.read_timeout = std::chrono::milliseconds(o.read_timeout_ms);
  // SIGHUP re-reads the auth file; connections stay open, and a broken file
  // keeps the tokens in force.
  if (!o.auth_file.empty()) {
    server_options.on_hangup = [&api, path = o.auth_file] {
      auto table = http::AuthTable::Load(path);
      if (!table) {
        spdlog::error("SIGHUP: kept the current tokens: {}", table.status().message());
        return;
      }
      size_t n = table->size();
      api.SetAuth(std::make_shared<const http::AuthTable>(std::move(*table)));
      spdlog::info("SIGHUP: reloaded {} ({} tokens)", path, n);
    };
  }
  // The etcd API (SPEC §7): the same read model, command service and auth.
  // Its options, but for the address clients reach it at (MemberList's
  // URLs): the gRPC server's, or the HTTP port's for the JSON gateway.
  // One compaction floor for both transports (SPEC §7 "Compaction").
  etcd::CompactionFloor etcd_floor(store->get(), o.etcd_compaction == "ignore");
  auto etcd_options_for = [&](std::string listen, bool gateway) {
    etcd::EtcdOptions etcd_options;
    etcd_options.listen = std::move(listen);
    etcd_options.gateway = gateway;
    etcd_options.leases = &lease_keeper;
    etcd_options.live_members = [s = store->get()] { return s->LiveMembers(etcd::kMemberTtl); };
    etcd_options.node = api_options.node;
    etcd_options.max_value_bytes = o.max_value_bytes;
    etcd_options.max_txn_ops = o.etcd_max_txn_ops;
    etcd_options.drain_timeout = std::chrono::milliseconds(o.drain_timeout_ms);
    etcd_options.watch_progress_interval = std::chrono::milliseconds(o.etcd_watch_progress_ms);
    etcd_options.auth = [&api] { return api.auth(); };
    etcd_options.ready = [&api] { return api.ready(); };
    etcd_options.db_size = [s = store->get()] { return s->SizeBytes(); };
    etcd_options.metrics = &metrics;
    etcd_options.read_index = &read_index;
    if (!gateway) {
      etcd_options.tls_cert_pem = tls_cert_pem;
      etcd_options.tls_key_pem = tls_key_pem;
    }
    etcd_options.floor = &etcd_floor;
    return etcd_options;
  };
  auto host_port = [](const std::string& h, uint16_t p) {
    return h.find(':') != std::string::npos ? fmt::format("[{}]:{}", h, p)
                                            : fmt::format("{}:{}", h, p);
  };
  // The gRPC services, beside the HTTP server; they drain when it does.
  std::unique_ptr<etcd::EtcdServer> etcd_server;
  if (!o.etcd_listen.empty()) {
    etcd_server = std::make_unique<etcd::EtcdServer>(
        &projection, &commands, etcd_options_for(host_port(etcd_host, etcd_port), false));
  }
  // When the drain begins: linearizable reads waiting on the store answer
  // 503 now (they would outlast the drain), and the etcd API drains too.
  server_options.on_shutdown = [&etcd_server, &read_index] {
    read_index.BeginShutdown();
    if (etcd_server) etcd_server->BeginShutdown();
  };
  http::Server server(&api, &projection, &metrics, server_options);
  if (Status s = server.Listen(); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  // etcd's JSON gateway on the HTTP port, always served (SPEC §7).
  etcd::EtcdContext gateway_context(&projection, &commands,
                                    etcd_options_for(host_port(host, server.port()), true));
  etcd::JsonGateway gateway(&gateway_context);
  api.SetEtcdGateway(&gateway);
  if (etcd_server) {
    if (Status s = etcd_server->Start(); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return 1;
    }
    spdlog::info("etcd v3 API on {} (gRPC, {})", o.etcd_listen,
                 tls_cert_pem.empty() ? "plaintext" : "TLS");
  }
  const std::string etcd_scheme = tls_cert_pem.empty() ? "http://" : "https://";
  // This node in the store's list of live nodes (etcd's MemberList on a
  // PostgreSQL store every node shares).
  etcd::MemberAnnouncer announcer(
      store->get(),
      {api_options.node,
       etcd_server ? etcd_scheme + host_port(etcd_host, etcd_port) : "",
       "http://" + host_port(host, server.port())});
  // Serve /readyz 503 while the read model catches up with the store (the
  // follower's code path, on this thread).
  std::atomic<bool> catch_up_failed{false};
  std::thread catch_up([&] {
    // A snapshot (when there is one, and it matches the store) then the
    // events after it: the same read model as a replay from revision 1.
    // (The follower's threads run already; they apply nothing before
    // CatchUp, and the committer waits while it loads.)
    int64_t loaded = 0;
    Status s = follower.CatchUp([&] {
      if (!snapshot_path.empty()) loaded = LoadSnapshotIfValid(snapshot_path, **store, &projection);
    });
    if (!s.ok()) {
      catch_up_failed.store(true);
      spdlog::critical("cannot read the store: {}", s.ToString());
      server.Stop();
      return;
    }
    if (o.snapshot_every > 0 && !snapshot_path.empty()) {
      snapshotter = std::make_unique<Snapshotter>(&projection, store->get(), snapshot_path,
                                                  o.snapshot_every, loaded);
    }
    api.SetReady(true);
    spdlog::info("read model at revision {}; ready", projection.head());
  });
  spdlog::info("chronoconf {} serving {} on http://{}:{} (at most {} connections, auth {})",
               api_options.version, RedactedUrl(o.store), host, server.port(), max_connections,
               auth ? fmt::format("on: {} tokens", auth->size()) : std::string("off"));
  // Shutdown, in this order (SIGTERM/SIGINT): Run returns once the requests
  // in flight are answered and every connection is closed; then the
  // committer finishes the batch it decides, answers what is still queued
  // 503 without writing it, and stops, while the io_context its
  // completions are posted to still exists; then the follower stops (after
  // the committer, which waits on it for its last batch); then everything
  // is destroyed.
  server.Run(/*handle_signals=*/true);
  if (etcd_server) {
    etcd_server->BeginShutdown();  // (begun already by a signal)
    etcd_server->Wait();           // etcd writes in flight still reach the committer
  }
  announcer.Stop();  // other nodes stop listing this one at once
  read_index.Stop();
  lease_keeper.Stop();
  commands.Stop();
  follower.Stop();
  catch_up.join();
  snapshotter.reset();
  spdlog::info("stopped");
  // 0 after a signal, also one that came before the read model was ready;
  // 1 when the store could not be read.
  return catch_up_failed.load() ? 1 : 0;
}

int Migrate(const std::string& url) {
  auto store = OpenEventStore(url);  // opening creates and migrates the schema
  if (!store) {
    std::cerr << "error: " << store.status().message() << "\n";
    return 1;
  }
  auto head = (*store)->ReadHead();
  std::cout << fmt::format("{} store migrated; head revision {}\n", (*store)->kind(),
                           head ? head->revision : 0);
  return 0;
}

int Verify(const std::string& url, const std::string& snapshot, bool as_json) {
  // Read-only: a typo in the URL is an error, never a new empty store (SPEC §6).
  auto store = OpenEventStore(url, SystemClock::Default(), StoreAccess::kReadOnly);
  if (!store) {
    std::cerr << "error: " << store.status().message() << "\n";
    return 1;
  }
  // A progress bar only on a terminal: logs and pipes get the summary alone.
  bool tty = isatty(STDERR_FILENO) != 0;
  auto head = (*store)->ReadHead();
  const int64_t total = head ? head->revision : 0;
  VerifyReport report;
  Status s = VerifyStore(
      **store, &report,
      [&](int64_t n) {
        if (tty) std::cerr << ProgressBar(n, total) << std::flush;
      },
      snapshot.empty() ? DefaultSnapshotPath(url) : snapshot,
      /*snapshot_required=*/!snapshot.empty());
  if (tty && report.commits > 0) std::cerr << "\n";
  if (as_json) {
    json::Writer w;
    w.BeginObject()
        .Field("ok", s.ok())
        .Field("commits", report.commits)
        .Field("events", report.events)
        .Field("keys", report.keys)
        .Field("head_hash", report.head_hash);
    if (report.snapshot_revision >= 0) w.Field("snapshot_revision", report.snapshot_revision);
    if (!s.ok()) w.Field("error", s.message());
    w.EndObject();
    std::cout << w.Take() << "\n";
  } else if (s.ok()) {
    std::cout << fmt::format("ok: {} commits, {} events, {} keys; head hash {}\n", report.commits,
                             report.events, report.keys, report.head_hash);
    if (report.snapshot_revision >= 0) {
      std::cout << fmt::format("ok: the snapshot at revision {} equals the read model rebuilt "
                               "from the events\n", report.snapshot_revision);
    }
  }
  if (!s.ok()) {
    std::cerr << "verify failed: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void AddServerCommands(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* serve = app.add_subcommand("serve", "Run the chronoconf server");
  serve->add_option("--store", o->store, "Event store URL: sqlite:PATH, postgres://..., memory:")
      ->capture_default_str();
  serve->add_option("--listen", o->listen, "Address to listen on (HOST:PORT)")->capture_default_str();
  serve->add_option("--etcd-listen", o->etcd_listen,
                    "Serve the etcd v3 API (gRPC) on HOST:PORT, like 127.0.0.1:2379 (off "
                    "unless given; the same loopback rule as --listen)");
  serve->add_option("--etcd-max-txn-ops", o->etcd_max_txn_ops,
                    "The most ops an etcd Txn may hold (compares, or one branch's ops)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  serve->add_option("--etcd-compaction", o->etcd_compaction,
                    "What an etcd Compact does: 'floor' records the revision below which the "
                    "etcd API answers \"compacted\" (history is kept either way); 'ignore' "
                    "accepts it and moves nothing")
      ->capture_default_str()
      ->check(CLI::IsMember({"floor", "ignore"}));
  // etcd's --experimental-watch-progress-notify-interval, whose floor
  // (100 ms) is kept too.
  serve->add_option("--etcd-watch-progress-interval", o->etcd_watch_progress_ms,
                    "How long a watch created with progress_notify may be idle before it "
                    "gets a progress notice (like 10m, 30s, 500ms; etcd's "
                    "--experimental-watch-progress-notify-interval)")
      ->default_str("10m")
      ->transform(CLI::AsNumberWithUnit(
          std::map<std::string, int64_t>{{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}},
          CLI::AsNumberWithUnit::UNIT_REQUIRED))
      ->check(CLI::Range(int64_t{100}, int64_t{24} * 3600000));
  serve->add_option("--tls-cert", o->tls_cert,
                    "PEM certificate (chain) for the etcd gRPC port: serve it over TLS");
  serve->add_option("--tls-key", o->tls_key, "PEM private key of --tls-cert");
  serve->add_option("--auth-file", o->auth_file, "Tokens and roles (JSON)");
  serve->add_flag("--insecure", o->insecure, "Allow a non-loopback address without auth");
  serve->add_option("--max-value-bytes", o->max_value_bytes, "Largest value accepted")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  serve->add_option("--max-body-bytes", o->max_body_bytes, "Largest request body accepted")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  serve->add_option("--snapshot-every", o->snapshot_every,
                    "Commits between read-model snapshots (0: none); a snapshot found at "
                    "start is used whenever it matches the store")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  serve->add_option("--snapshot-path", o->snapshot_path,
                    "Snapshot file (default: the SQLite file's name + .snapshot)");
  // The last --log-level wins, so that a wrapper's default can be overridden.
  serve->add_option("--log-level", o->log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  serve->add_option("--log-format", o->log_format,
                    "text, or json: one JSON object per line (ts, level, msg, and for each "
                    "request method, route, status, latency_ms, bytes, request_id, actor)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  serve->add_option("--threads", o->threads, "HTTP worker threads (default: one per core)")
      ->check(CLI::Range(1, 1024));
  serve->add_option("--watch-send-timeout-ms", o->watch_send_timeout_ms,
                    "Drop a watcher whose socket takes no data for this long")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  serve->add_option("--watch-keepalive-ms", o->watch_keepalive_ms,
                    "Quiet time after which a watch stream gets a ': keepalive' comment")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  serve->add_option("--node", o->node, "This node's name in /v1/status");
  serve->add_option("--max-connections", o->max_connections,
                    "Open connections at most; more are refused with 503 (default: the "
                    "file-descriptor limit less 64)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  serve->add_option("--drain-timeout-ms", o->drain_timeout_ms,
                    "On SIGTERM, how long requests in flight get to be answered")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  serve->add_option("--idle-timeout-ms", o->idle_timeout_ms,
                    "Close a keep-alive connection that sends no request for this long")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  serve->add_option("--read-timeout-ms", o->read_timeout_ms,
                    "A request must arrive whole within this long of its first byte")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  serve->callback([o, exit_code] { *exit_code = Serve(*o); });

  auto migrate_url = std::make_shared<std::string>(kDefaultStore);
  CLI::App* migrate = app.add_subcommand("migrate", "Create or upgrade a store's schema");
  migrate->add_option("--store", *migrate_url, "Event store URL")->capture_default_str();
  migrate->callback([migrate_url, exit_code] { *exit_code = Migrate(*migrate_url); });

  auto verify_url = std::make_shared<std::string>(kDefaultStore);
  auto verify_json = std::make_shared<bool>(false);
  CLI::App* verify = app.add_subcommand(
      "verify", "Check a store: hash chain, gap-free revisions, key versions, read model");
  verify->add_option("--store", *verify_url, "Event store URL")->capture_default_str();
  auto verify_snapshot = std::make_shared<std::string>();
  verify->add_option("--snapshot", *verify_snapshot,
                     "Read-model snapshot to compare (default: the SQLite file's name + .snapshot)");
  verify->add_flag("--json", *verify_json, "Print the report as JSON");
  verify->callback([verify_url, verify_snapshot, verify_json, exit_code] {
    *exit_code = Verify(*verify_url, *verify_snapshot, *verify_json);
  });
}

}  // namespace chronoconf::cli
