#include "support/http_test_util.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <regex>

namespace chronoconf::test {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- HTTP

namespace {

// nlohmann::json is recursive in places; a hostile test may get a value
// nested 100000 deep back. Such bodies are left unparsed.
nlohmann::json ParseBody(const std::string& body) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  if (max_depth > 512) return nlohmann::json::parse("x", nullptr, false);
  return nlohmann::json::parse(body, nullptr, false);
}

}  // namespace

std::string ApiResponse::Header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string ApiResponse::ErrorCode() const {
  if (!json.is_object() || !json.contains("error") || !json["error"].is_object()) return "";
  const auto& e = json["error"];
  if (!e.contains("code") || !e["code"].is_string()) return "";
  return e["code"].get<std::string>();
}

int64_t ApiResponse::RevisionHeader() const {
  std::string h = Header("x-chronoconf-revision");
  if (h.empty()) return -1;
  char* end = nullptr;
  long long v = std::strtoll(h.c_str(), &end, 10);
  if (end == nullptr || *end != '\0') return -1;
  return v;
}

std::ostream& operator<<(std::ostream& os, const ApiResponse& r) {
  os << "HTTP " << r.status << " ";
  if (r.body.size() > 2000) {
    os << r.body.substr(0, 2000) << "...(" << r.body.size() << " bytes)";
  } else {
    os << r.body;
  }
  return os;
}

Api::Api(std::string base_url, milliseconds timeout) : http_(std::move(base_url), timeout) {}

ApiResponse Api::Request(std::string_view method, std::string_view target, std::string_view body,
                         const Headers& headers) {
  ApiResponse out;
  auto res = http_.Request(method, target, body, headers);
  if (!res) {
    out.status = 0;
    out.body = res.status().ToString();
    out.json = nlohmann::json::parse("x", nullptr, false);
    return out;
  }
  out.status = res->status;
  out.body = std::move(res->body);
  out.headers = std::move(res->headers);
  out.json = ParseBody(out.body);
  return out;
}

ApiResponse Api::Set(const std::string& key, std::string_view value_text, const Headers& headers) {
  std::string body = "{\"value\":" + std::string(value_text) + "}";
  return Put("/v1/kv/" + key, body, headers);
}

ApiResponse Api::GetKey(const std::string& key, std::string_view query) {
  std::string target = "/v1/kv/" + key;
  if (!query.empty()) target += "?" + std::string(query);
  return Get(target);
}

int64_t Api::Head() {
  auto r = Get("/v1/status");
  if (r.status != 200 || !r.json.is_object() || !r.json.contains("revision") ||
      !r.json["revision"].is_number_integer()) {
    ADD_FAILURE() << "GET /v1/status: " << r;
    return -1;
  }
  return r.json["revision"].get<int64_t>();
}

std::vector<nlohmann::json> Api::Events(int64_t from_revision, std::string_view query, int limit) {
  std::vector<nlohmann::json> out;
  int64_t from = from_revision;
  for (int page = 0; page < 100000; ++page) {
    std::string target = "/v1/events?from_revision=" + std::to_string(from) +
                         "&limit=" + std::to_string(limit);
    if (!query.empty()) target += "&" + std::string(query);
    auto r = Get(target);
    if (r.status != 200 || !r.json.contains("events") || !r.json["events"].is_array()) {
      ADD_FAILURE() << "GET " << target << ": " << r;
      break;
    }
    const auto& events = r.json["events"];
    for (const auto& e : events) out.push_back(e);
    if (events.empty()) break;
    if (!r.json.contains("next_from_revision") || !r.json["next_from_revision"].is_number()) {
      ADD_FAILURE() << "no next_from_revision: " << r;
      break;
    }
    int64_t next = r.json["next_from_revision"].get<int64_t>();
    if (next <= from) {
      ADD_FAILURE() << "next_from_revision " << next << " does not advance past " << from;
      break;
    }
    from = next;
  }
  return out;
}

std::string Q(std::string_view s) { return client::UrlEncode(s); }

// ---------------------------------------------------------------- fixture

std::unique_ptr<TempDir> ServerTest::dir_;
std::unique_ptr<ServerProcess> ServerTest::server_;
std::string ServerTest::start_error_;

void ServerTest::StartSharedServer(const std::string& store, std::vector<std::string> args) {
  StopSharedServer();
  std::string url = store;
  if (store == "sqlite") {
    dir_ = std::make_unique<TempDir>("chronoconf-it");
    url = dir_->SqliteUrl();
  }
  server_ = std::make_unique<ServerProcess>(url, std::move(args));
  auto started = server_->Start();
  if (!started) {
    start_error_ = started.message();
    server_.reset();
  }
}

void ServerTest::StopSharedServer() {
  if (server_) server_->Stop();
  server_.reset();
  dir_.reset();
  start_error_.clear();
}

void ServerTest::SetUp() {
  ASSERT_TRUE(server_ != nullptr) << "the suite's server did not start: " << start_error_;
  ASSERT_TRUE(server_->running()) << "the suite's server is gone (wait status "
                                  << server_->last_wait_status() << "); log:\n"
                                  << server_->Log();
  api_ = std::make_unique<Api>(server_->url());
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string p = std::string(info->test_suite_name()) + "__" + info->name();
  for (char& c : p) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  prefix_ = p + "/";
}

// ---------------------------------------------------------------- raw JSON

namespace {

struct Scanner {
  std::string_view s;
  size_t i = 0;

  bool AtEnd() const { return i >= s.size(); }
  void Ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool SkipString() {
    if (AtEnd() || s[i] != '"') return false;
    ++i;
    while (i < s.size()) {
      char c = s[i++];
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        return true;
      }
    }
    return false;
  }
  bool SkipValue() {
    Ws();
    if (AtEnd()) return false;
    char c = s[i];
    if (c == '"') return SkipString();
    if (c == '{' || c == '[') {
      int depth = 0;
      while (i < s.size()) {
        char d = s[i];
        if (d == '"') {
          if (!SkipString()) return false;
          continue;
        }
        if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++i;
            return true;
          }
        }
        ++i;
      }
      return false;
    }
    size_t start = i;
    while (i < s.size() && std::strchr(",]} \t\r\n", s[i]) == nullptr) ++i;
    return i > start;
  }
};

std::string_view Trim(std::string_view t) {
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  return t;
}

// Calls fn(name, value_text) for each member; stops early when fn returns true.
// Returns false when the text is not an object.
template <typename Fn>
bool ForEachMember(std::string_view text, Fn fn) {
  Scanner sc{text};
  sc.Ws();
  if (sc.AtEnd() || text[sc.i] != '{') return false;
  ++sc.i;
  while (true) {
    sc.Ws();
    if (sc.AtEnd()) return false;
    if (text[sc.i] == '}') return true;
    size_t name_start = sc.i;
    if (!sc.SkipString()) return false;
    auto name = nlohmann::json::parse(text.substr(name_start, sc.i - name_start), nullptr, false);
    if (!name.is_string()) return false;
    sc.Ws();
    if (sc.AtEnd() || text[sc.i] != ':') return false;
    ++sc.i;
    sc.Ws();
    size_t value_start = sc.i;
    if (!sc.SkipValue()) return false;
    if (fn(name.get<std::string>(), text.substr(value_start, sc.i - value_start))) return true;
    sc.Ws();
    if (sc.AtEnd()) return false;
    if (text[sc.i] == ',') {
      ++sc.i;
      continue;
    }
    return text[sc.i] == '}';
  }
}

}  // namespace

std::optional<std::string> RawMember(std::string_view object_text, std::string_view name) {
  std::optional<std::string> found;
  ForEachMember(object_text, [&](const std::string& n, std::string_view v) {
    if (n != name) return false;
    found = std::string(v);
    return true;
  });
  return found;
}

std::vector<std::string> RawMemberNames(std::string_view object_text) {
  std::vector<std::string> names;
  ForEachMember(object_text, [&](const std::string& n, std::string_view) {
    names.push_back(n);
    return false;
  });
  return names;
}

std::vector<std::string> RawElements(std::string_view array_text) {
  std::vector<std::string> out;
  Scanner sc{array_text};
  sc.Ws();
  if (sc.AtEnd() || array_text[sc.i] != '[') return out;
  ++sc.i;
  sc.Ws();
  if (!sc.AtEnd() && array_text[sc.i] == ']') return out;
  while (true) {
    sc.Ws();
    size_t start = sc.i;
    if (!sc.SkipValue()) return out;
    out.emplace_back(array_text.substr(start, sc.i - start));
    sc.Ws();
    if (sc.AtEnd() || array_text[sc.i] != ',') return out;
    ++sc.i;
  }
}

std::optional<std::string> RawAt(std::string_view text, std::string_view path) {
  std::string current(Trim(text));
  while (!path.empty()) {
    auto dot = path.find('.');
    std::string_view seg = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (!current.empty() && current.front() == '[') {
      char* end = nullptr;
      std::string seg_s(seg);
      unsigned long idx = std::strtoul(seg_s.c_str(), &end, 10);
      if (seg_s.empty() || *end != '\0') return std::nullopt;
      auto elems = RawElements(current);
      if (idx >= elems.size()) return std::nullopt;
      current = elems[idx];
    } else {
      auto m = RawMember(current, seg);
      if (!m) return std::nullopt;
      current = *m;
    }
  }
  return current;
}

// ---------------------------------------------------------------- hashes

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

bool IsLowerHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string JsonQuoteMinimal(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out += "\"";
  return out;
}

std::string CommitBytes(const std::string& revision_body) {
  auto j = nlohmann::json::parse(revision_body, nullptr, false);
  if (!j.is_object()) return "<not json>";
  auto str_or_null = [&](const char* name) -> std::string {
    if (!j.contains(name) || !j[name].is_string()) return "null";
    return JsonQuoteMinimal(j[name].get<std::string>());
  };
  std::string out = "{\"revision\":" + std::to_string(j.value("revision", int64_t{-1})) +
                    ",\"timestamp\":" + str_or_null("timestamp") +
                    ",\"actor\":" + str_or_null("actor") + ",\"reason\":" + str_or_null("reason") +
                    ",\"request_id\":" + str_or_null("request_id") + ",\"events\":[";
  auto events_text = RawMember(revision_body, "events");
  std::vector<std::string> raw_events = events_text ? RawElements(*events_text)
                                                    : std::vector<std::string>{};
  const auto& events = j.contains("events") ? j["events"] : nlohmann::json::array();
  for (size_t k = 0; k < events.size() && k < raw_events.size(); ++k) {
    const auto& e = events[k];
    if (k > 0) out += ",";
    out += "{\"index\":" + std::to_string(e.value("index", int64_t{-1})) +
           ",\"type\":" + JsonQuoteMinimal(e.value("type", std::string())) +
           ",\"key\":" + JsonQuoteMinimal(e.value("key", std::string())) +
           ",\"version\":" + std::to_string(e.value("version", int64_t{-1})) +
           ",\"value\":" + RawMember(raw_events[k], "value").value_or("null") +
           ",\"previous_value\":" + RawMember(raw_events[k], "previous_value").value_or("null") +
           "}";
  }
  out += "]}";
  return out;
}

std::string ChainHash(const std::string& prev_hash_hex, std::string_view commit_bytes) {
  std::string data;
  for (size_t i = 0; i + 1 < prev_hash_hex.size(); i += 2) {
    data.push_back(static_cast<char>(std::stoi(prev_hash_hex.substr(i, 2), nullptr, 16)));
  }
  data.append(commit_bytes);
  return Sha256Hex(data);
}

// ---------------------------------------------------------------- time

bool IsTimestamp(const std::string& s) {
  static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$)");
  return std::regex_match(s, re);
}

int64_t TimeMicros(const std::string& s) {
  if (!IsTimestamp(s)) return -1;
  std::tm tm{};
  int us = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(::timegm(&tm)) * 1000000 + us;
}

std::string FormatMicros(int64_t micros) {
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros % 1000000));
  return buf;
}

// ---------------------------------------------------------------- metrics

std::vector<MetricSample> ParseMetrics(const std::string& text) {
  std::vector<MetricSample> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    MetricSample m;
    size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos) continue;
    m.name = line.substr(0, name_end);
    size_t value_start = name_end;
    if (line[name_end] == '{') {
      size_t close = line.rfind('}');
      if (close == std::string::npos || close < name_end) continue;
      m.labels = line.substr(name_end + 1, close - name_end - 1);
      value_start = close + 1;
    }
    m.value = std::strtod(line.c_str() + value_start, nullptr);
    out.push_back(std::move(m));
  }
  return out;
}

// ---------------------------------------------------------------- watch

bool WatchStream::Open(int port, const std::string& target, const Headers& headers,
                       milliseconds timeout) {
  if (!conn_.Connect(port)) return false;
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nAccept: text/event-stream\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  req += "\r\n";
  if (!conn_.SendAll(req)) return false;

  const auto deadline = Clock::now() + timeout;
  size_t head_end;
  while ((head_end = raw_.find("\r\n\r\n")) == std::string::npos) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    if (conn_.ReadSome(&raw_, left) != RawConnection::ReadStatus::kData) return false;
  }
  std::string head = raw_.substr(0, head_end);
  std::string rest = raw_.substr(head_end + 4);
  raw_.clear();

  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return false;
  status_ = std::atoi(status_line.c_str() + 9);
  size_t p = line_end == std::string::npos ? head.size() : line_end + 2;
  while (p < head.size()) {
    size_t e = head.find("\r\n", p);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(p, e - p);
    p = e + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value(Trim(std::string_view(line).substr(colon + 1)));
    headers_[name] = value;
  }
  auto te = headers_.find("transfer-encoding");
  chunked_ = te != headers_.end() && te->second.find("chunked") != std::string::npos;
  FeedBody(rest);
  return true;
}

std::string WatchStream::Header(const std::string& lowercase_name) const {
  auto it = headers_.find(lowercase_name);
  return it == headers_.end() ? std::string() : it->second;
}

bool WatchStream::ReadMore(milliseconds timeout) {
  std::string buf;
  switch (conn_.ReadSome(&buf, timeout)) {
    case RawConnection::ReadStatus::kData:
      FeedBody(buf);
      return true;
    case RawConnection::ReadStatus::kClosed:
      closed_ = true;
      return false;
    case RawConnection::ReadStatus::kTimeout:
      return false;
  }
  return false;
}

bool WatchStream::WaitForEvents(size_t n, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (events_.size() < n && !closed_) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    ReadMore(left);
  }
  return events_.size() >= n;
}

void WatchStream::FeedBody(std::string_view bytes) {
  if (!chunked_) {
    FeedSse(bytes);
    return;
  }
  raw_.append(bytes);
  while (true) {
    if (chunk_state_ == 0) {
      size_t e = raw_.find("\r\n");
      if (e == std::string::npos) return;
      size_t size = std::strtoul(raw_.substr(0, e).c_str(), nullptr, 16);
      raw_.erase(0, e + 2);
      if (size == 0) {
        chunk_state_ = 3;
        closed_ = true;
        return;
      }
      chunk_left_ = size;
      chunk_state_ = 1;
    } else if (chunk_state_ == 1) {
      if (raw_.empty()) return;
      size_t n = std::min(chunk_left_, raw_.size());
      FeedSse(std::string_view(raw_).substr(0, n));
      raw_.erase(0, n);
      chunk_left_ -= n;
      if (chunk_left_ == 0) chunk_state_ = 2;
    } else if (chunk_state_ == 2) {
      if (raw_.size() < 2) return;
      raw_.erase(0, 2);
      chunk_state_ = 0;
    } else {
      return;
    }
  }
}

void WatchStream::FeedSse(std::string_view bytes) {
  sse_.append(bytes);
  size_t nl;
  while ((nl = sse_.find('\n')) != std::string::npos) {
    std::string line = sse_.substr(0, nl);
    sse_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (pending_has_data_ || !pending_.event.empty()) {
        pending_.json = ParseBody(pending_.data);
        events_.push_back(std::move(pending_));
      }
      pending_ = SseEvent{};
      pending_has_data_ = false;
      continue;
    }
    if (line[0] == ':') {
      ++comments_;
      continue;
    }
    auto colon = line.find(':');
    std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? std::string() : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "event") {
      pending_.event = value;
    } else if (field == "data") {
      if (pending_has_data_) pending_.data += "\n";
      pending_.data += value;
      pending_has_data_ = true;
    } else if (field == "id") {
      pending_.id = value;
    }
  }
}

}  // namespace chronoconf::test
