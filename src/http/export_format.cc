#include "http/export_format.h"

#include <algorithm>
#include <cctype>

#include "json/json_value.h"
#include "json/json_writer.h"

namespace chronoconf::http {

std::string ExportJson(const KeyValues& values) {
  json::Writer w;
  w.BeginObject();
  for (const auto& [key, value] : values) w.RawField(key, value);
  w.EndObject();
  return w.Take();
}

std::string EnvName(const std::string& key) {
  std::string name;
  for (char c : key) {
    if (c == '/' || c == '.' || c == '-') {
      name.push_back('_');
    } else {
      name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  return name;
}

std::string ShellQuote(const std::string& text) {
  bool plain = !text.empty();
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("_./:@+-").find(c) == std::string_view::npos) {
      plain = false;
    }
  }
  if (plain) return text;
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string ExportEnv(const KeyValues& values) {
  std::vector<std::string> lines;
  for (const auto& [key, value] : values) {
    std::string text = value;
    if (!value.empty() && value.front() == '"') {
      auto parsed = json::Parse(value);
      if (parsed && parsed->is_string()) text = parsed->str();
    }
    lines.push_back(EnvName(key) + "=" + ShellQuote(text) + "\n");
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += line;
  return out;
}

std::string ExportYaml(const KeyValues& values) {
  if (values.empty()) return "{}\n";
  std::string out;
  for (const auto& [key, value] : values) {
    json::AppendQuoted(&out, key);
    out += ": " + value + "\n";
  }
  return out;
}

}  // namespace chronoconf::http
