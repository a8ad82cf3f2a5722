#include "app/copy.h"

#include <algorithm>

#include <fmt/format.h>

namespace chronoconf {
namespace {

// Commits per read and per target transaction: big enough to amortize the
// fsync, small enough to keep memory flat on any history.
constexpr size_t kPage = 1000;

}  // namespace

Status CopyStore(EventStore& from, EventStore& to, CopyReport* report,
                 const std::function<void(int64_t, int64_t)>& progress) {
  auto target = to.ReadHead();
  if (!target) return target.status();
  if (target->revision != 0) {
    return Status::InvalidRequest(fmt::format(
        "the target {} store is not empty (head revision {}): copy only into an empty store",
        to.kind(), target->revision));
  }
  auto source = from.ReadHead();
  if (!source) return source.status();
  *report = CopyReport{};
  int64_t after = 0;
  while (true) {
    auto page = from.ReadForward(after, kPage);
    if (!page) return page.status();
    if (page->empty()) break;
    if (Status s = to.AppendRecorded(*page); !s.ok()) return s;
    for (const RecordedCommit& c : *page) report->events += static_cast<int64_t>(c.events.size());
    report->commits += static_cast<int64_t>(page->size());
    report->head_hash = page->back().hash;
    after = page->back().revision;
    if (progress) progress(report->commits, std::max(source->revision, after));
  }
  // The target now ends where the source did, link for link.
  auto end = to.ReadHead();
  if (!end) return end.status();
  if (end->revision != after || end->hash != report->head_hash) {
    return Status::Corruption(fmt::format(
        "after the copy the target is at revision {} ({}), not {} ({})", end->revision, end->hash,
        after, report->head_hash));
  }
  return Status::OK();
}

}  // namespace chronoconf
