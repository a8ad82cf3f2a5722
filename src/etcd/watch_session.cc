#include "etcd/watch_session.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>

#include "domain/system_stream.h"
#include "etcd/errors.h"
#include "etcd/range_query.h"

namespace chronoconf::etcd {
namespace {

namespace pb = ::etcdserverpb;

// A response holds whole commits until it passes this size (etcd's default
// request limit, so every client takes it).
constexpr size_t kMaxResponseBytes = 1536 * 1024;
// Commits read from the log at a time while looking for a watcher's events.
constexpr size_t kCommitsPerRead = 256;
// Commits a watcher scans in one Pop when they hold nothing for it (a quiet
// key watched from long ago): the rest waits for the next Pop, so that one
// catch-up does not hold the thread every stream shares (SPEC §6).
constexpr size_t kMaxScannedCommits = 4096;
// A watch with `fragment` gets at most this many revisions in one logical
// response (etcd's mvcc watchBatchMaxRevs).
constexpr int64_t kBatchRevisions = 1000;
// clientv3.InvalidWatchID: a response that belongs to no watcher.
constexpr int64_t kNoWatch = -1;

bool InRange(const KeyRange& range, std::string_view key) {
  if (range.single) return key == range.start;
  return key >= range.start && (range.end.empty() || key < range.end);
}

}  // namespace

void WatchSession::Header(pb::WatchResponse* resp) const {
  context_->FillHeader(context_->projection().head(), resp->mutable_header());
}

void WatchSession::Handle(const pb::WatchRequest& req) {
  switch (req.request_union_case()) {
    case pb::WatchRequest::kCreateRequest:
      Create(req.create_request());
      break;
    case pb::WatchRequest::kCancelRequest: {
      const int64_t id = req.cancel_request().watch_id();
      // etcd answers nothing for an unknown id.
      if (watchers_.erase(id) == 0 && compacted_.erase(id) == 0) break;
      pb::WatchResponse resp;
      Header(&resp);
      resp.set_watch_id(id);
      resp.set_canceled(true);
      control_.push_back(std::move(resp));
      break;
    }
    case pb::WatchRequest::kProgressRequest: {
      // Every watcher here is as current as the read model once it has
      // nothing left to send; the header's revision says how far that is.
      pb::WatchResponse resp;
      Header(&resp);
      resp.set_watch_id(kNoWatch);
      control_.push_back(std::move(resp));
      break;
    }
    case pb::WatchRequest::REQUEST_UNION_NOT_SET:
      break;  // etcd ignores it too
  }
}

void WatchSession::Create(const pb::WatchCreateRequest& req) {
  pb::WatchResponse resp;
  Header(&resp);
  resp.set_created(true);
  auto refuse = [&](int64_t id, const std::string& reason) {
    resp.set_watch_id(id);
    resp.set_canceled(true);
    resp.set_cancel_reason(reason);
    control_.push_back(std::move(resp));
  };
  Caller caller;
  if (grpc::Status s = context_->Admit(md_, http::Role::kRead, &caller); !s.ok()) {
    return refuse(kNoWatch, rpctypes::WatchCancelReason(s));  // as etcd's v3rpc words it
  }
  // etcd: an empty key is "\0", the smallest key.
  const std::string key = req.key().empty() ? std::string(1, '\0') : req.key();
  Watcher w;
  if (grpc::Status s = ParseKeyRange(key, req.range_end(), &w.range); !s.ok()) {
    // etcd validates no watched key: a single key no chronoconf key can
    // equal (a control character, not UTF-8) is a watch that never fires.
    if (!req.range_end().empty()) return refuse(kNoWatch, s.error_message());
    w.range = KeyRange{key, "", true};
  }
  if (!ScopeCovers(caller.principal.scope, w.range)) {
    return refuse(kNoWatch, rpctypes::WatchCancelReason(rpctypes::PermissionDenied()));
  }
  // etcd's watchStream.Watch: a range_end at or below the key watches
  // nothing, and is refused ("\0", from the key up, parsed to no end).
  if (!w.range.single && !w.range.end.empty() && w.range.start >= w.range.end) {
    return refuse(kNoWatch, "mvcc: watcher range is empty");
  }
  int64_t id = req.watch_id();
  if (id != 0) {
    if (watchers_.contains(id) || compacted_.contains(id)) {
      return refuse(kNoWatch, "mvcc: duplicate watch ID provided on the WatchStream");
    }
  } else {
    while (watchers_.contains(next_id_) || compacted_.contains(next_id_)) ++next_id_;
    id = next_id_++;
  }
  const int64_t head = context_->projection().head();
  if (grpc::Status s = context_->CheckCompacted(req.start_revision()); !s.ok()) {
    if (s.error_code() != grpc::StatusCode::OUT_OF_RANGE) return refuse(kNoWatch, s.error_message());
    // etcd: created, then a response naming the floor, and the watch sends
    // nothing more (clients restart it from compact_revision).
    compacted_.insert(id);
    resp.set_watch_id(id);
    control_.push_back(resp);
    pb::WatchResponse compacted;
    context_->FillHeader(0, compacted.mutable_header());  // etcd sets no revision here
    compacted.set_watch_id(id);
    compacted.set_compact_revision(context_->floor());
    compacted.set_canceled(true);
    control_.push_back(std::move(compacted));
    return;
  }
  w.next = req.start_revision() > 0 ? req.start_revision() : head + 1;
  w.prev_kv = req.prev_kv();
  w.progress_notify = req.progress_notify();
  w.fragment = req.fragment();
  for (int f : req.filters()) {
    if (f == pb::WatchCreateRequest::NOPUT) w.no_put = true;
    if (f == pb::WatchCreateRequest::NODELETE) w.no_delete = true;
  }
  watchers_.emplace(id, std::move(w));
  resp.set_watch_id(id);
  control_.push_back(std::move(resp));
}

const mvccpb::Event* WatchSession::AddEvent(const Watcher& w, const RecordedCommit& c,
                                            size_t index, pb::WatchResponse* out) const {
  const Event& e = c.events[index];
  if (!InRange(w.range, e.key) || IsSystemStream(e.key)) return nullptr;
  const bool put = e.type == EventType::kConfigSet;
  if ((put && w.no_put) || (!put && w.no_delete)) return nullptr;
  const Projection& projection = context_->projection();
  mvccpb::Event* ev = out->add_events();
  ev->set_type(put ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
  if (put) {
    if (auto v = projection.VersionAt(e.key, c.revision, Text::kValueOnly)) {
      FillKeyValue(*v, /*keys_only=*/false, ev->mutable_kv());
    }
  } else {
    ev->mutable_kv()->set_key(e.key);
    ev->mutable_kv()->set_mod_revision(c.revision);
  }
  if (w.prev_kv) {
    if (auto before = projection.VersionAt(e.key, c.revision - 1, Text::kValueOnly);
        before && !before->deleted) {
      FillKeyValue(*before, /*keys_only=*/false, ev->mutable_prev_kv());
    }
  }
  return ev;
}

void WatchSession::FillCommits(Watcher& w, int64_t head, pb::WatchResponse* out) const {
  size_t bytes = 0;
  size_t scanned = 0;
  while (w.next <= head && out->events_size() == 0 && scanned < kMaxScannedCommits) {
    // Far behind: the commits where no watched key changed are skipped by
    // the key index, so a catch-up costs what it sends (SPEC §6).
    if (head - w.next >= static_cast<int64_t>(kCommitsPerRead)) {
      const std::string end = w.range.single ? w.range.start + '\0' : w.range.end;
      const int64_t quiet = context_->projection().QuietUntil(
          {{w.range.start, end}}, w.next - 1, Projection::kQuietKeys);
      w.next = std::min(quiet, head) + 1;
      if (w.next > head) break;
    }
    for (const CommitPtr& c : context_->projection().Commits(w.next - 1, kCommitsPerRead)) {
      if (c->revision > head) break;
      ++scanned;
      for (size_t i = 0; i < c->events.size(); ++i) {
        if (AddEvent(w, *c, i, out)) {
          const Event& e = c->events[i];
          bytes += e.key.size() + (e.value ? e.value->size() : 0);
        }
      }
      w.next = c->revision + 1;
      if (bytes >= kMaxResponseBytes) return;  // whole commits only
    }
  }
}

bool WatchSession::FillFragment(Watcher& w, int64_t head, pb::WatchResponse* out) const {
  // etcd (v3rpc/watch.go, sendFragments) cuts a response of at least its
  // request limit into pieces below it, each of one event at least; the
  // logical response here is what etcd's store sends a watcher at once: its
  // events up to the head, at most kBatchRevisions revisions.
  if (w.batch_end == 0) w.batch_end = std::min(head, w.next + kBatchRevisions - 1);
  const size_t limit = static_cast<size_t>(context_->options().max_request_bytes);
  // The encoded size as etcd measures it: the response flagged as a fragment.
  out->set_fragment(true);
  size_t size = out->ByteSizeLong();
  out->set_fragment(false);
  while (w.next <= w.batch_end) {
    const std::vector<CommitPtr> commits = context_->projection().Commits(w.next - 1, kCommitsPerRead);
    if (commits.empty()) break;
    for (const CommitPtr& c : commits) {
      if (c->revision > w.batch_end) break;
      for (size_t i = w.next_event; i < c->events.size(); ++i) {
        const mvccpb::Event* ev = AddEvent(w, *c, i, out);
        if (!ev) continue;
        const size_t ev_size = ev->ByteSizeLong();
        size += 1 + google::protobuf::io::CodedOutputStream::VarintSize64(ev_size) + ev_size;
        if (out->events_size() > 1 && size >= limit) {
          out->mutable_events()->RemoveLast();
          w.next_event = i;
          return true;
        }
      }
      w.next = c->revision + 1;
      w.next_event = 0;
    }
  }
  w.batch_end = 0;
  return false;
}

WatchSession::Next WatchSession::NextEvents(pb::WatchResponse* out, grpc::Status* end) {
  if (watchers_.empty()) return Next::kNothing;
  const int64_t head = context_->projection().head();
  // Only a watcher with something to read costs a check of the token.
  bool behind = false;
  for (const auto& [id, w] : watchers_) behind = behind || w.next <= head;
  if (!behind) return Next::kNothing;

  // SPEC §6: the token's current role and prefixes, before each commit sent.
  Caller caller;
  if (grpc::Status s = context_->Admit(md_, http::Role::kRead, &caller); !s.ok()) {
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE) return Next::kNothing;  // later
    *end = s;
    return Next::kEnd;
  }
  for (auto it = watchers_.begin(); it != watchers_.end(); ++it) {
    if (!ScopeCovers(caller.principal.scope, it->second.range)) {
      out->Clear();
      Header(out);
      out->set_watch_id(it->first);
      out->set_canceled(true);
      out->set_cancel_reason(rpctypes::WatchCancelReason(rpctypes::PermissionDenied()));
      watchers_.erase(it);
      return Next::kResponse;
    }
  }

  // Round robin over the watchers, so that one busy watch does not starve
  // the others on the stream.
  auto start = watchers_.lower_bound(round_robin_);
  for (size_t n = 0; n < watchers_.size(); ++n, ++start) {
    if (start == watchers_.end()) start = watchers_.begin();
    const int64_t id = start->first;
    Watcher& w = start->second;
    if (w.next > head) continue;
    out->Clear();
    Header(out);
    out->set_watch_id(id);
    bool more = false;
    if (w.fragment) {
      more = FillFragment(w, head, out);
    } else {
      FillCommits(w, head, out);
    }
    if (out->events_size() > 0) {
      out->set_fragment(more);
      w.progress_due = false;  // etcd: events elide the next progress notice
      round_robin_ = id + 1;
      return Next::kResponse;
    }
  }
  // A watcher whose scan stopped at kMaxScannedCommits without an event.
  for (const auto& [id, w] : watchers_) {
    if (w.next <= head) return Next::kBehind;
  }
  return Next::kNothing;
}

void WatchSession::Tick() {
  const int64_t head = context_->projection().head();
  for (auto& [id, w] : watchers_) {
    if (!w.progress_notify) continue;
    // etcd's store answers only a watcher that is in sync (synced group).
    if (w.progress_due && w.next > head) {
      pb::WatchResponse resp;
      Header(&resp);
      resp.set_watch_id(id);
      control_.push_back(std::move(resp));
    }
    w.progress_due = true;
  }
}

WatchSession::Next WatchSession::Pop(pb::WatchResponse* out, grpc::Status* end) {
  if (!control_.empty()) {
    *out = std::move(control_.front());
    control_.pop_front();
    return Next::kResponse;
  }
  return NextEvents(out, end);
}

}  // namespace chronoconf::etcd
