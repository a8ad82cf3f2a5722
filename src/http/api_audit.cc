// Routes on history, the audit log and time: GET /v1/history/{key},
// /v1/events, /v1/revisions/{R}, /v1/diff.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "domain/key.h"
#include "http/api.h"
#include "http/render.h"
#include "http/request_parsing.h"
#include "json/json_writer.h"

namespace chronoconf::http {

namespace {

// /v1/events reads commits from the read model this many bytes of values at
// a time (at least one commit).
constexpr size_t kEventsReadBytes = 1 << 20;
constexpr int64_t kEventsReadCommits = 256;  // commits read at a time
// A diff over at most this many events compares only the keys they touch.
constexpr size_t kDiffMaxEvents = size_t{1} << 20;

}  // namespace

Response Api::GetHistory(const Request& req, const std::string& key) {
  if (Status s = ValidateKey(key); !s.ok()) return ErrorResponse(s);
  if (Status s = CheckKeyAccess(req, key); !s.ok()) return ErrorResponse(s);
  auto limit = IntParam(req, "limit", 1, 10000);
  if (!limit) return ErrorResponse(limit.status());
  auto before = IntParam(req, "before_revision", 1, INT64_MAX);
  if (!before) return ErrorResponse(before.status());
  size_t n = static_cast<size_t>(limit->value_or(100));
  // One more than asked tells whether another page follows.
  auto events = projection_->History(key, before->value_or(INT64_MAX), n + 1);
  if (!events) return ErrorResponse(events.status());
  bool more = events->size() > n;
  if (more) events->resize(n);
  json::Writer w;
  w.BeginObject().Field("key", key).Key("events").BeginArray();
  for (const EventRef& e : *events) WriteEvent(w, *e.commit, e.index, e.position);
  w.EndArray();
  if (more) w.Field("next_before_revision", events->back().commit->revision);
  w.EndObject();
  return JsonResponse(200, w.Take());
}

Response Api::GetEvents(const Request& req) {
  auto from = IntParam(req, "from_revision", 0, INT64_MAX);
  if (!from) return ErrorResponse(from.status());
  auto limit = IntParam(req, "limit", 1, 10000);
  if (!limit) return ErrorResponse(limit.status());
  auto since = TimeParam(req, "since");
  if (!since) return ErrorResponse(since.status());
  auto until = TimeParam(req, "until");
  if (!until) return ErrorResponse(until.status());
  if (from->value_or(0) > projection_->head()) {
    return ErrorResponse(Status::FutureRevision(
        fmt::format("from_revision {} is above the head revision {}", **from, projection_->head())));
  }
  const std::string* prefix = req.Query("prefix");
  if (prefix) {
    if (Status s = ValidatePrefix(*prefix); !s.ok()) return ErrorResponse(s);
  }
  EventFilter filter{req.principal.scope, prefix ? *prefix : ""};
  const std::string* actor = req.Query("actor");
  size_t max_events = static_cast<size_t>(limit->value_or(1000));

  // Commit times never decrease, so since/until bound a range of revisions
  // found by binary search; an actor's commits come from its own list. A
  // page costs what it returns (SPEC §6), whatever the log's length.
  const int64_t head = projection_->head();
  int64_t stop = head;  // the last revision a match can have
  if (*until) {
    auto last = projection_->Resolve(std::nullopt, **until);
    if (last) stop = std::min(stop, *last);
  }
  int64_t scan = from->value_or(0);  // candidates are after this revision
  if (*since) scan = std::max(scan, projection_->FirstRevisionAtOrAfter(**since) - 1);
  int64_t next = from->value_or(0);
  size_t count = 0;
  json::Writer w;
  w.BeginObject().Key("events").BeginArray();
  // Pages end at a commit boundary: a commit is never split, so a page may
  // exceed `limit` when one commit alone is larger.
  bool full = false;
  // With a prefix (or a token's prefixes), the commits where none of their
  // keys changed are skipped by the key index, not read.
  std::vector<Projection::KeySpan> spans;
  if (!filter.prefix.empty() || !filter.scope.all()) {
    for (const std::string& p : filter.scope.Within(filter.prefix)) {
      spans.push_back(Projection::SpanOfPrefix(p));
    }
  }
  bool matched = false;  // the last commits read had a match
  while (!full && scan < stop) {
    if (!spans.empty() && !matched && stop - scan > kEventsReadCommits) {
      scan = std::max(scan, projection_->QuietUntil(spans, scan, Projection::kQuietKeys));
      if (scan >= stop) {
        next = std::max(next, stop);
        break;
      }
    }
    matched = false;
    std::vector<CommitPtr> commits;
    if (actor) {
      for (int64_t r : projection_->RevisionsByActor(*actor, scan, static_cast<size_t>(kEventsReadCommits))) {
        if (r > stop) break;
        commits.push_back(projection_->Commit(r));
      }
    } else {
      commits = projection_->Commits(scan, static_cast<size_t>(kEventsReadCommits), kEventsReadBytes);
      while (!commits.empty() && commits.back()->revision > stop) commits.pop_back();
    }
    if (commits.empty()) {
      next = std::max(next, stop);  // nothing more up to `stop`
      break;
    }
    for (const CommitPtr& c : commits) {
      std::vector<size_t> matching;
      for (size_t i = 0; i < c->events.size(); ++i) {
        if (filter.Matches(c->events[i].key)) matching.push_back(i);
      }
      if (count > 0 && count + matching.size() > max_events) {
        full = true;  // this commit starts the next page
        break;
      }
      for (size_t i : matching) WriteEvent(w, *c, i);
      count += matching.size();
      matched = matched || !matching.empty();
      next = c->revision;
      if (count >= max_events) {
        full = true;
        break;
      }
    }
    scan = commits.back()->revision;
  }
  w.EndArray().Field("next_from_revision", next).EndObject();
  Response r = JsonResponse(200, w.Take());
  r.revision = head;
  return r;
}

Response Api::GetRevision(const Request& req, const std::string& text) {
  auto parsed = ParseCount(text, "a revision");
  if (!parsed) return ErrorResponse(parsed.status());
  int64_t revision = *parsed;
  if (revision == 0) return ErrorResponse(Status::NotFound("revision 0 is the empty store"));
  if (revision > projection_->head()) {
    return ErrorResponse(Status::FutureRevision(
        fmt::format("revision {} is above the head revision {}", revision, projection_->head())));
  }
  CommitPtr c = projection_->Commit(revision);
  if (!c) return ErrorResponse(Status::NotFound(fmt::format("no revision {}", revision)));
  const KeyScope& scope = req.principal.scope;
  if (!std::any_of(c->events.begin(), c->events.end(),
                   [&](const Event& e) { return scope.Contains(e.key); })) {
    return ErrorResponse(Status(
        Code::kForbidden,
        fmt::format("revision {} holds no event the token '{}' may read", revision,
                    req.principal.name)));
  }
  return JsonResponse(200, RenderCommit(*c, scope));
}

Response Api::GetDiff(const Request& req) {
  const std::string* prefix = req.Query("prefix");
  std::string p = prefix ? *prefix : "";
  if (Status s = ValidatePrefix(p); !s.ok()) return ErrorResponse(s);
  int64_t from = 0;
  if (req.Query("from_revision") || req.Query("from_time")) {
    auto r = ReadRevision(req, "from_revision", "from_time");
    if (!r) return ErrorResponse(r.status());
    from = *r;
  }
  auto to = ReadRevision(req, "to_revision", "to_time");
  if (!to) return ErrorResponse(to.status());

  // Only keys that an event between the two revisions touched can differ:
  // those are compared (a diff costs what the range holds, not the number
  // of keys); a range of very many events compares whole snapshots instead.
  std::map<std::string, KeyVersion> before, after;
  if (auto touched = projection_->KeysChangedBetween(from, *to, kDiffMaxEvents)) {
    const EventFilter filter{req.principal.scope, p};
    for (std::string_view key : *touched) {
      if (!filter.Matches(key)) continue;
      auto then = projection_->VersionAt(key, from);
      if (then && !then->deleted) before.emplace(key, std::move(*then));
      auto now = projection_->VersionAt(key, *to);
      if (now && !now->deleted) after.emplace(key, std::move(*now));
    }
  } else {
    const std::vector<std::string> ranges = req.principal.scope.Within(p);
    for (KeyVersion& v : projection_->Snapshot(ranges, from)) {
      before.emplace(v.key, std::move(v));
    }
    for (KeyVersion& v : projection_->Snapshot(ranges, *to)) {
      after.emplace(v.key, std::move(v));
    }
  }
  json::Writer w;
  w.BeginObject().Field("from", from).Field("to", *to);
  w.Key("added").BeginArray();
  for (const auto& [key, v] : after) {
    if (!before.contains(key)) w.Raw(*v.entry);
  }
  w.EndArray().Key("removed").BeginArray();
  for (const auto& [key, v] : before) {
    if (!after.contains(key)) w.Raw(*v.entry);
  }
  w.EndArray().Key("changed").BeginArray();
  for (const auto& [key, v] : after) {
    auto it = before.find(key);
    if (it == before.end() || it->second.value() == v.value()) continue;
    w.BeginObject().Field("key", key).RawField("before", *it->second.entry);
    w.RawField("after", *v.entry).EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace chronoconf::http
