// CopyStore: moves a whole history from one store to another (`chronoconf
// copy`, SPEC §3), e.g. from SQLite to PostgreSQL when one machine is
// outgrown. Revisions, times, actors, reasons, request ids and hashes are kept
// exactly: the target takes the commits verbatim (EventStore::AppendRecorded),
// checking each link of the chain as it goes.
#ifndef CHRONOCONF_APP_COPY_H_
#define CHRONOCONF_APP_COPY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "store/event_store.h"

namespace chronoconf {

struct CopyReport {
  int64_t resumed_after = 0;  // the target's head before this copy (0: it was empty)
  int64_t commits = 0;        // commits copied by this run
  int64_t events = 0;
  std::string head_hash = kZeroHash;
};

// Copies every commit of `from` into `to`, a page (one transaction) at a
// time. A target that is not empty must hold a prefix of the source (an
// interrupted copy: the source has the target's head commit, same hash);
// the copy then resumes after it. Any other target is refused
// (kInvalidRequest). `progress` (optional) gets the revision reached and the
// source's head at start. The caller claims the target as its sole writer
// where the store has such a claim (a SQLite file being served is refused).
Status CopyStore(EventStore& from, EventStore& to, CopyReport* report,
                 const std::function<void(int64_t done, int64_t total)>& progress = nullptr);

}  // namespace chronoconf

#endif  // CHRONOCONF_APP_COPY_H_
