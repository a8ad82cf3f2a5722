// Schemas per prefix (SPEC §8): GET /v1/schemas, GET|PUT|DELETE
// /v1/schemas/{prefix}. A schema change is a command like a write (one
// commit in the schemas stream, decided in the committer against every value
// under its prefix); reads come from the read model, at any revision.
#include <fmt/format.h>

#include "domain/key.h"
#include "http/api.h"
#include "http/dry_run.h"
#include "http/render.h"
#include "http/request_parsing.h"
#include "json/json_schema.h"
#include "json/json_value.h"
#include "json/json_writer.h"

namespace chronoconf::http {

namespace net = boost::asio;

namespace {

void WriteSchema(json::Writer& w, const SchemaInForce& s) {
  w.BeginObject()
      .Field("prefix", s.prefix)
      .Key("schema")
      .Raw(s.schema)
      .Field("revision", s.revision)
      .Field("set_by", s.set_by)
      .EndObject();
}

Status CheckSchemaPrefix(const std::string& prefix) {
  if (prefix.empty()) {
    return Status::InvalidRequest(
        "a schema needs a prefix: PUT /v1/schemas/{prefix} (the keys it covers start with it)");
  }
  return ValidatePrefix(prefix);
}

}  // namespace

Response Api::GetSchemas(const Request& req) {
  auto at = ReadRevision(req, "at_revision", "at_time");
  if (!at) return ErrorResponse(at.status());
  json::Writer w;
  w.BeginObject().Field("revision", *at).Key("schemas").BeginArray();
  for (const auto& s : projection_->Schemas(*at)) WriteSchema(w, *s);
  w.EndArray().EndObject();
  return ReadAnswer(req, *at, w.Take());
}

Response Api::GetSchema(const Request& req, const std::string& prefix) {
  if (Status s = CheckSchemaPrefix(prefix); !s.ok()) return ErrorResponse(s);
  auto at = ReadRevision(req, "at_revision", "at_time");
  if (!at) return ErrorResponse(at.status());
  for (const auto& s : projection_->Schemas(*at)) {
    if (s->prefix != prefix) continue;
    json::Writer w;
    WriteSchema(w, *s);
    return ReadAnswer(req, *at, w.Take());
  }
  return ErrorResponse(Status::NotFound(
      fmt::format("prefix '{}' has no schema (at revision {})", prefix, *at)));
}

net::awaitable<Response> Api::PutSchema(const Request& req, const std::string& prefix) {
  if (Status s = CheckSchemaPrefix(prefix); !s.ok()) co_return ErrorResponse(s);
  if (Status s = CheckPrefixAccess(req, prefix); !s.ok()) co_return ErrorResponse(s);
  auto body = JsonObjectBody(req, 1);
  if (!body) co_return ErrorResponse(body.status());
  if (Status s = CheckMembers(*body, {"schema", "reason", "force"}, "the body"); !s.ok()) {
    co_return ErrorResponse(s);
  }
  const json::Value* schema = body->Find("schema");
  if (!schema) co_return ErrorResponse(Status::InvalidRequest("the body needs a \"schema\" member"));
  auto text = StorableValue(*schema, options_.max_value_bytes, "the schema");
  if (!text) co_return ErrorResponse(text.status());
  // Refused here with the validator's words, before it reaches the committer.
  if (auto compiled = json::CompiledSchema::Compile(*text); !compiled) {
    co_return ErrorResponse(compiled.status());
  }
  bool force = false;
  if (const json::Value* f = body->Find("force")) {
    if (!f->is_bool()) co_return ErrorResponse(Status::InvalidRequest("\"force\" must be true or false"));
    force = f->as_bool();
  }
  auto reason = OptionalStringMember(*body, "reason");
  if (!reason) co_return ErrorResponse(reason.status());
  Command command = SchemaChange{prefix, *text, force, MetaFrom(req, std::move(*reason))};
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status);
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  json::Writer w;
  w.BeginObject()
      .Field("revision", r.revision)
      .Field("changed", r.changed)
      .Field("prefix", prefix)
      .Key("schema")
      .Raw(*text);
  w.EndObject();
  co_return JsonResponse(r.created ? 201 : 200, w.Take());
}

net::awaitable<Response> Api::DeleteSchema(const Request& req, const std::string& prefix) {
  if (Status s = CheckSchemaPrefix(prefix); !s.ok()) co_return ErrorResponse(s);
  if (Status s = CheckPrefixAccess(req, prefix); !s.ok()) co_return ErrorResponse(s);
  const std::string* reason = req.Query("reason");
  std::optional<std::string> why;
  if (reason) why = *reason;
  Command command = SchemaChange{prefix, std::nullopt, false, MetaFrom(req, std::move(why))};
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status);
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  json::Writer w;
  w.BeginObject()
      .Field("revision", r.revision)
      .Field("changed", r.changed)
      .Field("prefix", prefix)
      .EndObject();
  co_return JsonResponse(200, w.Take());
}

}  // namespace chronoconf::http
