// ReadIndex: linearizable reads (SPEC §7), as etcd's ReadIndex.
//
// A read that must see every write acknowledged before it was sent — by this
// node or any other — learns the store's head with one round trip that starts
// after the read arrived, and waits (with the follower's deadline) until the
// read model has applied that head; then it reads from memory like any read.
// Reads that arrive while a head read is in flight share the next one (etcd
// batches its ReadIndex requests the same way), so many concurrent reads cost
// a few round trips, not one each.
//
// On a store only this process writes, the read model already is the head
// (every append is applied before it is acknowledged): Request answers at
// once, on the caller's thread, without a round trip.
//
// Thread safety: all methods may be called from any thread.
#ifndef CHRONOCONF_APP_READ_INDEX_H_
#define CHRONOCONF_APP_READ_INDEX_H_

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "app/follower.h"
#include "common/mutex.h"
#include "common/status.h"
#include "projection/projection.h"

namespace chronoconf {

class ReadIndex {
 public:
  // Called once per request: OK with the revision a linearizable read may
  // be served at (the read model holds it), or kUnavailable / kTimeout when
  // the store's head could not be learned or applied in time.
  using Done = std::function<void(Status status, int64_t revision)>;

  ReadIndex(Projection* projection, Follower* follower);
  ~ReadIndex();  // Stop()
  ReadIndex(const ReadIndex&) = delete;
  ReadIndex& operator=(const ReadIndex&) = delete;

  // Answers every request waiting or in flight with kUnavailable ("the
  // server is shutting down") now, not when a head read that may hang on the
  // store ends, and later requests so at once. Idempotent.
  void BeginShutdown();
  // BeginShutdown, then joins the thread. Idempotent.
  void Stop();

  // Calls `done` exactly once: on this thread when no round trip is needed
  // (or after Stop), else on the read index's thread.
  void Request(Done done);

 private:
  void Run();

  Projection* projection_;
  Follower* follower_;
  Mutex mu_;
  CondVar cv_;
  std::vector<Done> waiting_ GUARDED_BY(mu_);
  std::vector<Done> in_flight_ GUARDED_BY(mu_);  // the batch of the head read under way
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_READ_INDEX_H_
