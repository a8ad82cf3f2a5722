#include "projection/projection.h"

#include <algorithm>
#include <limits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "common/sha256.h"
#include "common/time_format.h"
#include "domain/system_stream.h"
#include "json/json_value.h"
#include "json/json_writer.h"

namespace chronoconf {

namespace {

// Hex digit values; -1 for anything but 0-9 a-f.
constexpr std::array<int8_t, 256> kNibble = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(i);
  for (int i = 0; i < 6; ++i) t['a' + i] = static_cast<int8_t>(10 + i);
  return t;
}();

// 64 lowercase hex digits into 32 bytes; false for anything else.
bool DecodeHash(std::string_view hex, std::array<uint8_t, 32>* out) {
  if (hex.size() != 64) return false;
  int bad = 0;
  for (size_t i = 0; i < 32; ++i) {
    const int hi = kNibble[static_cast<uint8_t>(hex[2 * i])];
    const int lo = kNibble[static_cast<uint8_t>(hex[2 * i + 1])];
    bad |= hi | lo;  // negative when either is not a digit
    (*out)[i] = static_cast<uint8_t>((hi << 4) | (lo & 0xf));
  }
  return bad >= 0;
}

}  // namespace

std::string RenderEntry(std::string_view key, std::string_view value, int64_t version,
                        int64_t created_revision, int64_t modified_revision,
                        int64_t modified_at_us, std::string_view modified_by, size_t* value_pos,
                        int64_t lease) {
  json::Writer w;
  w.BeginObject().Field("key", key).Key("value");
  *value_pos = w.str().size();
  w.Raw(value)
      .Field("version", version)
      .Field("created_revision", created_revision)
      .Field("modified_revision", modified_revision)
      .Field("modified_at", FormatRfc3339Micros(modified_at_us))
      .Field("modified_by", modified_by);
  if (lease != 0) w.Field("lease", lease);  // only with an etcd lease
  w.EndObject();
  return w.Take();
}

// ---------------------------------------------------------------- applying

// An entry rendered for a key's last set in a batch.
struct Projection::Planned {
  std::string_view key;  // into the batch's commits
  std::shared_ptr<const std::string> entry;
  size_t value_pos = 0;
};

Status Projection::Apply(RecordedCommit commit) {
  std::vector<RecordedCommit> one;
  one.push_back(std::move(commit));
  return Apply(std::move(one));
}

Status Projection::Apply(std::vector<RecordedCommit> commits, Publish publish) {
  // Only the applier changes the rows, so what is read under the shared lock
  // still holds when the exclusive one is taken.
  const int64_t h = head();
  size_t first = 0;
  while (first < commits.size() && commits[first].revision <= h) ++first;  // duplicates
  size_t end = first;
  Status gap;
  for (int64_t next = h + 1; end < commits.size(); ++end, ++next) {
    if (commits[end].revision != next) {
      gap = Status::Corruption(fmt::format(
          "commit {} cannot follow the read model's head {}: revisions {}..{} are missing",
          commits[end].revision, next - 1, next, commits[end].revision - 1));
      break;
    }
  }
  if (first == end) return gap;

  std::vector<std::array<uint8_t, 32>> hashes(end - first);
  for (size_t ci = first; ci < end; ++ci) {
    if (!DecodeHash(commits[ci].hash, &hashes[ci - first])) {
      return Status::Corruption(fmt::format("commit {} has no valid hash", commits[ci].revision));
    }
  }
  const bool bulk = bulk_loading_.load();

  // 1. Under the shared lock (GETs go on): each key's entry after its last
  //    set in the batch. (Not while bulk loading: heads are rendered once,
  //    at the end.)
  std::vector<Planned> rendered;
  {
    ReaderLock lock(&mu_);
    if (Status s = CheckRoom(commits, first); !s.ok()) return s;
    if (!bulk) rendered = RenderLastSets(commits, first, end);
  }

  // 2. Under the exclusive lock: append the rows, install the entries,
  //    publish the head. Nothing here renders or parses.
  {
    WriterLock lock(&mu_);
    if (head() != h) return Status::Internal("the read model has two appliers");
    for (size_t ci = first; ci < end; ++ci) AppendRows(commits[ci], hashes[ci - first]);
    for (Planned& p : rendered) {
      KeyIndex& k = keys_.find(p.key)->second;
      k.head_entry = std::move(p.entry);
      k.head_value_pos = p.value_pos;
    }
    for (size_t ci = first; ci < end && !bulk; ++ci) {
      if (commits[ci].events.size() <= 16) {
        Remember(std::make_shared<const RecordedCommit>(std::move(commits[ci])));
      }
    }
    head_.store(commits[end - 1].revision, std::memory_order_release);
  }
  if (publish == Publish::kNow) feed_.Publish(commits[end - 1].revision);
  return gap;
}

std::vector<Projection::Planned> Projection::RenderLastSets(
    const std::vector<RecordedCommit>& commits, size_t first, size_t end) const {
  // The created revision of every event, following each key through the
  // batch from its state in the read model.
  struct KeyPlan {
    int64_t created_revision = 0;  // 0: the key does not exist
    size_t commit = 0, event = 0;  // its last set in the batch
    bool set_in_batch = false;
  };
  std::unordered_map<std::string_view, KeyPlan> plan;
  std::vector<int64_t> created;  // per event of the batch, in order
  for (size_t ci = first; ci < end; ++ci) {
    const RecordedCommit& c = commits[ci];
    for (size_t ei = 0; ei < c.events.size(); ++ei) {
      const Event& e = c.events[ei];
      auto [it, fresh] = plan.try_emplace(e.key);
      KeyPlan& p = it->second;
      if (fresh) {
        if (const KeyIndex* k = FindKey(e.key)) {
          const EventRow& last = events_[k->events.back()];
          p.created_revision = last.deleted() ? 0 : last.created_revision;
        }
      }
      if (EndsStream(e.type)) {
        created.push_back(p.created_revision);
        p.created_revision = 0;
      } else {
        if (p.created_revision == 0) p.created_revision = c.revision;
        created.push_back(p.created_revision);
        p.commit = ci;
        p.event = ei;
        p.set_in_batch = true;
      }
    }
  }
  std::vector<Planned> rendered;
  rendered.reserve(plan.size());
  size_t n = 0;
  for (size_t ci = first; ci < end; ++ci) {
    const RecordedCommit& c = commits[ci];
    for (size_t ei = 0; ei < c.events.size(); ++ei, ++n) {
      const Event& e = c.events[ei];
      const KeyPlan& p = plan.at(e.key);
      if (!p.set_in_batch || p.commit != ci || p.event != ei) continue;
      Planned out{e.key, nullptr, 0};
      out.entry = std::make_shared<const std::string>(
          RenderEntry(e.key, e.value ? std::string_view(*e.value) : "null", e.version, created[n],
                      c.revision, c.timestamp_us, c.meta.actor, &out.value_pos,
                      e.lease.value_or(0)));
      rendered.push_back(std::move(out));
    }
  }
  return rendered;
}

Status Projection::CheckRoom(const std::vector<RecordedCommit>& commits, size_t first) const {
  size_t events = 0;
  for (size_t i = first; i < commits.size(); ++i) events += commits[i].events.size();
  if (events_.size() + events >= std::min<size_t>(events_.max_size(), kNoEvent) ||
      commits_.size() + commits.size() >= commits_.max_size()) {
    return Status::Internal("the read model is full: it holds at most 4,294,967,294 events");
  }
  return Status::OK();
}

void Projection::AppendRows(const RecordedCommit& c, const std::array<uint8_t, 32>& hash) {
  CommitRow row;
  row.timestamp_us = c.timestamp_us;
  row.first_event = events_.size();
  row.hash = hash;
  if (c.meta.reason) {
    std::string_view t = text_.Add(*c.meta.reason);
    row.reason = {t.data() ? t.data() : "", static_cast<uint32_t>(t.size())};
  }
  if (c.meta.request_id) {
    std::string_view t = text_.Add(*c.meta.request_id);
    row.request_id = {t.data() ? t.data() : "", static_cast<uint32_t>(t.size())};
  }
  row.actor = InternActor(c.meta.actor);
  commits_.push_back(row);
  if (actor_commits_.size() <= row.actor) actor_commits_.resize(row.actor + 1);
  actor_commits_[row.actor].push_back(c.revision);

  for (const Event& e : c.events) {
    KeyIndex& k = InternKey(e.key);
    EventRow ev;
    ev.revision = c.revision;
    ev.version = e.version;
    ev.key = k.id;
    const EventRow* prev = k.events.empty() ? nullptr : &events_[k.events.back()];
    ev.prev_same_key = k.events.empty() ? kNoEvent : k.events.back();
    const bool existed = prev && !prev->deleted();
    const bool config = !IsSystemStream(e.key);
    ev.type = e.type;
    ev.lease = e.lease.value_or(0);
    if (EndsStream(e.type)) {
      ev.created_revision = prev ? prev->created_revision : 0;
    } else {
      ev.created_revision = existed ? prev->created_revision : c.revision;
    }
    if (config) TrackLive(k, existed, !EndsStream(e.type));
    if (e.value || !EndsStream(e.type)) {  // a lease's end keeps its payload
      std::string_view value = text_.Add(e.value ? std::string_view(*e.value) : "null");
      ev.value = value.data() ? value.data() : "";
      ev.value_len = static_cast<uint32_t>(value.size());
    }
    TrackLease(ev, prev, row.actor);
    TrackSchema(ev, row.actor);
    TrackReview(ev, row);
    k.events.push_back(static_cast<uint32_t>(events_.size()));
    events_.push_back(ev);
    k.head_entry.reset();  // Apply installs the new one (bulk: SetBulkLoading)
  }
}

void Projection::SetBulkLoading(bool on) {
  if (on) {
    bulk_loading_.store(true);
    return;
  }
  WriterLock lock(&mu_);
  bulk_loading_.store(false);
  RenderAllHeads();
}

uint32_t Projection::InternActor(std::string_view actor) {
  auto it = actor_ids_.find(actor);
  if (it != actor_ids_.end()) return it->second;
  std::string_view stored = text_.Add(actor);
  auto id = static_cast<uint32_t>(actor_names_.size());
  actor_names_.push_back(stored);
  actor_ids_.emplace(stored, id);
  return id;
}

Projection::KeyIndex& Projection::InternKey(std::string_view key) {
  auto it = keys_.find(key);
  if (it != keys_.end()) return it->second;
  std::string_view stored = text_.Add(key);
  KeyIndex k;
  k.id = static_cast<uint32_t>(key_names_.size());
  key_names_.push_back(stored);
  KeyIndex& out = keys_.emplace(stored, std::move(k)).first->second;
  key_by_id_.push_back(&out);
  return out;
}

void Projection::Remember(CommitPtr c) {
  if (recent_.empty()) recent_.resize(kRecent);
  recent_[static_cast<size_t>(c->revision) % kRecent] = std::move(c);
}

// ---------------------------------------------------------------- reading

const Projection::KeyIndex* Projection::FindKey(std::string_view key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? nullptr : &it->second;
}

void Projection::TrackLive(const KeyIndex& k, bool existed, bool exists) {
  if (exists && !existed) live_.emplace(key_names_[k.id], &k);
  if (existed && !exists) live_.erase(key_names_[k.id]);
}

uint32_t Projection::EventAt(const KeyIndex& k, int64_t at) const {
  auto it = std::upper_bound(k.events.begin(), k.events.end(), at,
                             [this](int64_t r, uint32_t e) { return r < events_[e].revision; });
  return it == k.events.begin() ? kNoEvent : *std::prev(it);
}

std::shared_ptr<const std::string> Projection::RenderEvent(uint32_t event, size_t* value_pos) const {
  const EventRow& e = events_[event];
  const CommitRow& c = commits_[static_cast<size_t>(e.revision - 1)];
  return std::make_shared<const std::string>(
      RenderEntry(key_names_[e.key], std::string_view(e.value, e.value_len), e.version,
                  e.created_revision, e.revision, c.timestamp_us, actor_names_[c.actor],
                  value_pos, e.lease));
}

KeyVersion Projection::VersionOf(const KeyIndex& k, uint32_t event, Text text) const {
  const EventRow& e = events_[event];
  KeyVersion v;
  v.key = key_names_[e.key];
  v.revision = e.revision;
  v.version = e.version;
  v.deleted = e.deleted();
  v.created_revision = e.created_revision;
  v.lease = e.deleted() ? 0 : e.lease;
  // The life's first event: one event per key per revision, so a binary
  // search by revision finds it.
  auto first = std::lower_bound(
      k.events.begin(), k.events.end(), e.created_revision,
      [this](uint32_t ev, int64_t r) { return events_[ev].revision < r; });
  v.created_version = first != k.events.end() ? events_[*first].version : e.version;
  // A delete shows the entry it removed: the key's last set before it.
  uint32_t shown = event;
  while (shown != kNoEvent && events_[shown].deleted()) shown = events_[shown].prev_same_key;
  if (text == Text::kValueOnly) {
    const EventRow& set = events_[shown == kNoEvent ? event : shown];
    v.value_data = set.value ? set.value : "";
    v.value_len = set.value ? set.value_len : 0;
    return v;
  }
  if (shown == kNoEvent) {
    v.entry = std::make_shared<const std::string>();
    return v;
  }
  v.value_len = events_[shown].value_len;
  const uint32_t head_shown = [&] {
    uint32_t h = k.events.back();
    while (h != kNoEvent && events_[h].deleted()) h = events_[h].prev_same_key;
    return h;
  }();
  if (shown == head_shown && k.head_entry) {
    v.entry = k.head_entry;
    v.value_pos = k.head_value_pos;
  } else {
    v.entry = RenderEvent(shown, &v.value_pos);
  }
  return v;
}

CommitPtr Projection::Materialize(int64_t revision) const {
  if (!recent_.empty()) {
    const CommitPtr& cached = recent_[static_cast<size_t>(revision) % kRecent];
    if (cached && cached->revision == revision) return cached;
  }
  const size_t i = static_cast<size_t>(revision - 1);
  const uint64_t end = i + 1 < commits_.size() ? commits_[i + 1].first_event : events_.size();
  return MaterializeEvents(revision, commits_[i].first_event, end);
}

CommitPtr Projection::MaterializeEvents(int64_t revision, uint64_t first, uint64_t end) const {
  const CommitRow& row = commits_[static_cast<size_t>(revision - 1)];
  auto c = std::make_shared<RecordedCommit>();
  c->revision = revision;
  c->timestamp_us = row.timestamp_us;
  c->meta.actor = std::string(actor_names_[row.actor]);
  c->meta.reason = row.reason.Get();
  c->meta.request_id = row.request_id.Get();
  c->prev_hash = HashHex(revision - 1);
  c->hash = HashHex(revision);
  for (uint64_t n = first; n < end; ++n) {
    const EventRow& e = events_[n];
    Event out;
    out.type = e.type;
    out.key = std::string(key_names_[e.key]);
    out.version = e.version;
    if (e.value) out.value = std::string(e.value, e.value_len);
    if (e.lease != 0) out.lease = e.lease;
    if (e.prev_same_key != kNoEvent) {
      const EventRow& p = events_[e.prev_same_key];
      if (!p.deleted()) out.previous_value = std::string(p.value, p.value_len);
    }
    c->events.push_back(std::move(out));
  }
  return c;
}

std::string Projection::HashHex(int64_t revision) const {
  if (revision < 1) return kZeroHash;
  const auto& h = commits_[static_cast<size_t>(revision - 1)].hash;
  return ToHex(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

ProjectionStats Projection::Stats() const {
  ReaderLock lock(&mu_);
  ProjectionStats s;
  s.revision = static_cast<int64_t>(commits_.size());
  s.keys = static_cast<int64_t>(live_.size());
  s.events = static_cast<int64_t>(events_.size());
  if (!commits_.empty()) {
    s.head_hash = HashHex(s.revision);
    s.head_time_us = commits_.back().timestamp_us;
  }
  s.bytes = static_cast<int64_t>(commits_.bytes() + events_.bytes() + text_.bytes() +
                                 key_names_.bytes() + actor_names_.bytes() +
                                 events_.size() * sizeof(uint32_t));
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
    // The number of commits at or before the time (times never decrease).
    size_t lo = 0, hi = commits_.size();
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (commits_[mid].timestamp_us <= *at_time_us) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return static_cast<int64_t>(lo);
  }
  return h;
}

Result<KeyVersion> Projection::Get(std::string_view key, std::optional<int64_t> at,
                                   Text text) const {
  ReaderLock lock(&mu_);
  const KeyIndex* k = FindKey(key);
  uint32_t e = kNoEvent;
  if (k) e = at ? EventAt(*k, *at) : k->events.back();
  if (e == kNoEvent || events_[e].deleted()) {
    return Status::NotFound(at ? fmt::format("key '{}' does not exist at revision {}", key, *at)
                               : fmt::format("key '{}' does not exist", key));
  }
  KeyVersion v = VersionOf(*k, e, text);
  v.read_at = head();
  return v;
}

std::optional<KeyVersion> Projection::VersionAt(std::string_view key, int64_t at,
                                                Text text) const {
  ReaderLock lock(&mu_);
  const KeyIndex* k = FindKey(key);
  if (!k) return std::nullopt;
  uint32_t e = EventAt(*k, at);
  if (e == kNoEvent) return std::nullopt;
  return VersionOf(*k, e, text);
}

KeyState Projection::State(std::string_view key) const {
  return State(key, std::numeric_limits<int64_t>::max());
}

KeyState Projection::State(std::string_view key, int64_t at) const {
  ReaderLock lock(&mu_);
  KeyState s;
  const KeyIndex* k = FindKey(key);
  if (!k) return s;
  const uint32_t event = EventAt(*k, at);
  if (event == kNoEvent) return s;
  const EventRow& e = events_[event];
  s.version = e.version;
  s.exists = !e.deleted();
  if (s.exists) s.value = std::string(e.value, e.value_len);
  if (s.exists && e.lease != 0) s.lease = e.lease;
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
  if (at >= static_cast<int64_t>(commits_.size())) {  // the head: its live keys only
    for (const std::string& prefix : prefixes) {
      auto it = after < prefix ? live_.lower_bound(prefix) : live_.upper_bound(after);
      for (; it != live_.end() && it->first.starts_with(prefix); ++it) {
        if (page.entries.size() == limit) {
          page.next = std::string(last);
          return page;
        }
        page.entries.push_back(VersionOf(*it->second, it->second->events.back()).entry);
        last = it->first;
      }
    }
    return page;
  }
  for (const std::string& prefix : prefixes) {
    auto it = after < prefix ? keys_.lower_bound(prefix) : keys_.upper_bound(after);
    for (; it != keys_.end() && it->first.starts_with(prefix); ++it) {
      if (IsSystemStream(it->first)) continue;
      uint32_t e = EventAt(it->second, at);
      if (e == kNoEvent || events_[e].deleted()) continue;
      if (page.entries.size() == limit) {
        page.next = std::string(last);
        return page;
      }
      page.entries.push_back(VersionOf(it->second, e).entry);
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
      if (IsSystemStream(it->first)) continue;
      uint32_t e = EventAt(it->second, at);
      if (e != kNoEvent && !events_[e].deleted()) out.push_back(VersionOf(it->second, e));
    }
  }
  return out;
}

std::vector<KeyVersion> Projection::Range(std::string_view start, std::string_view end,
                                          int64_t at, size_t limit, int64_t* count,
                                          Text text) const {
  ReaderLock lock(&mu_);
  std::vector<KeyVersion> out;
  int64_t n = 0;
  if (at >= static_cast<int64_t>(commits_.size())) {  // the head: its live keys only
    for (auto it = live_.lower_bound(start); it != live_.end() && (end.empty() || it->first < end);
         ++it) {
      ++n;
      if (out.size() < limit) {
        out.push_back(VersionOf(*it->second, it->second->events.back(), text));
      } else if (!count) {
        break;
      }
    }
    if (count) *count = n;
    return out;
  }
  for (auto it = keys_.lower_bound(start); it != keys_.end() && (end.empty() || it->first < end);
       ++it) {
    if (IsSystemStream(it->first)) continue;
    uint32_t e = EventAt(it->second, at);
    if (e == kNoEvent || events_[e].deleted()) continue;
    ++n;
    if (out.size() < limit) {
      out.push_back(VersionOf(it->second, e, text));
    } else if (!count) {
      break;
    }
  }
  if (count) *count = n;
  return out;
}

std::pair<int64_t, int64_t> Projection::CountUnder(const std::vector<std::string>& prefixes) const {
  ReaderLock lock(&mu_);
  int64_t keys = 0, events = 0;
  for (const std::string& prefix : prefixes) {
    for (auto it = keys_.lower_bound(prefix); it != keys_.end() && it->first.starts_with(prefix);
         ++it) {
      if (IsSystemStream(it->first)) continue;
      if (!events_[it->second.events.back()].deleted()) ++keys;
      events += static_cast<int64_t>(it->second.events.size());
    }
  }
  return {keys, events};
}

Result<std::vector<EventRef>> Projection::History(std::string_view key, int64_t before,
                                                  size_t limit) const {
  ReaderLock lock(&mu_);
  const KeyIndex* k = FindKey(key);
  if (!k) return Status::NotFound(fmt::format("key '{}' was never written", key));
  std::vector<EventRef> out;
  auto end = std::lower_bound(k->events.begin(), k->events.end(), before,
                              [this](uint32_t e, int64_t r) { return events_[e].revision < r; });
  for (auto it = end; it != k->events.begin() && out.size() < limit;) {
    --it;
    const EventRow& e = events_[*it];
    const CommitRow& c = commits_[static_cast<size_t>(e.revision - 1)];
    const size_t position = static_cast<size_t>(*it - c.first_event);
    // This key's event alone, not its whole commit (an import of 5,000
    // keys): a page costs what it shows.
    out.push_back({MaterializeEvents(e.revision, *it, *it + 1), 0, position});
  }
  return out;
}

std::vector<CommitPtr> Projection::Commits(int64_t after, size_t limit, size_t max_bytes) const {
  ReaderLock lock(&mu_);
  std::vector<CommitPtr> out;
  size_t bytes = 0;
  for (size_t i = static_cast<size_t>(std::max<int64_t>(after, 0));
       i < commits_.size() && out.size() < limit && bytes < max_bytes; ++i) {
    out.push_back(Materialize(static_cast<int64_t>(i) + 1));
    for (const Event& e : out.back()->events) {
      bytes += e.key.size() + (e.value ? e.value->size() : 0) +
               (e.previous_value ? e.previous_value->size() : 0);
    }
  }
  return out;
}

Projection::KeySpan Projection::SpanOfPrefix(std::string_view prefix) {
  // The first key after every key under the prefix: its last byte below
  // 0xff raised by one, the 0xff bytes after it dropped (none: no end).
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return {std::string(prefix), std::move(end)};
}

int64_t Projection::QuietUntil(const std::vector<KeySpan>& spans, int64_t after,
                               size_t max_keys) const {
  ReaderLock lock(&mu_);
  // What Commits() would return at most, as of now.
  int64_t until = static_cast<int64_t>(commits_.size());
  size_t seen = 0;
  for (const KeySpan& span : spans) {
    for (auto it = keys_.lower_bound(span.start);
         it != keys_.end() && (span.end.empty() || it->first < span.end); ++it) {
      if (until <= after || ++seen > max_keys) return after;
      const std::vector<uint32_t>& events = it->second.events;
      auto next = std::upper_bound(events.begin(), events.end(), after,
                                   [this](int64_t r, uint32_t e) { return r < events_[e].revision; });
      if (next != events.end()) until = std::min(until, events_[*next].revision - 1);
    }
  }
  return std::max(until, after);
}

std::optional<std::vector<std::string_view>> Projection::KeysChangedBetween(
    int64_t a, int64_t b, size_t max_events) const {
  ReaderLock lock(&mu_);
  const int64_t n = static_cast<int64_t>(commits_.size());
  const int64_t lo = std::clamp<int64_t>(std::min(a, b), 0, n);
  const int64_t hi = std::clamp<int64_t>(std::max(a, b), 0, n);
  // Revision r is commits_[r - 1]; its events start at its first_event.
  auto first_event_of = [&](int64_t index) -> uint64_t {
    return index < n ? commits_[static_cast<size_t>(index)].first_event : events_.size();
  };
  const uint64_t first = first_event_of(lo), last = first_event_of(hi);
  if (last - first > max_events) return std::nullopt;
  std::vector<uint32_t> ids;
  ids.reserve(static_cast<size_t>(last - first));
  for (uint64_t e = first; e < last; ++e) ids.push_back(events_[static_cast<size_t>(e)].key);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::string_view> keys;
  for (uint32_t id : ids) {
    if (!IsSystemStream(key_names_[id])) keys.push_back(key_names_[id]);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<int64_t> Projection::RevisionsByActor(std::string_view actor, int64_t after,
                                                  size_t limit) const {
  ReaderLock lock(&mu_);
  auto id = actor_ids_.find(actor);
  if (id == actor_ids_.end() || id->second >= actor_commits_.size()) return {};
  const std::vector<int64_t>& revisions = actor_commits_[id->second];
  auto it = std::upper_bound(revisions.begin(), revisions.end(), after);
  std::vector<int64_t> out;
  for (; it != revisions.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

int64_t Projection::FirstRevisionAtOrAfter(int64_t time_us) const {
  ReaderLock lock(&mu_);
  size_t lo = 0, hi = commits_.size();  // the first commit with time >= time_us
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (commits_[mid].timestamp_us < time_us) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return static_cast<int64_t>(lo) + 1;
}

void Projection::TrackLease(const EventRow& ev, const EventRow* prev, uint32_t actor) {
  const std::string_view name = key_names_[ev.key];
  if (auto id = LeaseIdOf(name)) {
    if (ev.type == EventType::kLeaseGranted) {
      LeaseRow& l = leases_[*id];
      l.grantor = actor;
      l.granted_revision = ev.revision;
      // The payload is {"id":N,"ttl":S}, written by this program.
      std::string_view v(ev.value, ev.value_len);
      if (size_t at = v.find("\"ttl\":"); at != std::string_view::npos) {
        l.ttl = std::strtoll(std::string(v.substr(at + 6)).c_str(), nullptr, 10);
      }
    } else if (EndsStream(ev.type)) {
      leases_.erase(*id);
    }
    return;
  }
  if (prev && !prev->deleted() && prev->lease != 0) {
    if (auto it = leases_.find(prev->lease); it != leases_.end()) it->second.keys.erase(name);
  }
  if (!ev.deleted() && ev.lease != 0) {
    if (auto it = leases_.find(ev.lease); it != leases_.end()) it->second.keys.insert(name);
  }
}

void Projection::TrackSchema(const EventRow& ev, uint32_t actor) {
  if (key_names_[ev.key] != kSchemasStream) return;
  // The payload is {"prefix":P,"schema":S} or {"prefix":P}, written by this program.
  auto payload = json::Parse(std::string_view(ev.value, ev.value_len));
  const json::Value* prefix = payload ? payload->Find("prefix") : nullptr;
  if (!prefix || !prefix->is_string()) return;
  std::shared_ptr<const SchemaInForce> in_force;
  if (ev.type == EventType::kSchemaSet) {
    auto s = std::make_shared<SchemaInForce>();
    s->prefix = prefix->str();
    if (const json::Value* schema = payload->Find("schema")) s->schema = schema->Minified();
    s->revision = ev.revision;
    s->set_by = actor_names_[actor];
    auto compiled = json::CompiledSchema::Compile(s->schema);
    if (compiled) {
      s->compiled = *compiled;
    } else {
      s->compile_error = compiled.status().message();
    }
    in_force = std::move(s);
  }
  schemas_[prefix->str()].emplace_back(ev.revision, std::move(in_force));
}

std::vector<std::shared_ptr<const SchemaInForce>> Projection::Schemas(int64_t at) const {
  ReaderLock lock(&mu_);
  std::vector<std::shared_ptr<const SchemaInForce>> out;
  for (const auto& [prefix, versions] : schemas_) {
    auto it = std::upper_bound(versions.begin(), versions.end(), at,
                               [](int64_t r, const auto& v) { return r < v.first; });
    if (it != versions.begin() && std::prev(it)->second) out.push_back(std::prev(it)->second);
  }
  return out;
}

std::vector<std::shared_ptr<const SchemaInForce>> Projection::SchemasCovering(
    std::string_view key, int64_t at) const {
  std::vector<std::shared_ptr<const SchemaInForce>> out;
  {
    ReaderLock lock(&mu_);
    if (schemas_.empty()) return out;
  }
  for (auto& s : Schemas(at)) {
    if (key.starts_with(s->prefix)) out.push_back(std::move(s));
  }
  return out;
}

void Projection::TrackReview(const EventRow& ev, const CommitRow& commit) {
  const std::string_view stream = key_names_[ev.key];
  if (!IsSystemStream(stream)) return;
  FoldedCommit folded{ev.revision, commit.timestamp_us, actor_names_[commit.actor], std::nullopt};
  if (commit.reason.data) folded.reason = std::string_view(commit.reason.data, commit.reason.size);
  reviews_.Fold(stream, ev.type, std::string_view(ev.value ? ev.value : "", ev.value_len), folded);
}

std::vector<std::shared_ptr<const PolicyInForce>> Projection::Policies(int64_t at) const {
  ReaderLock lock(&mu_);
  return reviews_.Policies(at);
}

std::vector<std::shared_ptr<const PolicyInForce>> Projection::PoliciesCovering(
    std::string_view key, int64_t at) const {
  ReaderLock lock(&mu_);
  std::vector<std::shared_ptr<const PolicyInForce>> out;
  if (!reviews_.has_policies()) return out;
  for (auto& p : reviews_.Policies(at)) {
    if (key.starts_with(p->prefix)) out.push_back(std::move(p));
  }
  return out;
}

std::shared_ptr<const ChangeRecord> Projection::Change(int64_t id) const {
  ReaderLock lock(&mu_);
  return reviews_.Change(id);
}

std::vector<std::shared_ptr<const ChangeRecord>> Projection::Changes(
    int64_t before, size_t max, std::optional<ChangeRecord::State> only) const {
  ReaderLock lock(&mu_);
  return reviews_.Changes(before, max, only);
}

int64_t Projection::NextChangeId() const {
  ReaderLock lock(&mu_);
  return reviews_.NextChangeId();
}

std::vector<LeaseInfo> Projection::Leases() const {
  ReaderLock lock(&mu_);
  std::vector<LeaseInfo> out;
  for (const auto& [id, l] : leases_) {
    LeaseInfo& info = out.emplace_back();
    info.id = id;
    info.ttl = l.ttl;
    info.grantor = std::string(actor_names_[l.grantor]);
    info.granted_revision = l.granted_revision;
    for (std::string_view k : l.keys) info.keys.emplace_back(k);
  }
  return out;
}

std::optional<LeaseInfo> Projection::Lease(int64_t id) const {
  ReaderLock lock(&mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  LeaseInfo info;
  info.id = id;
  info.ttl = it->second.ttl;
  info.grantor = std::string(actor_names_[it->second.grantor]);
  info.granted_revision = it->second.granted_revision;
  for (std::string_view k : it->second.keys) info.keys.emplace_back(k);
  return info;
}

void Projection::IndexActors() {
  actor_commits_.assign(actor_names_.size(), {});
  for (size_t i = 0; i < commits_.size(); ++i) {
    actor_commits_[commits_[i].actor].push_back(static_cast<int64_t>(i) + 1);
  }
}

CommitPtr Projection::Commit(int64_t revision) const {
  ReaderLock lock(&mu_);
  if (revision < 1 || revision > static_cast<int64_t>(commits_.size())) return nullptr;
  return Materialize(revision);
}

void Projection::RenderAllHeads() {
  for (auto& [key, k] : keys_) {
    if (k.head_entry) continue;
    uint32_t shown = k.events.back();
    while (shown != kNoEvent && events_[shown].deleted()) shown = events_[shown].prev_same_key;
    if (shown == kNoEvent) {
      k.head_entry = std::make_shared<const std::string>();
      k.head_value_pos = 0;
    } else {
      k.head_entry = RenderEvent(shown, &k.head_value_pos);
    }
  }
}

}  // namespace chronoconf
