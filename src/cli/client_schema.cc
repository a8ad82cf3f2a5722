// schema set, get and rm: the JSON Schemas per prefix of SPEC §8.
#include "cli/client_internal.h"

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf::cli {

using client::HttpResponse;

namespace {

// "/v1/schemas/<prefix>" with the prefix URL-encoded, its '/' kept (as keys).
std::string SchemaPath(std::string_view prefix) {
  return "/v1/schemas/" + client::UrlEncode(prefix, /*keep_slash=*/true);
}

int NotEmptyPrefix(std::string_view prefix) {
  return prefix.empty() ? UsageError("PREFIX must not be empty (a schema covers the keys that "
                                     "start with it)")
                        : kExitOk;
}

}  // namespace

int RunSchemaSet(ClientSession& s, const SchemaSetArgs& a) {
  if (int rc = NotEmptyPrefix(a.prefix)) return rc;
  std::string text;
  std::string error;
  if (!ReadInput(a.file, &text, &error)) return UsageError(error);
  auto schema = json::Parse(text);
  if (!schema) {
    ReportError("invalid_json", fmt::format("the schema in {} is not JSON: {}",
                                            a.file == "-" ? "stdin" : a.file,
                                            schema.status().message()));
    return kExitUsage;
  }
  json::Writer body;
  body.BeginObject().RawField("schema", schema->Minified());
  if (!a.reason.empty()) body.Field("reason", a.reason);
  if (a.force) body.Field("force", true);
  body.EndObject();
  WriteAnswer w = CallWrite(s, "PUT", SchemaPath(a.prefix), Query(), body.str());
  if (w.done) return w.rc;
  s.Print(fmt::format("{} the schema of {} (revision {})\n", SetVerb(w, "replaced"),
                      SanitizeCell(a.prefix), FieldInt(w.reply, "revision")));
  return kExitOk;
}

int RunSchemaGet(ClientSession& s, const SchemaGetArgs& a) {
  Query q;
  if (a.at >= 0) q.Add("at_revision", a.at);
  if (!a.at_time.empty()) q.Add("at_time", a.at_time);
  const std::string path = a.prefix.empty() ? "/v1/schemas" : SchemaPath(a.prefix);
  HttpResponse res;
  if (int rc = s.Call("GET", path + q.str(), {}, &res)) return rc;
  if (s.json()) {
    s.PrintBody(res.body);
    return kExitOk;
  }
  json::Value reply;
  if (int rc = s.ParseBody(res, &reply)) return rc;
  if (!a.prefix.empty()) {
    // The schema alone, so that `schema get P > f.json` round-trips.
    s.Print(FieldJson(reply, "schema") + "\n");
    return kExitOk;
  }
  const auto& schemas = FieldItems(reply, "schemas");
  if (schemas.empty()) {
    s.Print(fmt::format("no schemas (revision {})\n", FieldInt(reply, "revision")));
    return kExitOk;
  }
  Table table({"PREFIX", "REVISION", "SET BY", "SCHEMA"});
  if (s.terminal()) table.SetMaxWidth(3, kValueWidth);
  for (const json::Value& item : schemas) {
    table.AddRow({{FieldText(item, "prefix"), Colour::kCyan}, FieldText(item, "revision"),
                  FieldText(item, "set_by"), FieldJson(item, "schema")});
  }
  s.Print(table.Render(s.colour()));
  return kExitOk;
}

int RunSchemaRm(ClientSession& s, const SchemaRmArgs& a) {
  if (int rc = NotEmptyPrefix(a.prefix)) return rc;
  Query q;
  if (!a.reason.empty()) q.Add("reason", a.reason);
  WriteAnswer w = CallWrite(s, "DELETE", SchemaPath(a.prefix), std::move(q));
  if (w.done) return w.rc;
  s.Print(fmt::format("deleted the schema of {} (revision {})\n", SanitizeCell(a.prefix),
                      FieldInt(w.reply, "revision")));
  return kExitOk;
}

}  // namespace chronoconf::cli
