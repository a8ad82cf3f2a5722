#include "etcd/watch_service.h"

#include <algorithm>

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

WatchHub::WatchHub(const EtcdContext* context)
    : context_(context), jitter_(static_cast<uint32_t>(std::random_device{}())) {
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

void WatchHub::Wake() {
  MutexLock lock(&mu_);
  wake_ = true;
  cv_.Signal();
}

bool WatchHub::Add(const std::shared_ptr<WatchStream>& stream) {
  MutexLock lock(&mu_);
  if (stopping_) return false;
  // etcd adds rand(interval / 10) to each stream's period, so that watches
  // created together (a client restarting) are not all told at once.
  const SteadyClock::duration interval = context_->options().watch_progress_interval;
  const auto tenth = std::max<int64_t>(1, (interval / 10).count());
  const SteadyClock::duration period =
      interval + SteadyClock::duration(static_cast<int64_t>(jitter_() % static_cast<uint64_t>(tenth)));
  streams_[stream.get()] = Entry{stream, period, SteadyClock::now() + period};
  added_ = true;
  cv_.Signal();
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
    for (auto& [raw, entry] : streams_) {
      if (auto s = entry.stream.lock()) open.push_back(std::move(s));
    }
  }
  if (thread_.joinable()) thread_.join();
  for (auto& s : open) s->RequestFinish(rpctypes::Stopped());
}

void WatchHub::Run() {
  mu_.Lock();
  while (true) {
    // Until a commit, a new stream, or the first progress tick due.
    SteadyClock::time_point deadline = SteadyClock::time_point::max();
    for (const auto& [raw, entry] : streams_) deadline = std::min(deadline, entry.next_tick);
    added_ = false;
    while (!wake_ && !added_ && !stopping_) {
      if (deadline == SteadyClock::time_point::max()) {
        cv_.Wait(&mu_);
      } else if (!cv_.WaitUntil(&mu_, deadline)) {
        break;
      }
    }
    if (stopping_) break;
    const bool pump_all = wake_;
    wake_ = false;
    const SteadyClock::time_point now = SteadyClock::now();
    std::vector<std::weak_ptr<WatchStream>> pump, tick;
    for (auto& [raw, entry] : streams_) {
      if (entry.next_tick <= now) {
        tick.push_back(entry.stream);
        entry.next_tick += entry.period;
        // (A hub late by more than a period does not tick twice.)
        if (entry.next_tick <= now) entry.next_tick = now + entry.period;
      } else if (pump_all) {
        pump.push_back(entry.stream);
      }
    }
    mu_.Unlock();
    for (auto& weak : tick) {
      if (auto s = weak.lock()) s->Tick();  // (and pumps)
    }
    for (auto& weak : pump) {
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

void WatchStream::Tick() {
  {
    MutexLock lock(&mu_);
    if (done_) return;
    session_.Tick();
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
    if (finish) {
      Finish(status);
    } else if (next == WatchSession::Next::kBehind) {
      hub_->Wake();  // the hub's next round goes on with the catch-up
    }
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
