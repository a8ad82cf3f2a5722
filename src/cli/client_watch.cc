// watch: follows GET /v1/watch (Server-Sent Events), reconnecting without
// losing or repeating an event, until interrupted or --count events.
#include "cli/client_internal.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "cli/client_sse.h"

namespace chronoconf::cli {

using client::HttpResponse;

namespace {

// Reconnects after a dropped stream: this many tries in a row, waiting
// kRetryDelay * 2^n (capped) between them, before giving up.
constexpr int kMaxReconnects = 6;
constexpr std::chrono::milliseconds kRetryDelay{250};
constexpr std::chrono::milliseconds kMaxRetryDelay{4000};
// One stream request lives at most this long, then is resumed seamlessly.
constexpr std::chrono::hours kStreamLifetime{1};

}  // namespace

int RunWatch(ClientSession& s, const WatchArgs& a) {
  // Where to resume from: the commits after `resume` (exclusive). Without
  // --from, start at the current head, learnt up front, so that a reconnect
  // never misses the commits made in between.
  int64_t resume = a.from;
  if (resume < 0) {
    Query q;
    if (!a.prefix.empty()) q.Add("prefix", a.prefix);
    q.Add("limit", 1);
    HttpResponse res;
    if (int rc = s.Call("GET", "/v1/kv" + q.str(), {}, &res)) return rc;
    json::Value page;
    if (int rc = s.ParseBody(res, &page)) return rc;
    resume = FieldInt(page, "revision", 0);
  }

  int64_t printed = 0;
  int64_t last_revision = -1;  // (revision, index) of the last event printed
  int64_t last_index = -1;
  int failures = 0;        // failed connection attempts in a row
  bool connected = false;  // a stream was ever opened
  bool done = false;
  while (!done) {
    Query q;
    if (!a.prefix.empty()) q.Add("prefix", a.prefix);
    q.Add("from_revision", resume);
    SseParser parser;
    std::string head;  // the start of the body, for an error answer
    auto on_event = [&](const SseEvent& event) {
      if (done) return;
      auto parsed = json::Parse(event.data);
      int64_t revision = -1;
      int64_t index = 0;
      if (parsed) {
        revision = FieldInt(*parsed, "revision");
        index = FieldInt(*parsed, "index", 0);
      }
      // After a reconnect the server resends a commit we saw only part of.
      if (revision >= 0 &&
          (revision < last_revision || (revision == last_revision && index <= last_index))) {
        return;
      }
      if (s.json()) {
        s.Print(event.data + "\n");
      } else if (parsed) {
        std::string type = FieldText(*parsed, "type", event.type);
        s.Print(WatchLine(FieldText(*parsed, "revision"), FieldText(*parsed, "actor"), type,
                          FieldText(*parsed, "key"), FieldJson(*parsed, "value"), s.colour()) +
                "\n");
      } else {
        s.Print(SanitizeCell(event.data) + "\n");
      }
      std::fflush(stdout);
      if (revision >= 0) {
        last_revision = revision;
        last_index = index;
      }
      if (a.count > 0 && ++printed >= a.count) done = true;
    };
    auto status = s.http().Stream(
        "/v1/watch" + q.str(), s.BaseHeaders(),
        [&](std::string_view chunk) {
          if (head.size() < 4096) head.append(chunk.substr(0, 4096 - head.size()));
          parser.Feed(chunk, on_event);
          return !done;
        },
        kStreamLifetime);
    if (done) break;
    if (!status) {
      if (!connected || ++failures > kMaxReconnects) {
        ReportError("unreachable", status.status().message());
        return kExitError;
      }
    } else if (*status == 503 && connected && ++failures <= kMaxReconnects) {
      // A server that restarted answers 503 while its read model catches
      // up: wait and resume, as after a refused connection.
    } else if (*status != 200) {
      ErrorInfo info = ErrorFromResponse(*status, head);
      ReportError(info.code, info.message);
      return ExitCodeForHttpStatus(*status);
    } else {
      connected = true;
      failures = 0;  // the next wait is short again
    }
    // The stream ended (server restart, slow watcher dropped, lifetime
    // over): resume after the last whole commit the server marked.
    if (IsDigits(parser.last_id()))
      resume = std::max<int64_t>(resume, std::stoll(parser.last_id()));
    auto delay = std::min(kMaxRetryDelay, kRetryDelay * (1 << std::min(failures, 4)));
    std::this_thread::sleep_for(delay);
  }
  return kExitOk;
}

}  // namespace chronoconf::cli
