#include "http/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/sha256.h"
#include "domain/commands.h"
#include "domain/key.h"
#include "http/request_parsing.h"
#include "json/json_value.h"

namespace chronoconf::http {
namespace {

Result<Role> ParseRole(const std::string& name) {
  if (name == "read") return Role::kRead;
  if (name == "write") return Role::kWrite;
  if (name == "admin") return Role::kAdmin;
  return Status::InvalidRequest(fmt::format("unknown role '{}': use read, write or admin", name));
}

std::array<unsigned char, 32> Digest(std::string_view data) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kPublic: return "public";
    case Role::kRead: return "read";
    case Role::kWrite: return "write";
    case Role::kAdmin: return "admin";
  }
  return "?";
}

bool RoleAllows(Role who, Role required) {
  return static_cast<int>(who) >= static_cast<int>(required);
}

Result<AuthTable> AuthTable::Parse(std::string_view text) {
  auto doc = json::Parse(text);
  if (!doc) return Status::InvalidRequest("the auth file is not JSON: " + doc.status().message());
  if (!doc->is_object()) return Status::InvalidRequest("the auth file must be a JSON object");
  if (Status s = CheckMembers(*doc, {"tokens"}, "the auth file"); !s.ok()) return s;
  const json::Value* tokens = doc->Find("tokens");
  if (!tokens || !tokens->is_array()) {
    return Status::InvalidRequest("the auth file needs a \"tokens\" array");
  }
  AuthTable table;
  for (size_t i = 0; i < tokens->items().size(); ++i) {
    const json::Value& t = tokens->items()[i];
    auto bad = [&](std::string what) {
      return Status::InvalidRequest(fmt::format("token {}: {}", i, what));
    };
    if (!t.is_object()) return bad("must be an object");
    if (Status s = CheckMembers(t, {"name", "sha256", "role", "prefixes"}, "a token"); !s.ok()) {
      return bad(s.message());
    }
    const json::Value* name = t.Find("name");
    const json::Value* sha = t.Find("sha256");
    const json::Value* role = t.Find("role");
    if (!name || !name->is_string() || name->str().empty()) return bad("needs a \"name\"");
    if (Status s = ValidateLogText(name->str(), kMaxActorBytes, "the name"); !s.ok()) {
      return bad(s.message());
    }
    if (!sha || !sha->is_string()) return bad("needs \"sha256\", the token's SHA-256 in hex");
    std::string hex = sha->str();
    for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string bytes = FromHex(hex);
    if (bytes.size() != 32) return bad("\"sha256\" must be 64 hex digits");
    if (!role || !role->is_string()) return bad("needs a \"role\": read, write or admin");
    auto r = ParseRole(role->str());
    if (!r) return bad(r.status().message());
    Token token;
    std::copy(bytes.begin(), bytes.end(), token.sha256.begin());
    token.principal.authenticated = true;
    token.principal.name = name->str();
    token.principal.role = *r;
    if (const json::Value* prefixes = t.Find("prefixes")) {
      if (!prefixes->is_array()) return bad("\"prefixes\" must be an array of strings");
      std::vector<std::string> list;
      for (const json::Value& p : prefixes->items()) {
        if (!p.is_string()) return bad("\"prefixes\" must be an array of strings");
        if (Status s = ValidatePrefix(p.str()); !s.ok()) return bad(s.message());
        // "payments" also grants "payments-archive/…": almost never meant.
        if (!p.str().empty() && p.str().back() != '/') {
          table.warnings_.push_back(fmt::format(
              "token '{}': the prefix \"{}\" has no trailing '/', so it also grants every key "
              "that merely begins with it (\"{}-archive/…\", \"{}2\"); write \"{}/\" to grant "
              "one folder",
              name->str(), p.str(), p.str(), p.str(), p.str()));
        }
        list.push_back(p.str());
      }
      token.principal.scope = KeyScope::Under(std::move(list));
    }
    for (const Token& other : table.tokens_) {
      if (other.sha256 == token.sha256) return bad("the same token is listed twice");
    }
    table.tokens_.push_back(std::move(token));
  }
  return table;
}

Result<AuthTable> AuthTable::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidRequest(fmt::format("cannot read the auth file {}", path));
  std::stringstream text;
  text << in.rdbuf();
  auto table = Parse(text.str());
  if (!table) {
    return Status::InvalidRequest(fmt::format("{}: {}", path, table.status().message()));
  }
  for (const std::string& w : table->warnings()) spdlog::warn("{}: {}", path, w);
  return table;
}

Result<Principal> AuthTable::Authenticate(const std::string* authorization) const {
  auto unauthorized = [](const char* why) { return Status(Code::kUnauthorized, why); };
  if (!authorization) return unauthorized("this route needs a token: Authorization: Bearer <token>");
  std::string_view h(*authorization);
  // The scheme is case-insensitive (RFC 9110 §11.1).
  std::string scheme(h.substr(0, 7));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (h.size() < 7 || scheme != "bearer ") {
    return unauthorized("the Authorization header must be 'Bearer <token>'");
  }
  std::string_view token = h.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return unauthorized("the bearer token is empty");
  auto digest = Digest(token);
  // Every stored digest is compared, in constant time, whatever matches.
  const Token* found = nullptr;
  for (const Token& t : tokens_) {
    bool same = CRYPTO_memcmp(t.sha256.data(), digest.data(), digest.size()) == 0;
    if (same) found = &t;
  }
  if (!found) return unauthorized("the token is not valid");
  return found->principal;
}

}  // namespace chronoconf::http
