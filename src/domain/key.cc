#include "domain/key.h"

#include <fmt/format.h>

namespace chronoconf {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/';
}

}  // namespace

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidKey(fmt::format("invalid key: {}", why));
  };
  if (key.empty()) return bad("a key must not be empty");
  if (key.size() > kMaxKeyBytes) return bad("a key is at most 256 bytes");
  char first = key.front();
  if (first == '.' || first == '-' || first == '/') {
    return bad("a key starts with a letter, a digit or '_'");
  }
  for (char c : key) {
    if (!IsKeyChar(c)) return bad("a key holds only A-Z a-z 0-9 _ . - /");
  }
  if (key.back() == '/') return bad("a key must not end with '/'");
  if (key.find("//") != std::string_view::npos) return bad("a key must not contain '//'");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment == "." || segment == "..") return bad("a key has no '.' or '..' segment");
    start = end + 1;
  }
  return Status::OK();
}

Status ValidatePrefix(std::string_view prefix) {
  for (char c : prefix) {
    if (!IsKeyChar(c)) {
      return Status::InvalidKey("invalid prefix: a prefix holds only A-Z a-z 0-9 _ . - /");
    }
  }
  if (prefix.size() > kMaxKeyBytes) return Status::InvalidKey("invalid prefix: too long");
  return Status::OK();
}

}  // namespace chronoconf
