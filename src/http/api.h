// Api: the HTTP routes of SPEC §2 as a function from Request to Response.
//
// Queries (GET) read the Projection directly and never touch the store or
// parse stored JSON. Writes build a Command, hand it to the CommandService
// and wait (asynchronously, holding no thread) until it is durable. The
// watch stream and the socket handling live in server.cc.
//
// Thread safety: Handle may run on many threads at once.
#ifndef CHRONOCONF_HTTP_API_H_
#define CHRONOCONF_HTTP_API_H_

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/mutex.h"
#include "app/command_service.h"
#include "app/read_index.h"
#include "common/version.h"
#include "http/auth.h"
#include "http/browser_guard.h"
#include "http/etcd_gateway.h"
#include "http/http_types.h"
#include "http/metrics.h"
#include "http/routes.h"
#include "projection/projection.h"

namespace chronoconf::http {

struct ApiOptions {
  size_t max_value_bytes = 256 * 1024;
  std::string store_kind = "memory";
  std::string node = "chronoconf";
  std::string version = kVersion;
  // The names and addresses --listen was given as and resolved to: with
  // auth off, the Host headers served besides localhost and loopback.
  std::vector<std::string> listen_hosts = {"127.0.0.1"};
  // Serves reads with consistent=true (SPEC §7); null: such a read is
  // answered from the read model as it is (a store only this process
  // writes, where both are the same).
  ReadIndex* read_index = nullptr;
};

class Api {
 public:
  Api(Projection* projection, CommandService* commands, Metrics* metrics, ApiOptions options);

  // Answers one request on the route `match` found for it (MatchRoute):
  // 404/405 without a route, else Admit then Serve. Never throws for bad
  // input.
  boost::asio::awaitable<Response> Handle(Request& req, const RouteMatch& match);

  // The checks that need only the request's header, so that the server
  // runs them before it reads a body (an unauthenticated client makes it
  // read nothing). In this order: the query and conditional headers
  // (routes.h), the Host (DNS rebinding, auth off) and origin of a write
  // (BrowserGuard), the body's type (415), the token and its role (401,
  // 403) which set req.principal, readiness, the texts of X-Actor and
  // X-Request-Id. REQUIRES: match.route.
  Status Admit(Request& req, const RouteMatch& match) const;
  // Answers an admitted request (its body read). REQUIRES: Admit was OK.
  boost::asio::awaitable<Response> Serve(Request& req, const RouteMatch& match);
  // The response to a request Admit refused.
  static Response Refusal(const Status& status);
  // The same for a request to `match`'s route: in the etcd gateway's error
  // shape on its routes.
  Response RefusalFor(const RouteMatch& match, const Status& status) const;

  // Serves etcd's JSON gateway (SPEC §7) with `gateway` (it must outlive the
  // server); without one its routes answer 404.
  void SetEtcdGateway(EtcdGateway* gateway) { etcd_gateway_ = gateway; }
  EtcdGateway* etcd_gateway() const { return etcd_gateway_; }
  // For a request to a gateway route: whether it opens a stream
  // (POST /v3/watch), and its label (match.label) for the metrics and log.
  bool IsEtcdStream(const RouteMatch& match) const;
  void LabelEtcdRoute(RouteMatch* match) const;

  // For streams (watch), before each commit they send: the principal the
  // request's token names under the auth in force now, so a SIGHUP that
  // narrows a token narrows its open streams. Errors: kUnauthorized when
  // the token is gone, kForbidden when its role no longer allows `match`.
  Result<Principal> Reauthorize(const Request& req, const RouteMatch& match) const;

  // Turns auth on with `table` (SIGHUP swaps it); nullptr turns it off.
  void SetAuth(std::shared_ptr<const AuthTable> table);
  std::shared_ptr<const AuthTable> auth() const;
  // Moves on with every SetAuth: a stream compares it before each commit it
  // sends (a load, where auth() takes a lock and a reference).
  uint64_t auth_generation() const { return auth_generation_.load(std::memory_order_acquire); }

  // Shutdown began: every request waiting for a revision (min_revision) is
  // answered 503 now, and later ones at once, instead of holding the drain
  // until their own timeout.
  void BeginShutdown();

  // /readyz turns 200 once the read model has caught up with the store.
  void SetReady(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }
  const ApiOptions& options() const { return options_; }

 private:
  // Takes an lvalue on purpose: GCC 12 destroys temporaries that live across
  // a co_await twice, so callers keep the command in a named variable.
  // With `?dry_run=true` on `req` the command is decided, not written
  // (CommandResult::dry_run; answer it with DryRunResponse).
  boost::asio::awaitable<CommandResult> Execute(const Request& req, Command& command);
  // A unary call of the etcd gateway, resumed on this coroutine's executor.
  boost::asio::awaitable<Response> CallEtcdGateway(const Request& req, const RouteMatch& match);
  // Waits until the read model has applied `revision`. Errors: kTimeout
  // when `timeout` passes first, kUnavailable when shutdown begins.
  boost::asio::awaitable<Status> WaitForRevision(int64_t revision,
                                                 std::chrono::milliseconds timeout);
  // Applies consistent, min_revision and timeout_ms; a non-OK status to
  // answer with.
  boost::asio::awaitable<Status> AwaitMinRevision(const Request& req);
  // Waits until the read model holds every commit the store held when this
  // was called (ReadIndex). Errors: kUnavailable, kTimeout.
  boost::asio::awaitable<Status> AwaitReadIndex();

  // Keys (api_keys.cc)
  Response GetKey(const Request& req, const std::string& key);
  Response ListKeys(const Request& req);
  boost::asio::awaitable<Response> PutKey(const Request& req, const std::string& key);
  boost::asio::awaitable<Response> DeleteKeyRoute(const Request& req, const std::string& key);
  boost::asio::awaitable<Response> PostTxn(const Request& req);
  // History, audit and time (api_audit.cc)
  Response GetHistory(const Request& req, const std::string& key);
  Response GetEvents(const Request& req);
  Response GetRevision(const Request& req, const std::string& revision);
  Response GetDiff(const Request& req);
  // Bulk and operations (api_bulk.cc)
  boost::asio::awaitable<Response> PostRevert(const Request& req);
  boost::asio::awaitable<Response> PostImport(const Request& req);
  Response GetExport(const Request& req);
  Response GetStatus(const Request& req);
  // Schemas per prefix (api_schemas.cc)
  Response GetSchemas(const Request& req);
  Response GetSchema(const Request& req, const std::string& prefix);
  boost::asio::awaitable<Response> PutSchema(const Request& req, const std::string& prefix);
  boost::asio::awaitable<Response> DeleteSchema(const Request& req, const std::string& prefix);
  // Review policies and changes (api_reviews.cc)
  Response GetPolicies(const Request& req);
  Response GetPolicy(const Request& req, const std::string& prefix);
  boost::asio::awaitable<Response> PutPolicy(const Request& req, const std::string& prefix);
  boost::asio::awaitable<Response> DeletePolicy(const Request& req, const std::string& prefix);
  Response ListChanges(const Request& req);
  Response GetChange(const Request& req, const std::string& id);
  boost::asio::awaitable<Response> PostChange(const Request& req);
  // POST /v1/changes/{id}/approve|reject|apply (`tail` is "{id}/{action}").
  boost::asio::awaitable<Response> PostChangeAction(const Request& req, const std::string& tail);
  // GET /v1/leases: the etcd leases that exist, with the keys they hold
  // (only those the caller may read).
  Response GetLeases(const Request& req);
  // The web console and who the caller is (api_ui.cc)
  static Response GetUi(RouteId id, const std::string& tail);
  static Response GetWhoami(const Request& req);

  // POST /v1/txn's body (also a proposal's) as a Transaction, each key
  // checked against the caller's prefixes. Errors name the failing op.
  Result<Transaction> ParseTxnBody(const Request& req) const;
  // Resolves at_revision / at_time of `req` to a revision.
  Result<int64_t> ReadRevision(const Request& req, const char* rev_param,
                               const char* time_param) const;
  // A 200 answer of a read resolved to revision `at`: at the head it says
  // exactly that head; at a past revision the header keeps the read
  // model's head (SPEC §2), as every response does.
  static Response ReadAnswer(const Request& req, int64_t at, std::string body);
  CommitMeta MetaFrom(const Request& req, std::optional<std::string> reason) const;

  // kForbidden unless req's principal may touch `key`.
  static Status CheckKeyAccess(const Request& req, std::string_view key);
  // kForbidden unless req's principal may act on everything under `prefix`
  // (revert, import: a prefix-limited token must name a prefix inside its own).
  static Status CheckPrefixAccess(const Request& req, std::string_view prefix);

  Projection* projection_;
  CommandService* commands_;
  Metrics* metrics_;
  ApiOptions options_;
  BrowserGuard browser_guard_;
  EtcdGateway* etcd_gateway_ = nullptr;
  std::atomic<bool> ready_{false};
  mutable Mutex auth_mu_;
  std::shared_ptr<const AuthTable> auth_ GUARDED_BY(auth_mu_);  // null: auth off
  std::atomic<uint64_t> auth_generation_{0};
  // The waits of WaitForRevision, each a callback that wakes it.
  Mutex waits_mu_;
  bool shutting_down_ GUARDED_BY(waits_mu_) = false;
  uint64_t next_wait_ GUARDED_BY(waits_mu_) = 1;  // 0: none
  std::map<uint64_t, std::function<void()>> waits_ GUARDED_BY(waits_mu_);
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Checks that a request to a route that takes a body says its body is
// application/json: a POST without Content-Type is a CORS "simple request"
// any page may send. Errors: kUnsupportedMediaType.
Status CheckJsonContentType(const Request& req);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_API_H_
