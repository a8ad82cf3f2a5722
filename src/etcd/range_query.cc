#include "etcd/range_query.h"

#include <algorithm>

#include "domain/etcd_value.h"
#include "etcd/errors.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"

namespace chronoconf::etcd {
namespace {

using etcdserverpb::RangeRequest;

int64_t EtcdVersion(const KeyVersion& v) { return v.version - v.created_version + 1; }

}  // namespace

void FillKeyValue(const KeyVersion& v, bool keys_only, mvccpb::KeyValue* kv) {
  kv->set_key(std::string(v.key));
  kv->set_create_revision(v.created_revision);
  kv->set_mod_revision(v.revision);
  kv->set_version(EtcdVersion(v));
  kv->set_lease(v.lease);
  if (!keys_only) kv->set_value(EtcdValueFromStored(v.value()));
}

namespace {

// Sorting and filtering need the whole range before the limit is applied;
// otherwise one more than the limit tells whether there is `more`.
size_t FetchLimit(const RangeRequest& req) {
  const bool whole = req.sort_order() != RangeRequest::NONE || req.min_mod_revision() != 0 ||
                     req.max_mod_revision() != 0 || req.min_create_revision() != 0 ||
                     req.max_create_revision() != 0;
  return req.count_only()             ? 0
         : whole || req.limit() <= 0 ? SIZE_MAX
                                     : static_cast<size_t>(req.limit()) + 1;
}

// The keys of `range` at `at` (at most `fetch`) and how many there are.
std::vector<KeyVersion> Fetch(const Projection& projection, const KeyRange& range, int64_t at,
                              size_t fetch, int64_t* count) {
  std::vector<KeyVersion> kvs;
  *count = 0;
  if (range.single) {
    if (auto v = projection.Get(range.start, at, Text::kValueOnly)) {
      *count = 1;
      if (fetch > 0) kvs.push_back(std::move(*v));
    }
    return kvs;
  }
  return projection.Range(range.start, range.end, at, fetch, count, Text::kValueOnly);
}

bool InRange(const KeyRange& range, std::string_view key) {
  if (range.single) return key == range.start;
  return key >= range.start && (range.end.empty() || key < range.end);
}

// Filters, sorts and limits `kvs` (in key order, `count` of the whole range)
// into `resp`, as etcd's applierV3backend.Range does.
void Answer(std::vector<KeyVersion> kvs, int64_t count, const RangeRequest& req,
            etcdserverpb::RangeResponse* resp) {
  if (req.count_only()) kvs.clear();
  std::erase_if(kvs, [&](const KeyVersion& v) {
    return (req.max_mod_revision() != 0 && v.revision > req.max_mod_revision()) ||
           (req.min_mod_revision() != 0 && v.revision < req.min_mod_revision()) ||
           (req.max_create_revision() != 0 && v.created_revision > req.max_create_revision()) ||
           (req.min_create_revision() != 0 && v.created_revision < req.min_create_revision());
  });

  // etcd sorts ascending by default when the target is not the key (keys
  // come out in key order already).
  auto order = req.sort_order();
  if (req.sort_target() != RangeRequest::KEY && order == RangeRequest::NONE) {
    order = RangeRequest::ASCEND;
  }
  if (order != RangeRequest::NONE) {
    auto less = [&](const KeyVersion& a, const KeyVersion& b) {
      switch (req.sort_target()) {
        case RangeRequest::VERSION:
          return EtcdVersion(a) < EtcdVersion(b);
        case RangeRequest::CREATE:
          return a.created_revision < b.created_revision;
        case RangeRequest::MOD:
          return a.revision < b.revision;
        case RangeRequest::VALUE:
          return EtcdValueFromStored(a.value()) < EtcdValueFromStored(b.value());
        default:
          return a.key < b.key;
      }
    };
    if (order == RangeRequest::DESCEND) {
      std::stable_sort(kvs.begin(), kvs.end(),
                       [&](const KeyVersion& a, const KeyVersion& b) { return less(b, a); });
    } else {
      std::stable_sort(kvs.begin(), kvs.end(), less);
    }
  }

  if (req.limit() > 0 && kvs.size() > static_cast<size_t>(req.limit())) {
    kvs.resize(static_cast<size_t>(req.limit()));
    resp->set_more(true);
  }
  resp->set_count(count);
  for (const KeyVersion& v : kvs) FillKeyValue(v, req.keys_only(), resp->add_kvs());
}

}  // namespace

grpc::Status RunRange(const Projection& projection, int64_t head, const KeyRange& range,
                      const RangeRequest& req, etcdserverpb::RangeResponse* resp) {
  // A revision <= 0 means the head, in etcd and here.
  if (req.revision() > head) return rpctypes::FutureRev();
  const int64_t at = req.revision() > 0 ? req.revision() : head;
  int64_t count = 0;
  std::vector<KeyVersion> kvs = Fetch(projection, range, at, FetchLimit(req), &count);
  Answer(std::move(kvs), count, req, resp);
  return grpc::Status::OK;
}

grpc::Status RunRangeInTxn(const Projection& projection, int64_t pre, int64_t post,
                           const std::set<std::string>& written, const KeyRange& range,
                           const RangeRequest& req, etcdserverpb::RangeResponse* resp) {
  if (req.revision() > 0 || pre == post) return RunRange(projection, post, range, req, resp);
  int64_t count = 0;
  std::vector<KeyVersion> kvs = Fetch(projection, range, pre, SIZE_MAX, &count);
  bool touched = false;
  for (const std::string& key : written) {
    if (!InRange(range, key)) continue;
    touched = true;
    std::erase_if(kvs, [&](const KeyVersion& v) { return v.key == key; });
    if (auto now = projection.VersionAt(key, post, Text::kValueOnly); now && !now->deleted) {
      kvs.push_back(std::move(*now));
    }
  }
  if (touched) {
    std::sort(kvs.begin(), kvs.end(),
              [](const KeyVersion& a, const KeyVersion& b) { return a.key < b.key; });
    count = static_cast<int64_t>(kvs.size());
  }
  Answer(std::move(kvs), count, req, resp);
  return grpc::Status::OK;
}

}  // namespace chronoconf::etcd
