// Auth: Authenticate turns a chronoconf token into etcd's token (SPEC §7):
// the user is the token's name, the password the token, and the token
// handed back is that same token, so every node accepts it and a SIGHUP that
// removes it ends it at once. Users and roles live in the auth file.
#include "etcd/errors.h"
#include "etcd/methods.h"
#include "etcd/services.h"

namespace chronoconf::etcd {
namespace {

constexpr const char* kAuthFileInstead =
    "tokens and roles live in the auth file (serve --auth-file; SIGHUP reloads it)";

}  // namespace

grpc::Status AuthAuthenticate(const EtcdContext& context, const CallMetadata& /*md*/,
                              const pb::AuthenticateRequest& req,
                              pb::AuthenticateResponse* resp) {
  auto table = context.auth();
  if (!table) return rpctypes::AuthNotEnabled();
  http::Principal who;
  if (!PrincipalForToken(*table, req.password(), &who).ok() || who.name != req.name()) {
    return rpctypes::AuthFailed();
  }
  context.FillHeader(context.projection().head(), resp->mutable_header());
  resp->set_token(req.password());
  return grpc::Status::OK;
}

grpc::Status AuthService::Authenticate(grpc::ServerContext* ctx,
                                       const pb::AuthenticateRequest* req,
                                       pb::AuthenticateResponse* resp) {
  return AuthAuthenticate(*context_, MetadataOf(*ctx), *req, resp);
}

#define CHRONOCONF_AUTH_UNIMPLEMENTED(Method, Request, Response)                     \
  grpc::Status AuthService::Method(grpc::ServerContext* /*ctx*/, const pb::Request* /*req*/, \
                                   pb::Response* /*resp*/) {                         \
    return Unimplemented("Auth." #Method, kAuthFileInstead);                         \
  }

CHRONOCONF_AUTH_UNIMPLEMENTED(AuthEnable, AuthEnableRequest, AuthEnableResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(AuthDisable, AuthDisableRequest, AuthDisableResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(UserAdd, AuthUserAddRequest, AuthUserAddResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(UserGet, AuthUserGetRequest, AuthUserGetResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(UserList, AuthUserListRequest, AuthUserListResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(UserDelete, AuthUserDeleteRequest, AuthUserDeleteResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(UserChangePassword, AuthUserChangePasswordRequest,
                              AuthUserChangePasswordResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(UserGrantRole, AuthUserGrantRoleRequest, AuthUserGrantRoleResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(UserRevokeRole, AuthUserRevokeRoleRequest,
                              AuthUserRevokeRoleResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(RoleAdd, AuthRoleAddRequest, AuthRoleAddResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(RoleGet, AuthRoleGetRequest, AuthRoleGetResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(RoleList, AuthRoleListRequest, AuthRoleListResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(RoleDelete, AuthRoleDeleteRequest, AuthRoleDeleteResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(RoleGrantPermission, AuthRoleGrantPermissionRequest,
                              AuthRoleGrantPermissionResponse)
CHRONOCONF_AUTH_UNIMPLEMENTED(RoleRevokePermission, AuthRoleRevokePermissionRequest,
                              AuthRoleRevokePermissionResponse)

#undef CHRONOCONF_AUTH_UNIMPLEMENTED

}  // namespace chronoconf::etcd
