// KV: Range from the read model; Put and DeleteRange as commands through
// the same group commit as the HTTP API. A write's reactor is finished by
// the command service's callback once the commit is durable and applied,
// so no gRPC thread waits on the store.
#include "domain/etcd_value.h"
#include "etcd/errors.h"
#include "etcd/key_range.h"
#include "etcd/kv_helpers.h"
#include "etcd/range_query.h"
#include "etcd/services.h"

namespace chronoconf::etcd {
grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

bool KeyValueAt(const Projection& projection, const std::string& key, int64_t revision,
                mvccpb::KeyValue* kv) {
  auto v = projection.VersionAt(key, revision);
  if (!v || v->deleted) return false;
  FillKeyValue(*v, /*keys_only=*/false, kv);
  return true;
}

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* ctx,
                                           const pb::RangeRequest* req, pb::RangeResponse* resp) {
  Caller caller;
  if (grpc::Status s = context_->Admit(*ctx, http::Role::kRead, &caller); !s.ok()) {
    return Finish(ctx, s);
  }
  KeyRange range;
  if (grpc::Status s = ParseKeyRange(req->key(), req->range_end(), &range); !s.ok()) {
    return Finish(ctx, s);
  }
  if (!ScopeCovers(caller.principal.scope, range)) {
    return Finish(ctx, rpctypes::PermissionDenied());
  }
  ReadIndex* read_index = context_->options().read_index;
  if (req->serializable() || !read_index) return Finish(ctx, ServeRange(range, *req, resp));
  // Linearizable (etcd's default): served once the read model holds the
  // store's head as of now, on the thread that learned it.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  read_index->Request([this, reactor, range, req, resp](Status s, int64_t /*revision*/) {
    reactor->Finish(s.ok() ? ServeRange(range, *req, resp) : rpctypes::Timeout());
  });
  return reactor;
}

grpc::Status KvService::ServeRange(const KeyRange& range, const pb::RangeRequest& req,
                                   pb::RangeResponse* resp) const {
  if (grpc::Status s = context_->CheckCompacted(req.revision()); !s.ok()) return s;
  const Projection& projection = context_->projection();
  const int64_t head = projection.head();
  grpc::Status s = RunRange(projection, head, range, req, resp);
  if (s.ok()) context_->FillHeader(head, resp->mutable_header());
  return s;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* ctx,
                                         const pb::PutRequest* req, pb::PutResponse* resp) {
  Caller caller;
  if (grpc::Status s = context_->Admit(*ctx, http::Role::kWrite, &caller); !s.ok()) {
    return Finish(ctx, s);
  }
  // etcd's checkPutRequest, in its order.
  if (req->key().empty()) return Finish(ctx, rpctypes::EmptyKey());
  if (req->ignore_value() && !req->value().empty()) {
    return Finish(ctx, rpctypes::ValueProvided());
  }
  if (req->ignore_lease() && req->lease() != 0) return Finish(ctx, rpctypes::LeaseProvided());
  KeyRange range;
  if (grpc::Status s = ParseKeyRange(req->key(), "", &range); !s.ok()) return Finish(ctx, s);
  // Leases are the next issue: no lease exists yet.
  if (req->lease() != 0) return Finish(ctx, rpctypes::LeaseNotFound());
  if (!ScopeCovers(caller.principal.scope, range)) {
    return Finish(ctx, rpctypes::PermissionDenied());
  }
  SetKey set{req->key(), "", std::nullopt, false};
  set.commit_unchanged = true;  // SPEC §7: etcd's Put always commits
  if (req->ignore_value() || req->ignore_lease()) {
    // Keep the current value, which must exist; the expected version makes
    // the read and the write one decision.
    KeyState current = context_->projection().State(req->key());
    if (!current.exists) return Finish(ctx, rpctypes::KeyNotFound());
    set.value = std::move(current.value);
    set.expected_version = current.version;
  }
  if (!req->ignore_value()) {
    auto stored = StoredValueFromEtcd(req->value());
    if (!stored) return Finish(ctx, NotUtf8Value());
    set.value = std::move(*stored);
  }
  if (set.value.size() > context_->options().max_value_bytes) {
    return Finish(ctx, rpctypes::RequestTooLarge());
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const EtcdContext* context = context_;
  context_->commands().Submit(
      Transaction{{std::move(set)}, std::move(caller.meta)},
      [reactor, resp, context, key = req->key(), prev_kv = req->prev_kv()](CommandResult r) {
        if (!r.status.ok()) {
          reactor->Finish(ToGrpc(r.status));
          return;
        }
        context->FillHeader(r.revision, resp->mutable_header());
        if (prev_kv) {
          mvccpb::KeyValue kv;
          if (KeyValueAt(context->projection(), key, r.revision - 1, &kv)) {
            *resp->mutable_prev_kv() = std::move(kv);
          }
        }
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* ctx,
                                                 const pb::DeleteRangeRequest* req,
                                                 pb::DeleteRangeResponse* resp) {
  Caller caller;
  if (grpc::Status s = context_->Admit(*ctx, http::Role::kWrite, &caller); !s.ok()) {
    return Finish(ctx, s);
  }
  KeyRange range;
  if (grpc::Status s = ParseKeyRange(req->key(), req->range_end(), &range); !s.ok()) {
    return Finish(ctx, s);
  }
  if (!ScopeCovers(caller.principal.scope, range)) {
    return Finish(ctx, rpctypes::PermissionDenied());
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
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const EtcdContext* context = context_;
  context_->commands().Submit(
      std::move(command),
      [reactor, resp, context, prev_kv = req->prev_kv()](CommandResult r) {
        if (!r.status.ok()) {
          reactor->Finish(ToGrpc(r.status));
          return;
        }
        context->FillHeader(r.revision, resp->mutable_header());
        int64_t deleted = 0;
        for (const OpResult& op : r.results) {
          if (!op.changed) continue;
          ++deleted;
          if (prev_kv) {
            KeyValueAt(context->projection(), op.key, r.revision - 1, resp->add_prev_kvs());
          }
        }
        resp->set_deleted(deleted);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

// Compact moves the etcd view's floor (SPEC §7); history itself is never
// deleted, so `physical` has nothing to wait for. It changes what every
// client of the etcd API may read, so it needs the admin role.
grpc::ServerUnaryReactor* KvService::Compact(grpc::CallbackServerContext* ctx,
                                             const pb::CompactionRequest* req,
                                             pb::CompactionResponse* resp) {
  Caller caller;
  if (grpc::Status s = context_->Admit(*ctx, http::Role::kAdmin, &caller); !s.ok()) {
    return Finish(ctx, s);
  }
  grpc::Status s = context_->Compact(req->revision());
  if (s.ok()) context_->FillHeader(context_->projection().head(), resp->mutable_header());
  return Finish(ctx, s);
}

}  // namespace chronoconf::etcd
