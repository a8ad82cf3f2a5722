#include "http/export_format.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

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
  // A leading '/' run gives no leading '_' run (/app/db-url -> APP_DB_URL).
  size_t start = key.find_first_not_of('/');
  std::string name;
  for (size_t i = start == std::string::npos ? key.size() : start; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    name.push_back(std::isalnum(c) || c == '_' ? static_cast<char>(std::toupper(c)) : '_');
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

Result<std::string> ExportEnv(const KeyValues& values) {
  // NAME -> the keys that give it: a collision would be sourced as the last
  // line and silently lose the others (SPEC §2.4).
  std::map<std::string, std::vector<size_t>> names;  // NAME -> indices into values
  for (size_t i = 0; i < values.size(); ++i) names[EnvName(values[i].first)].push_back(i);
  std::vector<std::string> problems;
  for (const auto& [name, keys] : names) {
    std::string quoted;
    for (size_t i : keys) {
      quoted += fmt::format("{}'{}'", quoted.empty() ? "" : ", ", values[i].first);
    }
    if (keys.size() > 1) {
      problems.push_back(fmt::format("{} all give the name {}", quoted, name));
    } else if (name.empty()) {
      problems.push_back(fmt::format("{} gives an empty name", quoted));
    } else if (std::isdigit(static_cast<unsigned char>(name[0]))) {
      problems.push_back(fmt::format("{} gives {}, which begins with a digit", quoted, name));
    }
    if (problems.size() >= 10) break;  // enough to act on; the message stays short
  }
  if (!problems.empty()) {
    std::string all;
    for (const std::string& p : problems) all += (all.empty() ? "" : "; ") + p;
    return Status::InvalidRequest(fmt::format(
        "these keys have no shell variable name of their own: {} (export a narrower prefix, "
        "or use format=json)",
        all));
  }
  std::string out;
  for (const auto& [name, keys] : names) {  // sorted by NAME
    const std::string& value = values[keys[0]].second;
    std::string text = value;
    if (!value.empty() && value.front() == '"') {
      auto parsed = json::Parse(value);
      if (parsed && parsed->is_string()) text = parsed->str();
    }
    out += name + "=" + ShellQuote(text) + "\n";
  }
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
