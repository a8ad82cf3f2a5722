// The answer to a write route called with ?dry_run=true (SPEC §8): what the
// write would commit, decided exactly as the write is, with nothing written.
#ifndef CHRONOCONF_HTTP_DRY_RUN_H_
#define CHRONOCONF_HTTP_DRY_RUN_H_

#include "app/command_service.h"
#include "http/http_types.h"

namespace chronoconf::http {

// {"dry_run":true,"decided_at":R,"changed":bool,"revision":R+1 (the
//  revision it would get) | R, "commit":{"actor","reason","events":[…]},
//  "entries":[{"key","value","version"} | {"key","deleted":true,"version"}]}
// REQUIRES: result.dry_run.
Response DryRunResponse(const CommandResult& result);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_DRY_RUN_H_
