// SseParser: an incremental parser for a text/event-stream body (the WHATWG
// "server-sent events" format that GET /v1/watch answers with).
//
//   event: ConfigSet
//   data: {"revision":57,...}
//   id: 57
//   <blank line dispatches the event>
//
// Bytes may arrive split anywhere (even between "\r" and "\n"); Feed() keeps
// the partial line. Comment lines (": keepalive") and unknown fields are
// ignored; several data lines are joined with '\n'.
//
// Thread safety: none; one parser per stream.
#ifndef CHRONOCONF_CLI_CLIENT_SSE_H_
#define CHRONOCONF_CLI_CLIENT_SSE_H_

#include <functional>
#include <string>
#include <string_view>

namespace chronoconf::cli {

struct SseEvent {
  std::string type;  // "message" when the event had no `event:` field
  std::string data;
  std::string id;  // the last event ID in effect when it was dispatched
};

class SseParser {
 public:
  using Handler = std::function<void(const SseEvent&)>;

  // Consumes `chunk` and calls `on_event` for every event it completes.
  void Feed(std::string_view chunk, const Handler& on_event);

  // The value of the last `id:` field seen ("" before any).
  const std::string& last_id() const { return last_id_; }

 private:
  void ProcessLine(std::string_view line, const Handler& on_event);

  std::string line_;       // the incomplete line so far
  bool after_cr_ = false;  // the previous byte was a '\r' ending a line
  std::string type_;
  std::string data_;
  bool has_data_ = false;
  std::string last_id_;
};

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_CLIENT_SSE_H_
