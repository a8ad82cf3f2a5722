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
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(ch);
        }
    }
  }
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

}  // namespace chronoconf::json
