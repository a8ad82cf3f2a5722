#include "json/json_writer.h"

#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>

#include <fmt/format.h>

namespace chronoconf::json {

void Writer::Separate() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = true;
}

Writer& Writer::BeginObject() {
  Separate();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}
Writer& Writer::EndObject() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}
Writer& Writer::BeginArray() {
  Separate();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}
Writer& Writer::EndArray() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}
Writer& Writer::Key(std::string_view name) {
  Separate();
  AppendQuoted(&out_, name);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}
Writer& Writer::String(std::string_view s) {
  Separate();
  AppendQuoted(&out_, s);
  return *this;
}
Writer& Writer::Int(int64_t v) {
  Separate();
  fmt::format_to(std::back_inserter(out_), "{}", v);
  return *this;
}
Writer& Writer::Bool(bool b) {
  Separate();
  out_ += b ? "true" : "false";
  return *this;
}
Writer& Writer::Null() {
  Separate();
  out_ += "null";
  return *this;
}
Writer& Writer::Raw(std::string_view json_text) {
  Separate();
  out_ += json_text;
  return *this;
}

void AppendQuoted(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  // Runs of bytes that need no escape are appended whole (keys, actors and
  // ids rarely need one).
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        *out += "\\u00";
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

namespace {
struct DiscardStream {
  void Put(char) {}
};
}  // namespace

bool IsValidUtf8(std::string_view s) {
  rapidjson::MemoryStream is(s.data(), s.size());
  DiscardStream sink;
  while (is.Tell() < s.size()) {
    if (!rapidjson::UTF8<>::Validate(is, sink)) return false;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    // The length of a well-formed sequence at i (RFC 3629 table 3-7), or 0.
    auto c = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
      return i + k < s.size() && c(k) >= lo && c(k) <= hi;
    };
    unsigned b = c(0);
    size_t n = 0;
    if (b < 0x80) {
      n = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = cont(1) ? 2 : 0;
    } else if (b >= 0xE0 && b <= 0xEF) {
      unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
      n = cont(1, lo, hi) && cont(2) ? 3 : 0;
    } else if (b >= 0xF0 && b <= 0xF4) {
      unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
      n = cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
    }
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace chronoconf::json
