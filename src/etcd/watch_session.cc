#include "etcd/watch_session.h"

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
      if (watchers_.erase(id) == 0) break;  // etcd answers nothing for an unknown id
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
    return refuse(kNoWatch, s.error_message());
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
  int64_t id = req.watch_id();
  if (id != 0) {
    if (watchers_.contains(id)) {
      return refuse(kNoWatch, "mvcc: duplicate watch ID provided on the WatchStream");
    }
  } else {
    while (watchers_.contains(next_id_)) ++next_id_;
    id = next_id_++;
  }
  const int64_t head = context_->projection().head();
  if (grpc::Status s = context_->CheckCompacted(req.start_revision()); !s.ok()) {
    if (s.error_code() != grpc::StatusCode::OUT_OF_RANGE) return refuse(kNoWatch, s.error_message());
    // etcd: created, then a response naming the floor, and the watch is
    // gone (clients restart it from compact_revision).
    resp.set_watch_id(id);
    control_.push_back(resp);
    pb::WatchResponse compacted;
    Header(&compacted);
    compacted.set_watch_id(id);
    compacted.set_compact_revision(context_->floor());
    compacted.set_canceled(true);
    control_.push_back(std::move(compacted));
    return;
  }
  w.next = req.start_revision() > 0 ? req.start_revision() : head + 1;
  w.prev_kv = req.prev_kv();
  for (int f : req.filters()) {
    if (f == pb::WatchCreateRequest::NOPUT) w.no_put = true;
    if (f == pb::WatchCreateRequest::NODELETE) w.no_delete = true;
  }
  watchers_.emplace(id, std::move(w));
  resp.set_watch_id(id);
  control_.push_back(std::move(resp));
}

WatchSession::Next WatchSession::NextEvents(pb::WatchResponse* out, grpc::Status* end) {
  if (watchers_.empty()) return Next::kNothing;
  const Projection& projection = context_->projection();
  const int64_t head = projection.head();
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
    size_t bytes = 0;
    while (w.next <= head && out->events_size() == 0) {
      for (const CommitPtr& c : projection.Commits(w.next - 1, kCommitsPerRead)) {
        if (c->revision > head) break;
        for (const Event& e : c->events) {
          if (!InRange(w.range, e.key)) continue;
          const bool put = e.type == EventType::kConfigSet;
          if ((put && w.no_put) || (!put && w.no_delete)) continue;
          mvccpb::Event* ev = out->add_events();
          ev->set_type(put ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
          if (put) {
            if (auto v = projection.VersionAt(e.key, c->revision)) {
              FillKeyValue(*v, /*keys_only=*/false, ev->mutable_kv());
            }
          } else {
            ev->mutable_kv()->set_key(e.key);
            ev->mutable_kv()->set_mod_revision(c->revision);
          }
          if (w.prev_kv) {
            if (auto before = projection.VersionAt(e.key, c->revision - 1);
                before && !before->deleted) {
              FillKeyValue(*before, /*keys_only=*/false, ev->mutable_prev_kv());
            }
          }
          bytes += e.key.size() + (e.value ? e.value->size() : 0);
        }
        w.next = c->revision + 1;
        if (bytes >= kMaxResponseBytes) break;  // whole commits only
      }
      if (bytes >= kMaxResponseBytes) break;
    }
    if (out->events_size() > 0) {
      Header(out);
      out->set_watch_id(id);
      round_robin_ = id + 1;
      return Next::kResponse;
    }
  }
  return Next::kNothing;
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
