// Routes on keys: GET/PUT/DELETE /v1/kv/{key}, GET /v1/kv, POST /v1/txn.
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "domain/key.h"
#include "http/api.h"
#include "http/dry_run.h"
#include "http/render.h"
#include "http/request_parsing.h"
#include "json/json_writer.h"

namespace chronoconf::http {

namespace net = boost::asio;

namespace {

// A key's ETag is its version in quotes ("3"), the only form it takes.
std::string ETagOf(int64_t version) { return fmt::format("\"{}\"", version); }

// If-Match: "N" on a write, compared strongly (RFC 9110 §13.1.1): one tag
// that is an ETag this server gives. A weak tag, a list, or a tag no key can
// have ("01") could never match, so it is refused rather than taken for a
// version. Errors: kInvalidRequest.
Result<std::optional<int64_t>> IfMatchVersion(const Request& req) {
  const std::string* h = req.Header("if-match");
  if (!h) return std::optional<int64_t>();
  auto refuse = [&] {
    return Status::InvalidRequest(fmt::format(
        "If-Match must be one strong entity tag holding a version, like \"3\" (the key's ETag), "
        "not '{}'",
        *h));
  };
  std::string_view v(*h);
  if (v.size() < 3 || v.front() != '"' || v.back() != '"') return refuse();
  auto n = ParseCount(v.substr(1, v.size() - 2), "If-Match");
  if (!n || ETagOf(*n) != v) return refuse();
  return std::optional<int64_t>(*n);
}

// Does If-None-Match on a GET match the key's ETag? Weak comparison (RFC
// 9110 §13.1.2): W/"3" matches "3"; "*" matches any current entry.
// Errors: kInvalidRequest for a header that is not a list of entity tags.
Result<bool> NoneMatchMatches(const std::string& header, int64_t version) {
  std::string_view rest(header);
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  if (trim(rest) == "*") return true;
  const std::string etag = ETagOf(version);
  bool match = false;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view tag = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"' ||
        tag.substr(1, tag.size() - 2).find('"') != std::string_view::npos) {
      return Status::InvalidRequest(fmt::format(
          "If-None-Match must be * or a list of entity tags like \"3\", not '{}'", header));
    }
    if (tag == etag) match = true;
  }
  return match;
}

// The expected version from the body/query and If-Match, which must agree.
Result<std::optional<int64_t>> ExpectedVersion(const Request& req, std::optional<int64_t> given) {
  auto header = IfMatchVersion(req);
  if (!header) return header.status();
  if (given && *header && *given != **header) {
    return Status::InvalidRequest("expected_version and If-Match disagree");
  }
  return given ? given : *header;
}

void WriteEntryOrNull(json::Writer& w, const std::shared_ptr<const std::string>& entry) {
  entry ? w.Raw(*entry) : w.Null();
}

Response WithETag(Response r, int64_t version) {
  r.headers.emplace_back("ETag", ETagOf(version));
  return r;
}

// {"revision","changed","entry"}: the answer to a single PUT or DELETE.
std::string RenderSingleWrite(const CommandResult& r) {
  json::Writer w;
  w.BeginObject().Field("revision", r.revision).Field("changed", r.changed).Key("entry");
  WriteEntryOrNull(w, r.results[0].entry);
  w.EndObject();
  return w.Take();
}

}  // namespace

Response Api::GetKey(const Request& req, const std::string& key) {
  if (Status s = ValidateKey(key); !s.ok()) return ErrorResponse(s);
  if (Status s = CheckKeyAccess(req, key); !s.ok()) return ErrorResponse(s);
  std::optional<int64_t> at;
  if (req.Query("at_revision") || req.Query("at_time")) {
    auto r = ReadRevision(req, "at_revision", "at_time");
    if (!r) return ErrorResponse(r.status());
    at = *r;
  }
  auto v = projection_->Get(key, at);
  if (!v) return ErrorResponse(v.status());
  // A conditional GET (a cache, the console): the version is the ETag.
  if (const std::string* none_match = req.Header("if-none-match")) {
    auto matches = NoneMatchMatches(*none_match, v->version);
    if (!matches) return ErrorResponse(matches.status());
    if (*matches) {
      Response not_modified{304, "", "application/json", {}, nullptr, v->read_at};
      return WithETag(std::move(not_modified), v->version);
    }
  }
  Response r;
  r.shared_body = std::move(v->entry);  // the read model's bytes, not a copy
  r.revision = v->read_at;
  return WithETag(std::move(r), v->version);
}

Response Api::ListKeys(const Request& req) {
  const std::string* prefix = req.Query("prefix");
  std::string p = prefix ? *prefix : "";
  if (Status s = ValidatePrefix(p); !s.ok()) return ErrorResponse(s);
  auto at = ReadRevision(req, "at_revision", "at_time");
  if (!at) return ErrorResponse(at.status());
  auto limit = IntParam(req, "limit", 1, 10000);
  if (!limit) return ErrorResponse(limit.status());
  const std::string* after = req.Query("after");
  ListPage page = projection_->List(req.principal.scope.Within(p), *at, after ? *after : "",
                                    static_cast<size_t>(limit->value_or(1000)));
  json::Writer w;
  w.BeginObject().Field("revision", page.revision).Key("entries").BeginArray();
  for (const auto& e : page.entries) w.Raw(*e);
  w.EndArray();
  if (page.next) w.Field("next", *page.next);
  w.EndObject();
  return ReadAnswer(req, *at, w.Take());
}

net::awaitable<Response> Api::PutKey(const Request& req, const std::string& key) {
  if (Status s = ValidateKey(key); !s.ok()) co_return ErrorResponse(s);
  if (Status s = CheckKeyAccess(req, key); !s.ok()) co_return ErrorResponse(s);
  auto body = JsonObjectBody(req, 1);
  if (!body) co_return ErrorResponse(body.status());
  if (Status s = CheckMembers(*body, {"value", "expected_version", "reason"}, "the body");
      !s.ok()) {
    co_return ErrorResponse(s);
  }
  const json::Value* value = body->Find("value");
  if (!value) co_return ErrorResponse(Status::InvalidRequest("the body needs a \"value\" member"));
  auto text = StorableValue(*value, options_.max_value_bytes, "the value");
  if (!text) co_return ErrorResponse(text.status());
  auto given = OptionalVersionMember(*body, "expected_version");
  if (!given) co_return ErrorResponse(given.status());
  auto expected = ExpectedVersion(req, *given);
  if (!expected) co_return ErrorResponse(expected.status());
  auto reason = OptionalStringMember(*body, "reason");
  if (!reason) co_return ErrorResponse(reason.status());
  // (CheckRequestShape let only "*" through.)
  bool must_be_absent = req.Header("if-none-match") != nullptr;

  Command command = Transaction{{SetKey{key, std::move(*text), *expected, must_be_absent}},
                                MetaFrom(req, std::move(*reason))};
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status.ClearOpIndex());
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  co_return WithETag(JsonResponse(r.created ? 201 : 200, RenderSingleWrite(r)),
                     r.results[0].version);
}

net::awaitable<Response> Api::DeleteKeyRoute(const Request& req, const std::string& key) {
  if (Status s = ValidateKey(key); !s.ok()) co_return ErrorResponse(s);
  if (Status s = CheckKeyAccess(req, key); !s.ok()) co_return ErrorResponse(s);
  auto given = IntParam(req, "expected_version", 0, INT64_MAX);
  if (!given) co_return ErrorResponse(given.status());
  auto expected = ExpectedVersion(req, *given);
  if (!expected) co_return ErrorResponse(expected.status());
  const std::string* reason = req.Query("reason");
  std::optional<std::string> why;
  if (reason) why = *reason;
  Command command = Transaction{{DeleteKey{key, *expected}}, MetaFrom(req, std::move(why))};
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status.ClearOpIndex());
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  co_return JsonResponse(200, RenderSingleWrite(r));
}

Result<Transaction> Api::ParseTxnBody(const Request& req) const {
  auto body = JsonObjectBody(req, 3);
  if (!body) return body.status();
  if (Status s = CheckMembers(*body, {"ops", "reason"}, "the body"); !s.ok()) {
    return s;
  }
  const json::Value* ops = body->Find("ops");
  if (!ops || !ops->is_array()) {
    return Status::InvalidRequest("the body needs an \"ops\" array");
  }
  if (ops->items().size() > kMaxTransactionOps) {
    return Status::TooLarge(fmt::format("a transaction holds at most {} ops, not {}",
                                        kMaxTransactionOps, ops->items().size()));
  }
  auto reason = OptionalStringMember(*body, "reason");
  if (!reason) return reason.status();
  Transaction txn;
  txn.meta = MetaFrom(req, std::move(*reason));
  for (size_t i = 0; i < ops->items().size(); ++i) {
    const json::Value& item = ops->items()[i];
    auto fail = [&](Status s) { return s.WithOpIndex(static_cast<int>(i)); };
    if (!item.is_object()) return fail(Status::InvalidRequest("each op must be an object"));
    const json::Value* op = item.Find("op");
    const json::Value* key = item.Find("key");
    if (!op || !op->is_string()) {
      return fail(Status::InvalidRequest("each op needs \"op\": set, delete or check"));
    }
    if (!key || !key->is_string()) return fail(Status::InvalidRequest("each op needs a \"key\""));
    if (Status s = ValidateKey(key->str()); !s.ok()) return fail(s);
    if (Status s = CheckKeyAccess(req, key->str()); !s.ok()) return fail(s);
    auto expected = OptionalVersionMember(item, "expected_version");
    if (!expected) return fail(expected.status());
    Status members = op->str() == "set"
                         ? CheckMembers(item, {"op", "key", "value", "expected_version", "absent"},
                                        fmt::format("op {}", i))
                         : CheckMembers(item, {"op", "key", "expected_version"},
                                        fmt::format("op {}", i));
    if (!members.ok()) return fail(members);
    if (op->str() == "set") {
      const json::Value* value = item.Find("value");
      if (!value) return fail(Status::InvalidRequest("a set op needs a \"value\""));
      auto text = StorableValue(*value, options_.max_value_bytes, "the value");
      if (!text) return fail(text.status());
      const json::Value* absent = item.Find("absent");
      if (absent && !absent->is_bool() && !absent->is_null()) {
        return fail(Status::InvalidRequest("\"absent\" must be true or false"));
      }
      txn.ops.push_back(
          SetKey{key->str(), std::move(*text), *expected, absent && absent->as_bool()});
    } else if (op->str() == "delete") {
      txn.ops.push_back(DeleteKey{key->str(), *expected});
    } else if (op->str() == "check") {
      if (!*expected) return fail(Status::InvalidRequest("a check op needs \"expected_version\""));
      txn.ops.push_back(CheckKey{key->str(), **expected});
    } else {
      return fail(Status::InvalidRequest(
          fmt::format("unknown op '{}': use set, delete or check", op->str())));
    }
  }
  return txn;
}

net::awaitable<Response> Api::PostTxn(const Request& req) {
  auto txn = ParseTxnBody(req);
  if (!txn) co_return ErrorResponse(txn.status());
  Command command = std::move(*txn);
  CommandResult r = co_await Execute(req, command);
  if (!r.status.ok()) co_return ErrorResponse(r.status);
  if (r.dry_run) co_return DryRunResponse(r, *projection_);
  json::Writer w;
  w.BeginObject().Field("revision", r.revision).Field("changed", r.changed);
  w.Key("results").BeginArray();
  for (const OpResult& op : r.results) {
    w.BeginObject().Field("key", op.key).Field("changed", op.changed).Key("entry");
    WriteEntryOrNull(w, op.entry);
    w.EndObject();
  }
  w.EndArray().EndObject();
  co_return JsonResponse(200, w.Take());
}

}  // namespace chronoconf::http
