// Events rendered once for every watch stream of an event loop (GET /v1/watch).
#ifndef CHRONOCONF_HTTP_RENDERED_EVENTS_H_
#define CHRONOCONF_HTTP_RENDERED_EVENTS_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "projection/projection.h"

namespace chronoconf::http {

// Events rendered once for every watch stream of a loop: the watchers of
// one loop send the same commits one after another, so with 1,000 watchers
// a commit is rendered once, not 1,000 times. Holds the newest commits,
// up to `max_bytes` of rendered text; a watcher far behind renders its own.
class RenderedEvents {
 public:
  explicit RenderedEvents(size_t max_bytes = size_t{4} << 20) : max_bytes_(max_bytes) {}

  // The JSON of `commit`'s event `index` (RenderEvent's text); valid until
  // the next call.
  const std::string& Event(const CommitPtr& commit, size_t index);
  size_t commits_kept() const { return entries_.size(); }

 private:
  size_t max_bytes_;
  struct Entry {
    CommitPtr commit;
    std::vector<std::optional<std::string>> events;  // [i]: rendered on first use
  };
  std::deque<Entry> entries_;  // in revision order
  size_t bytes_ = 0;
  std::string scratch_;  // a commit older than every entry
};

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_RENDERED_EVENTS_H_
