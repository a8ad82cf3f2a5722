#include "etcd/caller.h"

#include <optional>
#include <string>

#include "domain/commands.h"
#include "etcd/errors.h"
#include "http/request_id.h"
#include "http/request_parsing.h"

namespace chronoconf::etcd {
namespace {

std::optional<std::string> Metadata(const grpc::ServerContextBase& ctx, const char* name) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(name);
  if (it == md.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

grpc::Status PrincipalForToken(const http::AuthTable& auth, std::string_view token,
                               http::Principal* out) {
  // The table checks bearer tokens; the etcd token is that token.
  const std::string authorization = "Bearer " + std::string(token);
  auto who = auth.Authenticate(&authorization);
  if (!who) return rpctypes::InvalidAuthToken();
  *out = std::move(*who);
  return grpc::Status::OK;
}

CallMetadata MetadataOf(const grpc::ServerContextBase& ctx) {
  return {.token = Metadata(ctx, "token"),
          .actor = Metadata(ctx, "x-actor"),
          .reason = Metadata(ctx, "x-reason"),
          .request_id = Metadata(ctx, "x-request-id")};
}

grpc::Status IdentifyCaller(const CallMetadata& md, const http::AuthTable* auth,
                            http::Role needed, Caller* out) {
  out->principal = http::Principal{};
  if (auth) {
    const auto& token = md.token;
    if (!token || token->empty()) return rpctypes::UserEmpty();
    if (grpc::Status s = PrincipalForToken(*auth, *token, &out->principal); !s.ok()) return s;
    if (!http::RoleAllows(out->principal.role, needed)) return rpctypes::PermissionDenied();
    out->meta.actor = out->principal.name;
    // A reviewed prefix refuses a non-admin's etcd write too (SPEC §8).
    out->meta.needs_review = out->principal.role != http::Role::kAdmin;
  } else if (const auto& actor = md.actor; actor && !actor->empty()) {
    if (Status s = ValidateLogText(*actor, kMaxActorBytes, "the x-actor metadata"); !s.ok()) {
      return ToGrpc(s);
    }
    out->meta.actor = *actor;
  }
  if (const auto& reason = md.reason) {
    auto decoded = http::PercentDecode(*reason, /*plus_is_space=*/false);
    if (!decoded) return ToGrpc(decoded.status());
    if (Status s = ValidateLogText(*decoded, kMaxReasonBytes, "the x-reason metadata"); !s.ok()) {
      return ToGrpc(s);
    }
    out->meta.reason = std::move(*decoded);
  }
  if (const auto& id = md.request_id; id && !id->empty()) {
    if (Status s = ValidateLogText(*id, kMaxRequestIdBytes, "the x-request-id metadata");
        !s.ok()) {
      return ToGrpc(s);
    }
    out->meta.request_id = *id;
  } else {
    out->meta.request_id = http::NewRequestId();
  }
  return grpc::Status::OK;
}

}  // namespace chronoconf::etcd
