// --dry-run (SPEC §8): the would-be commit a write route answers to
// ?dry_run=true, printed in the write commands' style.
#include "cli/client_internal.h"

#include <fmt/format.h>

namespace chronoconf::cli {

namespace {

// A value as a cell: JSON text, cut on a terminal like the listings.
std::string ValueCell(const ClientSession& s, const json::Value& event, std::string_view name) {
  std::string text = SanitizeCell(FieldJson(event, name, "null"));
  return s.terminal() ? Truncate(text, kValueWidth) : text;
}

// What a system stream's event is about (its key is a system stream, not a
// config key): "the schema of P", "the review policy of P", "change N".
std::string SystemSubject(std::string_view type, const json::Value& e) {
  const json::Value* value = e.Find("value");
  if (value == nullptr) return "";
  if (type.starts_with("Change")) return fmt::format("change {}", FieldInt(*value, "id"));
  return fmt::format("the {} of {}", type.starts_with("Policy") ? "review policy" : "schema",
                     SanitizeCell(FieldText(*value, "prefix")));
}

// "  ConfigSet svc/a v2 {"port":1} (was {"port":0})"; a schema, policy or
// change event names its subject instead.
std::string EventLine(const ClientSession& s, const json::Value& e) {
  const std::string type = FieldText(e, "type");
  const std::string key = FieldText(e, "key");
  const std::string painted = Paint(type, TypeColour(type), s.colour());
  if (!key.empty() && key.front() == '\x01') {
    return fmt::format("  {} {}\n", painted, SystemSubject(type, e));
  }
  std::string line = fmt::format("  {} {} v{}", painted, SanitizeCell(key), FieldInt(e, "version"));
  // fmt, not "literal" + std::string (GCC 12's false -Wrestrict, PR 105329).
  if (type != "ConfigDeleted") line += fmt::format(" {}", ValueCell(s, e, "value"));
  const json::Value* before = e.Find("previous_value");
  if (before != nullptr && !before->is_null()) {
    line += fmt::format(" (was {})", ValueCell(s, e, "previous_value"));
  }
  line += '\n';
  return line;
}

}  // namespace

int PrintDryRun(ClientSession& s, const client::HttpResponse& res) {
  if (s.json()) {
    s.PrintBody(res.body);
    return kExitOk;
  }
  json::Value reply;
  if (int rc = s.ParseBody(res, &reply)) return rc;
  const json::Value* changed = reply.Find("changed");
  if (changed == nullptr || !changed->as_bool()) {
    s.Print(fmt::format("dry run: nothing would change (revision {})\n",
                        FieldInt(reply, "decided_at")));
    return kExitOk;
  }
  const json::Value* commit = reply.Find("commit");
  const auto& events =
      commit != nullptr ? FieldItems(*commit, "events") : FieldItems(reply, "events");
  std::string out = fmt::format("dry run: would commit revision {} (decided at {}): {}\n",
                                FieldInt(reply, "revision"), FieldInt(reply, "decided_at"),
                                Changes(static_cast<int64_t>(events.size())));
  for (const json::Value& e : events) out += EventLine(s, e);
  s.Print(out);
  return kExitOk;
}

WriteAnswer CallWrite(ClientSession& s, std::string_view method, const std::string& path,
                      Query q, std::string_view body, const client::Headers& extra) {
  WriteAnswer a;
  client::HttpResponse res;
  a.rc = s.Call(method, path + DryRunQuery(s, q).str(), body, &res, extra);
  a.done = a.rc != kExitOk;
  if (a.done) return a;
  a.status = res.status;
  if (s.dry_run()) {
    a.rc = PrintDryRun(s, res);
    a.done = true;
  } else if (s.json()) {
    s.PrintBody(res.body);
    a.done = true;
  } else {
    a.rc = s.ParseBody(res, &a.reply);
    a.done = a.rc != kExitOk;
  }
  return a;
}

}  // namespace chronoconf::cli
