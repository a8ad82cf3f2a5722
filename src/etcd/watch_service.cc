#include "etcd/watch_service.h"

#include "etcd/errors.h"

namespace chronoconf::etcd {
namespace {

namespace pb = ::etcdserverpb;

// Control responses a client may have waiting before the stream stops
// reading its requests: a client that creates watches without reading the
// answers gets back-pressure, not a growing queue.
constexpr size_t kMaxControl = 256;

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

void WatchStream::OnReadDone(bool ok) {
  // The client closed its sending side: like etcd, go on sending until it
  // cancels the call (OnCancel) or the server stops.
  if (!ok) return;
  bool read_more;
  {
    MutexLock lock(&mu_);
    session_.Handle(in_);
    read_more = session_.pending_control() < kMaxControl;
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

void WatchStream::OnCancel() {
  RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the watch"));
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
  grpc::Status end;
  const WatchSession::Next next = session_.Pop(&out_, &end);
  if (next == WatchSession::Next::kEnd) {
    finish_requested_ = true;
    finish_status_ = end;
  }
  if (next != WatchSession::Next::kResponse) {
    const bool finish = finish_requested_ && !finished_;
    if (finish) finished_ = true;
    grpc::Status status = finish_status_;
    mu_.Unlock();
    if (finish) Finish(status);
    return;
  }
  write_in_flight_ = true;
  const bool resume_read = read_paused_ && session_.pending_control() < kMaxControl;
  if (resume_read) read_paused_ = false;
  const pb::WatchResponse* out = &out_;  // unchanged until OnWriteDone
  mu_.Unlock();
  StartWrite(out);
  if (resume_read) StartRead(&in_);
}

grpc::ServerBidiReactor<pb::WatchRequest, pb::WatchResponse>* WatchService::Watch(
    grpc::CallbackServerContext* ctx) {
  auto stream = std::make_shared<WatchStream>(context_, &hub_, ctx);
  WatchStream::Start(context_, &hub_, ctx, stream);
  return stream.get();
}

}  // namespace chronoconf::etcd
