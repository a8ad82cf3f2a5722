// Snapshotter: writes the read model to a file every N commits, on its own
// thread, so a restart loads one file and replays only the tail (SPEC §3).
// Writing reads the projection's append-only rows without its lock, so
// neither writes nor reads wait for it. A crash mid-write leaves a stray
// "<path>.tmp" and the previous snapshot intact (write, fsync, rename).
#ifndef CHRONOCONF_APP_SNAPSHOTTER_H_
#define CHRONOCONF_APP_SNAPSHOTTER_H_

#include <cstdint>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "projection/projection.h"
#include "store/event_store.h"

namespace chronoconf {

// Loads the snapshot at `path` into the empty `projection` when its MAC
// verifies under the store's key and the store holds the same commit at the
// snapshot's revision (same hash); otherwise, or when the file is damaged or
// not a regular file, leaves the projection empty and says why in the
// log. Returns the revision loaded (0: none). Never fails: the events are
// always there to replay.
int64_t LoadSnapshotIfValid(const std::string& path, EventStore& store, Projection* projection);

class Snapshotter {
 public:
  // Writes after every `every` commits past `last_written`, MACed under the
  // store's snapshot key (none at all, with a warning, when it has none).
  Snapshotter(Projection* projection, EventStore* store, std::string path, int64_t every,
              int64_t last_written);
  ~Snapshotter();  // Stop()
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  // Stops the thread; a snapshot being written is finished first.
  void Stop();
  int64_t last_written() const;

 private:
  void Run();

  Projection* projection_;
  const std::string path_;
  const int64_t every_;
  std::string key_;  // set by the constructor
  mutable Mutex mu_;
  CondVar cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  int64_t last_written_ GUARDED_BY(mu_);
  uint64_t subscription_ = 0;
  std::thread thread_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_SNAPSHOTTER_H_
