#include "http/access_log.h"

#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/log_format.h"
#include "json/json_writer.h"

namespace chronoconf::http {

namespace {

spdlog::level::level_enum LevelFor(int status) {
  return status >= 500 ? spdlog::level::warn : spdlog::level::info;
}

}  // namespace

bool AccessLogOn(int status) { return spdlog::should_log(LevelFor(status)); }

void LogAccess(const AccessRecord& r) {
  auto level = LevelFor(r.status);
  if (!spdlog::should_log(level)) return;
  const double ms = r.seconds * 1000.0;
  if (CurrentLogFormat() == LogFormat::kJson) {
    std::string line(1, kStructuredMarker);
    line += "access";
    line += kStructuredMarker;
    json::Writer w;
    w.BeginObject()
        .Field("method", LogSafe(r.method))
        .Field("route", LogSafe(r.route))
        .Field("status", int64_t{r.status});
    // A double has no Writer method; three decimals are plenty for ms.
    w.RawField("latency_ms", fmt::format("{:.3f}", ms))
        .Field("bytes", static_cast<int64_t>(r.bytes))
        .Field("request_id", LogSafe(r.request_id))
        .Field("actor", LogSafe(r.actor));
    if (!r.error.empty()) w.Field("error", LogSafe(r.error));
    w.EndObject();
    // The members without the braces: the formatter puts them after "msg".
    const std::string& obj = w.str();
    line.append(obj, 1, obj.size() - 2);
    spdlog::log(level, "{}", line);
    return;
  }
  if (r.error.empty()) {
    spdlog::log(level, "{} {} {} {:.3f}ms {}B request_id={} actor={}", LogSafe(r.method),
                r.route, r.status, ms, r.bytes, LogSafe(r.request_id), LogSafe(r.actor));
  } else {
    spdlog::log(level, "{} {} {} {:.3f}ms {}B request_id={} actor={} error=\"{}\"",
                LogSafe(r.method), r.route, r.status, ms, r.bytes, LogSafe(r.request_id),
                LogSafe(r.actor), LogSafe(r.error));
  }
}

}  // namespace chronoconf::http
