#include "domain/key_scope.h"

#include <algorithm>

namespace chronoconf {
namespace {

// Sorts and drops every prefix that lies inside another ("a/b/" in "a/").
std::vector<std::string> Normalize(std::vector<std::string> prefixes) {
  std::sort(prefixes.begin(), prefixes.end());
  std::vector<std::string> out;
  for (std::string& p : prefixes) {
    if (!out.empty() && std::string_view(p).starts_with(out.back())) continue;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

KeyScope KeyScope::Under(std::vector<std::string> prefixes) {
  KeyScope s;
  s.all_ = false;
  s.prefixes_ = Normalize(std::move(prefixes));
  return s;
}

bool KeyScope::Contains(std::string_view key) const {
  if (all_) return true;
  return std::any_of(prefixes_.begin(), prefixes_.end(),
                     [&](const std::string& p) { return key.starts_with(p); });
}

bool KeyScope::Covers(std::string_view prefix) const {
  if (all_) return true;
  return std::any_of(prefixes_.begin(), prefixes_.end(),
                     [&](const std::string& p) { return prefix.starts_with(p); });
}

std::vector<std::string> KeyScope::Within(std::string_view prefix) const {
  if (all_) return {std::string(prefix)};
  std::vector<std::string> out;
  for (const std::string& p : prefixes_) {
    if (p.starts_with(prefix)) {
      out.push_back(p);  // the scope is narrower than the request
    } else if (prefix.starts_with(p)) {
      out.push_back(std::string(prefix));  // the request is narrower
    }
  }
  return Normalize(std::move(out));
}

}  // namespace chronoconf
