// get, set and delete.
#include "cli/client_internal.h"

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf::cli {

using client::HttpResponse;

int RunGet(ClientSession& s, const GetArgs& a) {
  if (int rc = NotEmptyKey(a.key)) return rc;
  Query q;
  if (a.at >= 0) q.Add("at_revision", a.at);
  if (!a.at_time.empty()) q.Add("at_time", a.at_time);
  HttpResponse res;
  if (int rc = s.Call("GET", KeyPath(a.key) + q.str(), {}, &res)) return rc;
  if (s.json()) {
    s.PrintBody(res.body);
    return kExitOk;
  }
  json::Value entry;
  if (int rc = s.ParseBody(res, &entry)) return rc;
  const json::Value* value = entry.Find("value");
  if (value == nullptr) {
    ReportError("invalid_response", "the entry has no value");
    return kExitError;
  }
  s.Print((a.raw && value->is_string() ? value->str() : value->Minified()) + "\n");
  return kExitOk;
}

int RunSet(ClientSession& s, const SetArgs& a) {
  if (int rc = NotEmptyKey(a.key)) return rc;
  const bool has_json = a.has_value;
  const bool has_string = a.has_string;
  if (has_json == has_string) {
    return UsageError("set needs exactly one of a JSON value or --string TEXT");
  }
  json::Writer body;
  body.BeginObject().Key("value");
  if (has_json) {
    auto parsed = json::Parse(a.value);
    if (!parsed) {
      ReportError("invalid_json", fmt::format("the value is not valid JSON ({}); to set a plain "
                                              "string, use --string TEXT",
                                              parsed.status().message()));
      return kExitUsage;
    }
    body.Raw(parsed->Minified());
  } else {
    if (!json::IsValidUtf8(a.string_value)) {
      ReportError("invalid_json", "the --string text is not valid UTF-8");
      return kExitUsage;
    }
    body.String(a.string_value);
  }
  if (a.expect >= 0) body.Field("expected_version", a.expect);
  if (!a.reason.empty()) body.Field("reason", a.reason);
  body.EndObject();

  client::Headers extra;
  // emplace, not operator[]= "*": assigning a short literal to a string trips
  // GCC 12's false -Wrestrict at -O3 (GCC PR 105329).
  if (a.absent) extra.emplace("If-None-Match", "*");
  WriteAnswer w = CallWrite(s, "PUT", KeyPath(a.key), Query(), body.str(), extra);
  if (w.done) return w.rc;
  const json::Value* entry = w.reply.Find("entry");
  const int64_t version = entry != nullptr ? FieldInt(*entry, "version") : -1;
  const char* verb = SetVerb(w, "set");
  if (verb == std::string_view("kept")) verb = "unchanged";
  s.Print(fmt::format("{} {} (version {}, revision {})\n", verb, SanitizeCell(a.key), version,
                      FieldInt(w.reply, "revision")));
  return kExitOk;
}

int RunDelete(ClientSession& s, const DeleteArgs& a) {
  if (int rc = NotEmptyKey(a.key)) return rc;
  Query q;
  if (a.expect >= 0) q.Add("expected_version", a.expect);
  if (!a.reason.empty()) q.Add("reason", a.reason);
  WriteAnswer w = CallWrite(s, "DELETE", KeyPath(a.key), std::move(q));
  if (w.done) return w.rc;
  s.Print(fmt::format("deleted {} (revision {})\n", SanitizeCell(a.key),
                      FieldInt(w.reply, "revision")));
  return kExitOk;
}

}  // namespace chronoconf::cli
