#include "projection/change_feed.h"

namespace chronoconf {

uint64_t ChangeFeed::Subscribe(Listener listener) {
  MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void ChangeFeed::Unsubscribe(uint64_t id) {
  MutexLock lock(&mu_);
  listeners_.erase(id);
}

void ChangeFeed::Publish(int64_t head) {
  MutexLock lock(&mu_);
  for (auto& [id, listener] : listeners_) listener(head);
}

}  // namespace chronoconf
