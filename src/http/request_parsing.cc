#include "http/request_parsing.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "common/time_format.h"

namespace chronoconf::http {

namespace {

// The value of one hex digit, -1 for anything else. Decoding nibble by
// nibble (not with a signed from_chars) refuses "%-1" and "%+1".
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 1 < s.size() ? HexDigit(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexDigit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Status::InvalidRequest("malformed percent-encoding in the URL");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Status ParseTarget(std::string_view target, Request* req) {
  size_t q = target.find('?');
  auto path = PercentDecode(target.substr(0, q), false);
  if (!path) return path.status();
  req->path = std::move(*path);
  if (q == std::string_view::npos) return Status::OK();
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name) return name.status();
    if (!value) return value.status();
    // A repeated parameter has no single meaning (which at_revision wins?).
    if (req->query.contains(*name)) {
      return Status::InvalidRequest(fmt::format("query parameter '{}' is given twice", *name));
    }
    req->query.emplace(std::move(*name), std::move(*value));
  }
  return Status::OK();
}

Result<int64_t> ParseCount(std::string_view text, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 0) {
    return Status::InvalidRequest(fmt::format("{} must be a non-negative integer, not '{}'", what, text));
  }
  return v;
}

Result<std::optional<int64_t>> IntParam(const Request& req, const std::string& name, int64_t min,
                                        int64_t max) {
  const std::string* s = req.Query(name);
  if (!s) return std::optional<int64_t>();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size() || v < min || v > max) {
    return Status::InvalidRequest(
        fmt::format("query parameter '{}' must be an integer from {} to {}", name, min, max));
  }
  return std::optional<int64_t>(v);
}

Result<std::optional<int64_t>> TimeParam(const Request& req, const std::string& name) {
  const std::string* s = req.Query(name);
  if (!s) return std::optional<int64_t>();
  auto t = ParseRfc3339Micros(*s);
  if (!t) {
    return Status::InvalidRequest(
        fmt::format("query parameter '{}': {}", name, t.status().message()));
  }
  return std::optional<int64_t>(*t);
}

Status CheckMembers(const json::Value& obj, std::initializer_list<std::string_view> allowed,
                    std::string_view where) {
  const auto& members = obj.members();
  for (size_t i = 0; i < members.size(); ++i) {
    const std::string& name = members[i].name;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return Status::InvalidRequest(fmt::format("unknown member '{}' in {}", name, where));
    }
    for (size_t j = 0; j < i; ++j) {
      if (members[j].name == name) {
        return Status::InvalidRequest(fmt::format("member '{}' is given twice in {}", name, where));
      }
    }
  }
  return Status::OK();
}

Result<std::string> StorableValue(const json::Value& value, size_t max_bytes,
                                  std::string_view what) {
  if (value.depth() > json::kMaxValueDepth) {
    return Status::InvalidRequest(fmt::format("{} is nested {} levels deep; the limit is {}",
                                              what, value.depth(), json::kMaxValueDepth));
  }
  std::string text = value.Minified();
  if (text.size() > max_bytes) {
    return Status::TooLarge(
        fmt::format("{} is {} bytes; the limit is {} bytes", what, text.size(), max_bytes));
  }
  return text;
}

Result<json::Value> JsonObjectBody(const Request& req, size_t value_level) {
  // Nodes for the envelope only: values are stored as their text, so
  // nothing inside one is ever looked at.
  auto v = json::Parse(req.body, json::kMaxReadDepth, value_level);
  if (!v) return v.status();
  if (!v->is_object()) return Status::InvalidRequest("the request body must be a JSON object");
  return v;
}

Result<std::optional<std::string>> OptionalStringMember(const json::Value& obj,
                                                        std::string_view name) {
  const json::Value* v = obj.Find(name);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) {
    return Status::InvalidRequest(fmt::format("'{}' must be a string", name));
  }
  return std::optional<std::string>(v->str());
}

Result<std::optional<int64_t>> OptionalVersionMember(const json::Value& obj,
                                                     std::string_view name) {
  const json::Value* v = obj.Find(name);
  if (!v || v->is_null()) return std::optional<int64_t>();
  auto n = v->AsInt64();
  if (!n || *n < 0) {
    return Status::InvalidRequest(fmt::format("'{}' must be a non-negative integer", name));
  }
  return std::optional<int64_t>(*n);
}

}  // namespace chronoconf::http
