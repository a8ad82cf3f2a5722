// KV.Txn (SPEC §7): etcd's checks first (checkTxnRequest, checkIntervals,
// the request's size), then one EtcdTxn command: the committer decides the
// compares of the outer and the nested Txns against the read model and
// commits the chosen branches' writes as one commit. The branches' Range ops
// are read from the read model afterwards: every key the branches wrote
// before the op as at the commit, every other key as just before it.
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

// etcd's checkTxnRequest (and checkRequestOp): the op limit, which a nested
// Txn shares with the Txns around it (`max_ops` less their own ops), empty
// keys and ops, in its order; and whether any op, nested too, writes.
grpc::Status CheckTxn(const pb::TxnRequest& req, size_t max_ops, bool* writes) {
  const size_t ops = std::max({static_cast<size_t>(req.compare_size()),
                               static_cast<size_t>(req.success_size()),
                               static_cast<size_t>(req.failure_size())});
  if (ops > max_ops) return rpctypes::TooManyOps();
  for (const pb::Compare& c : req.compare()) {
    if (c.key().empty()) return rpctypes::EmptyKey();
  }
  for (const Ops* branch : {&req.success(), &req.failure()}) {
    for (const pb::RequestOp& op : *branch) {
      switch (op.request_case()) {
        case pb::RequestOp::kRequestRange:
          if (op.request_range().key().empty()) return rpctypes::EmptyKey();
          break;
        case pb::RequestOp::kRequestPut: {
          const pb::PutRequest& put = op.request_put();
          if (put.key().empty()) return rpctypes::EmptyKey();
          if (put.ignore_value() && !put.value().empty()) return rpctypes::ValueProvided();
          if (put.ignore_lease() && put.lease() != 0) return rpctypes::LeaseProvided();
          *writes = true;
          break;
        }
        case pb::RequestOp::kRequestDeleteRange:
          if (op.request_delete_range().key().empty()) return rpctypes::EmptyKey();
          *writes = true;
          break;
        case pb::RequestOp::kRequestTxn:
          if (grpc::Status s = CheckTxn(op.request_txn(), max_ops - ops, writes); !s.ok()) {
            return s;
          }
          break;
        case pb::RequestOp::REQUEST_NOT_SET:
          return rpctypes::KeyNotFound();  // etcd's answer to an empty op
      }
    }
  }
  return grpc::Status::OK;
}

// A delete's keys as etcd's checkIntervals sees them: the raw range_end, so
// that "\0" (every key from `key` on) is an empty interval there.
struct DeleteInterval {
  std::string start;
  std::string end;  // empty: the one key `start`
  bool Holds(const std::string& key) const {
    return end.empty() ? key == start : key >= start && key < end;
  }
};

struct Intervals {
  std::set<std::string> puts;
  std::vector<DeleteInterval> deletes;
  bool Deletes(const std::string& key) const {
    for (const DeleteInterval& d : deletes) {
      if (d.Holds(key)) return true;
    }
    return false;
  }
};

// etcd's checkIntervals for one branch: a key put twice, or put and deleted,
// by the branch or the branches of the Txns nested in it, is a duplicate;
// except a key put by both branches of one nested Txn (only one runs).
grpc::Status CheckIntervals(const Ops& ops, Intervals* out) {
  for (const pb::RequestOp& op : ops) {
    if (op.request_case() != pb::RequestOp::kRequestDeleteRange) continue;
    const auto& del = op.request_delete_range();
    out->deletes.push_back({del.key(), del.range_end()});
  }
  for (const pb::RequestOp& op : ops) {
    if (op.request_case() != pb::RequestOp::kRequestTxn) continue;
    Intervals then, otherwise;
    if (grpc::Status s = CheckIntervals(op.request_txn().success(), &then); !s.ok()) return s;
    if (grpc::Status s = CheckIntervals(op.request_txn().failure(), &otherwise); !s.ok()) {
      return s;
    }
    for (const std::string& key : then.puts) {
      if (out->puts.contains(key) || out->Deletes(key)) return rpctypes::DuplicateKey();
      out->puts.insert(key);
    }
    for (const std::string& key : otherwise.puts) {
      if (out->puts.contains(key) && !then.puts.contains(key)) return rpctypes::DuplicateKey();
      if (out->Deletes(key)) return rpctypes::DuplicateKey();
      out->puts.insert(key);
    }
    for (Intervals* branch : {&then, &otherwise}) {
      out->deletes.insert(out->deletes.end(), branch->deletes.begin(), branch->deletes.end());
    }
  }
  for (const pb::RequestOp& op : ops) {
    if (op.request_case() != pb::RequestOp::kRequestPut) continue;
    const std::string& key = op.request_put().key();
    if (out->puts.contains(key) || out->Deletes(key)) return rpctypes::DuplicateKey();
    out->puts.insert(key);
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
      out->result = EtcdCompare::Result::kUnknown;  // etcd: it always holds
      break;
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
      out->target = EtcdCompare::Target::kUnknown;  // etcd: compared as equal
      break;
  }
  return grpc::Status::OK;
}

grpc::Status ToBody(const pb::TxnRequest& req, const KeyScope& scope,
                    const EtcdContext& context, EtcdTxnBody* out);

// A branch's ops as the command holds them (a Range by its revision alone:
// the response reads it). Errors: invalid keys or values, leases, scopes.
grpc::Status ToWrites(const Ops& ops, const KeyScope& scope, const EtcdContext& context,
                      std::vector<EtcdTxnBody::Write>* out) {
  const size_t max_value_bytes = context.options().max_value_bytes;
  for (const pb::RequestOp& op : ops) {
    KeyRange range;
    if (op.request_case() == pb::RequestOp::kRequestRange) {
      const auto& r = op.request_range();
      if (grpc::Status s = ParseKeyRange(r.key(), r.range_end(), &range); !s.ok()) return s;
      if (!ScopeCovers(scope, range)) return rpctypes::PermissionDenied();
      // Below the floor fails the Txn only if its branch is taken (etcd's
      // checkRange), so it is marked here and refused by the decision; above
      // the head is the decision's to see.
      EtcdRangeAt at{r.revision(), false};
      if (r.revision() <= context.projection().head()) {
        grpc::Status s = context.CheckCompacted(r.revision());
        if (s.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
          at.compacted = true;
        } else if (!s.ok()) {
          return s;  // the floor could not be read
        }
      }
      // In place (GCC 12 warns on a moved-in temporary), from an EtcdRangeAt
      // (clang 14 has no parenthesized aggregate init).
      out->emplace_back(std::in_place_type<EtcdRangeAt>, at);
    } else if (op.request_case() == pb::RequestOp::kRequestPut) {
      const pb::PutRequest& put = op.request_put();
      if (grpc::Status s = ParseKeyRange(put.key(), "", &range); !s.ok()) return s;
      if (!ScopeCovers(scope, range)) return rpctypes::PermissionDenied();
      // The decision checks that the lease exists (when the branch runs).
      EtcdPut set{put.key(), "", put.ignore_value(), put.ignore_value() || put.ignore_lease()};
      set.lease = put.lease();
      set.keep_lease = put.ignore_lease();
      if (!put.ignore_value()) {
        auto stored = StoredValueFromEtcd(put.value());
        if (!stored) return NotUtf8Value();
        if (stored->size() > max_value_bytes) return rpctypes::RequestTooLarge();
        set.value = std::move(*stored);
      }
      out->push_back(std::move(set));
    } else if (op.request_case() == pb::RequestOp::kRequestDeleteRange) {
      const auto& del = op.request_delete_range();
      if (grpc::Status s = ParseKeyRange(del.key(), del.range_end(), &range); !s.ok()) return s;
      if (!ScopeCovers(scope, range)) return rpctypes::PermissionDenied();
      // One key is the range [key, key + "\0"): nothing sorts between them.
      out->push_back(RangeDelete{range.start,
                                 range.single ? range.start + std::string(1, '\0') : range.end});
    } else {
      auto nested = std::make_shared<EtcdTxnBody>();
      if (grpc::Status s = ToBody(op.request_txn(), scope, context, nested.get());
          !s.ok()) {
        return s;
      }
      out->push_back(NestedEtcdTxn{std::move(nested)});
    }
  }
  return grpc::Status::OK;
}

// The request as the command holds it, nested Txns too.
grpc::Status ToBody(const pb::TxnRequest& req, const KeyScope& scope,
                    const EtcdContext& context, EtcdTxnBody* out) {
  for (const pb::Compare& c : req.compare()) {
    EtcdCompare compare;
    if (grpc::Status s = ToCompare(c, scope, &compare); !s.ok()) return s;
    out->compares.push_back(std::move(compare));
  }
  if (grpc::Status s = ToWrites(req.success(), scope, context, &out->success);
      !s.ok()) {
    return s;
  }
  return ToWrites(req.failure(), scope, context, &out->failure);
}

// Builds the responses of the branches the commit took, once it (if any) is
// in the read model: etcd's newTxnResp and applyTxn, along `r.txn_path`.
class ResponseFiller {
 public:
  ResponseFiller(const EtcdContext& context, const pb::TxnRequest& req, const CommandResult& r)
      : projection_(context.projection()),
        r_(r),
        post_(r.revision),
        pre_(r.changed ? r.revision - 1 : r.revision) {
    size_t at = 0;
    CollectPuts(req, &at);
  }

  // Fills `resp`'s succeeded and responses for `req`, the Txn at path_[*at].
  void Fill(const pb::TxnRequest& req, size_t* at, pb::TxnResponse* resp) {
    const bool succeeded = Took(at);
    resp->set_succeeded(succeeded);
    for (const pb::RequestOp& op : succeeded ? req.success() : req.failure()) {
      pb::ResponseOp* out = resp->add_responses();
      switch (op.request_case()) {
        case pb::RequestOp::kRequestRange:
          FillRange(op.request_range(), out->mutable_response_range());
          break;
        case pb::RequestOp::kRequestPut:
          FillPut(op.request_put(), out->mutable_response_put());
          break;
        case pb::RequestOp::kRequestDeleteRange:
          FillDelete(op.request_delete_range(), out->mutable_response_delete_range());
          break;
        case pb::RequestOp::kRequestTxn: {
          // etcd leaves a nested Txn's header empty.
          auto* txn_resp = out->mutable_response_txn();
          txn_resp->mutable_header();
          Fill(op.request_txn(), at, txn_resp);
          break;
        }
        case pb::RequestOp::REQUEST_NOT_SET:
          break;  // refused before the commit
      }
    }
  }

 private:
  bool Took(size_t* at) const {
    const size_t i = (*at)++;
    return i < r_.txn_path.size() ? r_.txn_path[i] : r_.succeeded;
  }

  // Every key the taken branches put: a delete's count leaves them out.
  void CollectPuts(const pb::TxnRequest& req, size_t* at) {
    for (const pb::RequestOp& op : Took(at) ? req.success() : req.failure()) {
      if (op.request_case() == pb::RequestOp::kRequestPut) puts_.insert(op.request_put().key());
      if (op.request_case() == pb::RequestOp::kRequestTxn) CollectPuts(op.request_txn(), at);
    }
  }

  void FillRange(const pb::RangeRequest& req, pb::RangeResponse* resp) {
    KeyRange range;
    (void)ParseKeyRange(req.key(), req.range_end(), &range);  // checked before the commit
    if (!RunRangeInTxn(projection_, pre_, post_, written_, range, req, resp).ok()) {
      resp->Clear();  // a future revision reads nothing (checked by etcd at apply)
    }
    resp->mutable_header()->set_revision(wrote_ ? post_ : pre_);
  }

  void FillPut(const pb::PutRequest& req, pb::PutResponse* resp) {
    wrote_ = true;
    resp->mutable_header()->set_revision(post_);
    if (req.prev_kv()) {
      mvccpb::KeyValue kv;
      if (KeyValueAt(projection_, req.key(), pre_, &kv)) *resp->mutable_prev_kv() = kv;
    }
    written_.insert(req.key());
  }

  void FillDelete(const pb::DeleteRangeRequest& req, pb::DeleteRangeResponse* resp) {
    KeyRange range;
    (void)ParseKeyRange(req.key(), req.range_end(), &range);  // checked before the commit
    int64_t deleted = 0;
    for (const OpResult& result : r_.results) {
      const std::string& key = result.key;
      if (!result.changed || puts_.contains(key) || attributed_.contains(key)) continue;
      const bool in = range.single ? key == range.start
                                   : key >= range.start && (range.end.empty() || key < range.end);
      if (!in) continue;
      attributed_.insert(key);
      written_.insert(key);
      ++deleted;
      if (req.prev_kv()) KeyValueAt(projection_, key, pre_, resp->add_prev_kvs());
    }
    resp->set_deleted(deleted);
    wrote_ = wrote_ || deleted > 0;
    resp->mutable_header()->set_revision(wrote_ ? post_ : pre_);
  }

  const Projection& projection_;
  const CommandResult& r_;
  const int64_t post_;
  const int64_t pre_;
  std::set<std::string> written_;     // by the ops before the current one
  std::set<std::string> attributed_;  // deleted keys already counted by a delete op
  std::set<std::string> puts_;
  // An op before the current one wrote: etcd's Txn answers each op with the
  // revision as of then (the one before the commit until its first write).
  bool wrote_ = false;
};

}  // namespace

void KvTxn(const EtcdContext& context, const CallMetadata& md, const pb::TxnRequest& req,
           pb::TxnResponse* resp, Done done) {
  bool writes = false;
  if (grpc::Status s = CheckTxn(req, context.options().max_txn_ops, &writes); !s.ok()) {
    return done(s);
  }
  for (const Ops* branch : {&req.success(), &req.failure()}) {
    Intervals intervals;
    if (grpc::Status s = CheckIntervals(*branch, &intervals); !s.ok()) return done(s);
  }
  // etcd's --max-request-bytes, on what goes through its raft log: a Txn
  // that only reads never does.
  if (writes && req.ByteSizeLong() > context.options().max_write_request_bytes) {
    return done(rpctypes::RequestTooLarge());
  }

  Caller caller;
  if (grpc::Status s =
          context.Admit(md, writes ? http::Role::kWrite : http::Role::kRead, &caller);
      !s.ok()) {
    return done(s);
  }
  EtcdTxn txn;
  if (grpc::Status s = ToBody(req, caller.principal.scope, context, &txn.body); !s.ok()) {
    return done(s);
  }
  txn.meta = std::move(caller.meta);

  context.commands().Submit(
      std::move(txn), [done = std::move(done), &req, resp, &context](CommandResult r) {
        if (!r.status.ok()) return done(ToGrpc(r.status));
        context.FillHeader(r.revision, resp->mutable_header());
        size_t at = 0;
        ResponseFiller(context, req, r).Fill(req, &at, resp);
        done(grpc::Status::OK);
      });
}

}  // namespace chronoconf::etcd
