// etcd's error statuses, with the gRPC codes and texts of etcd 3.4's
// api/v3rpc/rpctypes/error.go: clients match the text to turn an error back
// into a typed one (clientv3's rpctypes.ErrFutureRev, ...), so the texts are
// copied exactly. Kept in one table so that nothing else spells them.
#ifndef CHRONOCONF_ETCD_ERRORS_H_
#define CHRONOCONF_ETCD_ERRORS_H_

#include <string_view>

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace chronoconf::etcd {

namespace rpctypes {
grpc::Status EmptyKey();         // InvalidArgument "etcdserver: key is not provided"
grpc::Status KeyNotFound();      // InvalidArgument "etcdserver: key not found"
grpc::Status ValueProvided();    // InvalidArgument "etcdserver: value is provided"
grpc::Status LeaseProvided();    // InvalidArgument "etcdserver: lease is provided"
grpc::Status TooManyOps();       // InvalidArgument "etcdserver: too many operations in txn request"
grpc::Status DuplicateKey();     // InvalidArgument "etcdserver: duplicate key given in txn request"
grpc::Status FutureRev();        // OutOfRange "etcdserver: mvcc: required revision is a future revision"
grpc::Status Compacted();        // OutOfRange "etcdserver: mvcc: required revision has been compacted"
grpc::Status LeaseNotFound();    // NotFound "etcdserver: requested lease not found"
grpc::Status RequestTooLarge();  // InvalidArgument "etcdserver: request is too large"
grpc::Status UserEmpty();        // InvalidArgument "etcdserver: user name is empty"
grpc::Status AuthFailed();       // InvalidArgument "etcdserver: authentication failed, invalid user ID or password"
grpc::Status PermissionDenied();  // PermissionDenied "etcdserver: permission denied"
grpc::Status AuthNotEnabled();   // FailedPrecondition "etcdserver: authentication is not enabled"
grpc::Status InvalidAuthToken();  // Unauthenticated "etcdserver: invalid auth token"
grpc::Status Stopped();          // Unavailable "etcdserver: server stopped"
grpc::Status Timeout();          // Unavailable "etcdserver: request timed out"
grpc::Status AuthPermissionDenied();  // Unknown "auth: permission denied": etcd 3.4's
                                      // untranslated answer to a non-admin Defragment

// A watch's cancel_reason for a refusal, as etcd 3.4 writes it: Go's text
// of the gRPC status ("rpc error: code = PermissionDenied desc = ...").
std::string WatchCancelReason(const grpc::Status& status);
}  // namespace rpctypes

// SPEC §7: a value that is not valid UTF-8 (InvalidArgument).
grpc::Status NotUtf8Value();

// UNIMPLEMENTED, saying what chronoconf does instead.
grpc::Status Unimplemented(std::string_view method, std::string_view instead);

// A chronoconf error from the command service or the read model as etcd's
// clients expect it: future revision, too large, unavailable, timeout and
// auth errors become etcd's own; the rest keep chronoconf's message under
// the nearest code (invalid key or request: InvalidArgument).
grpc::Status ToGrpc(const Status& status);

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_ERRORS_H_
