#include "cli/client_internal.h"

#include <algorithm>

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf::cli {

std::string FieldText(const json::Value& obj, std::string_view name, std::string_view absent) {
  const json::Value* v = obj.Find(name);
  if (v == nullptr || v->is_null()) return std::string(absent);
  if (v->is_string()) return v->str();
  return v->Minified();
}

std::string FieldJson(const json::Value& obj, std::string_view name, std::string_view absent) {
  const json::Value* v = obj.Find(name);
  return v == nullptr ? std::string(absent) : v->Minified();
}

int64_t FieldInt(const json::Value& obj, std::string_view name, int64_t absent) {
  const json::Value* v = obj.Find(name);
  if (v == nullptr) return absent;
  return v->AsInt64().value_or(absent);
}

const std::vector<json::Value>& FieldItems(const json::Value& obj, std::string_view name) {
  static const std::vector<json::Value> kEmpty;
  const json::Value* v = obj.Find(name);
  return v != nullptr && v->is_array() ? v->items() : kEmpty;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Changes(int64_t n) { return fmt::format("{} change{}", n, n == 1 ? "" : "s"); }

Colour TypeColour(std::string_view type) {
  return type == "ConfigDeleted" ? Colour::kRed : Colour::kGreen;
}

int UsageError(std::string_view message) {
  ReportError("usage", message);
  return kExitUsage;
}

int NotEmptyKey(std::string_view key) {
  return key.empty() ? UsageError("KEY must not be empty") : kExitOk;
}

std::string MergedListing(const std::vector<std::pair<std::string, std::string>>& raw_members,
                          std::string_view list_name, const std::vector<json::Value>& items) {
  json::Writer w;
  w.BeginObject();
  for (const auto& [name, text] : raw_members) w.RawField(name, text);
  w.Key(list_name).BeginArray();
  for (const json::Value& item : items) w.Raw(item.Minified());
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace chronoconf::cli
