#include "http/routes.h"

#include <algorithm>

#include <fmt/format.h>

namespace chronoconf::http {
namespace {

// Every read may wait for read-your-writes (min_revision, SPEC §2.2) or be
// linearizable (consistent=true, SPEC §7).
#define CC_WAIT "min_revision", "timeout_ms", "consistent"

constexpr std::array<RouteSpec, 38> kRoutes = {{
    {RouteId::kHealthz, "GET", "/healthz", Role::kPublic, {}, false},
    {RouteId::kReadyz, "GET", "/readyz", Role::kPublic, {}, false},
    {RouteId::kMetrics, "GET", "/metrics", Role::kRead, {}, false},
    {RouteId::kGetKey, "GET", "/v1/kv/{key}", Role::kRead,
     {"at_revision", "at_time", CC_WAIT}, false},
    {RouteId::kPutKey, "PUT", "/v1/kv/{key}", Role::kWrite, {"dry_run"}, true},
    {RouteId::kDeleteKey, "DELETE", "/v1/kv/{key}", Role::kWrite,
     {"expected_version", "reason", "dry_run"}, false},
    {RouteId::kListKeys, "GET", "/v1/kv", Role::kRead,
     {"prefix", "at_revision", "at_time", "limit", "after", CC_WAIT}, false},
    {RouteId::kTxn, "POST", "/v1/txn", Role::kWrite, {"dry_run"}, true},
    {RouteId::kHistory, "GET", "/v1/history/{key}", Role::kRead,
     {"limit", "before_revision", CC_WAIT}, false},
    {RouteId::kEvents, "GET", "/v1/events", Role::kRead,
     {"from_revision", "limit", "prefix", "actor", "since", "until", CC_WAIT}, false},
    {RouteId::kRevision, "GET", "/v1/revisions/{R}", Role::kRead, {CC_WAIT}, false},
    {RouteId::kDiff, "GET", "/v1/diff", Role::kRead,
     {"from_revision", "from_time", "to_revision", "to_time", "prefix", CC_WAIT}, false},
    {RouteId::kRevert, "POST", "/v1/revert", Role::kWrite, {"dry_run"}, true},
    {RouteId::kImport, "POST", "/v1/import", Role::kWrite, {"dry_run"}, true},
    {RouteId::kExport, "GET", "/v1/export", Role::kRead,
     {"prefix", "at_revision", "at_time", "format", CC_WAIT}, false},
    {RouteId::kStatus, "GET", "/v1/status", Role::kRead, {CC_WAIT}, false},
    {RouteId::kWatch, "GET", "/v1/watch", Role::kRead, {"prefix", "from_revision"}, false},
    {RouteId::kWhoami, "GET", "/v1/whoami", Role::kRead, {}, false},
    {RouteId::kListSchemas, "GET", "/v1/schemas", Role::kRead, {"at_revision", "at_time", CC_WAIT},
     false},
    {RouteId::kGetSchema, "GET", "/v1/schemas/{prefix}", Role::kRead,
     {"at_revision", "at_time", CC_WAIT}, false},
    {RouteId::kPutSchema, "PUT", "/v1/schemas/{prefix}", Role::kAdmin, {"dry_run"}, true},
    {RouteId::kDeleteSchema, "DELETE", "/v1/schemas/{prefix}", Role::kAdmin,
     {"reason", "dry_run"}, false},
    {RouteId::kLeases, "GET", "/v1/leases", Role::kRead, {CC_WAIT}, false},
    {RouteId::kListPolicies, "GET", "/v1/policies", Role::kRead,
     {"at_revision", "at_time", CC_WAIT}, false},
    {RouteId::kGetPolicy, "GET", "/v1/policies/{prefix}", Role::kRead,
     {"at_revision", "at_time", CC_WAIT}, false},
    {RouteId::kPutPolicy, "PUT", "/v1/policies/{prefix}", Role::kAdmin, {"dry_run"}, true},
    {RouteId::kDeletePolicy, "DELETE", "/v1/policies/{prefix}", Role::kAdmin,
     {"reason", "dry_run"}, false},
    {RouteId::kListChanges, "GET", "/v1/changes", Role::kRead,
     {"state", "limit", "before", CC_WAIT}, false},
    {RouteId::kProposeChange, "POST", "/v1/changes", Role::kWrite, {"dry_run"}, true},
    {RouteId::kGetChange, "GET", "/v1/changes/{id}", Role::kRead, {CC_WAIT}, false},
    // {id}/approve, {id}/reject, {id}/apply
    {RouteId::kChangeAction, "POST", "/v1/changes/{id}", Role::kWrite, {"dry_run"}, true},
    // The console's static files need no token (SPEC §4).
    {RouteId::kRoot, "GET", "/", Role::kPublic, {}, false},
    {RouteId::kUiIndex, "GET", "/ui", Role::kPublic, {}, false},
    {RouteId::kUiAsset, "GET", "/ui/{path}", Role::kPublic, {}, false},
    // etcd's JSON gateway: etcd's own auth (a token in Authorization), so
    // public here; the method is what follows the prefix ("kv/range").
    {RouteId::kEtcdGateway, "POST", "/v3/{method}", Role::kPublic, {}, true},
    {RouteId::kEtcdGateway, "POST", "/v3beta/{method}", Role::kPublic, {}, true},
    {RouteId::kEtcdGateway, "POST", "/v3alpha/{method}", Role::kPublic, {}, true},
    {RouteId::kEtcdVersion, "GET", "/version", Role::kPublic, {}, true},  // ignored, as etcd
}};

#undef CC_WAIT

// Matches `path` against `pattern`; on a match sets `*tail` to what a
// trailing {name} took ("" when the pattern has none).
bool PathMatches(std::string_view pattern, std::string_view path, std::string* tail) {
  size_t brace = pattern.find('{');
  if (brace == std::string_view::npos) {
    // "/v1/kv/" lists like "/v1/kv" (a trailing slash, no key).
    if (path == pattern || (path.size() == pattern.size() + 1 && path.back() == '/' &&
                            path.starts_with(pattern) && pattern != "/")) {
      tail->clear();
      return true;
    }
    return false;
  }
  std::string_view head = pattern.substr(0, brace);
  if (!path.starts_with(head) || path.size() == head.size()) return false;
  *tail = std::string(path.substr(head.size()));
  return true;
}

}  // namespace

RouteMatch MatchRoute(std::string_view method, std::string_view path) {
  if (method == "HEAD") method = "GET";
  RouteMatch match;
  for (const RouteSpec& r : kRoutes) {
    std::string tail;
    if (!PathMatches(r.pattern, path, &tail)) {
      if (r.method == method && r.pattern.ends_with("{key}") &&
          path == r.pattern.substr(0, r.pattern.size() - 5)) {
        match.empty_key = true;
      }
      continue;
    }
    match.path_known = true;
    if (r.method == method) {
      match.route = &r;
      match.tail = std::move(tail);
      return match;
    }
    if (match.allowed.find(r.method) == std::string::npos) {
      if (!match.allowed.empty()) match.allowed += ", ";
      match.allowed += r.method;
      if (r.method == "GET") match.allowed += ", HEAD";
    }
  }
  return match;
}

std::string_view MetricsLabel(const RouteMatch& match) {
  if (!match.label.empty()) return match.label;
  if (match.route) return match.route->pattern;
  return "other";
}

Status CheckBodyAllowed(const RouteSpec& route, const Request& req) {
  if (!route.takes_body && !req.body.empty()) {
    return Status::InvalidRequest(
        fmt::format("{} {} takes no body (send its options as query parameters)", route.method,
                    route.pattern));
  }
  return Status::OK();
}

Status CheckRequestShape(const RouteSpec& route, const Request& req) {
  const bool any_query = route.id == RouteId::kRoot || route.id == RouteId::kUiIndex ||
                         route.id == RouteId::kUiAsset || route.id == RouteId::kEtcdGateway ||
                         route.id == RouteId::kEtcdVersion;
  for (const auto& [name, value] : req.query) {
    if (any_query) break;
    if (name.empty() ||
        std::find(route.params.begin(), route.params.end(), name) == route.params.end()) {
      return Status::InvalidRequest(
          fmt::format("unknown query parameter '{}' for {} {}", name, route.method,
                      route.pattern));
    }
  }
  if (!req.repeated_header.empty()) {
    return Status::InvalidRequest(fmt::format(
        "the header {} is given more than once; it has one meaning", req.repeated_header));
  }
  // A guard the route would not apply must not be accepted silently. The
  // validator is the key's version (ETag "N"); dates are not one.
  for (const char* h : {"if-modified-since", "if-unmodified-since", "if-range"}) {
    if (req.Header(h)) {
      return Status::InvalidRequest(fmt::format(
          "{} {} does not take {}: chronoconf's validator is the key's version (its ETag); use "
          "If-Match: \"N\" on a write, If-None-Match on GET /v1/kv/{{key}}",
          route.method, route.pattern, h));
    }
  }
  const bool writes_key = route.id == RouteId::kPutKey || route.id == RouteId::kDeleteKey;
  if (!writes_key && req.Header("if-match")) {
    return Status::InvalidRequest(fmt::format(
        "{} {} does not take If-Match (it guards writes to a key: PUT or DELETE /v1/kv/{{key}})",
        route.method, route.pattern));
  }
  if (route.id != RouteId::kPutKey && route.id != RouteId::kGetKey &&
      req.Header("if-none-match")) {
    return Status::InvalidRequest(fmt::format(
        "{} {} does not take If-None-Match (only GET and PUT /v1/kv/{{key}} do)", route.method,
        route.pattern));
  }
  if (route.id == RouteId::kPutKey) {
    const std::string* none_match = req.Header("if-none-match");
    if (none_match && *none_match != "*") {
      return Status::InvalidRequest(
          "If-None-Match on a PUT must be * (the key must not exist); for a version, use "
          "If-Match");
    }
  }
  return Status::OK();
}

}  // namespace chronoconf::http
