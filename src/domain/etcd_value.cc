#include "domain/etcd_value.h"

#include "json/json_value.h"
#include "json/json_writer.h"

namespace chronoconf {

std::optional<std::string> StoredValueFromEtcd(std::string_view bytes) {
  if (!json::IsValidUtf8(bytes)) return std::nullopt;
  // Only an object or array that is already minified is taken as JSON: then
  // storing it changes no byte. Anything else ("1.50", "true", " {}") is text.
  if (!bytes.empty() && (bytes.front() == '{' || bytes.front() == '[')) {
    auto parsed = json::Parse(bytes, json::kMaxValueDepth, /*build_depth=*/0);
    if (parsed && json::Minify(bytes) == bytes) return std::string(bytes);
  }
  std::string out;
  json::AppendQuoted(&out, bytes);
  return out;
}

std::string EtcdValueFromStored(std::string_view stored) {
  if (stored.empty() || stored.front() != '"') return std::string(stored);
  // A string without escapes is its text between the quotes (the common
  // case, no parse); otherwise the parser decodes the escapes.
  std::string_view inner = stored.substr(1, stored.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return std::string(inner);
  auto parsed = json::Parse(stored);
  return parsed && parsed->is_string() ? parsed->str() : std::string(stored);
}

}  // namespace chronoconf
