// KV: Range from the read model; Put and DeleteRange as commands through
// the same group commit as the HTTP API. A write finishes (`done`) from the
// command service's callback once the commit is durable and applied, so no
// thread waits on the store. The gRPC KvService wraps these methods in
// unary reactors.
#include <chrono>
#include <string_view>

#include "domain/etcd_value.h"
#include "etcd/call_log.h"
#include "etcd/errors.h"
#include "etcd/key_range.h"
#include "etcd/kv_helpers.h"
#include "etcd/methods.h"
#include "etcd/range_query.h"
#include "etcd/services.h"

namespace chronoconf::etcd {
namespace {

// A gRPC unary call answered by a transport-free method (methods.h),
// counted and logged as `name` when it is answered (the call log does not
// intercept KV: kSelfRecordingMethods).
template <typename Method, typename Request, typename Response>
grpc::ServerUnaryReactor* Unary(std::string_view name, Method method, const EtcdContext& context,
                                grpc::CallbackServerContext* ctx, const Request* req,
                                Response* resp) {
  const auto started = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  method(context, MetadataOf(*ctx), *req, resp,
         [reactor, name, started, &context](const grpc::Status& status) {
           RecordEtcdCall(context.options().metrics, name, status.error_code(), started);
           reactor->Finish(status);
         });
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* ctx,
                                           const pb::RangeRequest* req, pb::RangeResponse* resp) {
  return Unary("KV.Range", KvRange, *context_, ctx, req, resp);
}
grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* ctx,
                                         const pb::PutRequest* req, pb::PutResponse* resp) {
  return Unary("KV.Put", KvPut, *context_, ctx, req, resp);
}
grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* ctx,
                                                 const pb::DeleteRangeRequest* req,
                                                 pb::DeleteRangeResponse* resp) {
  return Unary("KV.DeleteRange", KvDeleteRange, *context_, ctx, req, resp);
}
grpc::ServerUnaryReactor* KvService::Txn(grpc::CallbackServerContext* ctx,
                                         const pb::TxnRequest* req, pb::TxnResponse* resp) {
  return Unary("KV.Txn", KvTxn, *context_, ctx, req, resp);
}
grpc::ServerUnaryReactor* KvService::Compact(grpc::CallbackServerContext* ctx,
                                             const pb::CompactionRequest* req,
                                             pb::CompactionResponse* resp) {
  return Unary("KV.Compact", KvCompact, *context_, ctx, req, resp);
}

bool KeyValueAt(const Projection& projection, const std::string& key, int64_t revision,
                mvccpb::KeyValue* kv) {
  auto v = projection.VersionAt(key, revision, Text::kValueOnly);
  if (!v || v->deleted) return false;
  FillKeyValue(*v, /*keys_only=*/false, kv);
  return true;
}

namespace {

// A Range answered from the read model as it is now.
grpc::Status ServeRange(const EtcdContext& context, const KeyRange& range,
                        const pb::RangeRequest& req, pb::RangeResponse* resp) {
  if (grpc::Status s = context.CheckCompacted(req.revision()); !s.ok()) return s;
  const Projection& projection = context.projection();
  const int64_t head = projection.head();
  grpc::Status s = RunRange(projection, head, range, req, resp);
  if (s.ok()) context.FillHeader(head, resp->mutable_header());
  return s;
}

}  // namespace

// The one entry point of every Range (gRPC and the gateway).
void KvRange(const EtcdContext& context, const CallMetadata& md, const pb::RangeRequest& req,
             pb::RangeResponse* resp, Done done) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kRead, &caller); !s.ok()) return done(s);
  KeyRange range;
  if (grpc::Status s = ParseKeyRange(req.key(), req.range_end(), &range); !s.ok()) {
    return done(s);
  }
  if (!ScopeCovers(caller.principal.scope, range)) return done(rpctypes::PermissionDenied());
  ReadIndex* read_index = context.options().read_index;
  if (req.serializable() || !read_index) return done(ServeRange(context, range, req, resp));
  // Linearizable (etcd's default): served once the read model holds the
  // store's head as of now, on the thread that learned it.
  read_index->Request([&context, range, &req, resp, done](Status s, int64_t /*revision*/) {
    done(s.ok() ? ServeRange(context, range, req, resp) : rpctypes::Timeout());
  });
}

void KvPut(const EtcdContext& context, const CallMetadata& md, const pb::PutRequest& req,
           pb::PutResponse* resp, Done done) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kWrite, &caller); !s.ok()) return done(s);
  // etcd's checkPutRequest, in its order.
  if (req.key().empty()) return done(rpctypes::EmptyKey());
  if (req.ignore_value() && !req.value().empty()) {
    return done(rpctypes::ValueProvided());
  }
  if (req.ignore_lease() && req.lease() != 0) return done(rpctypes::LeaseProvided());
  // etcd's --max-request-bytes, on the whole request.
  if (req.ByteSizeLong() > context.options().max_write_request_bytes) {
    return done(rpctypes::RequestTooLarge());
  }
  KeyRange range;
  if (grpc::Status s = ParseKeyRange(req.key(), "", &range); !s.ok()) return done(s);
  if (!ScopeCovers(caller.principal.scope, range)) {
    return done(rpctypes::PermissionDenied());
  }
  int64_t lease = 0;
  if (req.lease() != 0) {
    // The decision checks the lease again, at commit time; this answers
    // early, and applies etcd's checkLeasePuts: a put joins a lease only
    // with write access to every key it holds.
    std::optional<LeaseInfo> info = context.projection().Lease(req.lease());
    if (!info) return done(rpctypes::LeaseNotFound());
    for (const std::string& k : info->keys) {
      if (!caller.principal.scope.Contains(k)) return done(rpctypes::PermissionDenied());
    }
    lease = req.lease();
  }
  std::string value;
  if (!req.ignore_value()) {
    auto stored = StoredValueFromEtcd(req.value());
    if (!stored) return done(NotUtf8Value());
    if (stored->size() > context.options().max_value_bytes) {
      return done(rpctypes::RequestTooLarge());
    }
    value = std::move(*stored);
  }
  auto answer = [done = std::move(done), resp, &context, key = req.key(),
                 prev_kv = req.prev_kv()](CommandResult r) {
    if (!r.status.ok()) {
      done(ToGrpc(r.status));
      return;
    }
    context.FillHeader(r.revision, resp->mutable_header());
    if (prev_kv) {
      mvccpb::KeyValue kv;
      if (KeyValueAt(context.projection(), key, r.revision - 1, &kv)) {
        *resp->mutable_prev_kv() = std::move(kv);
      }
    }
    done(grpc::Status::OK);
  };
  if (req.ignore_value() || req.ignore_lease()) {
    // The current value (and with ignore_lease the lease) is read when the
    // put is decided, as etcd reads it when it applies: a Txn of this one
    // put, so that writes to the key in between cannot make it fail.
    EtcdPut put{req.key(), std::move(value), req.ignore_value(), /*must_exist=*/true};
    put.lease = lease;
    put.keep_lease = req.ignore_lease();
    EtcdTxn txn;
    txn.body.success.push_back(std::move(put));
    txn.meta = std::move(caller.meta);
    context.commands().Submit(std::move(txn), std::move(answer));
    return;
  }
  SetKey set{req.key(), std::move(value), std::nullopt, false};
  set.commit_unchanged = true;  // SPEC §7: etcd's Put always commits
  if (lease != 0) set.lease = lease;
  context.commands().Submit(Transaction{{std::move(set)}, std::move(caller.meta)},
                            std::move(answer));
}

void KvDeleteRange(const EtcdContext& context, const CallMetadata& md,
                   const pb::DeleteRangeRequest& req, pb::DeleteRangeResponse* resp,
                   Done done) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kWrite, &caller); !s.ok()) return done(s);
  KeyRange range;
  if (grpc::Status s = ParseKeyRange(req.key(), req.range_end(), &range); !s.ok()) {
    return done(s);
  }
  if (!ScopeCovers(caller.principal.scope, range)) {
    return done(rpctypes::PermissionDenied());
  }
  // One key: a delete that may find nothing (then no commit, deleted 0), so
  // it joins the group commit; a range is resolved from the read model by
  // the committer, in a batch of its own.
  Command command;
  if (range.single) {
    DeleteKey del{range.start, std::nullopt};
    del.if_exists = true;
    command = Transaction{{std::move(del)}, std::move(caller.meta)};
  } else {
    command = DeleteKeyRange{range.start, range.end, std::move(caller.meta)};
  }
  context.commands().Submit(
      std::move(command),
      [done = std::move(done), resp, &context, prev_kv = req.prev_kv()](CommandResult r) {
        if (!r.status.ok()) {
          done(ToGrpc(r.status));
          return;
        }
        context.FillHeader(r.revision, resp->mutable_header());
        int64_t deleted = 0;
        for (const OpResult& op : r.results) {
          if (!op.changed) continue;
          ++deleted;
          if (prev_kv) {
            KeyValueAt(context.projection(), op.key, r.revision - 1, resp->add_prev_kvs());
          }
        }
        resp->set_deleted(deleted);
        done(grpc::Status::OK);
      });
}

// Compact moves the etcd view's floor (SPEC §7); history itself is never
// deleted, so `physical` has nothing to wait for. It changes what every
// client of the etcd API may read, so it needs the admin role.
void KvCompact(const EtcdContext& context, const CallMetadata& md,
               const pb::CompactionRequest& req, pb::CompactionResponse* resp, Done done) {
  Caller caller;
  if (grpc::Status s = context.Admit(md, http::Role::kAdmin, &caller); !s.ok()) return done(s);
  grpc::Status s = context.Compact(req.revision());
  if (s.ok()) context.FillHeader(context.projection().head(), resp->mutable_header());
  done(s);
}

}  // namespace chronoconf::etcd
