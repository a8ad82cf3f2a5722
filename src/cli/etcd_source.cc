#include "cli/etcd_source.h"

#include <chrono>
#include <utility>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace chronoconf::cli {

namespace pb = etcdserverpb;

namespace {

// A unary call gets this long; the watch that reads a history gets longer
// (it may carry many revisions), but not forever (SPEC §6: every wait has a
// deadline).
constexpr auto kCallDeadline = std::chrono::seconds(10);
constexpr auto kWatchDeadline = std::chrono::minutes(10);
// Keys per Range page: etcd's values may be up to 1.5 MiB, so a page is
// bounded in keys and the channel takes any message size.
constexpr int64_t kPageKeys = 500;

// etcd's text when a revision below its compaction was asked for
// (rpctypes.ErrGRPCCompacted).
constexpr std::string_view kCompactedText = "mvcc: required revision has been compacted";

void SetDeadline(grpc::ClientContext* ctx, std::chrono::system_clock::duration d) {
  ctx->set_deadline(std::chrono::system_clock::now() + d);
}

}  // namespace

struct EtcdSource::Stubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Watch::Stub> watch;
  std::unique_ptr<pb::Maintenance::Stub> maintenance;
};

std::string PrefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Result<std::unique_ptr<EtcdSource>> EtcdSource::Open(std::string_view endpoint) {
  std::string_view target = endpoint;
  if (target.starts_with("https://")) {
    return Status::InvalidRequest(fmt::format(
        "etcd endpoint '{}': TLS is not supported by import-etcd; give its plaintext client URL "
        "(http://host:port)",
        endpoint));
  }
  if (target.starts_with("http://")) target.remove_prefix(7);
  while (target.ends_with('/')) target.remove_suffix(1);
  const size_t colon = target.rfind(':');
  if (target.empty() || target.find_first_of("/,") != std::string_view::npos ||
      colon == std::string_view::npos || colon == 0 || colon + 1 == target.size()) {
    return Status::InvalidRequest(fmt::format(
        "etcd endpoint '{}' is not http://host:port (one endpoint; etcd's client URL)", endpoint));
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto stubs = std::make_unique<Stubs>();
  stubs->channel = grpc::CreateCustomChannel(std::string(target),
                                             grpc::InsecureChannelCredentials(), args);
  stubs->kv = pb::KV::NewStub(stubs->channel);
  stubs->watch = pb::Watch::NewStub(stubs->channel);
  stubs->maintenance = pb::Maintenance::NewStub(stubs->channel);
  std::string url = endpoint.starts_with("http://") ? std::string(endpoint)
                                                    : fmt::format("http://{}", target);
  while (url.ends_with('/')) url.pop_back();
  return std::unique_ptr<EtcdSource>(new EtcdSource(std::move(url), std::move(stubs)));
}

EtcdSource::EtcdSource(std::string endpoint, std::unique_ptr<Stubs> stubs)
    : endpoint_(std::move(endpoint)), stubs_(std::move(stubs)) {}

EtcdSource::~EtcdSource() = default;

Result<int64_t> EtcdSource::Head() {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, kCallDeadline);
  pb::StatusRequest req;
  pb::StatusResponse resp;
  grpc::Status s = stubs_->maintenance->Status(&ctx, req, &resp);
  if (!s.ok()) {
    return Status::Unavailable(
        fmt::format("cannot read etcd at {}: {}", endpoint_, s.error_message()));
  }
  return resp.header().revision();
}

Result<int64_t> EtcdSource::CompactRevision() {
  // A Range does not say where the compaction is; a watch from revision 1
  // does (its compact_revision), so that an error can name it.
  grpc::ClientContext ctx;
  SetDeadline(&ctx, kCallDeadline);
  auto stream = stubs_->watch->Watch(&ctx);
  pb::WatchRequest req;
  pb::WatchCreateRequest* create = req.mutable_create_request();
  create->set_key(std::string(1, '\0'));
  create->set_range_end(std::string(1, '\0'));
  create->set_start_revision(1);
  if (!stream->Write(req)) {
    return Status::Unavailable(fmt::format("cannot watch etcd at {}", endpoint_));
  }
  int64_t compact = 0;
  pb::WatchResponse resp;
  while (stream->Read(&resp)) {
    if (resp.compact_revision() > 0) {
      compact = resp.compact_revision();
      break;
    }
    if (resp.events_size() > 0) break;  // history from revision 1 on: never compacted
  }
  ctx.TryCancel();
  stream->Finish().IgnoreError();
  return compact;
}

Result<std::vector<EtcdKeyValue>> EtcdSource::KeysAt(int64_t revision, std::string_view prefix) {
  std::vector<EtcdKeyValue> out;
  const std::string end = PrefixRangeEnd(prefix);
  std::string from = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  for (;;) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kCallDeadline);
    pb::RangeRequest req;
    req.set_key(from);
    req.set_range_end(end);
    req.set_revision(revision);
    req.set_limit(kPageKeys);
    pb::RangeResponse resp;
    grpc::Status s = stubs_->kv->Range(&ctx, req, &resp);
    if (!s.ok()) {
      if (s.error_message().find(kCompactedText) != std::string::npos) {
        auto compact = CompactRevision();
        return Status::InvalidRequest(fmt::format(
            "etcd at {} has compacted its history at revision {}: revision {} is gone",
            endpoint_, compact ? fmt::format("{}", *compact) : std::string("?"), revision));
      }
      return Status::Unavailable(
          fmt::format("cannot read etcd at {}: {}", endpoint_, s.error_message()));
    }
    for (const auto& kv : resp.kvs()) out.push_back({kv.key(), kv.value()});
    if (!resp.more() || resp.kvs_size() == 0) return out;
    from = resp.kvs(resp.kvs_size() - 1).key() + '\0';  // the next key after the page
  }
}

Result<std::vector<EtcdRevision>> EtcdSource::ChangesBetween(int64_t from, int64_t to,
                                                             std::string_view prefix) {
  // One watch over every key, not only the prefix: every etcd revision
  // changes at least one key, so the revision `to` is sure to arrive and
  // marks the end; the prefix is applied here.
  grpc::ClientContext ctx;
  SetDeadline(&ctx, kWatchDeadline);
  auto stream = stubs_->watch->Watch(&ctx);
  pb::WatchRequest req;
  pb::WatchCreateRequest* create = req.mutable_create_request();
  create->set_key(std::string(1, '\0'));
  create->set_range_end(std::string(1, '\0'));
  create->set_start_revision(from);
  auto fail = [&](std::string message) -> Result<std::vector<EtcdRevision>> {
    ctx.TryCancel();
    stream->Finish().IgnoreError();
    return Status::Unavailable(std::move(message));
  };
  if (!stream->Write(req)) {
    grpc::Status s = stream->Finish();
    return Status::Unavailable(
        fmt::format("cannot watch etcd at {}: {}", endpoint_, s.error_message()));
  }
  std::vector<EtcdRevision> out;
  int64_t seen = from - 1;
  pb::WatchResponse resp;
  while (seen < to) {
    if (!stream->Read(&resp)) {
      grpc::Status s = stream->Finish();
      return Status::Unavailable(fmt::format(
          "etcd at {} ended the watch after revision {} of {}: {}", endpoint_, seen, to,
          s.error_message().empty() ? std::string("no reason given") : s.error_message()));
    }
    if (resp.compact_revision() > 0) {
      ctx.TryCancel();
      stream->Finish().IgnoreError();
      return Status::InvalidRequest(fmt::format(
          "etcd at {} has compacted its history at revision {}: revision {} is gone", endpoint_,
          resp.compact_revision(), from));
    }
    if (resp.canceled()) {
      return fail(fmt::format("etcd at {} canceled the watch: {}", endpoint_,
                              resp.cancel_reason()));
    }
    // etcd sends a revision's events in one response (no `fragment` asked),
    // so a revision is complete when its response is.
    for (const auto& event : resp.events()) {
      const auto& kv = event.kv();
      const int64_t rev = kv.mod_revision();
      seen = std::max(seen, rev);
      if (rev > to || !kv.key().starts_with(prefix)) continue;
      if (out.empty() || out.back().revision != rev) out.push_back({rev, {}});
      const bool deleted = event.type() == mvccpb::Event::DELETE;
      out.back().changes.push_back({deleted, kv.key(), deleted ? std::string() : kv.value()});
    }
  }
  ctx.TryCancel();
  stream->Finish().IgnoreError();
  return out;
}

}  // namespace chronoconf::cli
