// The web console (SPEC §5): GET / redirects to /ui/, /ui/ and /ui/<file>
// serve the files compiled in from ui/ (no token: SPEC §4), each with a
// strict Content-Security-Policy; GET /v1/whoami tells the console who its
// token is, so a read-only token is shown no edit control.
#include <fmt/format.h>

#include "http/api.h"
#include "http/auth.h"
#include "http/render.h"
#include "http/ui_assets.h"
#include "json/json_writer.h"

namespace chronoconf::http {
namespace {

// Nothing from another origin, no inline script or style, no framing.
constexpr const char* kConsoleCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void AddConsoleHeaders(Response* r) {
  r->headers.emplace_back("Content-Security-Policy", kConsoleCsp);
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  r->headers.emplace_back("Referrer-Policy", "no-referrer");
  r->headers.emplace_back("X-Frame-Options", "DENY");
  // Small files: always revalidate, so a new binary serves its own console.
  r->headers.emplace_back("Cache-Control", "no-cache");
}

Response Redirect(std::string_view location) {
  Response r;
  r.status = 302;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", std::string(location));
  AddConsoleHeaders(&r);
  return r;
}

}  // namespace

Response Api::GetUi(RouteId id, const std::string& tail) {
  if (id == RouteId::kRoot) return Redirect("/ui/");
  // "/ui" and "/ui/" are the page (it links its files by absolute path).
  std::string_view name = tail;
  if (id == RouteId::kUiIndex) name = "index.html";
  const UiAsset* asset = FindUiAsset(name);
  if (!asset) {
    Response r = ErrorResponse(
        Status::NotFound(fmt::format("the console has no file '{}'", tail)));
    AddConsoleHeaders(&r);
    return r;
  }
  Response r;
  r.content_type = std::string(asset->content_type);
  r.body = std::string(asset->body);
  AddConsoleHeaders(&r);
  return r;
}

Response Api::GetWhoami(const Request& req) {
  const Principal& who = req.principal;
  json::Writer w;
  w.BeginObject();
  w.Field("auth", who.authenticated);
  if (who.authenticated) {
    w.Field("name", who.name);
  } else {
    // With auth off, writes are made as X-Actor (else "anonymous").
    const std::string* actor = req.Header("x-actor");
    w.Field("name", actor && !actor->empty() ? std::string_view(*actor) : "anonymous");
  }
  w.Field("role", RoleName(who.role));
  w.Key("prefixes");
  if (who.scope.all()) {
    w.Null();
  } else {
    w.BeginArray();
    for (const std::string& p : who.scope.prefixes()) w.String(p);
    w.EndArray();
  }
  w.EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace chronoconf::http
