// Auth (SPEC §4): bearer tokens from --auth-file, stored only as SHA-256,
// each with a name, a role and optionally the key prefixes it is limited to.
//
//   {"tokens":[{"name":"ci","sha256":"<hex>","role":"write","prefixes":["payments/"]}]}
//
// A request presents `Authorization: Bearer <token>`; the server hashes it
// and compares the digest with every stored one in constant time, so the
// time taken tells nothing about which token, or how much of one, matched.
// The token itself is never stored or logged.
//
// Thread safety: an AuthTable is immutable after Parse; share it freely.
#ifndef CHRONOCONF_HTTP_AUTH_H_
#define CHRONOCONF_HTTP_AUTH_H_

#include <array>
#include <string>
#include <vector>

#include "common/result.h"
#include "http/principal.h"

namespace chronoconf::http {

const char* RoleName(Role role);

class AuthTable {
 public:
  // Parses an auth file's text. Errors: kInvalidRequest saying what is wrong.
  static Result<AuthTable> Parse(std::string_view text);
  // Reads and parses the file at `path`.
  static Result<AuthTable> Load(const std::string& path);

  // The principal an Authorization header names. Errors: kUnauthorized when
  // it is missing, not a bearer token, or no token matches.
  Result<Principal> Authenticate(const std::string* authorization) const;

  size_t size() const { return tokens_.size(); }
  // What looks unintended but is valid (a prefix without a trailing '/'):
  // the loader logs each line.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Token {
    std::array<unsigned char, 32> sha256;
    Principal principal;
  };
  std::vector<Token> tokens_;
  std::vector<std::string> warnings_;
};

// May `who` call a route that needs `required`? (read < write < admin)
bool RoleAllows(Role who, Role required);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_AUTH_H_
