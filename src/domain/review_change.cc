#include "domain/review_change.h"

#include <fmt/format.h>

#include "json/json_value.h"
#include "json/json_writer.h"

namespace chronoconf {

std::string ChangeProposedPayload(int64_t id, int64_t base_revision, const std::vector<Op>& ops,
                                  const std::vector<int64_t>& base_versions) {
  json::Writer w;
  w.BeginObject().Field("id", id).Field("base_revision", base_revision).Key("ops").BeginArray();
  for (size_t i = 0; i < ops.size(); ++i) {
    w.BeginObject();
    if (const auto* set = std::get_if<SetKey>(&ops[i])) {
      w.Field("op", "set").Field("key", set->key).RawField("value", set->value);
      if (set->expected_version) w.Field("expected_version", *set->expected_version);
      if (set->must_be_absent) w.Field("absent", true);
    } else if (const auto* del = std::get_if<DeleteKey>(&ops[i])) {
      w.Field("op", "delete").Field("key", del->key);
      if (del->expected_version) w.Field("expected_version", *del->expected_version);
    } else {
      const auto& check = std::get<CheckKey>(ops[i]);
      w.Field("op", "check").Field("key", check.key).Field("expected_version",
                                                             check.expected_version);
    }
    w.Field("base_version", base_versions[i]).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

Result<ProposedChange> ParseChangeProposed(std::string_view payload) {
  auto bad = [](std::string_view why) {
    return Status::Corruption(fmt::format("a ChangeProposed payload {}", why));
  };
  auto doc = json::Parse(payload);
  if (!doc || !doc->is_object()) return bad("is not a JSON object");
  const json::Value* id = doc->Find("id");
  const json::Value* base = doc->Find("base_revision");
  const json::Value* ops = doc->Find("ops");
  if (!id || !id->AsInt64() || !base || !base->AsInt64() || !ops || !ops->is_array()) {
    return bad("lacks id, base_revision or ops");
  }
  ProposedChange out;
  out.id = *id->AsInt64();
  out.base_revision = *base->AsInt64();
  out.ops_json = ops->Minified();
  for (const json::Value& item : ops->items()) {
    const json::Value* op = item.Find("op");
    const json::Value* key = item.Find("key");
    const json::Value* bv = item.Find("base_version");
    if (!op || !op->is_string() || !key || !key->is_string() || !bv || !bv->AsInt64()) {
      return bad("has an op without op, key or base_version");
    }
    std::optional<int64_t> expected;
    if (const json::Value* e = item.Find("expected_version")) expected = e->AsInt64();
    if (op->str() == "set") {
      const json::Value* value = item.Find("value");
      if (!value) return bad("has a set without a value");
      SetKey set{key->str(), value->Minified(), expected, false};
      const json::Value* absent = item.Find("absent");
      set.must_be_absent = absent && absent->as_bool();
      out.ops.emplace_back(std::move(set));
    } else if (op->str() == "delete") {
      out.ops.emplace_back(DeleteKey{key->str(), expected});
    } else if (op->str() == "check" && expected) {
      out.ops.emplace_back(CheckKey{key->str(), *expected});
    } else {
      return bad("has an op that is not set, delete or check");
    }
    out.base_versions.push_back(*bv->AsInt64());
  }
  return out;
}

std::string ChangeReviewPayload(int64_t id) {
  json::Writer w;
  w.BeginObject().Field("id", id).EndObject();
  return w.Take();
}

std::string ChangeAppliedPayload(int64_t id, const std::vector<std::string>& approvers) {
  json::Writer w;
  w.BeginObject().Field("id", id).Key("approvers").BeginArray();
  for (const std::string& a : approvers) w.String(a);
  w.EndArray().EndObject();
  return w.Take();
}

std::string PolicyPayload(std::string_view prefix, std::optional<int64_t> approvals) {
  json::Writer w;
  w.BeginObject().Field("prefix", prefix);
  if (approvals) w.Field("approvals", *approvals);
  w.EndObject();
  return w.Take();
}

}  // namespace chronoconf
