#include "store/stored_fields.h"

#include <fmt/format.h>

#include "common/time_format.h"

namespace chronoconf {

Result<int64_t> ParseStoredTime(std::string_view store, std::string_view text, int64_t revision) {
  auto t = ParseRfc3339Micros(text);
  if (!t) {
    return Status::Corruption(fmt::format("{}: commit {} has an unreadable committed_at '{}'",
                                          store, revision, text));
  }
  return *t;
}

Result<EventType> ParseStoredType(std::string_view store, std::string_view text,
                                  int64_t revision) {
  auto t = ParseEventType(text);
  if (!t) {
    return Status::Corruption(fmt::format("{}: an event of commit {} has the unknown type '{}'",
                                          store, revision, text));
  }
  return *t;
}

Status SchemaVersionStatus(std::string_view store, std::string_view what, int64_t version,
                           int64_t known) {
  // Every version since the first holds the audit tables of SPEC §3 as they
  // are: a reader (verify, copy --from) reads an older store as it is.
  if (version >= 1 && version < known) return Status::OK();
  if (version < known) {
    return Status::Unavailable(fmt::format(
        "{}: {} has schema version {}, older than this build's {}: run `chronoconf migrate` on "
        "it first (verify and copy --from only read, so they never migrate)",
        store, what, version, known));
  }
  if (version > known) {
    return Status::Unavailable(fmt::format(
        "{}: {} has schema version {}, newer than this build knows ({})", store, what, version,
        known));
  }
  return Status::OK();
}

Status AttachStoredEvent(std::string_view store, int64_t revision, Event event,
                         std::vector<RecordedCommit>* commits, size_t* at) {
  while (*at < commits->size() && (*commits)[*at].revision < revision) ++*at;
  if (*at == commits->size() || (*commits)[*at].revision != revision) {
    return Status::Corruption(fmt::format(
        "{}: an event (key '{}') belongs to revision {}, which has no commit", store, event.key,
        revision));
  }
  (*commits)[*at].events.push_back(std::move(event));
  return Status::OK();
}

}  // namespace chronoconf
