#include "http/dry_run.h"

#include "domain/system_stream.h"
#include "http/render.h"
#include "json/json_writer.h"

namespace chronoconf::http {

Response DryRunResponse(const CommandResult& result) {
  const DryRunResult& dry = *result.dry_run;
  json::Writer w;
  w.BeginObject()
      .Field("dry_run", true)
      .Field("decided_at", dry.decided_at)
      .Field("changed", dry.commit.has_value())
      .Field("revision", dry.commit ? dry.decided_at + 1 : dry.decided_at);
  if (dry.commit) {
    const CommitData& c = *dry.commit;
    w.Key("commit").BeginObject().Field("actor", c.meta.actor);
    w.Key("reason");
    c.meta.reason ? w.String(*c.meta.reason) : w.Null();
    w.Key("events").BeginArray();
    for (const Event& e : c.events) {
      w.BeginObject()
          .Field("type", EventTypeName(e.type))
          .Field("key", e.key)
          .Field("version", e.version);
      w.Key("value");
      e.value ? w.Raw(*e.value) : w.Null();
      w.Key("previous_value");
      e.previous_value ? w.Raw(*e.previous_value) : w.Null();
      if (e.lease) w.Field("lease", *e.lease);
      w.EndObject();
    }
    w.EndArray().EndObject();
    // The config entries as they would read after it (system streams, such
    // as a schema's, are not entries).
    w.Key("entries").BeginArray();
    for (const Event& e : c.events) {
      if (IsSystemStream(e.key)) continue;
      w.BeginObject().Field("key", e.key).Field("version", e.version);
      if (e.type == EventType::kConfigSet && e.value) {
        w.Key("value").Raw(*e.value);
      } else {
        w.Field("deleted", true);
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace chronoconf::http
