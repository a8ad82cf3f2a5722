// The JSON shapes of SPEC §2.1: events, commits and errors on the wire.
#ifndef CHRONOCONF_HTTP_RENDER_H_
#define CHRONOCONF_HTTP_RENDER_H_

#include <string>

#include "common/status.h"
#include "domain/events.h"
#include "domain/key_scope.h"
#include "http/http_types.h"
#include "json/json_writer.h"

namespace chronoconf::http {

// One event of `commit` (an audit-trail line): reason and request_id only
// when given, value absent for ConfigDeleted, previous_value absent when the
// key did not exist.
void WriteEvent(json::Writer& w, const RecordedCommit& commit, size_t index);
// The same for commit.events[index], whose index in its commit as recorded
// is `position` (the commit may hold only some of its events).
void WriteEvent(json::Writer& w, const RecordedCommit& commit, size_t index, size_t position);
std::string RenderEvent(const RecordedCommit& commit, size_t index);

// The whole commit with its hash chain links (GET /v1/revisions/{R}); with
// `scope`, only the events inside it (a prefix-limited token).
std::string RenderCommit(const RecordedCommit& commit, const KeyScope& scope = KeyScope());

// {"error":{"code","message",...details}} with the status the code maps to.
Response ErrorResponse(const Status& status);
int HttpStatusFor(Code code);

Response JsonResponse(int status, std::string body);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_RENDER_H_
