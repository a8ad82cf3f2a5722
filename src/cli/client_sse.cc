#include "cli/client_sse.h"

namespace chronoconf::cli {

void SseParser::Feed(std::string_view chunk, const Handler& on_event) {
  for (char c : chunk) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the "\n" of a "\r\n" line ending
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = (c == '\r');
      std::string line = std::move(line_);
      line_.clear();
      ProcessLine(line, on_event);
    } else {
      line_.push_back(c);
    }
  }
}

void SseParser::ProcessLine(std::string_view line, const Handler& on_event) {
  if (line.empty()) {  // dispatch
    if (has_data_) {
      SseEvent event;
      event.type = type_.empty() ? "message" : type_;
      event.data = std::move(data_);
      event.id = last_id_;
      on_event(event);
    }
    type_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment (keepalive)
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    type_ = std::string(value);
  } else if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_ += value;
    has_data_ = true;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_ = std::string(value);
  }
  // "retry" and unknown fields are ignored.
}

}  // namespace chronoconf::cli
