#include "http/log_format.h"

#include <atomic>
#include <chrono>
#include <memory>

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include "common/time_format.h"
#include "http/buffered_log.h"
#include "json/json_writer.h"

namespace chronoconf::http {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

// {"ts":"<RFC 3339 µs Z>","level":"info","msg":"…"[,fields…]}\n
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"ts\":\"";
    int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(
                         msg.time.time_since_epoch())
                         .count();
    line += FormatRfc3339Micros(micros);
    line += "\",\"level\":";
    auto level = spdlog::level::to_string_view(msg.level);
    json::AppendQuoted(&line, std::string_view(level.data(), level.size()));
    line += ",\"msg\":";
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload.front() == kStructuredMarker) {
      // "<marker>msg<marker>fields": the fields are JSON already.
      payload.remove_prefix(1);
      size_t split = payload.find(kStructuredMarker);
      json::AppendQuoted(&line, LogSafe(payload.substr(0, split)));
      if (split != std::string_view::npos && split + 1 < payload.size()) {
        line += ',';
        line += payload.substr(split + 1);
      }
    } else {
      json::AppendQuoted(&line, LogSafe(payload));
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

}  // namespace

Status SetLogFormat(std::string_view name) {
  if (name == "text") {
    g_format.store(LogFormat::kText);
    spdlog::set_pattern("%+");  // spdlog's default: [time] [level] message
    AccessLogger().set_pattern("%+");
    return Status::OK();
  }
  if (name == "json") {
    g_format.store(LogFormat::kJson);
    spdlog::set_formatter(std::make_unique<JsonLineFormatter>());
    AccessLogger().set_formatter(std::make_unique<JsonLineFormatter>());
    return Status::OK();
  }
  return Status::InvalidRequest(std::string("--log-format must be text or json, not '")
                                    .append(name)
                                    .append("'"));
}

LogFormat CurrentLogFormat() { return g_format.load(std::memory_order_relaxed); }

std::string LogSafe(std::string_view s) {
  std::string out(s);
  if (json::IsValidUtf8(s)) return out;
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x7f || u < 0x20) c = '?';
  }
  return out;
}

}  // namespace chronoconf::http
