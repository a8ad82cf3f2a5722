#include "projection/change_feed.h"

namespace chronoconf {

uint64_t ChangeFeed::Subscribe(Listener listener) {
  std::lock_guard lock(mu_);
  uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void ChangeFeed::Unsubscribe(uint64_t id) {
  std::lock_guard lock(mu_);
  listeners_.erase(id);
}

void ChangeFeed::Publish(int64_t head) {
  std::lock_guard lock(mu_);
  for (auto& [id, listener] : listeners_) listener(head);
}

}  // namespace chronoconf
