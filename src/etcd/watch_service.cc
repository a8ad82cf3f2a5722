#include "etcd/watch_service.h"

#include <fmt/format.h>

#include "etcd/errors.h"
#include "etcd/range_query.h"

namespace chronoconf::etcd {
namespace {

namespace pb = ::etcdserverpb;

// Control responses a client may have waiting before the stream stops
// reading its requests: a client that creates watches without reading the
// answers gets back-pressure, not a growing queue.
constexpr size_t kMaxControl = 256;
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

// ---------------------------------------------------------------- hub

WatchHub::WatchHub(const EtcdContext* context) : context_(context) {
  subscription_ = context_->projection().feed().Subscribe([this](int64_t) {
    MutexLock lock(&mu_);
    wake_ = true;
    cv_.Signal();
  });
  thread_ = std::thread([this] { Run(); });
}

WatchHub::~WatchHub() {
  Stop();
  context_->projection().feed().Unsubscribe(subscription_);
}

bool WatchHub::Add(const std::shared_ptr<WatchStream>& stream) {
  MutexLock lock(&mu_);
  if (stopping_) return false;
  streams_[stream.get()] = stream;
  return true;
}

void WatchHub::Remove(const WatchStream* stream) {
  MutexLock lock(&mu_);
  streams_.erase(stream);
}

void WatchHub::Stop() {
  std::vector<std::shared_ptr<WatchStream>> open;
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.Signal();
    for (auto& [raw, weak] : streams_) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  if (thread_.joinable()) thread_.join();
  for (auto& s : open) s->RequestFinish(rpctypes::Stopped());
}

void WatchHub::Run() {
  mu_.Lock();
  while (true) {
    while (!wake_ && !stopping_) cv_.Wait(&mu_);
    if (stopping_) break;
    wake_ = false;
    std::vector<std::weak_ptr<WatchStream>> streams;
    streams.reserve(streams_.size());
    for (auto& [raw, weak] : streams_) streams.push_back(weak);
    mu_.Unlock();
    for (auto& weak : streams) {
      if (auto s = weak.lock()) s->Pump();
    }
    mu_.Lock();
  }
  mu_.Unlock();
}

// ---------------------------------------------------------------- stream

void WatchStream::Start(const EtcdContext* /*context*/, WatchHub* hub,
                        grpc::CallbackServerContext* /*ctx*/,
                        const std::shared_ptr<WatchStream>& self) {
  self->self_ = self;
  // Reads begin at once; a stream that comes during shutdown ends at once.
  self->StartRead(&self->in_);
  if (!hub->Add(self)) self->RequestFinish(rpctypes::Stopped());
}

void WatchStream::Header(pb::WatchResponse* resp) const {
  context_->FillHeader(context_->projection().head(), resp->mutable_header());
}

void WatchStream::OnReadDone(bool ok) {
  if (!ok) {
    // The client closed its side, or the call ended: etcd ends the stream.
    RequestFinish(grpc::Status::OK);
    return;
  }
  bool read_more;
  {
    MutexLock lock(&mu_);
    Handle(in_);
    read_more = control_.size() < kMaxControl;
    read_paused_ = !read_more;
  }
  if (read_more) StartRead(&in_);
  Pump();
}

void WatchStream::OnWriteDone(bool ok) {
  {
    MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!ok && !finish_requested_) {
      finish_requested_ = true;  // the client is gone
      finish_status_ = grpc::Status::OK;
    }
  }
  Pump();
}

void WatchStream::OnDone() {
  {
    MutexLock lock(&mu_);
    done_ = true;
  }
  hub_->Remove(this);
  self_.reset();  // may delete this (unless the hub is pumping it right now)
}

void WatchStream::RequestFinish(const grpc::Status& status) {
  {
    MutexLock lock(&mu_);
    if (!finish_requested_) {
      finish_requested_ = true;
      finish_status_ = status;
    }
  }
  Pump();
}

void WatchStream::Pump() {
  mu_.Lock();
  if (done_ || finished_ || write_in_flight_) {
    mu_.Unlock();
    return;
  }
  if (finish_requested_) {
    finished_ = true;
    grpc::Status status = finish_status_;
    mu_.Unlock();
    Finish(status);
    return;
  }
  bool write = false;
  if (!control_.empty()) {
    out_ = std::move(control_.front());
    control_.pop_front();
    write = true;
  } else {
    write = NextEvents();
  }
  if (!write) {
    const bool finish = finish_requested_ && !finished_;
    if (finish) finished_ = true;
    grpc::Status status = finish_status_;
    mu_.Unlock();
    if (finish) Finish(status);
    return;
  }
  write_in_flight_ = true;
  const bool resume_read = read_paused_ && control_.size() < kMaxControl;
  if (resume_read) read_paused_ = false;
  const pb::WatchResponse* out = &out_;  // unchanged until OnWriteDone
  mu_.Unlock();
  StartWrite(out);
  if (resume_read) StartRead(&in_);
}

void WatchStream::Handle(const pb::WatchRequest& req) {
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

void WatchStream::Create(const pb::WatchCreateRequest& req) {
  pb::WatchResponse resp;
  Header(&resp);
  resp.set_created(true);
  auto refuse = [&](int64_t id, const std::string& reason) REQUIRES(mu_) {
    resp.set_watch_id(id);
    resp.set_canceled(true);
    resp.set_cancel_reason(reason);
    control_.push_back(std::move(resp));
  };
  Caller caller;
  if (grpc::Status s = context_->Admit(*ctx_, http::Role::kRead, &caller); !s.ok()) {
    return refuse(kNoWatch, s.error_message());
  }
  // etcd: an empty key is "\0", the smallest key.
  const std::string key = req.key().empty() ? std::string(1, '\0') : req.key();
  Watcher w;
  if (grpc::Status s = ParseKeyRange(key, req.range_end(), &w.range); !s.ok()) {
    return refuse(kNoWatch, s.error_message());
  }
  if (!ScopeCovers(caller.principal.scope, w.range)) {
    return refuse(kNoWatch, rpctypes::PermissionDenied().error_message());
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

bool WatchStream::NextEvents() {
  if (watchers_.empty()) return false;
  const Projection& projection = context_->projection();
  const int64_t head = projection.head();
  // Only a watcher with something to read costs a check of the token.
  bool behind = false;
  for (const auto& [id, w] : watchers_) behind = behind || w.next <= head;
  if (!behind) return false;

  // SPEC §6: the token's current role and prefixes, before each commit sent.
  Caller caller;
  if (grpc::Status s = context_->Admit(*ctx_, http::Role::kRead, &caller); !s.ok()) {
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE) return false;  // not ready: later
    finish_requested_ = true;
    finish_status_ = s;
    return false;
  }
  for (auto it = watchers_.begin(); it != watchers_.end(); ++it) {
    if (!ScopeCovers(caller.principal.scope, it->second.range)) {
      out_.Clear();
      Header(&out_);
      out_.set_watch_id(it->first);
      out_.set_canceled(true);
      out_.set_cancel_reason(rpctypes::PermissionDenied().error_message());
      watchers_.erase(it);
      return true;
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
    out_.Clear();
    size_t bytes = 0;
    while (w.next <= head && out_.events_size() == 0) {
      for (const CommitPtr& c : projection.Commits(w.next - 1, kCommitsPerRead)) {
        if (c->revision > head) break;
        for (const Event& e : c->events) {
          if (!InRange(w.range, e.key)) continue;
          const bool put = e.type == EventType::kConfigSet;
          if ((put && w.no_put) || (!put && w.no_delete)) continue;
          mvccpb::Event* ev = out_.add_events();
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
    if (out_.events_size() > 0) {
      Header(&out_);
      out_.set_watch_id(id);
      round_robin_ = id + 1;
      return true;
    }
  }
  return false;
}

grpc::ServerBidiReactor<pb::WatchRequest, pb::WatchResponse>* WatchService::Watch(
    grpc::CallbackServerContext* ctx) {
  auto stream = std::make_shared<WatchStream>(context_, &hub_, ctx);
  WatchStream::Start(context_, &hub_, ctx, stream);
  return stream.get();
}

}  // namespace chronoconf::etcd
