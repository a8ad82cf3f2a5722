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
  *report = CopyReport{};
  auto source = from.ReadHead();
  if (!source) return source.status();
  auto target = to.ReadHead();
  if (!target) return target.status();
  if (target->revision != 0) {
    // Resume: the hash chain makes equal hashes at one revision mean equal
    // histories up to it, so the target is a prefix of the source exactly
    // when the source has the target's head commit.
    auto same = target->revision <= source->revision
                    ? from.ReadForward(target->revision - 1, 1)
                    : Result<std::vector<RecordedCommit>>(std::vector<RecordedCommit>{});
    if (!same) return same.status();
    if (same->empty() || same->front().revision != target->revision ||
        same->front().hash != target->hash) {
      return Status::InvalidRequest(fmt::format(
          "the target {} store (head revision {}) is not a prefix of the source (head revision "
          "{}): its commit {} is not the source's. Copy into an empty store, or into one an "
          "interrupted copy of this source left",
          to.kind(), target->revision, source->revision, target->revision));
    }
    report->resumed_after = target->revision;
  }
  int64_t after = report->resumed_after;
  report->head_hash = target->hash;
  while (true) {
    auto page = from.ReadForward(after, kPage);
    if (!page) return page.status();
    if (page->empty()) break;
    if (Status s = to.AppendRecorded(*page); !s.ok()) return s;
    for (const RecordedCommit& c : *page) report->events += static_cast<int64_t>(c.events.size());
    report->commits += static_cast<int64_t>(page->size());
    report->head_hash = page->back().hash;
    after = page->back().revision;
    if (progress) progress(after, std::max(source->revision, after));
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
