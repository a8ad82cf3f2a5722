// The route table: every HTTP route of SPEC §2 in one place, with what it
// takes. Dispatch (Api::Route), the watch stream (server.cc), 405s, the
// checks of query parameters and bodies, and the metrics labels all read
// this table, so a route is added or changed in exactly one line.
#ifndef CHRONOCONF_HTTP_ROUTES_H_
#define CHRONOCONF_HTTP_ROUTES_H_

#include <array>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/http_types.h"
#include "http/principal.h"

namespace chronoconf::http {

enum class RouteId {
  kHealthz, kReadyz, kMetrics,
  kGetKey, kPutKey, kDeleteKey, kListKeys, kTxn,
  kHistory, kEvents, kRevision, kDiff,
  kRevert, kImport, kExport, kStatus, kWatch, kWhoami, kLeases,
  kListSchemas, kGetSchema, kPutSchema, kDeleteSchema,  // SPEC §8 (api_schemas.cc)
  kListPolicies, kGetPolicy, kPutPolicy, kDeletePolicy,  // SPEC §8 (api_reviews.cc)
  kListChanges, kProposeChange, kGetChange, kChangeAction,
  kRoot, kUiIndex, kUiAsset,  // the web console (SPEC §5, api_ui.cc)
  kEtcdGateway, kEtcdVersion,  // etcd's JSON gateway (SPEC §7, etcd_gateway.h)
};


struct RouteSpec {
  RouteId id;
  std::string_view method;   // "GET" (HEAD is served by every GET route)
  std::string_view pattern;  // "/v1/kv/{key}": a trailing {name} takes the rest
  Role role;
  std::array<std::string_view, 9> params;  // the query parameters it takes ("" = none)
  bool takes_body;
};

struct RouteMatch {
  const RouteSpec* route = nullptr;  // nullptr: no route for this method and path
  bool path_known = false;           // some route has this path (405, not 404)
  // The path of a key route for this method, with the key left out
  // ("PUT /v1/kv/"): an empty key, 400 invalid_key.
  bool empty_key = false;
  std::string allowed;  // with path_known: the methods its routes take ("GET, HEAD")
  std::string tail;                  // what a trailing {name} matched
  // Counted and logged under this instead of the pattern when set (an etcd
  // gateway method: "/v3/kv/range").
  std::string_view label;
};

// Finds the route for `method` and `path` (percent-decoded, no query).
RouteMatch MatchRoute(std::string_view method, std::string_view path);

// The label a request is counted under in /metrics: match.label, else its
// route's pattern, or "other" for a path no route has.
std::string_view MetricsLabel(const RouteMatch& match);

// The checks every route shares that need only the header: no unknown query
// parameter (the console's files take any: a cache-busting ?v=1; etcd's
// gateway ignores the query, as etcd does), no
// conditional header the route would ignore (RFC 9110 §13: honoured where
// the route has a validator, refused elsewhere, never ignored), no repeated
// header that has one meaning. Errors: kInvalidRequest.
Status CheckRequestShape(const RouteSpec& route, const Request& req);

// No body on a route that takes none. Errors: kInvalidRequest.
Status CheckBodyAllowed(const RouteSpec& route, const Request& req);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_ROUTES_H_
