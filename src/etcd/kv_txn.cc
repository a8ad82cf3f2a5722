// KV.Txn (SPEC §7): etcd's checks first (checkTxnRequest, checkIntervals),
// then one EtcdTxn command: the committer decides the compares against the
// read model and commits the chosen branch's writes as one commit. The
// branch's Range ops are read from the read model afterwards: every key the
// branch wrote before the op as at the commit, every other key as just
// before it. Nested Txn ops are not built yet.
#include <set>
#include <string>
#include <vector>

#include "domain/etcd_value.h"
#include "etcd/errors.h"
#include "etcd/key_range.h"
#include "etcd/kv_helpers.h"
#include "etcd/methods.h"
#include "etcd/range_query.h"
#include "etcd/services.h"

namespace chronoconf::etcd {
namespace {

using Ops = google::protobuf::RepeatedPtrField<pb::RequestOp>;

// etcd's checkRequestOp, and whether any op writes.
grpc::Status CheckOps(const Ops& ops, bool* writes) {
  for (const pb::RequestOp& op : ops) {
    switch (op.request_case()) {
      case pb::RequestOp::kRequestRange:
        if (op.request_range().key().empty()) return rpctypes::EmptyKey();
        break;
      case pb::RequestOp::kRequestPut: {
        const pb::PutRequest& put = op.request_put();
        if (put.key().empty()) return rpctypes::EmptyKey();
        if (put.ignore_value() && !put.value().empty()) return rpctypes::ValueProvided();
        if (put.ignore_lease() && put.lease() != 0) return rpctypes::LeaseProvided();
        if (put.ignore_value() || put.ignore_lease()) {
          return Unimplemented("ignore_value and ignore_lease inside KV.Txn",
                               "not built yet; use them on KV.Put");
        }
        *writes = true;
        break;
      }
      case pb::RequestOp::kRequestDeleteRange:
        if (op.request_delete_range().key().empty()) return rpctypes::EmptyKey();
        *writes = true;
        break;
      case pb::RequestOp::kRequestTxn:
        return Unimplemented("a Txn nested in KV.Txn", "not built yet; flatten the branches");
      case pb::RequestOp::REQUEST_NOT_SET:
        return rpctypes::KeyNotFound();  // etcd's answer to an empty op
    }
  }
  return grpc::Status::OK;
}

// etcd's checkIntervals for one branch: a key put twice, or put and deleted
// by the same branch, is a duplicate.
grpc::Status CheckDuplicates(const Ops& ops) {
  std::vector<KeyRange> deletes;
  for (const pb::RequestOp& op : ops) {
    if (op.request_case() != pb::RequestOp::kRequestDeleteRange) continue;
    const auto& del = op.request_delete_range();
    KeyRange r;
    r.start = del.key();
    r.single = del.range_end().empty();
    r.end = del.range_end() == std::string("\0", 1) ? "" : del.range_end();
    deletes.push_back(std::move(r));
  }
  std::set<std::string> puts;
  for (const pb::RequestOp& op : ops) {
    if (op.request_case() != pb::RequestOp::kRequestPut) continue;
    const std::string& key = op.request_put().key();
    if (!puts.insert(key).second) return rpctypes::DuplicateKey();
    for (const KeyRange& r : deletes) {
      const bool in = r.single ? key == r.start
                               : key >= r.start && (r.end.empty() || key < r.end);
      if (in) return rpctypes::DuplicateKey();
    }
  }
  return grpc::Status::OK;
}

grpc::Status ToCompare(const pb::Compare& c, const KeyScope& scope, EtcdCompare* out) {
  KeyRange range;
  if (grpc::Status s = ParseKeyRange(c.key(), c.range_end(), &range); !s.ok()) return s;
  if (!ScopeCovers(scope, range)) return rpctypes::PermissionDenied();
  out->start = range.start;
  out->end = range.end;
  out->single = range.single;
  switch (c.result()) {
    case pb::Compare::EQUAL:
      out->result = EtcdCompare::Result::kEqual;
      break;
    case pb::Compare::GREATER:
      out->result = EtcdCompare::Result::kGreater;
      break;
    case pb::Compare::LESS:
      out->result = EtcdCompare::Result::kLess;
      break;
    case pb::Compare::NOT_EQUAL:
      out->result = EtcdCompare::Result::kNotEqual;
      break;
    default:
      return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: unknown compare result"};
  }
  switch (c.target()) {
    case pb::Compare::VERSION:
      out->target = EtcdCompare::Target::kVersion;
      out->number = c.version();
      break;
    case pb::Compare::CREATE:
      out->target = EtcdCompare::Target::kCreate;
      out->number = c.create_revision();
      break;
    case pb::Compare::MOD:
      out->target = EtcdCompare::Target::kMod;
      out->number = c.mod_revision();
      break;
    case pb::Compare::VALUE:
      out->target = EtcdCompare::Target::kValue;
      out->value = c.value();
      break;
    case pb::Compare::LEASE:
      out->target = EtcdCompare::Target::kLease;
      out->number = c.lease();
      break;
    default:
      return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: unknown compare target"};
  }
  return grpc::Status::OK;
}

// A branch's writes as the command holds them (ranges are left to the
// response). Errors: invalid keys or values, leases, scopes.
grpc::Status ToWrites(const Ops& ops, const KeyScope& scope, size_t max_value_bytes,
                      std::vector<EtcdTxn::Write>* out) {
  for (const pb::RequestOp& op : ops) {
    KeyRange range;
    if (op.request_case() == pb::RequestOp::kRequestRange) {
      const auto& r = op.request_range();
      if (grpc::Status s = ParseKeyRange(r.key(), r.range_end(), &range); !s.ok()) return s;
      if (!ScopeCovers(scope, range)) return rpctypes::PermissionDenied();
    } else if (op.request_case() == pb::RequestOp::kRequestPut) {
      const pb::PutRequest& put = op.request_put();
      if (grpc::Status s = ParseKeyRange(put.key(), "", &range); !s.ok()) return s;
      if (put.lease() != 0) return rpctypes::LeaseNotFound();
      if (!ScopeCovers(scope, range)) return rpctypes::PermissionDenied();
      auto stored = StoredValueFromEtcd(put.value());
      if (!stored) return NotUtf8Value();
      if (stored->size() > max_value_bytes) return rpctypes::RequestTooLarge();
      SetKey set{put.key(), std::move(*stored), std::nullopt, false};
      set.commit_unchanged = true;
      out->push_back(std::move(set));
    } else {
      const auto& del = op.request_delete_range();
      if (grpc::Status s = ParseKeyRange(del.key(), del.range_end(), &range); !s.ok()) return s;
      if (!ScopeCovers(scope, range)) return rpctypes::PermissionDenied();
      // One key is the range [key, key + "\0"): nothing sorts between them.
      out->push_back(RangeDelete{range.start,
                                 range.single ? range.start + std::string(1, '\0') : range.end});
    }
  }
  return grpc::Status::OK;
}

// The branch's responses once its commit (if any) is in the read model.
void FillResponses(const EtcdContext& context, const Ops& ops, const CommandResult& r,
                   pb::TxnResponse* resp) {
  const Projection& projection = context.projection();
  const int64_t post = r.revision;
  const int64_t pre = r.changed ? post - 1 : post;
  std::set<std::string> written;     // by the ops before the current one
  std::set<std::string> attributed;  // deleted keys already counted by a delete op
  std::set<std::string> puts;
  for (const pb::RequestOp& op : ops) {
    if (op.request_case() == pb::RequestOp::kRequestPut) puts.insert(op.request_put().key());
  }
  for (const pb::RequestOp& op : ops) {
    pb::ResponseOp* out = resp->add_responses();
    if (op.request_case() == pb::RequestOp::kRequestRange) {
      const auto& req = op.request_range();
      KeyRange range;
      (void)ParseKeyRange(req.key(), req.range_end(), &range);  // checked before the commit
      auto* range_resp = out->mutable_response_range();
      if (!RunRangeInTxn(projection, pre, post, written, range, req, range_resp).ok()) {
        range_resp->Clear();  // a future revision reads nothing (checked by etcd at apply)
      }
      range_resp->mutable_header()->set_revision(post);
    } else if (op.request_case() == pb::RequestOp::kRequestPut) {
      const auto& req = op.request_put();
      auto* put_resp = out->mutable_response_put();
      put_resp->mutable_header()->set_revision(post);
      if (req.prev_kv()) {
        mvccpb::KeyValue kv;
        if (KeyValueAt(projection, req.key(), pre, &kv)) *put_resp->mutable_prev_kv() = kv;
      }
      written.insert(req.key());
    } else {
      const auto& req = op.request_delete_range();
      KeyRange range;
      (void)ParseKeyRange(req.key(), req.range_end(), &range);  // checked before the commit
      auto* del_resp = out->mutable_response_delete_range();
      del_resp->mutable_header()->set_revision(post);
      int64_t deleted = 0;
      for (const OpResult& result : r.results) {
        const std::string& key = result.key;
        if (!result.changed || puts.contains(key) || attributed.contains(key)) continue;
        const bool in = range.single ? key == range.start
                                     : key >= range.start && (range.end.empty() || key < range.end);
        if (!in) continue;
        attributed.insert(key);
        written.insert(key);
        ++deleted;
        if (req.prev_kv()) KeyValueAt(projection, key, pre, del_resp->add_prev_kvs());
      }
      del_resp->set_deleted(deleted);
    }
  }
}

}  // namespace

void KvTxn(const EtcdContext& context, const CallMetadata& md, const pb::TxnRequest& req,
           pb::TxnResponse* resp, Done done) {
  // etcd's checkTxnRequest: the op limit, empty keys and ops, in its order.
  const size_t ops = std::max({static_cast<size_t>(req.compare_size()),
                               static_cast<size_t>(req.success_size()),
                               static_cast<size_t>(req.failure_size())});
  if (ops > context.options().max_txn_ops) return done(rpctypes::TooManyOps());
  for (const pb::Compare& c : req.compare()) {
    if (c.key().empty()) return done(rpctypes::EmptyKey());
  }
  bool writes = false;
  if (grpc::Status s = CheckOps(req.success(), &writes); !s.ok()) return done(s);
  if (grpc::Status s = CheckOps(req.failure(), &writes); !s.ok()) return done(s);
  // A branch's Range below the etcd view's floor or above the head fails
  // the Txn, as in etcd.
  for (const Ops* branch : {&req.success(), &req.failure()}) {
    for (const pb::RequestOp& op : *branch) {
      if (op.request_case() != pb::RequestOp::kRequestRange) continue;
      const int64_t revision = op.request_range().revision();
      if (revision > context.projection().head()) return done(rpctypes::FutureRev());
      if (grpc::Status s = context.CheckCompacted(revision); !s.ok()) return done(s);
    }
  }
  if (grpc::Status s = CheckDuplicates(req.success()); !s.ok()) return done(s);
  if (grpc::Status s = CheckDuplicates(req.failure()); !s.ok()) return done(s);

  Caller caller;
  if (grpc::Status s =
          context.Admit(md, writes ? http::Role::kWrite : http::Role::kRead, &caller);
      !s.ok()) {
    return done(s);
  }
  const KeyScope& scope = caller.principal.scope;
  const size_t max_value = context.options().max_value_bytes;
  EtcdTxn txn;
  for (const pb::Compare& c : req.compare()) {
    EtcdCompare compare;
    if (grpc::Status s = ToCompare(c, scope, &compare); !s.ok()) return done(s);
    txn.compares.push_back(std::move(compare));
  }
  if (grpc::Status s = ToWrites(req.success(), scope, max_value, &txn.success); !s.ok()) {
    return done(s);
  }
  if (grpc::Status s = ToWrites(req.failure(), scope, max_value, &txn.failure); !s.ok()) {
    return done(s);
  }
  txn.meta = std::move(caller.meta);

  context.commands().Submit(
      std::move(txn), [done = std::move(done), &req, resp, &context](CommandResult r) {
        if (!r.status.ok()) return done(ToGrpc(r.status));
        context.FillHeader(r.revision, resp->mutable_header());
        resp->set_succeeded(r.succeeded);
        FillResponses(context, r.succeeded ? req.success() : req.failure(), r, resp);
        done(grpc::Status::OK);
      });
}

}  // namespace chronoconf::etcd
