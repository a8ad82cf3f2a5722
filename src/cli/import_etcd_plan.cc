#include "cli/import_etcd_plan.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "domain/etcd_value.h"
#include "domain/key.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "json/json_writer.h"

namespace chronoconf::cli {

namespace {

// What a key or value costs in a request body: its base64 (the gateway)
// or JSON text (the import), plus room for the JSON around it.
size_t BodyCost(std::string_view key, std::string_view value) {
  return (key.size() + value.size()) * 4 / 3 + 64;
}

// The problems of one key and, for a put, its value.
void Check(std::string_view key, const std::string* value, int64_t revision,
           std::vector<std::string>* out) {
  if (Status s = ValidateKey(key); !s.ok()) {
    out->push_back(fmt::format("key \"{}\" (etcd revision {}): {}", ShowBytes(key), revision,
                               s.message()));
    return;
  }
  if (value != nullptr && !json::IsValidUtf8(*value)) {
    out->push_back(fmt::format(
        "key \"{}\" (etcd revision {}): its value is not valid UTF-8 (chronoconf stores text)",
        ShowBytes(key), revision));
  }
}

}  // namespace

std::string ShowBytes(std::string_view bytes) {
  const bool utf8 = json::IsValidUtf8(bytes);
  std::string out;
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f || (!utf8 && b >= 0x80)) {
      out += fmt::format("\\x{:02x}", b);
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> FindUnimportable(const std::vector<EtcdKeyValue>& base,
                                          int64_t base_revision,
                                          const std::vector<EtcdRevision>& revisions) {
  std::vector<std::string> problems;
  for (const EtcdKeyValue& kv : base) Check(kv.key, &kv.value, base_revision, &problems);
  for (const EtcdRevision& r : revisions) {
    for (const EtcdChange& c : r.changes) {
      Check(c.key, c.deleted ? nullptr : &c.value, r.revision, &problems);
    }
  }
  return problems;
}

void KeepLastChangePerKey(EtcdRevision* revision) {
  std::map<std::string_view, size_t> last;
  for (size_t i = 0; i < revision->changes.size(); ++i) last[revision->changes[i].key] = i;
  if (last.size() == revision->changes.size()) return;
  std::vector<EtcdChange> kept;
  for (size_t i = 0; i < revision->changes.size(); ++i) {
    if (last[revision->changes[i].key] == i) kept.push_back(revision->changes[i]);
  }
  revision->changes = std::move(kept);
}

std::vector<std::vector<EtcdKeyValue>> SplitKeys(const std::vector<EtcdKeyValue>& keys) {
  std::vector<std::vector<EtcdKeyValue>> parts;
  size_t bytes = 0;
  for (const EtcdKeyValue& kv : keys) {
    const size_t cost = BodyCost(kv.key, kv.value);
    if (parts.empty() || (!parts.back().empty() && bytes + cost > kMaxPartBytes)) {
      parts.emplace_back();
      bytes = 0;
    }
    parts.back().push_back(kv);
    bytes += cost;
  }
  return parts;
}

std::vector<std::vector<EtcdChange>> SplitChanges(const std::vector<EtcdChange>& changes) {
  std::vector<std::vector<EtcdChange>> parts;
  size_t bytes = 0;
  for (const EtcdChange& c : changes) {
    const size_t cost = BodyCost(c.key, c.value);
    if (parts.empty() || parts.back().size() == kMaxOpsPerTxn ||
        (!parts.back().empty() && bytes + cost > kMaxPartBytes)) {
      parts.emplace_back();
      bytes = 0;
    }
    parts.back().push_back(c);
    bytes += cost;
  }
  return parts;
}

std::string ImportBody(const std::vector<EtcdKeyValue>& keys, std::string_view prefix,
                       std::string_view reason) {
  json::Writer w;
  w.BeginObject().Key("values").BeginObject();
  for (const EtcdKeyValue& kv : keys) {
    // SPEC §7's mapping, as the etcd API stores a Put: a minified JSON object
    // or array stays JSON, any other text becomes a JSON string.
    std::optional<std::string> stored = StoredValueFromEtcd(kv.value);
    w.Key(kv.key).Raw(stored ? *stored : std::string("null"));
  }
  w.EndObject().Field("mode", "merge");
  if (!prefix.empty()) w.Field("prefix", prefix);
  w.Field("reason", reason).EndObject();
  return w.Take();
}

std::string TxnBody(const std::vector<EtcdChange>& changes) {
  etcdserverpb::TxnRequest txn;
  for (const EtcdChange& c : changes) {
    etcdserverpb::RequestOp* op = txn.add_success();
    if (c.deleted) {
      op->mutable_request_delete_range()->set_key(c.key);
    } else {
      etcdserverpb::PutRequest* put = op->mutable_request_put();
      put->set_key(c.key);
      put->set_value(c.value);
    }
  }
  std::string out;
  // Bytes fields are base64, so the message has no text that could fail.
  (void)google::protobuf::util::MessageToJsonString(txn, &out);
  return out;
}

std::string PartReason(std::string_view base, size_t i, size_t n) {
  if (n <= 1) return std::string(base);
  return fmt::format("{} (part {} of {})", base, i, n);
}

}  // namespace chronoconf::cli
