#include "http/access_log.h"

#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/buffered_log.h"
#include "http/log_format.h"
#include "json/json_writer.h"

namespace chronoconf::http {

namespace {

spdlog::level::level_enum LevelFor(int status) {
  return status >= 500 ? spdlog::level::warn : spdlog::level::info;
}

// A value of a text line as logfmt writes it: bare when it holds no space,
// '=', quote or backslash, else in double quotes with those escaped, so an
// X-Request-Id "x actor=admin" cannot add a field to the line.
std::string Logfmt(std::string_view value) {
  std::string safe = LogSafe(value);
  bool bare = !safe.empty();
  for (char c : safe) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= ' ' || c == '=' || c == '"' || c == '\\' || b == 0x7f) bare = false;
  }
  if (bare) return safe;
  std::string out = "\"";
  for (char c : safe) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(b < ' ' || b == 0x7f ? '?' : c);  // one line stays one line
  }
  out.push_back('"');
  return out;
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
    AccessLogger().log(level, "{}", line);
    return;
  }
  if (r.error.empty()) {
    AccessLogger().log(level, "{} {} {} {:.3f}ms {}B request_id={} actor={}", LogSafe(r.method),
                r.route, r.status, ms, r.bytes, Logfmt(r.request_id), Logfmt(r.actor));
  } else {
    AccessLogger().log(level, "{} {} {} {:.3f}ms {}B request_id={} actor={} error={}",
                LogSafe(r.method), r.route, r.status, ms, r.bytes, Logfmt(r.request_id),
                Logfmt(r.actor), Logfmt(r.error));
  }
}

}  // namespace chronoconf::http
