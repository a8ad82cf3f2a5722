// WatchSession: the watches of one etcd Watch stream, free of any transport
// (SPEC §7). The gRPC Watch stream (watch_service.cc) and the JSON
// gateway's POST /v3/watch (gateway.cc) both hand it the client's
// WatchRequests and send what it gives them: control responses (created,
// canceled, progress) first, then events read from the read model's commit
// log at the stream's own pace. Nothing else is queued, so a slow client
// holds no memory here and cannot block writers.
//
// The transport calls Tick() every progress interval (etcd's
// --experimental-watch-progress-notify-interval) for `progress_notify`.
//
// Before each response with events it re-checks the caller's token under
// the auth in force (SPEC §6): a token removed by SIGHUP ends the stream, a
// scope narrowed away from a watch cancels that watch.
//
// Thread safety: none; its stream serializes the calls.
#ifndef CHRONOCONF_ETCD_WATCH_SESSION_H_
#define CHRONOCONF_ETCD_WATCH_SESSION_H_

#include <deque>
#include <map>
#include <set>

#include "etcd/caller.h"
#include "etcd/etcd_context.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "etcd/key_range.h"

namespace chronoconf::etcd {

class WatchSession {
 public:
  // `md`: the stream's caller, checked at each create and before each
  // response with events.
  WatchSession(const EtcdContext* context, CallMetadata md)
      : context_(context), md_(std::move(md)) {}

  // Takes one request: a create, cancel or progress request queues its
  // answer; an empty one is ignored (as etcd does).
  void Handle(const etcdserverpb::WatchRequest& req);

  enum class Next {
    kResponse,  // *out is the next response to send
    kNothing,   // nothing to send until the read model moves
    kBehind,    // nothing to send yet, but a watcher is still catching up: Pop again soon
    kEnd,       // the stream must end with *end (the caller's token is gone)
  };
  // The next response: a control response, else the events of the next
  // watcher (round robin) that has some: whole commits, about 1.5 MiB at
  // most.
  Next Pop(etcdserverpb::WatchResponse* out, grpc::Status* end);

  // Control responses waiting to be sent.
  size_t pending_control() const { return control_.size(); }

  // etcd's progress ticker (v3rpc/watch.go, sendLoop): each watch created
  // with `progress_notify` that has sent no events since the previous tick
  // and has nothing left to send gets an empty response (its id, the head's
  // revision in the header), queued as a control response.
  void Tick();

 private:
  struct Watcher {
    KeyRange range;
    int64_t next = 1;  // the first revision not yet looked at
    bool prev_kv = false;
    bool no_put = false;
    bool no_delete = false;
    bool progress_notify = false;
    // etcd's progress[id]: no events sent since the last tick (true at
    // creation, as etcd's).
    bool progress_due = true;
    bool fragment = false;
    // With `fragment`, one logical response runs from `next` up to
    // `batch_end` (0: none begun) and is sent in pieces under the request
    // limit; `next_event` is the first event of commit `next` not yet sent.
    int64_t batch_end = 0;
    size_t next_event = 0;
  };
  void Create(const etcdserverpb::WatchCreateRequest& req);
  Next NextEvents(etcdserverpb::WatchResponse* out, grpc::Status* end);
  // Appends w's events of whole commits up to `head` until about
  // kMaxResponseBytes of keys and values.
  void FillCommits(Watcher& w, int64_t head, etcdserverpb::WatchResponse* out) const;
  // Appends w's next fragment of its logical response; true when more of it
  // follows (the response is then a fragment).
  bool FillFragment(Watcher& w, int64_t head, etcdserverpb::WatchResponse* out) const;
  // Adds the event `index` of `commit` to *out unless w's filters drop it.
  const mvccpb::Event* AddEvent(const Watcher& w, const RecordedCommit& commit, size_t index,
                                etcdserverpb::WatchResponse* out) const;
  void Header(etcdserverpb::WatchResponse* resp) const;

  const EtcdContext* context_;
  const CallMetadata md_;
  std::deque<etcdserverpb::WatchResponse> control_;
  std::map<int64_t, Watcher> watchers_;
  // Watches ended by compaction: etcd keeps their ids on the stream until
  // the client cancels them (the cancel is answered; the id is not reused).
  std::set<int64_t> compacted_;
  int64_t next_id_ = 0;      // etcd's automatic ids start at 0
  int64_t round_robin_ = 0;  // the watcher id to look at first
};

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_WATCH_SESSION_H_
