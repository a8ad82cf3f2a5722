// Principal: who a request is, as the handlers see it (SPEC §4). With auth
// off, everybody is an admin of every key; with auth on, a token names it.
#ifndef CHRONOCONF_HTTP_PRINCIPAL_H_
#define CHRONOCONF_HTTP_PRINCIPAL_H_

#include <string>

#include "domain/key_scope.h"

namespace chronoconf::http {

// What a route needs and a token holds: read < write < admin. kPublic
// routes need no token.
enum class Role { kPublic, kRead, kWrite, kAdmin };

struct Principal {
  bool authenticated = false;  // a token named it (auth is on)
  std::string name;            // the token's name: the actor of its writes
  Role role = Role::kAdmin;
  KeyScope scope;              // the keys it may read and write
};

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_PRINCIPAL_H_
