// JsonWriter: builds minified JSON text by appending to a string.
//
// Escaping follows SPEC §1.1 exactly ('"' and '\' escaped, control bytes as
// \n \r \t \b \f or \u00xx in lowercase hex, everything else as it is), so the
// same writer produces API responses and the bytes that are hashed. Raw()
// inserts a stored value text verbatim: values are never re-encoded.
//
// Thread safety: none; one writer per thread.
#ifndef CHRONOCONF_JSON_JSON_WRITER_H_
#define CHRONOCONF_JSON_JSON_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chronoconf::json {

class Writer {
 public:
  Writer& BeginObject();
  Writer& EndObject();
  Writer& BeginArray();
  Writer& EndArray();
  Writer& Key(std::string_view name);
  Writer& String(std::string_view s);
  Writer& Int(int64_t v);
  Writer& Bool(bool b);
  Writer& Null();
  // Inserts `json_text` as a value. REQUIRES: valid, minified JSON.
  Writer& Raw(std::string_view json_text);

  // Key + value helpers; the optional ones write nothing when empty.
  Writer& Field(std::string_view name, std::string_view s) { return Key(name).String(s); }
  Writer& Field(std::string_view name, const char* s) { return Key(name).String(s); }
  Writer& Field(std::string_view name, int64_t v) { return Key(name).Int(v); }
  Writer& Field(std::string_view name, bool b) { return Key(name).Bool(b); }
  Writer& RawField(std::string_view name, std::string_view json_text) {
    return Key(name).Raw(json_text);
  }
  Writer& OptionalField(std::string_view name, const std::optional<std::string>& s) {
    return s ? Key(name).String(*s) : *this;
  }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  std::string out_;
  bool need_comma_ = false;
};

// Appends `s` as a JSON string literal, quotes included.
void AppendQuoted(std::string* out, std::string_view s);

// True when `s` is well-formed UTF-8 (what a JSON string may hold).
bool IsValidUtf8(std::string_view s);

// `s` with every byte that does not begin a well-formed UTF-8 sequence
// replaced by U+FFFD: for texts that echo client bytes (error messages).
std::string ToValidUtf8(std::string_view s);

}  // namespace chronoconf::json

#endif  // CHRONOCONF_JSON_JSON_WRITER_H_
