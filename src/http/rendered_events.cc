#include "http/rendered_events.h"

#include <iterator>

#include "http/render.h"

namespace chronoconf::http {

const std::string& RenderedEvents::Event(const CommitPtr& commit, size_t index) {
  auto fill = [&](Entry& e) -> const std::string& {
    std::optional<std::string>& text = e.events[index];
    if (!text) {
      text = RenderEvent(*e.commit, index);
      bytes_ += text->size();
    }
    return *text;
  };
  const int64_t revision = commit->revision;
  auto at = entries_.end();  // where the commit is, or goes
  while (at != entries_.begin() && std::prev(at)->commit->revision >= revision) --at;
  if (at != entries_.end() && at->commit->revision == revision) return fill(*at);
  if (at == entries_.begin() && !entries_.empty()) {
    scratch_ = RenderEvent(*commit, index);  // older than all kept: not worth keeping
    return scratch_;
  }
  // Room first, so that what is returned stays put until the next call.
  while (bytes_ > max_bytes_ && !entries_.empty()) {
    for (const auto& text : entries_.front().events) bytes_ -= text ? text->size() : 0;
    entries_.pop_front();
    at = entries_.end();
    while (at != entries_.begin() && std::prev(at)->commit->revision > revision) --at;
  }
  at = entries_.insert(at, Entry{commit, std::vector<std::optional<std::string>>(commit->events.size())});
  return fill(*at);
}

}  // namespace chronoconf::http
