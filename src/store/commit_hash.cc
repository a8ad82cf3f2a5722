#include "store/commit_hash.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/sha256.h"
#include "common/time_format.h"
#include "json/json_writer.h"

namespace chronoconf {
namespace {

void OptionalString(json::Writer& w, std::string_view name, const std::optional<std::string>& s) {
  w.Key(name);
  s ? w.String(*s) : w.Null();
}

void OptionalRaw(json::Writer& w, std::string_view name, const std::optional<std::string>& s) {
  w.Key(name);
  s ? w.Raw(*s) : w.Null();
}

}  // namespace

std::string CommitBytes(const RecordedCommit& c) {
  json::Writer w;
  w.BeginObject()
      .Field("revision", c.revision)
      .Field("timestamp", FormatRfc3339Micros(c.timestamp_us))
      .Field("actor", c.meta.actor);
  OptionalString(w, "reason", c.meta.reason);
  OptionalString(w, "request_id", c.meta.request_id);
  w.Key("events").BeginArray();
  for (size_t i = 0; i < c.events.size(); ++i) {
    const Event& e = c.events[i];
    w.BeginObject()
        .Field("index", static_cast<int64_t>(i))
        .Field("type", EventTypeName(e.type))
        .Field("key", e.key)
        .Field("version", e.version);
    OptionalRaw(w, "value", e.value);
    OptionalRaw(w, "previous_value", e.previous_value);
    if (e.lease) w.Field("lease", *e.lease);  // only when present: old chains stay valid
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

// Fed in two pieces: the commit's bytes are built once and not copied again.
std::string ComputeCommitHash(const RecordedCommit& commit) {
  Sha256Stream digest;
  digest.Update(FromHex(commit.prev_hash));
  digest.Update(CommitBytes(commit));
  return ToHex(digest.Finish());
}

RecordedCommit SealCommit(const CommitData& data, int64_t revision, int64_t now_us,
                          int64_t prev_time_us, const std::string& prev_hash) {
  RecordedCommit c;
  c.revision = revision;
  c.timestamp_us = std::max(now_us, prev_time_us);
  c.meta = data.meta;
  c.events = data.events;
  c.prev_hash = prev_hash;
  c.hash = ComputeCommitHash(c);
  return c;
}

Status CheckRecordedCommit(const RecordedCommit& c, int64_t head_revision,
                           const std::string& head_hash, int64_t head_time_us) {
  if (c.revision != head_revision + 1 || c.prev_hash != head_hash) {
    return Status(Code::kConflict,
                  fmt::format("commit {} does not follow the head (revision {}, hash {})",
                              c.revision, head_revision, head_hash));
  }
  if (c.timestamp_us < head_time_us) {
    return Status::Corruption(fmt::format("commit {} goes back in time", c.revision));
  }
  if (c.hash != ComputeCommitHash(c)) {
    return Status::Corruption(fmt::format("commit {}: its hash does not recompute", c.revision));
  }
  return Status::OK();
}

Status CheckExpectedHead(const CommitData& commit, int64_t head) {
  if (!commit.expected_head || *commit.expected_head == head) return Status::OK();
  return Status(Code::kConflict,
                fmt::format("decided at revision {}, but the store is at {}: decide again",
                            *commit.expected_head, head));
}

}  // namespace chronoconf
