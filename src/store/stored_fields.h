// Decoding the fields a store reads back as text. A stored time or event
// type that does not parse is damage, reported as kCorruption naming the
// store and the commit — never a default (a time of 0, a ConfigSet).
#ifndef CHRONOCONF_STORE_STORED_FIELDS_H_
#define CHRONOCONF_STORE_STORED_FIELDS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "domain/events.h"

namespace chronoconf {

// `committed_at` of commit `revision` as Unix microseconds.
Result<int64_t> ParseStoredTime(std::string_view store, std::string_view text, int64_t revision);

// The `type` of an event of commit `revision`.
Result<EventType> ParseStoredType(std::string_view store, std::string_view text,
                                  int64_t revision);

// What read-only access makes of a store's schema version: OK for this
// build's (`known`) and for every older one since 1 (the audit tables have
// not changed); 0 (never migrated) is reported, never migrated by a command
// that only reads; a newer one is refused. `store` is "sqlite"/"postgres",
// `what` names the store in the message (never a URL with a password).
Status SchemaVersionStatus(std::string_view store, std::string_view what, int64_t version,
                           int64_t known);

// Adds `event`, read with revision `revision`, to its commit in `commits`
// (a page in revision order; `*at` is where the previous event went, 0 at
// first). Events come in revision order. An event whose revision has no
// commit in the page is kCorruption: the one decoding rule of every store,
// never "attach it to the next commit".
Status AttachStoredEvent(std::string_view store, int64_t revision, Event event,
                         std::vector<RecordedCommit>* commits, size_t* at);

}  // namespace chronoconf

#endif  // CHRONOCONF_STORE_STORED_FIELDS_H_
