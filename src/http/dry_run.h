// The answer to a write route called with ?dry_run=true (SPEC §8): what the
// write would commit, decided exactly as the write is, with nothing written.
#ifndef CHRONOCONF_HTTP_DRY_RUN_H_
#define CHRONOCONF_HTTP_DRY_RUN_H_

#include "app/command_service.h"
#include "http/http_types.h"
#include "projection/projection.h"

namespace chronoconf::http {

// {"dry_run":true,"decided_at":R,"changed":bool,"revision":R+1 (the
//  revision it would get) | R, "commit":{"actor","reason","events":[event
//  shape of SPEC §2.1 without "timestamp"]}, "entries":[{"key","value",
//  "version","modified_revision","modified_by"} | {"key","deleted":true,…}],
//  "schemas":[{"key","prefix","valid":true}: each schema a set value passed]}
// REQUIRES: result.dry_run.
Response DryRunResponse(const CommandResult& result, const Projection& projection);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_DRY_RUN_H_
