#include "http/render.h"

#include "common/time_format.h"

namespace chronoconf::http {

void WriteEvent(json::Writer& w, const RecordedCommit& c, size_t index) {
  WriteEvent(w, c, index, index);
}

void WriteEvent(json::Writer& w, const RecordedCommit& c, size_t index, size_t position) {
  const Event& e = c.events[index];
  w.BeginObject()
      .Field("revision", c.revision)
      .Field("index", static_cast<int64_t>(position))
      .Field("type", EventTypeName(e.type))
      .Field("key", e.key);
  if (e.value) w.RawField("value", *e.value);
  if (e.previous_value) w.RawField("previous_value", *e.previous_value);
  if (e.lease) w.Field("lease", *e.lease);
  w.Field("version", e.version);
  // A dry run's would-be commit (time 0) has no time yet.
  if (c.timestamp_us != 0) w.Field("timestamp", FormatRfc3339Micros(c.timestamp_us));
  w.Field("actor", c.meta.actor)
      .OptionalField("reason", c.meta.reason)
      .OptionalField("request_id", c.meta.request_id)
      .EndObject();
}

std::string RenderEvent(const RecordedCommit& commit, size_t index) {
  json::Writer w;
  WriteEvent(w, commit, index);
  return w.Take();
}

std::string RenderCommit(const RecordedCommit& c, const KeyScope& scope) {
  json::Writer w;
  w.BeginObject()
      .Field("revision", c.revision)
      .Field("timestamp", FormatRfc3339Micros(c.timestamp_us))
      .Field("actor", c.meta.actor);
  w.Key("reason");
  c.meta.reason ? w.String(*c.meta.reason) : w.Null();
  w.Key("request_id");
  c.meta.request_id ? w.String(*c.meta.request_id) : w.Null();
  w.Field("hash", c.hash).Field("prev_hash", c.prev_hash);
  w.Key("events").BeginArray();
  for (size_t i = 0; i < c.events.size(); ++i) {
    if (scope.Contains(c.events[i].key)) WriteEvent(w, c, i);
  }
  w.EndArray().EndObject();
  return w.Take();
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidKey:
    case Code::kInvalidJson:
    case Code::kInvalidRequest:
    case Code::kFutureRevision: return 400;
    case Code::kCompacted: return 400;  // (the native API has no floor)
    case Code::kUnauthorized: return 401;
    case Code::kForbidden:
    case Code::kReviewRequired: return 403;
    case Code::kNotFound: return 404;
    case Code::kConflict:
    case Code::kSchemaConflict:
    case Code::kChangeClosed:
    case Code::kApprovalsMissing: return 409;
    case Code::kSchemaViolation: return 422;
    case Code::kTooLarge: return 413;
    case Code::kUnsupportedMediaType: return 415;
    case Code::kUnavailable:
    case Code::kOutcomeUnknown: return 503;
    case Code::kTimeout: return 504;
    case Code::kCorruption:
    case Code::kInternal: return 500;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  json::Writer w;
  w.BeginObject().Key("error").BeginObject();
  // A message may quote what the client sent (a parameter's name, a key):
  // the error document stays valid JSON whatever those bytes were.
  w.Field("code", CodeName(status.code())).Field("message", json::ToValidUtf8(status.message()));
  if (const auto& c = status.conflict()) {
    w.Field("key", c->key)
        .Field("expected_version", c->expected_version)
        .Field("current_version", c->current_version);
  }
  if (status.op_index()) w.Field("op_index", static_cast<int64_t>(*status.op_index()));
  if (!status.failures().empty()) {
    w.Key("failures").BeginArray();
    for (const ValueFailure& f : status.failures()) {
      w.BeginObject()
          .Field("key", f.key)
          .Field("prefix", f.prefix)
          .Field("pointer", f.pointer)
          .Field("rule", f.rule)
          .Field("message", f.message)
          .EndObject();
    }
    w.EndArray();
  }
  w.EndObject().EndObject();
  return JsonResponse(HttpStatusFor(status.code()), w.Take());
}

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace chronoconf::http
