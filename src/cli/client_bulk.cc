// revert, import, export and status.
#include "cli/client_internal.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf::cli {

using client::HttpResponse;

namespace {

// POSTs a revert or import (both answer {"revision","changed","events"}) and
// prints the line `describe` makes of the answer.
using DescribeBulk = std::function<std::string(bool changed, int64_t events, int64_t revision)>;
int PostBulk(ClientSession& s, const std::string& path, const std::string& body,
             const DescribeBulk& describe) {
  WriteAnswer w = CallWrite(s, "POST", path, Query(), body);
  if (w.done) return w.rc;
  const json::Value* changed = w.reply.Find("changed");
  s.Print(describe(changed == nullptr || changed->as_bool(), FieldInt(w.reply, "events"),
                   FieldInt(w.reply, "revision")));
  return kExitOk;
}

}  // namespace

int RunRevert(ClientSession& s, const RevertArgs& a) {
  json::Writer body;
  body.BeginObject().Field("to_revision", a.revision);
  if (!a.prefix.empty()) body.Field("prefix", a.prefix);
  if (!a.reason.empty()) body.Field("reason", a.reason);
  body.EndObject();
  return PostBulk(s, "/v1/revert", body.str(), [&](bool changed, int64_t events, int64_t rev) {
    if (!changed) {
      return fmt::format("nothing to revert: already as at revision {} (revision {})\n",
                         a.revision, rev);
    }
    return fmt::format("reverted to revision {}: {} in revision {}\n", a.revision,
                       Changes(events), rev);
  });
}

bool ReadInput(const std::string& file, std::string* out, std::string* error) {
  if (file == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    *out = ss.str();
    return true;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    *error = fmt::format("cannot read {}", file);
    return false;
  }
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    *error = fmt::format("cannot read {}", file);
    return false;
  }
  return true;
}

int RunImport(ClientSession& s, const ImportArgs& a) {
  std::string text;
  std::string error;
  if (!ReadInput(a.file, &text, &error)) return UsageError(error);
  auto values = json::Parse(text);
  if (!values) {
    ReportError("invalid_json",
                fmt::format("import reads one JSON object ({{\"key\": value, ...}}, as `export "
                            "--format json` writes it); {} is not JSON: {}",
                            a.file == "-" ? "stdin" : a.file, values.status().message()));
    return kExitUsage;
  }
  if (!values->is_object()) {
    return UsageError(R"(the import file must hold one JSON object: {"key": value, ...})");
  }
  json::Writer body;
  body.BeginObject()
      .RawField("values", values->Minified())
      .Field("mode", a.replace ? "replace" : "merge");
  if (!a.prefix.empty()) body.Field("prefix", a.prefix);
  if (!a.reason.empty()) body.Field("reason", a.reason);
  body.EndObject();
  return PostBulk(s, "/v1/import", body.str(), [](bool changed, int64_t events, int64_t rev) {
    if (!changed) return fmt::format("nothing to import: no changes (revision {})\n", rev);
    return fmt::format("imported {} in revision {}\n", Changes(events), rev);
  });
}

int RunExport(ClientSession& s, const ExportArgs& a) {
  Query q;
  if (!a.format.empty()) q.Add("format", a.format);
  if (!a.prefix.empty()) q.Add("prefix", a.prefix);
  if (a.at >= 0) q.Add("at_revision", a.at);
  if (!a.at_time.empty()) q.Add("at_time", a.at_time);
  HttpResponse res;
  if (int rc = s.Call("GET", "/v1/export" + q.str(), {}, &res)) return rc;
  s.PrintBody(res.body);  // the file itself, in every mode
  return kExitOk;
}

int RunStatus(ClientSession& s) {
  HttpResponse res;
  if (int rc = s.Call("GET", "/v1/status", {}, &res)) return rc;
  if (s.json()) {
    s.PrintBody(res.body);
    return kExitOk;
  }
  json::Value status;
  if (int rc = s.ParseBody(res, &status)) return rc;
  std::vector<std::pair<std::string, std::string>> rows = {{"server", s.server()}};
  if (status.is_object()) {
    for (const json::Member& m : status.members()) {
      if (m.name == "uptime_s" && m.value.AsInt64()) {
        rows.emplace_back("uptime", HumanDuration(*m.value.AsInt64()));
      } else {
        rows.emplace_back(m.name, m.value.is_string() ? m.value.str() : m.value.Minified());
      }
    }
  }
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, DisplayWidth(SanitizeCell(row.first)));
  std::string out;
  for (const auto& [name, value] : rows) {
    std::string label = SanitizeCell(name);
    std::string padded = label + std::string(width - DisplayWidth(label), ' ');
    out += fmt::format("{}  {}\n", Paint(padded, Colour::kBold, s.colour()), SanitizeCell(value));
  }
  s.Print(out);
  return kExitOk;
}

}  // namespace chronoconf::cli
