// Bulk and operations routes: POST /v1/revert, POST /v1/import,
// GET /v1/export, GET /v1/status, GET /v1/leases.
#include <boost/asio/use_awaitable.hpp>

#include <set>
#include <tuple>

#include <fmt/format.h>

#include "domain/key.h"
#include "http/api.h"
#include "http/export_format.h"
#include "http/dry_run.h"
#include "http/render.h"
#include "http/request_parsing.h"
#include "json/json_writer.h"

namespace chronoconf::http {

namespace net = boost::asio;

namespace {

Response BulkResult(const CommandResult& r) {
  if (!r.status.ok()) return ErrorResponse(r.status);
  json::Writer w;
  w.BeginObject()
      .Field("revision", r.revision)
      .Field("changed", r.changed)
      .Field("events", static_cast<int64_t>(r.events))
      .EndObject();
  return JsonResponse(200, w.Take());
}

Result<std::string> PrefixMember(const json::Value& body) {
  auto prefix = OptionalStringMember(body, "prefix");
  if (!prefix) return prefix.status();
  std::string p = prefix->value_or("");
  if (Status s = ValidatePrefix(p); !s.ok()) return s;
  return p;
}

}  // namespace

net::awaitable<Response> Api::PostRevert(const Request& req) {
  auto body = JsonObjectBody(req, 1);
  if (!body) co_return ErrorResponse(body.status());
  if (Status s = CheckMembers(*body, {"to_revision", "prefix", "reason"}, "the body"); !s.ok()) {
    co_return ErrorResponse(s);
  }
  const json::Value* to = body->Find("to_revision");
  if (!to || !to->AsInt64() || *to->AsInt64() < 0) {
    co_return ErrorResponse(
        Status::InvalidRequest("the body needs \"to_revision\", a non-negative integer"));
  }
  auto prefix = PrefixMember(*body);
  if (!prefix) co_return ErrorResponse(prefix.status());
  if (Status s = CheckPrefixAccess(req, *prefix); !s.ok()) co_return ErrorResponse(s);
  auto reason = OptionalStringMember(*body, "reason");
  if (!reason) co_return ErrorResponse(reason.status());
  Command command = RevertTo{*to->AsInt64(), std::move(*prefix), MetaFrom(req, std::move(*reason))};
  CommandResult r = co_await Execute(req, command);
  if (r.status.ok() && r.dry_run) co_return DryRunResponse(r, *projection_);
  co_return BulkResult(r);
}

net::awaitable<Response> Api::PostImport(const Request& req) {
  auto body = JsonObjectBody(req, 2);
  if (!body) co_return ErrorResponse(body.status());
  if (Status s = CheckMembers(*body, {"values", "mode", "prefix", "reason"}, "the body");
      !s.ok()) {
    co_return ErrorResponse(s);
  }
  const json::Value* values = body->Find("values");
  if (!values || !values->is_object()) {
    co_return ErrorResponse(Status::InvalidRequest("the body needs a \"values\" object"));
  }
  auto mode = OptionalStringMember(*body, "mode");
  if (!mode) co_return ErrorResponse(mode.status());
  if (*mode && **mode != "merge" && **mode != "replace") {
    co_return ErrorResponse(Status::InvalidRequest("\"mode\" is merge or replace"));
  }
  auto prefix = PrefixMember(*body);
  if (!prefix) co_return ErrorResponse(prefix.status());
  if (Status s = CheckPrefixAccess(req, *prefix); !s.ok()) co_return ErrorResponse(s);
  auto reason = OptionalStringMember(*body, "reason");
  if (!reason) co_return ErrorResponse(reason.status());
  Import cmd;
  cmd.replace = *mode && **mode == "replace";
  cmd.prefix = *prefix;
  cmd.meta = MetaFrom(req, std::move(*reason));
  std::set<std::string> named;
  for (const json::Member& m : values->members()) {
    if (Status s = ValidateKey(m.name); !s.ok()) co_return ErrorResponse(s);
    if (!m.name.starts_with(cmd.prefix)) {
      co_return ErrorResponse(Status::InvalidRequest(
          fmt::format("key '{}' is not under the prefix '{}'", m.name, cmd.prefix)));
    }
    if (!named.insert(m.name).second) {
      co_return ErrorResponse(
          Status::InvalidRequest(fmt::format("key '{}' is given twice in \"values\"", m.name)));
    }
    auto text = StorableValue(m.value, options_.max_value_bytes,
                              fmt::format("the value of '{}'", m.name));
    if (!text) co_return ErrorResponse(text.status());
    cmd.values.emplace_back(m.name, std::move(*text));
  }
  Command command = std::move(cmd);
  CommandResult r = co_await Execute(req, command);
  if (r.status.ok() && r.dry_run) co_return DryRunResponse(r, *projection_);
  co_return BulkResult(r);
}

Response Api::GetExport(const Request& req) {
  const std::string* prefix = req.Query("prefix");
  std::string p = prefix ? *prefix : "";
  if (Status s = ValidatePrefix(p); !s.ok()) return ErrorResponse(s);
  auto at = ReadRevision(req, "at_revision", "at_time");
  if (!at) return ErrorResponse(at.status());
  const std::string* format = req.Query("format");
  std::string f = format ? *format : "json";
  std::vector<std::pair<std::string, std::string>> values;
  for (const KeyVersion& v : projection_->Snapshot(req.principal.scope.Within(p), *at)) {
    values.emplace_back(v.key, std::string(v.value()));
  }
  Response r;
  if (f == "json") {
    r.body = ExportJson(values);
  } else if (f == "env") {
    auto env = ExportEnv(values);
    if (!env) return ErrorResponse(env.status());
    r.body = std::move(*env);
    r.content_type = "text/plain; charset=utf-8";
  } else if (f == "yaml") {
    r.body = ExportYaml(values);
    r.content_type = "application/yaml";
  } else {
    return ErrorResponse(Status::InvalidRequest("format is json, env or yaml"));
  }
  return r;
}

Response Api::GetLeases(const Request& req) {
  const int64_t head = projection_->head();
  json::Writer w;
  w.BeginObject().Field("revision", head).Key("leases").BeginArray();
  for (const LeaseInfo& l : projection_->Leases()) {
    w.BeginObject()
        .Field("id", l.id)
        .Field("ttl", l.ttl)
        .Field("granted_by", l.grantor)
        .Field("granted_revision", l.granted_revision)
        .Key("keys")
        .BeginArray();
    for (const std::string& k : l.keys) {
      if (req.principal.scope.Contains(k)) w.String(k);
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  Response r = JsonResponse(200, w.Take());
  r.revision = head;
  return r;
}

Response Api::GetStatus(const Request& req) {
  ProjectionStats s = projection_->Stats();
  // A prefix-limited token counts only the keys and events it may read.
  if (!req.principal.scope.all()) {
    std::tie(s.keys, s.events) = projection_->CountUnder(req.principal.scope.prefixes());
  }
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - started_);
  json::Writer w;
  w.BeginObject()
      .Field("revision", s.revision)
      .Field("keys", s.keys)
      .Field("events", s.events)
      .Field("head_hash", s.head_hash)
      .Field("store", options_.store_kind)
      .Field("node", options_.node)
      .Field("version", options_.version)
      .Field("uptime_s", static_cast<int64_t>(uptime.count()))
      .EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace chronoconf::http
