// ChangeFeed: tells listeners that the read model's head moved (watchers,
// min_revision waiters). Listeners only get woken; they read what changed
// from the Projection themselves, so a slow listener holds no queue here.
//
// Thread safety: all methods may be called from any thread. Listeners run on
// the publishing thread and must not block.
#ifndef CHRONOCONF_PROJECTION_CHANGE_FEED_H_
#define CHRONOCONF_PROJECTION_CHANGE_FEED_H_

#include <cstdint>
#include <functional>
#include <map>

#include "common/mutex.h"

namespace chronoconf {

class ChangeFeed {
 public:
  using Listener = std::function<void(int64_t head)>;

  // Returns an id for Unsubscribe.
  uint64_t Subscribe(Listener listener);
  void Unsubscribe(uint64_t id);
  void Publish(int64_t head);

 private:
  Mutex mu_;
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Listener> listeners_ GUARDED_BY(mu_);
};

}  // namespace chronoconf

#endif  // CHRONOCONF_PROJECTION_CHANGE_FEED_H_
