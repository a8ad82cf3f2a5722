// change propose, list, show, approve, reject and apply: the review changes
// of SPEC §8. A write under a prefix with a review policy is proposed as a
// change; other tokens approve it; once it has enough approvals anyone who
// may write its keys applies it as one commit.
#include "cli/client_internal.h"

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf::cli {

using client::HttpResponse;

namespace {

std::string ChangePath(int64_t id) { return fmt::format("/v1/changes/{}", id); }

std::string Approvals(int64_t n) { return fmt::format("{} approval{}", n, n == 1 ? "" : "s"); }

// The ops of a txn body read from FILE (or stdin): {"ops":[…],"reason":…}
// or the ops array alone. Appends each op's JSON text to *ops; sets *reason
// from the file when it is still empty.
int ReadOpsFile(const std::string& file, std::vector<std::string>* ops, std::string* reason) {
  std::string text;
  std::string error;
  if (!ReadInput(file, &text, &error)) return UsageError(error);
  const std::string where = file == "-" ? "stdin" : file;
  auto doc = json::Parse(text);
  if (!doc) {
    ReportError("invalid_json",
                fmt::format("{} is not JSON: {}", where, doc.status().message()));
    return kExitUsage;
  }
  const json::Value* list = doc->is_array() ? &*doc : doc->Find("ops");
  if (list == nullptr || !list->is_array()) {
    return UsageError(fmt::format(
        R"({} must hold a txn body {{"ops":[{{"op":"set","key":…,"value":…}}, …]}} )"
        "or an array of ops",
        where));
  }
  for (const json::Value& op : list->items()) ops->push_back(op.Minified());
  if (reason->empty() && doc->is_object()) *reason = FieldText(*doc, "reason");
  return kExitOk;
}

// {"op":"set","key":KEY,"value":JSON} from "KEY=JSON".
int SetOp(const std::string& arg, std::string* op) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    return UsageError(fmt::format("'{}' is not KEY=JSON (e.g. payments/retries=5)", arg));
  }
  auto value = json::Parse(std::string_view(arg).substr(eq + 1));
  if (!value) {
    ReportError("invalid_json",
                fmt::format("the value of {} is not valid JSON ({}); a string needs quotes: "
                            "{}='\"text\"'",
                            arg.substr(0, eq), value.status().message(), arg.substr(0, eq)));
    return kExitUsage;
  }
  json::Writer w;
  w.BeginObject().Field("op", "set").Field("key", std::string_view(arg).substr(0, eq));
  w.RawField("value", value->Minified()).EndObject();
  *op = w.Take();
  return kExitOk;
}

std::string ValueText(const ClientSession& s, const json::Value& obj, std::string_view name) {
  std::string text = SanitizeCell(FieldJson(obj, name, "null"));
  return s.terminal() ? Truncate(text, kValueWidth) : text;
}

// One line per key of a change's diff, as `chronoconf diff` prints them:
// "+ key value" (a new key), "~ key before -> after", "- key before", and
// whether the key moved since the proposal.
std::string DiffLines(const ClientSession& s, const json::Value& change) {
  std::string out;
  for (const json::Value& d : FieldItems(change, "diff")) {
    const std::string key = SanitizeCell(FieldText(d, "key"));
    const std::string op = FieldText(d, "op");
    const json::Value* before = d.Find("before");
    const bool had = before != nullptr;  // absent when the key is
    std::string line;
    if (op == "set") {
      line = had ? DiffChangedLine(key, ValueText(s, d, "before"), ValueText(s, d, "after"),
                                   s.colour())
                 : DiffAddedLine(key, ValueText(s, d, "after"), s.colour());
    } else if (op == "delete") {
      line = DiffRemovedLine(key, had ? ValueText(s, d, "before") : "(absent)", s.colour());
    } else {
      line = fmt::format("= {} (checked at version {})", key, FieldInt(d, "base_version"));
    }
    const json::Value* moved = d.Find("moved");
    if (moved != nullptr && moved->as_bool()) {
      line += fmt::format("  (moved: version {} when proposed, {} now)",
                          FieldInt(d, "base_version"), FieldInt(d, "current_version"));
    }
    out += fmt::format("  {}\n", line);
  }
  return out;
}

// A closed change's ops: "  set KEY VALUE", "  delete KEY".
std::string OpLines(const ClientSession& s, const json::Value& change) {
  std::string out;
  for (const json::Value& op : FieldItems(change, "ops")) {
    const std::string verb = FieldText(op, "op");
    out += fmt::format("  {} {}", verb, SanitizeCell(FieldText(op, "key")));
    if (verb == "set") out += fmt::format(" {}", ValueText(s, op, "value"));
    out += '\n';
  }
  return out;
}

// Why an open change cannot be applied yet, "" when it can.
std::string NotApplicableBecause(const json::Value& change) {
  const int64_t have = static_cast<int64_t>(FieldItems(change, "approvers").size());
  const int64_t need = FieldInt(change, "approvals_required", 0);
  for (const json::Value& d : FieldItems(change, "diff")) {
    const json::Value* moved = d.Find("moved");
    if (moved != nullptr && moved->as_bool()) {
      return fmt::format("{} changed since the proposal: propose it again",
                         SanitizeCell(FieldText(d, "key")));
    }
  }
  if (have < need) {
    return fmt::format("it needs {} more approval{}", need - have, need - have == 1 ? "" : "s");
  }
  return "";
}

// "a, b" from an array member of strings (or of objects with a "key").
std::string Joined(const json::Value& obj, std::string_view name) {
  std::string out;
  for (const json::Value& item : FieldItems(obj, name)) {
    if (!out.empty()) out += ", ";
    out += SanitizeCell(item.is_string() ? item.str() : FieldText(item, "key"));
  }
  return out;
}

std::string ApprovalsCell(const json::Value& change) {
  return fmt::format("{}/{}", FieldItems(change, "approvers").size(),
                     FieldInt(change, "approvals_required", 0));
}

Colour StateColour(std::string_view state) {
  return state == "open" ? Colour::kCyan : state == "applied" ? Colour::kGreen : Colour::kRed;
}

}  // namespace

int RunChangePropose(ClientSession& s, const ChangeProposeArgs& a) {
  std::vector<std::string> ops;
  std::string reason = a.reason;
  if (!a.file.empty()) {
    if (int rc = ReadOpsFile(a.file, &ops, &reason)) return rc;
  }
  for (const std::string& arg : a.sets) {
    std::string op;
    if (int rc = SetOp(arg, &op)) return rc;
    ops.push_back(std::move(op));
  }
  for (const std::string& key : a.deletes) {
    if (int rc = NotEmptyKey(key)) return rc;
    json::Writer w;
    w.BeginObject().Field("op", "delete").Field("key", key).EndObject();
    ops.push_back(w.Take());
  }
  if (ops.empty()) {
    return UsageError("nothing to propose: give KEY=JSON, --delete KEY or --file FILE");
  }
  json::Writer body;
  body.BeginObject().Key("ops").BeginArray();
  for (const std::string& op : ops) body.Raw(op);
  body.EndArray();
  if (!reason.empty()) body.Field("reason", reason);
  body.EndObject();
  WriteAnswer w = CallWrite(s, "POST", "/v1/changes", Query(), body.str());
  if (w.done) return w.rc;
  const json::Value& reply = w.reply;
  const json::Value* change = reply.Find("change");
  const int64_t id = FieldInt(reply, "id");
  const int64_t need = change != nullptr ? FieldInt(*change, "approvals_required", 0) : 0;
  std::string out = fmt::format("proposed change {} (revision {}): it needs {}\n", id,
                                FieldInt(reply, "revision"), Approvals(need));
  if (change != nullptr) out += DiffLines(s, *change);
  out += need > 0 ? fmt::format("another token approves it: chronoconf change approve {}\n", id)
                  : fmt::format("apply it: chronoconf change apply {}\n", id);
  s.Print(out);
  return kExitOk;
}

int RunChangeList(ClientSession& s, const ChangeListArgs& a) {
  Query q;
  q.Add("state", a.state);
  HttpResponse res;
  if (int rc = s.Call("GET", "/v1/changes" + q.str(), {}, &res)) return rc;
  if (s.json()) {
    s.PrintBody(res.body);
    return kExitOk;
  }
  json::Value reply;
  if (int rc = s.ParseBody(res, &reply)) return rc;
  const auto& changes = FieldItems(reply, "changes");
  if (changes.empty()) {
    s.Print(fmt::format("no {}changes (revision {})\n", a.state == "all" ? "" : a.state + " ",
                        FieldInt(reply, "revision")));
    return kExitOk;
  }
  Table table({"ID", "STATE", "PROPOSER", "APPROVALS", "KEYS", "REASON"});
  if (s.terminal()) {
    table.SetMaxWidth(4, kValueWidth);
    table.SetMaxWidth(5, kReasonWidth);
  }
  for (const json::Value& c : changes) {
    const std::string state = FieldText(c, "state");
    table.AddRow({FieldText(c, "id"), {state, StateColour(state)}, FieldText(c, "proposer"),
                  ApprovalsCell(c), Joined(c, "ops"), SanitizeCell(FieldText(c, "reason"))});
  }
  s.Print(table.Render(s.colour()));
  return kExitOk;
}

int RunChangeShow(ClientSession& s, const ChangeArgs& a) {
  HttpResponse res;
  if (int rc = s.Call("GET", ChangePath(a.id), {}, &res)) return rc;
  if (s.json()) {
    s.PrintBody(res.body);
    return kExitOk;
  }
  json::Value c;
  if (int rc = s.ParseBody(res, &c)) return rc;
  const std::string state = FieldText(c, "state");
  std::string out = fmt::format(
      "change {} {}: proposed by {} at revision {} ({})\n", FieldInt(c, "id"),
      Paint(state, StateColour(state), s.colour()), SanitizeCell(FieldText(c, "proposer")),
      FieldInt(c, "proposed_revision"), FieldText(c, "proposed_at"));
  const std::string reason = FieldText(c, "reason");
  if (!reason.empty()) out += fmt::format("reason: {}\n", SanitizeCell(reason));
  const std::string approvers = Joined(c, "approvers");
  out += fmt::format("approvals: {}{}\n", ApprovalsCell(c),
                     approvers.empty() ? std::string() : fmt::format(" ({})", approvers));
  if (state == "open") {
    const std::string why = NotApplicableBecause(c);
    out += why.empty() ? std::string("can be applied: yes\n")
                       : fmt::format("can be applied: no, {}\n", why);
  } else if (state == "applied") {
    out += fmt::format("applied at revision {} by {}\n", FieldInt(c, "closed_revision"),
                       SanitizeCell(FieldText(c, "applied_by")));
  } else {
    out += fmt::format("rejected at revision {}\n", FieldInt(c, "closed_revision"));
  }
  if (state == "open") {
    out += "diff (what applying it would do now):\n" + DiffLines(s, c);
  } else {
    out += "ops:\n" + OpLines(s, c);  // a diff against today's keys says nothing
  }
  const auto& reviews = FieldItems(c, "reviews");
  if (!reviews.empty()) out += "reviews:\n";
  for (const json::Value& r : reviews) {
    const std::string verdict = FieldText(r, "verdict");
    const std::string why = FieldText(r, "reason");
    out += fmt::format("  {} by {} at revision {}{}\n",
                       Paint(verdict, verdict == "approved" ? Colour::kGreen : Colour::kRed,
                             s.colour()),
                       SanitizeCell(FieldText(r, "actor")), FieldInt(r, "revision"),
                       why.empty() ? std::string() : fmt::format(": {}", SanitizeCell(why)));
  }
  s.Print(out);
  return kExitOk;
}

int RunChangeAction(ClientSession& s, std::string_view action, const ChangeArgs& a) {
  std::string body;
  if (!a.reason.empty()) {
    json::Writer w;
    w.BeginObject().Field("reason", a.reason).EndObject();
    body = w.Take();
  }
  WriteAnswer w =
      CallWrite(s, "POST", fmt::format("{}/{}", ChangePath(a.id), action), Query(), body);
  if (w.done) return w.rc;
  const json::Value& reply = w.reply;
  const json::Value* changed = reply.Find("changed");
  if (changed != nullptr && !changed->as_bool()) {
    s.Print(fmt::format("change {}: already {} by you; nothing changed (revision {})\n", a.id,
                        action == "approve" ? "approved" : "reviewed",
                        FieldInt(reply, "revision")));
    return kExitOk;
  }
  std::string out;
  if (action == "apply") {
    out = fmt::format("applied change {} (revision {})\n", a.id, FieldInt(reply, "revision"));
  } else {
    out = fmt::format("{} change {} (revision {})", action == "approve" ? "approved" : "rejected",
                      a.id, FieldInt(reply, "revision"));
    const json::Value* change = reply.Find("change");
    if (action == "approve" && change != nullptr) {
      out += fmt::format(": {} approvals", ApprovalsCell(*change));
    }
    out += '\n';
  }
  s.Print(out);
  return kExitOk;
}

}  // namespace chronoconf::cli
