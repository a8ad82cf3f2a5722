// Reviews (SPEC §8): review policies per prefix (GET /v1/policies, GET|PUT|
// DELETE /v1/policies/{prefix}, admin to change) and review changes
// (POST /v1/changes, GET /v1/changes[/{id}], POST
// /v1/changes/{id}/approve|reject|apply). Each change is a command like a
// write, decided in the committer (app/review_decision.h); reads come from
// the read model's ReviewLedger.
#include <charconv>

#include <fmt/format.h>

#include "common/time_format.h"
#include "domain/key.h"
#include "domain/system_stream.h"
#include "http/api.h"
#include "http/dry_run.h"
#include "http/render.h"
#include "http/request_parsing.h"
#include "json/json_value.h"
#include "json/json_writer.h"

namespace chronoconf::http {

namespace net = boost::asio;

namespace {

// The most approvals a policy may require.
constexpr int64_t kMaxApprovals = 100;

void WritePolicy(json::Writer& w, const PolicyInForce& p) {
  w.BeginObject()
      .Field("prefix", p.prefix)
      .Field("approvals", p.approvals)
      .Field("revision", p.revision)
      .Field("set_by", p.set_by)
      .EndObject();
}

Status CheckPolicyPrefix(const std::string& prefix) {
  if (prefix.empty()) {
    return Status::InvalidRequest(
        "a review policy needs a prefix: PUT /v1/policies/{prefix} (the keys it covers start "
        "with it)");
  }
  return ValidatePrefix(prefix);
}

// The approvals the policies over the change's keys require at `at`: the
// largest (one approver counts for every prefix it covers).
int64_t RequiredApprovals(const Projection& projection, const ChangeRecord& c, int64_t at) {
  int64_t n = 0;
  for (const Op& op : c.proposal.ops) {
    for (const auto& p : projection.PoliciesCovering(OpKey(op), at)) n = std::max(n, p->approvals);
  }
  return n;
}

// A change as GET /v1/changes shows it; with `diff`, also what applying it
// now would do to each key, and whether it still can.
void WriteChange(json::Writer& w, const Projection& projection, const ChangeRecord& c,
                 bool diff) {
  const int64_t head = projection.head();
  const std::vector<std::string> approvers = c.Approvers();
  const int64_t required = RequiredApprovals(projection, c, head);
  w.BeginObject()
      .Field("id", c.proposal.id)
      .Field("state", ChangeStateName(c.state))
      .Field("proposer", c.proposer)
      .Key("reason");
  c.reason ? w.String(*c.reason) : w.Null();
  w.Field("proposed_revision", c.proposed_revision)
      .Field("proposed_at", FormatRfc3339Micros(c.proposed_at_us))
      .Field("base_revision", c.proposal.base_revision)
      .RawField("ops", c.proposal.ops_json)
      .Field("approvals_required", required)
      .Key("approvers")
      .BeginArray();
  for (const std::string& a : approvers) w.String(a);
  w.EndArray().Key("reviews").BeginArray();
  for (const ChangeReview& r : c.reviews) {
    w.BeginObject()
        .Field("actor", r.actor)
        .Field("verdict", r.approve ? "approved" : "rejected")
        .Key("reason");
    r.comment ? w.String(*r.comment) : w.Null();
    w.Field("revision", r.revision).Field("timestamp", FormatRfc3339Micros(r.time_us)).EndObject();
  }
  w.EndArray();
  if (c.state != ChangeRecord::State::kOpen) {
    w.Field("closed_revision", c.closed_revision);
    if (c.state == ChangeRecord::State::kApplied) w.Field("applied_by", c.applied_by);
  }
  if (diff) {
    // Each key: its value now and the one the change sets (each absent when
    // the key is, as SPEC §2.1's previous_value), and whether it moved since
    // the proposal.
    bool moved_any = false;
    w.Key("diff").BeginArray();
    for (size_t i = 0; i < c.proposal.ops.size(); ++i) {
      const Op& op = c.proposal.ops[i];
      const std::string& key = OpKey(op);
      const KeyState now = projection.State(key, head);
      const bool moved = now.version != c.proposal.base_versions[i];
      moved_any = moved_any || moved;
      w.BeginObject().Field("key", key);
      if (const auto* set = std::get_if<SetKey>(&op)) {
        w.Field("op", "set");
        if (now.exists) w.RawField("before", now.value);
        w.RawField("after", set->value);
      } else if (std::holds_alternative<DeleteKey>(op)) {
        w.Field("op", "delete");
        if (now.exists) w.RawField("before", now.value);
      } else {
        w.Field("op", "check");
      }
      w.Field("base_version", c.proposal.base_versions[i])
          .Field("current_version", now.version)
          .Field("moved", moved)
          .EndObject();
    }
    w.EndArray();
    w.Field("applicable", c.state == ChangeRecord::State::kOpen && !moved_any &&
                              static_cast<int64_t>(approvers.size()) >= required);
  }
  w.EndObject();
}

// kForbidden unless the caller may touch every key of the change.
Status CheckChangeAccess(const Request& req, const ChangeRecord& c) {
  for (const Op& op : c.proposal.ops) {
    if (!req.principal.scope.Contains(OpKey(op))) {
      return Status::Forbidden(fmt::format(
          "the token '{}' may not access the key '{}' of change {}: a token reviews and applies "
          "only changes inside its prefixes",
          req.principal.name, OpKey(op), c.proposal.id));
    }
  }
  return Status::OK();
}

Result<int64_t> ParseChangeId(std::string_view text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id < 1) {
    return Status::NotFound(fmt::format("'{}' is not a change id (a positive number)", text));
  }
  return id;
}

}  // namespace

Response Api::GetPolicies(const Request& req) {
  auto at = ReadRevision(req, "at_revision", "at_time");
  if (!at) return ErrorResponse(at.status());
  json::Writer w;
  w.BeginObject().Field("revision", *at).Key("policies").BeginArray();
  for (const auto& p : projection_->Policies(*at)) WritePolicy(w, *p);
  w.EndArray().EndObject();
  return ReadAnswer(req, *at, w.Take());
}

Response Api::GetPolicy(const Request& req, const std::string& prefix) {
  if (Status s = CheckPolicyPrefix(prefix); !s.ok()) return ErrorResponse(s);
  auto at = ReadRevision(req, "at_revision", "at_time");
  if (!at) return ErrorResponse(at.status());
  for (const auto& p : projection_->Policies(*at)) {
    if (p->prefix != prefix) continue;
    json::Writer w;
    WritePolicy(w, *p);
    return ReadAnswer(req, *at, w.Take());
  }
  return ErrorResponse(Status::NotFound(
      fmt::format("prefix '{}' has no review policy (at revision {})", prefix, *at)));
}

net::awaitable<Response> Api::PutPolicy(const Request& req, const std::string& prefix) {
  if (Status s = CheckPolicyPrefix(prefix); !s.ok()) co_return ErrorResponse(s);
  if (Status s = CheckPrefixAccess(req, prefix); !s.ok()) co_return ErrorResponse(s);
  auto body = JsonObjectBody(req, 1);
  if (!body) co_return ErrorResponse(body.status());
  if (Status s = CheckMembers(*body, {"approvals", "reason"}, "the body"); !s.ok()) {
    co_return ErrorResponse(s);
  }
  const json::Value* n = body->Find("approvals");
  std::optional<int64_t> approvals = n ? n->AsInt64() : std::nullopt;
  if (!approvals || *approvals < 0 || *approvals > kMaxApprovals) {
    co_return ErrorResponse(Status::InvalidRequest(fmt::format(
        "the body needs \"approvals\": the number of approvals a change needs, 0 to {}",
        kMaxApprovals)));
  }
  auto reason = OptionalStringMember(*body, "reason");
  if (!reason) co_return ErrorResponse(reason.status());
  Command command = PolicyChange{prefix, *approvals, MetaFrom(req, std::move(*reason))};
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status);
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  json::Writer w;
  w.BeginObject()
      .Field("revision", r.revision)
      .Field("changed", r.changed)
      .Field("prefix", prefix)
      .Field("approvals", *approvals)
      .EndObject();
  co_return JsonResponse(r.created ? 201 : 200, w.Take());
}

net::awaitable<Response> Api::DeletePolicy(const Request& req, const std::string& prefix) {
  if (Status s = CheckPolicyPrefix(prefix); !s.ok()) co_return ErrorResponse(s);
  if (Status s = CheckPrefixAccess(req, prefix); !s.ok()) co_return ErrorResponse(s);
  std::optional<std::string> why;
  if (const std::string* reason = req.Query("reason")) why = *reason;
  Command command = PolicyChange{prefix, std::nullopt, MetaFrom(req, std::move(why))};
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status);
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  json::Writer w;
  w.BeginObject()
      .Field("revision", r.revision)
      .Field("changed", r.changed)
      .Field("prefix", prefix)
      .EndObject();
  co_return JsonResponse(200, w.Take());
}

Response Api::ListChanges(const Request& req) {
  std::optional<ChangeRecord::State> only;
  if (const std::string* state = req.Query("state"); state && *state != "all") {
    for (auto s : {ChangeRecord::State::kOpen, ChangeRecord::State::kApplied,
                   ChangeRecord::State::kRejected}) {
      if (*state == ChangeStateName(s)) only = s;
    }
    if (!only) {
      return ErrorResponse(Status::InvalidRequest(fmt::format(
          "state must be open, applied, rejected or all, not '{}'", *state)));
    }
  }
  auto limit_param = IntParam(req, "limit", 1, 1000);
  if (!limit_param) return ErrorResponse(limit_param.status());
  auto before_param = IntParam(req, "before", 1, INT64_MAX);
  if (!before_param) return ErrorResponse(before_param.status());
  const size_t limit = static_cast<size_t>(limit_param->value_or(100));
  int64_t cursor = before_param->value_or(INT64_MAX);
  const int64_t head = projection_->head();
  json::Writer w;
  w.BeginObject().Field("revision", head).Key("changes").BeginArray();
  size_t shown = 0;
  int64_t last = 0;
  bool more = false;
  // Pages of candidates newest first, until the page is full (one more
  // tells whether there is a next page) or the answer reaches its byte
  // budget: a change may hold up to a body's worth of ops.
  constexpr size_t kMaxAnswerBytes = 4 << 20;
  while (!more) {
    auto candidates = projection_->Changes(cursor, limit + 1, only);
    for (const auto& c : candidates) {
      cursor = c->proposal.id;
      if (!CheckChangeAccess(req, *c).ok()) continue;  // only changes it may read whole
      if (shown == limit || w.str().size() >= kMaxAnswerBytes) {
        more = true;
        break;
      }
      WriteChange(w, *projection_, *c, /*diff=*/false);
      last = c->proposal.id;
      ++shown;
    }
    if (candidates.size() < limit + 1) break;  // nothing older
  }
  w.EndArray();
  if (more) w.Field("next_before", last);  // pass as ?before= for the next page
  w.EndObject();
  Response r = JsonResponse(200, w.Take());
  r.revision = head;
  return r;
}

Response Api::GetChange(const Request& req, const std::string& id_text) {
  auto id = ParseChangeId(id_text);
  if (!id) return ErrorResponse(id.status());
  auto c = projection_->Change(*id);
  if (!c) {
    return ErrorResponse(Status::NotFound(fmt::format(
        "change {} does not exist (on a node that has not caught up yet, read with "
        "?consistent=true)",
        *id)));
  }
  if (Status s = CheckChangeAccess(req, *c); !s.ok()) return ErrorResponse(s);
  json::Writer w;
  WriteChange(w, *projection_, *c, /*diff=*/true);
  return JsonResponse(200, w.Take());
}

net::awaitable<Response> Api::PostChange(const Request& req) {
  auto txn = ParseTxnBody(req);
  if (!txn) co_return ErrorResponse(txn.status());
  Command command = ProposeChange{std::move(*txn)};
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status);
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  // The new change is the stream of the proposal commit's one event.
  CommitPtr commit = projection_->Commit(r.revision);
  std::optional<int64_t> id;
  if (commit && !commit->events.empty()) id = ChangeIdOf(commit->events.front().key);
  auto c = id ? projection_->Change(*id) : nullptr;
  if (!c) co_return ErrorResponse(Status::Internal("the proposal committed but is not readable"));
  json::Writer w;
  w.BeginObject().Field("revision", r.revision).Field("id", *id).Key("change");
  WriteChange(w, *projection_, *c, /*diff=*/true);
  w.EndObject();
  co_return JsonResponse(201, w.Take());
}

net::awaitable<Response> Api::PostChangeAction(const Request& req, const std::string& tail) {
  const size_t slash = tail.find('/');
  if (slash == std::string::npos) {
    co_return ErrorResponse(Status::NotFound(
        "POST /v1/changes/{id}/approve, /reject or /apply; GET /v1/changes/{id} reads one"));
  }
  auto id = ParseChangeId(std::string_view(tail).substr(0, slash));
  if (!id) co_return ErrorResponse(id.status());
  const std::string action = tail.substr(slash + 1);
  if (action != "approve" && action != "reject" && action != "apply") {
    co_return ErrorResponse(Status::NotFound(fmt::format(
        "unknown action '{}' on a change: approve, reject or apply", action)));
  }
  std::optional<std::string> reason;
  if (!req.body.empty()) {
    auto body = JsonObjectBody(req, 1);
    if (!body) co_return ErrorResponse(body.status());
    if (Status s = CheckMembers(*body, {"reason"}, "the body"); !s.ok()) co_return ErrorResponse(s);
    auto given = OptionalStringMember(*body, "reason");
    if (!given) co_return ErrorResponse(given.status());
    reason = std::move(*given);
  }
  auto c = projection_->Change(*id);
  if (!c) {  // proposed on another node a moment ago? Catch up once.
    if (Status s = co_await AwaitReadIndex(); !s.ok()) co_return ErrorResponse(s);
    c = projection_->Change(*id);
  }
  if (!c) co_return ErrorResponse(Status::NotFound(fmt::format("change {} does not exist", *id)));
  if (Status s = CheckChangeAccess(req, *c); !s.ok()) co_return ErrorResponse(s);
  Command command = action == "apply"
                        ? Command(ApplyChange{*id, MetaFrom(req, std::move(reason))})
                        : Command(ReviewChange{*id, action == "approve",
                                               MetaFrom(req, std::move(reason))});
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status);
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  json::Writer w;
  w.BeginObject().Field("revision", r.revision).Field("changed", r.changed);
  w.Field("events", static_cast<int64_t>(r.events)).Key("change");
  WriteChange(w, *projection_, *projection_->Change(*id), /*diff=*/false);
  w.EndObject();
  co_return JsonResponse(200, w.Take());
}

}  // namespace chronoconf::http
