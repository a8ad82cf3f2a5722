// ls, history, log and diff: listings that follow the server's paging.
#include "cli/client_internal.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf::cli {

using client::HttpResponse;

int RunLs(ClientSession& s, const LsArgs& a) {
  std::vector<json::Value> entries;
  std::string first_body;
  int pages = 0;
  int64_t revision = -1;  // the listing's revision, pinned after page 1
  std::string after;
  while (true) {
    Query q;
    if (!a.prefix.empty()) q.Add("prefix", a.prefix);
    if (revision >= 0) {
      q.Add("at_revision", revision);  // every page shows the same revision
    } else if (a.at >= 0) {
      q.Add("at_revision", a.at);
    } else if (!a.at_time.empty()) {
      q.Add("at_time", a.at_time);
    }
    if (!after.empty()) q.Add("after", after);
    HttpResponse res;
    if (int rc = s.Call("GET", "/v1/kv" + q.str(), {}, &res)) return rc;
    json::Value page;
    if (int rc = s.ParseBody(res, &page)) return rc;
    if (++pages == 1) first_body = res.body;
    revision = FieldInt(page, "revision");
    for (const json::Value& e : FieldItems(page, "entries")) entries.push_back(e);
    const json::Value* next = page.Find("next");
    if (next == nullptr || !next->is_string() || next->str().empty() || next->str() == after) {
      break;
    }
    after = next->str();
  }
  if (s.json()) {
    s.PrintBody(pages == 1
                    ? first_body
                    : MergedListing({{"revision", std::to_string(revision)}}, "entries", entries));
    return kExitOk;
  }
  Table table({"KEY", "VERSION", "MODIFIED", "VALUE"});
  if (s.terminal()) table.SetMaxWidth(3, kValueWidth);
  for (const json::Value& e : entries) {
    table.AddRow({{FieldText(e, "key"), Colour::kCyan},
                  FieldText(e, "version"),
                  FieldText(e, "modified_at"),
                  FieldJson(e, "value")});
  }
  s.Print(table.Render(s.colour()));
  return kExitOk;
}

int RunHistory(ClientSession& s, const HistoryArgs& a) {
  if (int rc = NotEmptyKey(a.key)) return rc;
  const std::string path = "/v1/history/" + client::UrlEncode(a.key, /*keep_slash=*/true);
  std::vector<json::Value> events;
  std::string first_body;
  std::string key_json;
  int pages = 0;
  int64_t before = -1;
  while (true) {
    Query q;
    if (before >= 0) q.Add("before_revision", before);
    HttpResponse res;
    if (int rc = s.Call("GET", path + q.str(), {}, &res)) return rc;
    json::Value page;
    if (int rc = s.ParseBody(res, &page)) return rc;
    if (++pages == 1) {
      first_body = res.body;
      key_json = FieldJson(page, "key", "null");
    }
    for (const json::Value& e : FieldItems(page, "events")) events.push_back(e);
    const int64_t next = FieldInt(page, "next_before_revision");
    if (next < 0 || (before >= 0 && next >= before)) break;
    before = next;
  }
  if (s.json()) {
    s.PrintBody(pages == 1 ? first_body : MergedListing({{"key", key_json}}, "events", events));
    return kExitOk;
  }
  Table table({"REVISION", "VERSION", "TYPE", "TIME", "ACTOR", "VALUE", "REASON"});
  if (s.terminal()) {
    table.SetMaxWidth(5, kValueWidth);
    table.SetMaxWidth(6, kReasonWidth);
  }
  for (const json::Value& e : events) {
    const std::string type = FieldText(e, "type");
    table.AddRow({FieldText(e, "revision"),
                  FieldText(e, "version"),
                  {EventVerb(type), TypeColour(type)},
                  FieldText(e, "timestamp"),
                  FieldText(e, "actor"),
                  FieldJson(e, "value"),
                  FieldText(e, "reason")});
  }
  s.Print(table.Render(s.colour()));
  return kExitOk;
}

int RunLog(ClientSession& s, const LogArgs& a) {
  std::vector<json::Value> events;
  std::string first_body;
  int pages = 0;
  int64_t from = a.from;
  while (true) {
    Query q;
    q.Add("from_revision", from);
    if (!a.actor.empty()) q.Add("actor", a.actor);
    if (!a.prefix.empty()) q.Add("prefix", a.prefix);
    if (!a.since.empty()) q.Add("since", a.since);
    if (!a.until.empty()) q.Add("until", a.until);
    HttpResponse res;
    if (int rc = s.Call("GET", "/v1/events" + q.str(), {}, &res)) return rc;
    json::Value page;
    if (int rc = s.ParseBody(res, &page)) return rc;
    if (++pages == 1) first_body = res.body;
    const auto& items = FieldItems(page, "events");
    for (const json::Value& e : items) events.push_back(e);
    const int64_t next = FieldInt(page, "next_from_revision");
    if (next <= from) break;  // no progress: the end of the log
    from = next;
    // Stop without another round trip once the page reached the head.
    const std::string head_text = res.Header("x-chronoconf-revision");
    if (IsDigits(head_text) && from >= std::stoll(head_text)) break;
    if (items.empty() && !IsDigits(head_text)) break;
  }
  if (s.json()) {
    if (pages == 1) {
      s.PrintBody(first_body);
    } else {
      json::Writer w;
      w.BeginObject().Key("events").BeginArray();
      for (const json::Value& e : events) w.Raw(e.Minified());
      w.EndArray().Field("next_from_revision", from).EndObject();
      s.PrintBody(w.str());
    }
    return kExitOk;
  }
  Table table({"REVISION", "TIME", "ACTOR", "TYPE", "KEY", "VERSION", "VALUE", "REASON"});
  if (s.terminal()) {
    table.SetMaxWidth(6, kValueWidth);
    table.SetMaxWidth(7, kReasonWidth);
  }
  for (const json::Value& e : events) {
    const std::string type = FieldText(e, "type");
    table.AddRow({FieldText(e, "revision"),
                  FieldText(e, "timestamp"),
                  FieldText(e, "actor"),
                  {EventVerb(type), TypeColour(type)},
                  {FieldText(e, "key"), Colour::kCyan},
                  FieldText(e, "version"),
                  FieldJson(e, "value"),
                  FieldText(e, "reason")});
  }
  s.Print(table.Render(s.colour()));
  return kExitOk;
}

namespace {

// Adds `<side>_revision` for a number, `<side>_time` for anything else.
void AddPoint(Query* q, std::string_view side, const std::string& point) {
  if (point.empty()) return;
  q->Add(fmt::format("{}_{}", side, IsDigits(point) ? "revision" : "time"), point);
}

}  // namespace

int RunDiff(ClientSession& s, const DiffArgs& a) {
  Query q;
  AddPoint(&q, "from", a.from);
  AddPoint(&q, "to", a.to);
  if (!a.prefix.empty()) q.Add("prefix", a.prefix);
  HttpResponse res;
  if (int rc = s.Call("GET", "/v1/diff" + q.str(), {}, &res)) return rc;
  if (s.json()) {
    s.PrintBody(res.body);
    return kExitOk;
  }
  json::Value diff;
  if (int rc = s.ParseBody(res, &diff)) return rc;
  std::vector<std::pair<std::string, std::string>> lines;  // key, line
  const bool colour = s.colour();
  for (const json::Value& e : FieldItems(diff, "added")) {
    const std::string key = FieldText(e, "key");
    lines.emplace_back(key, DiffAddedLine(key, FieldJson(e, "value"), colour));
  }
  for (const json::Value& e : FieldItems(diff, "removed")) {
    const std::string key = FieldText(e, "key");
    lines.emplace_back(key, DiffRemovedLine(key, FieldJson(e, "value"), colour));
  }
  for (const json::Value& c : FieldItems(diff, "changed")) {
    const std::string key = FieldText(c, "key");
    const json::Value* before = c.Find("before");
    const json::Value* after = c.Find("after");
    lines.emplace_back(key, DiffChangedLine(key, before ? FieldJson(*before, "value") : "-",
                                            after ? FieldJson(*after, "value") : "-", colour));
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::string out;
  for (const auto& line : lines) out += line.second + "\n";
  if (lines.empty()) {
    // Say so rather than print nothing, which reads like a failure.
    out = fmt::format("no changes between revision {} and revision {}{}\n",
                      FieldInt(diff, "from", 0), FieldInt(diff, "to", 0),
                      a.prefix.empty() ? std::string() : fmt::format(" under '{}'", a.prefix));
  }
  s.Print(out);
  return kExitOk;
}

}  // namespace chronoconf::cli
