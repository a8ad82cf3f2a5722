// policy set, get and rm: the review policies per prefix of SPEC §8 (how
// many approvals a change under the prefix needs; admin to change).
#include "cli/client_internal.h"

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf::cli {

using client::HttpResponse;

namespace {

// "/v1/policies/<prefix>" with the prefix URL-encoded, its '/' kept (as keys).
std::string PolicyPath(std::string_view prefix) {
  return "/v1/policies/" + client::UrlEncode(prefix, /*keep_slash=*/true);
}

int NotEmptyPrefix(std::string_view prefix) {
  return prefix.empty() ? UsageError("PREFIX must not be empty (a policy covers the keys that "
                                     "start with it)")
                        : kExitOk;
}

std::string Approvals(int64_t n) { return fmt::format("{} approval{}", n, n == 1 ? "" : "s"); }

}  // namespace

int RunPolicySet(ClientSession& s, const PolicySetArgs& a) {
  if (int rc = NotEmptyPrefix(a.prefix)) return rc;
  if (a.approvals < 0) return UsageError("policy set needs --approvals N (0 lifts the rule)");
  json::Writer body;
  body.BeginObject().Field("approvals", a.approvals);
  if (!a.reason.empty()) body.Field("reason", a.reason);
  body.EndObject();
  WriteAnswer w = CallWrite(s, "PUT", PolicyPath(a.prefix), Query(), body.str());
  if (w.done) return w.rc;
  s.Print(fmt::format("{} the review policy of {}: {} (revision {})\n", SetVerb(w, "replaced"),
                      SanitizeCell(a.prefix), Approvals(a.approvals),
                      FieldInt(w.reply, "revision")));
  return kExitOk;
}

int RunPolicyGet(ClientSession& s, const PolicyGetArgs& a) {
  const std::string path = a.prefix.empty() ? "/v1/policies" : PolicyPath(a.prefix);
  HttpResponse res;
  if (int rc = s.Call("GET", path, {}, &res)) return rc;
  if (s.json()) {
    s.PrintBody(res.body);
    return kExitOk;
  }
  json::Value reply;
  if (int rc = s.ParseBody(res, &reply)) return rc;
  std::vector<json::Value> one;
  const std::vector<json::Value>* policies = &FieldItems(reply, "policies");
  if (!a.prefix.empty()) {
    one.push_back(std::move(reply));
    policies = &one;
  } else if (policies->empty()) {
    s.Print(fmt::format("no review policies (revision {})\n", FieldInt(reply, "revision")));
    return kExitOk;
  }
  Table table({"PREFIX", "APPROVALS", "REVISION", "SET BY"});
  for (const json::Value& p : *policies) {
    table.AddRow({{FieldText(p, "prefix"), Colour::kCyan}, FieldText(p, "approvals"),
                  FieldText(p, "revision"), FieldText(p, "set_by")});
  }
  s.Print(table.Render(s.colour()));
  return kExitOk;
}

int RunPolicyRm(ClientSession& s, const PolicyRmArgs& a) {
  if (int rc = NotEmptyPrefix(a.prefix)) return rc;
  Query q;
  if (!a.reason.empty()) q.Add("reason", a.reason);
  WriteAnswer w = CallWrite(s, "DELETE", PolicyPath(a.prefix), std::move(q));
  if (w.done) return w.rc;
  s.Print(fmt::format("deleted the review policy of {} (revision {})\n", SanitizeCell(a.prefix),
                      FieldInt(w.reply, "revision")));
  return kExitOk;
}

}  // namespace chronoconf::cli
