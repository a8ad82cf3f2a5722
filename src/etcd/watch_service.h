// Watch (SPEC §7): one bidirectional stream carrying many watches, on gRPC's
// callback API, so that thousands of streams need no thread each.
//
//   WatchStream  one per stream (a ServerBidiReactor) around a WatchSession
//                (watch_session.h: its watchers and control responses,
//                shared with the JSON gateway's watch), one write in flight
//                at a time, so a slow client holds no memory here and cannot
//                block writers (as the native SSE watch).
//   WatchHub     one thread for all streams: a commit (the read model's
//                change feed) wakes it, and it gives each idle stream its
//                next response; a stream whose write completes goes on by
//                itself. It is also every stream's progress ticker (etcd's
//                per-stream ticker: the progress interval plus up to a
//                tenth of it as jitter, from the stream's start).
//
#ifndef CHRONOCONF_ETCD_WATCH_SERVICE_H_
#define CHRONOCONF_ETCD_WATCH_SERVICE_H_

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "common/mutex.h"
#include "etcd/etcd_context.h"
#include "etcd/watch_session.h"

namespace chronoconf::etcd {

class WatchStream;

class WatchHub {
 public:
  explicit WatchHub(const EtcdContext* context);
  ~WatchHub();  // Stop()
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Registers a stream; false once stopping (the stream then finishes).
  bool Add(const std::shared_ptr<WatchStream>& stream);
  void Remove(const WatchStream* stream);
  // Pumps every stream again soon (a stream still catching up asks).
  void Wake();
  // Ends every stream with "etcdserver: server stopped" (UNAVAILABLE: clients
  // go elsewhere) and refuses new ones. Idempotent.
  void Stop();

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct Entry {
    std::weak_ptr<WatchStream> stream;
    SteadyClock::duration period;  // the progress interval plus this stream's jitter
    SteadyClock::time_point next_tick;
  };
  void Run();

  const EtcdContext* context_;
  Mutex mu_;
  CondVar cv_;
  bool wake_ GUARDED_BY(mu_) = false;
  bool added_ GUARDED_BY(mu_) = false;  // a new stream: its tick may come first
  bool stopping_ GUARDED_BY(mu_) = false;
  std::map<const WatchStream*, Entry> streams_ GUARDED_BY(mu_);
  std::minstd_rand jitter_ GUARDED_BY(mu_);
  uint64_t subscription_ = 0;
  std::thread thread_;
};

class WatchStream final
    : public grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse> {
 public:
  // Starts reading. The stream keeps itself alive until OnDone.
  static void Start(const EtcdContext* context, WatchHub* hub, grpc::CallbackServerContext* ctx,
                    const std::shared_ptr<WatchStream>& self);
  WatchStream(const EtcdContext* context, WatchHub* hub, grpc::CallbackServerContext* ctx)
      : hub_(hub), session_(context, MetadataOf(*ctx)) {}

  // Sends the next response if no write is in flight: a control response,
  // else the events of the next watcher that has some. Any thread.
  void Pump();
  // Finishes the stream with `status` once the write in flight is done.
  void RequestFinish(const grpc::Status& status);
  // The progress interval passed: WatchSession::Tick, then Pump.
  void Tick();

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  WatchHub* hub_;
  std::shared_ptr<WatchStream> self_;  // until OnDone
  Mutex mu_;
  etcdserverpb::WatchRequest in_;  // the read in flight (one at a time)
  etcdserverpb::WatchResponse out_ GUARDED_BY(mu_);  // the write in flight
  WatchSession session_ GUARDED_BY(mu_);
  bool write_in_flight_ GUARDED_BY(mu_) = false;
  bool read_paused_ GUARDED_BY(mu_) = false;
  bool finish_requested_ GUARDED_BY(mu_) = false;
  bool finished_ GUARDED_BY(mu_) = false;
  bool done_ GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ GUARDED_BY(mu_);
};

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  explicit WatchService(const EtcdContext* context) : context_(context), hub_(context) {}
  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* ctx) override;
  // Ends every stream (shutdown).
  void Stop() { hub_.Stop(); }

 private:
  const EtcdContext* context_;
  WatchHub hub_;
};

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_WATCH_SERVICE_H_
