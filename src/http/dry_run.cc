#include "http/dry_run.h"

#include "domain/system_stream.h"
#include "http/render.h"
#include "json/json_writer.h"

namespace chronoconf::http {

Response DryRunResponse(const CommandResult& result, const Projection& projection) {
  const DryRunResult& dry = *result.dry_run;
  json::Writer w;
  w.BeginObject()
      .Field("dry_run", true)
      .Field("decided_at", dry.decided_at)
      .Field("changed", dry.commit.has_value())
      .Field("revision", dry.commit ? dry.decided_at + 1 : dry.decided_at);
  if (dry.commit) {
    // The events as the audit trail would show them (SPEC §2.1), with the
    // revision they would get; no time, since none was taken.
    RecordedCommit c{dry.decided_at + 1, 0, dry.commit->meta, dry.commit->events, {}, {}};
    w.Key("commit").BeginObject().Field("actor", c.meta.actor);
    w.Key("reason");
    c.meta.reason ? w.String(*c.meta.reason) : w.Null();
    w.Key("events").BeginArray();
    for (size_t i = 0; i < c.events.size(); ++i) WriteEvent(w, c, i);
    w.EndArray().EndObject();
    // The config entries as they would read after it (system streams, such
    // as a schema's, are not entries), and the schemas each set value was
    // checked against: all passed, or the dry run would have been a 422.
    w.Key("entries").BeginArray();
    for (const Event& e : c.events) {
      if (IsSystemStream(e.key)) continue;
      w.BeginObject().Field("key", e.key).Field("version", e.version);
      if (e.type == EventType::kConfigSet && e.value) {
        w.Key("value").Raw(*e.value);
      } else {
        w.Field("deleted", true);
      }
      w.Field("modified_revision", c.revision).Field("modified_by", c.meta.actor).EndObject();
    }
    w.EndArray();
    w.Key("schemas").BeginArray();
    for (const Event& e : c.events) {
      if (IsSystemStream(e.key) || e.type != EventType::kConfigSet) continue;
      for (const auto& s : projection.SchemasCovering(e.key, dry.decided_at)) {
        w.BeginObject().Field("key", e.key).Field("prefix", s->prefix).Field("valid", true);
        w.EndObject();
      }
    }
    w.EndArray();
  }
  w.EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace chronoconf::http
