// Who calls an etcd method and why (SPEC §7 "Who and why"), from the gRPC
// metadata: with auth on, the `token` (what Authenticate handed out: the
// chronoconf token itself) names the principal and the actor; with auth
// off, `x-actor` names the actor (else "anonymous") and every caller is an
// admin of every key. `x-reason` (percent-decoded, so that any UTF-8 text
// fits in metadata) is the reason, `x-request-id` the request id, else one
// is generated.
#ifndef CHRONOCONF_ETCD_CALLER_H_
#define CHRONOCONF_ETCD_CALLER_H_

#include <optional>
#include <string>

#include <grpcpp/server_context.h>

#include "domain/events.h"
#include "http/auth.h"
#include "http/principal.h"

namespace chronoconf::etcd {

struct Caller {
  http::Principal principal;
  CommitMeta meta;  // what a write records
};

// What a call says about its caller, whatever carried it: gRPC metadata, or
// the JSON gateway's HTTP headers (`Authorization` holds the token there,
// as etcd's gateway takes it). Absent: nullopt.
struct CallMetadata {
  std::optional<std::string> token;
  std::optional<std::string> actor;       // x-actor
  std::optional<std::string> reason;      // x-reason, percent-encoded
  std::optional<std::string> request_id;  // x-request-id
};

// The metadata of a gRPC call.
CallMetadata MetadataOf(const grpc::ServerContextBase& ctx);

// Identifies the caller under `auth` (nullptr: auth off) and checks that
// its role allows `needed`. Errors (etcd's): UserEmpty without a token when
// auth is on, InvalidAuthToken for an unknown one, PermissionDenied when the
// role is too low; InvalidArgument for metadata texts that may not enter the
// log (SPEC §2.1).
grpc::Status IdentifyCaller(const CallMetadata& md, const http::AuthTable* auth,
                            http::Role needed, Caller* out);

// The principal a bare token names (Authenticate, and each call's `token`).
// Errors: InvalidAuthToken.
grpc::Status PrincipalForToken(const http::AuthTable& auth, std::string_view token,
                               http::Principal* out);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_CALLER_H_
