#include "projection/projection.h"

#include <algorithm>
#include <mutex>

#include <fmt/format.h>

#include "common/time_format.h"
#include "json/json_writer.h"

namespace chronoconf {
namespace {

// The last version with revision <= at, or nullptr.
const KeyVersion* FindVersion(const std::vector<KeyVersion>& versions, int64_t at) {
  auto it = std::upper_bound(versions.begin(), versions.end(), at,
                             [](int64_t r, const KeyVersion& v) { return r < v.revision; });
  return it == versions.begin() ? nullptr : &*std::prev(it);
}

}  // namespace

std::string RenderEntry(const std::string& key, std::string_view value, int64_t version,
                        int64_t created_revision, const RecordedCommit& commit,
                        size_t* value_pos) {
  json::Writer w;
  w.BeginObject().Field("key", key).Key("value");
  *value_pos = w.str().size();
  w.Raw(value)
      .Field("version", version)
      .Field("created_revision", created_revision)
      .Field("modified_revision", commit.revision)
      .Field("modified_at", FormatRfc3339Micros(commit.timestamp_us))
      .Field("modified_by", commit.meta.actor)
      .EndObject();
  return w.Take();
}

Status Projection::Apply(RecordedCommit commit) {
  const int64_t revision = commit.revision;
  {
    WriterLock lock(&mu_);
    const int64_t h = head();
    if (revision <= h) return Status::OK();  // a duplicate delivery
    if (revision != h + 1) {
      return Status::Corruption(fmt::format(
          "commit {} cannot follow the read model's head {}: revisions {}..{} are missing",
          revision, h, h + 1, revision - 1));
    }
    auto ptr = std::make_shared<const RecordedCommit>(std::move(commit));
    for (size_t i = 0; i < ptr->events.size(); ++i) {
      const Event& e = ptr->events[i];
      auto& versions = keys_[e.key];
      const KeyVersion* prev = versions.empty() ? nullptr : &versions.back();
      bool existed = prev && !prev->deleted;
      KeyVersion v;
      v.revision = revision;
      v.version = e.version;
      v.deleted = e.type == EventType::kConfigDeleted;
      v.commit = ptr;
      v.index = i;
      if (v.deleted) {
        // A delete keeps the entry it removed: DELETE answers with it.
        if (prev) {
          v.created_revision = prev->created_revision;
          v.entry = prev->entry;
          v.value_pos = prev->value_pos;
          v.value_len = prev->value_len;
        }
        if (existed) --live_keys_;
      } else {
        v.created_revision = existed ? prev->created_revision : revision;
        if (!existed) ++live_keys_;
        std::string_view value = e.value ? std::string_view(*e.value) : "null";
        v.entry = std::make_shared<const std::string>(
            RenderEntry(e.key, value, e.version, v.created_revision, *ptr, &v.value_pos));
        v.value_len = value.size();
      }
      versions.push_back(std::move(v));
      ++events_;
    }
    commits_.push_back(std::move(ptr));
    head_.store(revision, std::memory_order_release);
  }
  feed_.Publish(revision);
  return Status::OK();
}

ProjectionStats Projection::Stats() const {
  ReaderLock lock(&mu_);
  ProjectionStats s;
  s.revision = head();
  s.keys = live_keys_;
  s.events = events_;
  if (!commits_.empty()) {
    s.head_hash = commits_.back()->hash;
    s.head_time_us = commits_.back()->timestamp_us;
  }
  return s;
}

Result<int64_t> Projection::Resolve(std::optional<int64_t> at_revision,
                                    std::optional<int64_t> at_time_us) const {
  int64_t h = head();
  if (at_revision) {
    if (*at_revision < 0) return Status::InvalidRequest("a revision is never negative");
    if (*at_revision > h) {
      return Status::FutureRevision(
          fmt::format("revision {} is above the head revision {}", *at_revision, h));
    }
    return *at_revision;
  }
  if (at_time_us) {
    ReaderLock lock(&mu_);
    auto it = std::upper_bound(commits_.begin(), commits_.end(), *at_time_us,
                               [](int64_t t, const CommitPtr& c) { return t < c->timestamp_us; });
    return static_cast<int64_t>(it - commits_.begin());
  }
  return h;
}

Result<KeyVersion> Projection::Get(std::string_view key, std::optional<int64_t> at) const {
  ReaderLock lock(&mu_);
  auto it = keys_.find(key);
  const KeyVersion* v = nullptr;
  if (it != keys_.end()) v = at ? FindVersion(it->second, *at) : &it->second.back();
  if (!v || v->deleted) {
    return Status::NotFound(at ? fmt::format("key '{}' does not exist at revision {}", key, *at)
                               : fmt::format("key '{}' does not exist", key));
  }
  return *v;
}

std::optional<KeyVersion> Projection::VersionAt(std::string_view key, int64_t at) const {
  ReaderLock lock(&mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  const KeyVersion* v = FindVersion(it->second, at);
  if (!v) return std::nullopt;
  return *v;
}

KeyState Projection::State(std::string_view key) const {
  ReaderLock lock(&mu_);
  KeyState s;
  auto it = keys_.find(key);
  if (it == keys_.end()) return s;
  const KeyVersion& v = it->second.back();
  s.version = v.version;
  s.exists = !v.deleted;
  if (s.exists) s.value = std::string(v.value());
  return s;
}

ListPage Projection::List(std::string_view prefix, int64_t at, std::string_view after,
                          size_t limit) const {
  return List(std::vector<std::string>{std::string(prefix)}, at, after, limit);
}

ListPage Projection::List(const std::vector<std::string>& prefixes, int64_t at,
                          std::string_view after, size_t limit) const {
  ReaderLock lock(&mu_);
  ListPage page;
  page.revision = at;
  std::string_view last;
  for (const std::string& prefix : prefixes) {
    auto it = after < prefix ? keys_.lower_bound(prefix) : keys_.upper_bound(after);
    for (; it != keys_.end() && it->first.starts_with(prefix); ++it) {
      const KeyVersion* v = FindVersion(it->second, at);
      if (!v || v->deleted) continue;
      if (page.entries.size() == limit) {
        page.next = std::string(last);
        return page;
      }
      page.entries.push_back(v->entry);
      last = it->first;
    }
  }
  return page;
}

std::vector<KeyVersion> Projection::Snapshot(std::string_view prefix, int64_t at) const {
  return Snapshot(std::vector<std::string>{std::string(prefix)}, at);
}

std::vector<KeyVersion> Projection::Snapshot(const std::vector<std::string>& prefixes,
                                             int64_t at) const {
  ReaderLock lock(&mu_);
  std::vector<KeyVersion> out;
  for (const std::string& prefix : prefixes) {
    for (auto it = keys_.lower_bound(prefix); it != keys_.end() && it->first.starts_with(prefix);
         ++it) {
      const KeyVersion* v = FindVersion(it->second, at);
      if (v && !v->deleted) out.push_back(*v);
    }
  }
  return out;
}

std::pair<int64_t, int64_t> Projection::CountUnder(const std::vector<std::string>& prefixes) const {
  ReaderLock lock(&mu_);
  int64_t keys = 0, events = 0;
  for (const std::string& prefix : prefixes) {
    for (auto it = keys_.lower_bound(prefix); it != keys_.end() && it->first.starts_with(prefix);
         ++it) {
      if (!it->second.back().deleted) ++keys;
      events += static_cast<int64_t>(it->second.size());
    }
  }
  return {keys, events};
}

Result<std::vector<EventRef>> Projection::History(std::string_view key, int64_t before,
                                                  size_t limit) const {
  ReaderLock lock(&mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    return Status::NotFound(fmt::format("key '{}' was never written", key));
  }
  std::vector<EventRef> out;
  const auto& versions = it->second;
  const KeyVersion* v = FindVersion(versions, before - 1);
  for (auto i = v ? v - versions.data() + 1 : 0; i > 0 && out.size() < limit; --i) {
    const KeyVersion& kv = versions[static_cast<size_t>(i - 1)];
    out.push_back({kv.commit, kv.index});
  }
  return out;
}

std::vector<CommitPtr> Projection::Commits(int64_t after, size_t limit) const {
  ReaderLock lock(&mu_);
  std::vector<CommitPtr> out;
  for (size_t i = static_cast<size_t>(std::max<int64_t>(after, 0));
       i < commits_.size() && out.size() < limit; ++i) {
    out.push_back(commits_[i]);
  }
  return out;
}

CommitPtr Projection::Commit(int64_t revision) const {
  ReaderLock lock(&mu_);
  if (revision < 1 || revision > static_cast<int64_t>(commits_.size())) return nullptr;
  return commits_[static_cast<size_t>(revision - 1)];
}

}  // namespace chronoconf
