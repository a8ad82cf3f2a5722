#include "http/api.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "domain/commands.h"
#include "http/render.h"
#include "http/request_parsing.h"
#include "json/json_writer.h"

namespace chronoconf::http {

namespace net = boost::asio;

Api::Api(Projection* projection, CommandService* commands, Metrics* metrics, ApiOptions options)
    : projection_(projection), commands_(commands), metrics_(metrics),
      options_(std::move(options)), browser_guard_(options_.listen_hosts) {}

Status CheckJsonContentType(const Request& req) {
  const std::string* ct = req.Header("content-type");
  if (!ct) {
    return Status(Code::kUnsupportedMediaType,
                  "the body must be application/json: send Content-Type: application/json");
  }
  std::string_view type(*ct);
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "application/json") return Status::OK();
  return Status(Code::kUnsupportedMediaType,
                fmt::format("the body must be application/json, not '{}'", *ct));
}

void Api::SetAuth(std::shared_ptr<const AuthTable> table) {
  MutexLock lock(&auth_mu_);
  auth_ = std::move(table);
  auth_generation_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const AuthTable> Api::auth() const {
  MutexLock lock(&auth_mu_);
  return auth_;
}

Status Api::CheckKeyAccess(const Request& req, std::string_view key) {
  if (req.principal.scope.Contains(key)) return Status::OK();
  return Status(Code::kForbidden,
                fmt::format("the token '{}' may not access the key '{}'", req.principal.name, key));
}

Status Api::CheckPrefixAccess(const Request& req, std::string_view prefix) {
  if (req.principal.scope.Covers(prefix)) return Status::OK();
  return Status(Code::kForbidden,
                fmt::format("the token '{}' is limited to some prefixes: name a \"prefix\" inside "
                            "them (not '{}')",
                            req.principal.name, prefix));
}

namespace {

Result<Principal> AuthenticateFor(const AuthTable& table, const Request& req,
                                  const RouteSpec& route) {
  auto who = table.Authenticate(req.Header("authorization"));
  if (!who) return who.status();
  if (!RoleAllows(who->role, route.role)) {
    return Status(Code::kForbidden,
                  fmt::format("the token '{}' has the {} role; {} {} needs {}", who->name,
                              RoleName(who->role), route.method, route.pattern,
                              RoleName(route.role)));
  }
  return who;
}

}  // namespace

Status Api::Admit(Request& req, const RouteMatch& match) const {
  if (Status s = CheckRequestShape(*match.route, req); !s.ok()) return s;
  const RouteSpec& route = *match.route;
  const RouteId id = route.id;
  const bool probe = id == RouteId::kHealthz || id == RouteId::kReadyz;
  auto table = auth();
  // Load balancers probe with any Host; a probe says nothing worth stealing.
  if (!table && !probe) {
    if (Status s = browser_guard_.CheckHost(req); !s.ok()) return s;
  }
  if (route.method != "GET") {
    if (Status s = BrowserGuard::CheckSameOrigin(req); !s.ok()) return s;
  }
  // etcd's gateway takes any type, as etcd does: its clients send none
  // (APISIX's lua-resty-etcd) or curl's form type (etcd's own examples). A
  // browser's cross-site POST is still refused by its Origin (above).
  // A review (approve, reject, apply) may come without a body.
  const bool bodiless_review = id == RouteId::kChangeAction &&
                               !req.Header("transfer-encoding") &&
                               (!req.Header("content-length") || *req.Header("content-length") == "0");
  if (route.takes_body && id != RouteId::kEtcdGateway && id != RouteId::kEtcdVersion &&
      !bodiless_review) {
    if (Status s = CheckJsonContentType(req); !s.ok()) return s;
  }
  if (route.role != Role::kPublic && table) {
    auto who = AuthenticateFor(*table, req, route);
    if (!who) return who.status();
    req.principal = std::move(*who);
  }
  // The console and /metrics serve while the read model catches up: the
  // lag gauge matters most then.
  const bool serves_while_catching_up = probe || id == RouteId::kMetrics ||
                                        id == RouteId::kRoot || id == RouteId::kUiIndex ||
                                        id == RouteId::kUiAsset;
  if (!serves_while_catching_up && !ready()) {
    return Status::Unavailable("the read model is catching up with the store");
  }
  if (probe) return Status::OK();
  // Header texts end up in the log and in response headers: same rules as
  // every text of a commit (SPEC §2.1), checked for reads too.
  if (const std::string* actor = req.Header("x-actor")) {
    if (Status s = ValidateLogText(*actor, kMaxActorBytes, "the X-Actor header"); !s.ok()) {
      return s;
    }
  }
  if (const std::string* id_header = req.Header("x-request-id")) {
    if (Status s = ValidateLogText(*id_header, kMaxRequestIdBytes, "the X-Request-Id header");
        !s.ok()) {
      return s;
    }
  }
  return Status::OK();
}

Result<Principal> Api::Reauthorize(const Request& req, const RouteMatch& match) const {
  if (!req.principal.authenticated) return req.principal;  // auth was off: stays off
  auto table = auth();
  if (!table) return Status(Code::kUnauthorized, "auth was turned off: the token is gone");
  return AuthenticateFor(*table, req, *match.route);
}

Response Api::RefusalFor(const RouteMatch& match, const Status& status) const {
  const bool etcd = match.route && (match.route->id == RouteId::kEtcdGateway ||
                                    match.route->id == RouteId::kEtcdVersion);
  if (etcd && etcd_gateway_) return etcd_gateway_->Error(status);
  return Refusal(status);
}

bool Api::IsEtcdStream(const RouteMatch& match) const {
  return etcd_gateway_ && match.route && match.route->id == RouteId::kEtcdGateway &&
         etcd_gateway_->KindOf(match.tail) == EtcdGateway::Kind::kStream;
}

void Api::LabelEtcdRoute(RouteMatch* match) const {
  if (etcd_gateway_ && match->route && match->route->id == RouteId::kEtcdGateway) {
    match->label = etcd_gateway_->Label(match->tail);
  }
}

Response Api::Refusal(const Status& status) {
  Response r = ErrorResponse(status);
  if (status.code() == Code::kUnauthorized) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"chronoconf\"");
  }
  return r;
}

net::awaitable<Response> Api::Handle(Request& req, const RouteMatch& match) {
  if (!match.route) {
    if (match.empty_key) {
      co_return ErrorResponse(Status::InvalidKey("invalid key: a key must not be empty"));
    }
    if (!match.path_known) {
      co_return ErrorResponse(Status::NotFound(fmt::format("no route {} {}", req.method, req.path)));
    }
    Response r = ErrorResponse(
        Status::InvalidRequest(fmt::format("{} is not allowed on {}", req.method, req.path)));
    r.status = 405;
    r.headers.emplace_back("Allow", match.allowed);  // RFC 9110: a 405 lists them
    co_return r;
  }
  if (Status s = Admit(req, match); !s.ok()) co_return RefusalFor(match, s);
  co_return co_await Serve(req, match);
}

net::awaitable<Response> Api::Serve(Request& req, const RouteMatch& match) {
  const RouteSpec& route = *match.route;
  if (Status s = CheckBodyAllowed(route, req); !s.ok()) co_return ErrorResponse(s);
  if (route.method == "GET" && route.id != RouteId::kHealthz && route.id != RouteId::kReadyz &&
      route.id != RouteId::kEtcdVersion) {
    if (Status s = co_await AwaitMinRevision(req); !s.ok()) co_return ErrorResponse(s);
  }
  const std::string& tail = match.tail;
  // (No co_await inside ?: — GCC 12 destroys its temporaries twice.)
  switch (route.id) {
    case RouteId::kHealthz:
      co_return JsonResponse(200, R"({"status":"ok"})");
    case RouteId::kReadyz:
      if (!ready()) {
        co_return ErrorResponse(
            Status::Unavailable("the read model is catching up with the store"));
      }
      if (!commands_->store_reachable()) {
        co_return ErrorResponse(Status::Unavailable("the store cannot be reached"));
      }
      co_return JsonResponse(200, R"({"status":"ready"})");
    case RouteId::kMetrics: {
      CommandStats c = commands_->stats();
      Response r;
      r.content_type = "text/plain; version=0.0.4";
      GaugeValues gauges;
      gauges.head_revision = projection_->head();
      gauges.projection_lag = commands_->projection_lag();
      gauges.commits = c.commits;
      gauges.events = c.events;
      gauges.batches = c.batches;
      gauges.store_errors = c.store_errors;
      gauges.store_conflicts = c.store_conflicts;
      gauges.batch_commits = commands_->batch_commits();
      gauges.append_seconds = commands_->append_seconds();
      gauges.version = options_.version;
      const ProjectionStats stats = projection_->Stats();
      gauges.read_model_bytes = stats.bytes;
      gauges.read_model_events = stats.events;
      r.body = metrics_->Render(gauges);
      co_return r;
    }
    case RouteId::kGetKey:
      co_return GetKey(req, tail);
    case RouteId::kPutKey:
      co_return co_await PutKey(req, tail);
    case RouteId::kDeleteKey:
      co_return co_await DeleteKeyRoute(req, tail);
    case RouteId::kListKeys:
      co_return ListKeys(req);
    case RouteId::kTxn:
      co_return co_await PostTxn(req);
    case RouteId::kHistory:
      co_return GetHistory(req, tail);
    case RouteId::kEvents:
      co_return GetEvents(req);
    case RouteId::kRevision:
      co_return GetRevision(req, tail);
    case RouteId::kDiff:
      co_return GetDiff(req);
    case RouteId::kRevert:
      co_return co_await PostRevert(req);
    case RouteId::kImport:
      co_return co_await PostImport(req);
    case RouteId::kExport:
      co_return GetExport(req);
    case RouteId::kStatus:
      co_return GetStatus(req);
    case RouteId::kWhoami:
      co_return GetWhoami(req);
    case RouteId::kListSchemas:
      co_return GetSchemas(req);
    case RouteId::kGetSchema:
      co_return GetSchema(req, tail);
    case RouteId::kPutSchema:
      co_return co_await PutSchema(req, tail);
    case RouteId::kDeleteSchema:
      co_return co_await DeleteSchema(req, tail);
    case RouteId::kLeases:
      co_return GetLeases(req);
    case RouteId::kListPolicies:
      co_return GetPolicies(req);
    case RouteId::kGetPolicy:
      co_return GetPolicy(req, tail);
    case RouteId::kPutPolicy:
      co_return co_await PutPolicy(req, tail);
    case RouteId::kDeletePolicy:
      co_return co_await DeletePolicy(req, tail);
    case RouteId::kListChanges:
      co_return ListChanges(req);
    case RouteId::kProposeChange:
      co_return co_await PostChange(req);
    case RouteId::kGetChange:
      co_return GetChange(req, tail);
    case RouteId::kChangeAction:
      co_return co_await PostChangeAction(req, tail);
    case RouteId::kRoot:
    case RouteId::kUiIndex:
    case RouteId::kUiAsset:
      co_return GetUi(route.id, tail);
    case RouteId::kEtcdGateway:
      co_return co_await CallEtcdGateway(req, match);
    case RouteId::kEtcdVersion:
      if (!etcd_gateway_) break;
      co_return etcd_gateway_->Version();
    case RouteId::kWatch:
      break;  // a stream, not a response: server.cc serves GET
  }
  if (route.id == RouteId::kEtcdVersion) {
    co_return ErrorResponse(Status::NotFound("etcd's gateway is not served here"));
  }
  Response r = ErrorResponse(Status::InvalidRequest("the watch stream is served to GET only"));
  r.status = 405;
  co_return r;
}

net::awaitable<CommandResult> Api::Execute(const Request& req, Command& command) {
  bool dry_run = false;
  if (const std::string* dry = req.Query("dry_run")) {
    if (*dry != "true" && *dry != "false") {
      CommandResult refused;
      refused.status =
          Status::InvalidRequest(fmt::format("dry_run must be true or false, not '{}'", *dry));
      co_return refused;
    }
    dry_run = *dry == "true";
  }
  // The committer thread completes the handler; post it back to this
  // coroutine's executor so the session resumes on its own event loop.
  auto executor = co_await net::this_coro::executor;
  // A named initiation, not a temporary: GCC 12 destroys temporaries that
  // span a co_await twice (here: the captured executor).
  auto initiate = [this, executor, &command, dry_run](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    auto done = [h, executor](CommandResult r) {
      net::post(executor, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
    };
    if (dry_run) {
      commands_->SubmitDryRun(std::move(command), std::move(done));
    } else {
      commands_->Submit(std::move(command), std::move(done));
    }
  };
  CommandResult result =
      co_await net::async_initiate<decltype(net::use_awaitable), void(CommandResult)>(
          initiate, net::use_awaitable);
  co_return result;
}

net::awaitable<Response> Api::CallEtcdGateway(const Request& req, const RouteMatch& match) {
  if (!etcd_gateway_ || etcd_gateway_->KindOf(match.tail) != EtcdGateway::Kind::kUnary) {
    co_return ErrorResponse(Status::NotFound(fmt::format("no route {} {}", req.method, req.path)));
  }
  // As Execute: `done` may run on the committer's thread; the coroutine
  // resumes on its own executor.
  auto executor = co_await net::this_coro::executor;
  auto initiate = [this, executor, &req, &match](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    etcd_gateway_->Call(req, match.tail, [h, executor](Response r) {
      net::post(executor, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
    });
  };
  Response response = co_await net::async_initiate<decltype(net::use_awaitable), void(Response)>(
      initiate, net::use_awaitable);
  co_return response;
}

void Api::BeginShutdown() {
  std::map<uint64_t, std::function<void()>> waits;
  {
    MutexLock lock(&waits_mu_);
    shutting_down_ = true;
    waits.swap(waits_);
  }
  for (auto& [id, wake] : waits) wake();
}

net::awaitable<Status> Api::WaitForRevision(int64_t revision, std::chrono::milliseconds timeout) {
  if (projection_->head() >= revision) co_return Status::OK();
  auto executor = co_await net::this_coro::executor;
  auto timer = std::make_shared<net::steady_timer>(executor);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // The listeners hold the timer weakly, and leave with this frame however
  // it ends: also when shutdown destroys the suspended coroutine with its
  // io_context, after which the feed (the Projection) and this Api still
  // live and must not hold, post to or destroy the timer.
  std::weak_ptr<net::steady_timer> weak = timer;
  auto wake = [weak, executor] {
    net::post(executor, [weak] {
      if (auto t = weak.lock()) t->cancel();
    });
  };
  uint64_t id = projection_->feed().Subscribe([wake, revision](int64_t head) {
    if (head >= revision) wake();
  });
  uint64_t wait_id = 0;
  bool stopping = false;
  {
    MutexLock lock(&waits_mu_);
    stopping = shutting_down_;
    if (!stopping) {
      wait_id = next_wait_++;
      waits_.emplace(wait_id, wake);
    }
  }
  struct Unsubscribe {
    Api* api;
    uint64_t feed_id, wait_id;
    ~Unsubscribe() {
      api->projection_->feed().Unsubscribe(feed_id);
      MutexLock lock(&api->waits_mu_);
      if (wait_id != 0) api->waits_.erase(wait_id);
    }
  } unsubscribe{this, id, wait_id};
  while (!stopping && projection_->head() < revision &&
         std::chrono::steady_clock::now() < deadline) {
    timer->expires_at(deadline);
    boost::system::error_code ec;  // cancelled when the head moves or shutdown begins
    co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
    MutexLock lock(&waits_mu_);
    stopping = shutting_down_;
  }
  if (projection_->head() >= revision) co_return Status::OK();
  if (stopping) co_return Status::Unavailable("the server is shutting down");
  co_return Status::Timeout(fmt::format("revision {} was not reached within {} ms (head is {})",
                                        revision, timeout.count(), projection_->head()));
}

net::awaitable<Status> Api::AwaitReadIndex() {
  if (!options_.read_index) co_return Status::OK();
  auto executor = co_await net::this_coro::executor;
  auto initiate = [this, executor](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    options_.read_index->Request([h, executor](Status s, int64_t /*revision*/) {
      net::post(executor, [h, s = std::move(s)]() mutable { (*h)(std::move(s)); });
    });
  };
  Status s = co_await net::async_initiate<decltype(net::use_awaitable), void(Status)>(
      initiate, net::use_awaitable);
  if (s.ok() || s.code() == Code::kTimeout) co_return s;
  co_return Status::Unavailable("a consistent read could not learn the store's head: " +
                                s.message());
}

net::awaitable<Status> Api::AwaitMinRevision(const Request& req) {
  if (const std::string* consistent = req.Query("consistent")) {
    if (*consistent != "true" && *consistent != "false") {
      co_return Status::InvalidRequest(
          fmt::format("consistent must be true or false, not '{}'", *consistent));
    }
    if (*consistent == "true") {
      if (Status s = co_await AwaitReadIndex(); !s.ok()) co_return s;
    }
  }
  auto min = IntParam(req, "min_revision", 0, INT64_MAX);
  if (!min) co_return min.status();
  auto timeout = IntParam(req, "timeout_ms", 0, 600000);
  if (!timeout) co_return timeout.status();
  if (!*min) co_return Status::OK();
  std::chrono::milliseconds wait(timeout->value_or(5000));
  co_return co_await WaitForRevision(**min, wait);
}

Result<int64_t> Api::ReadRevision(const Request& req, const char* rev_param,
                                  const char* time_param) const {
  if (req.Query(rev_param) && req.Query(time_param)) {
    return Status::InvalidRequest(
        fmt::format("give {} or {}, not both", rev_param, time_param));
  }
  auto rev = IntParam(req, rev_param, 0, INT64_MAX);
  if (!rev) return rev.status();
  auto time = TimeParam(req, time_param);
  if (!time) return time.status();
  return projection_->Resolve(*rev, *time);
}

Response Api::ReadAnswer(const Request& req, int64_t at, std::string body) {
  Response r = JsonResponse(200, std::move(body));
  if (!req.Query("at_revision") && !req.Query("at_time")) r.revision = at;
  return r;
}

CommitMeta Api::MetaFrom(const Request& req, std::optional<std::string> reason) const {
  CommitMeta meta;
  // With auth on, the token names the actor; X-Actor cannot spoof it.
  if (req.principal.authenticated) {
    meta.actor = req.principal.name;
  } else if (const std::string* actor = req.Header("x-actor"); actor && !actor->empty()) {
    meta.actor = *actor;
  }
  meta.reason = std::move(reason);
  // A reviewed prefix refuses a non-admin's write (SPEC §8); with auth off
  // everybody is an admin.
  meta.needs_review = req.principal.role != Role::kAdmin;
  if (const std::string* id = req.Header("x-request-id"); id && !id->empty()) {
    meta.request_id = *id;
  }
  return meta;
}

}  // namespace chronoconf::http
