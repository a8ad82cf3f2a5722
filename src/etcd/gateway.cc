#include "etcd/gateway.h"

#include <array>
#include <chrono>

#include <google/protobuf/util/json_util.h>

#include "etcd/call_log.h"
#include "etcd/errors.h"
#include "etcd/methods.h"
#include "etcd/watch_session.h"
#include "json/json_writer.h"

namespace chronoconf::etcd {
namespace {

namespace pbutil = google::protobuf::util;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- JSON

// As etcd's gateway (runtime.JSONPb{OrigName: true}): proto field names,
// defaults left out; int64 as strings and bytes as base64 are protobuf's.
std::string ToJson(const google::protobuf::Message& message) {
  pbutil::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)pbutil::MessageToJsonString(message, &out, options);  // fails only on bad UTF-8 in string fields
  // An empty store is at revision 0 (SPEC §7), which the mapping leaves
  // out as a default; etcd, starting at 1, never does, and clients read
  // header.revision unconditionally (Patroni's watch: KeyError). So the
  // response header always says its revision. (Header fields are scalars:
  // the first "}" after it ends it.)
  // (Not MemberList: etcd's cluster answers carry no revision; nor a watch's
  // compacted answer, whose header etcd leaves at revision 0.)
  const auto* watch = dynamic_cast<const pb::WatchResponse*>(&message);
  const bool says_revision = message.GetDescriptor()->name() != "MemberListResponse" &&
                             (watch == nullptr || watch->compact_revision() == 0);
  constexpr std::string_view kHeader = R"("header":{)";
  if (size_t at = out.find(kHeader); at != std::string::npos && says_revision) {
    const size_t body = at + kHeader.size();
    const size_t end = out.find('}', body);
    if (end != std::string::npos &&
        std::string_view(out).substr(body, end - body).find(R"("revision")") == std::string_view::npos) {
      out.insert(body, end == body ? R"("revision":"0")" : R"("revision":"0",)");
    }
  }
  return out;
}

// etcd's gateway ignores unknown fields and reads an empty body as {}, but
// refuses an unknown enum name, which protobuf's ignore_unknown_fields would
// let through as the default: so a strict parse first, whose failure counts
// only when it is about an enum.
grpc::Status FromJson(std::string_view body, google::protobuf::Message* message) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return grpc::Status::OK;
  const google::protobuf::StringPiece text(body.data(), body.size());
  pbutil::JsonParseOptions options;
  auto strict = pbutil::JsonStringToMessage(text, message, options);
  if (strict.ok()) return grpc::Status::OK;
  const std::string why = strict.message().ToString();
  // An unknown field fails as "Cannot find field"; a value a lenient parse
  // accepts and a strict one calls invalid is an unknown enum name
  // ("(sort_order): invalid value \"BOGUS\" for type …SortOrder").
  const bool bad_enum = why.find("invalid value") != std::string::npos;
  message->Clear();
  options.ignore_unknown_fields = true;
  auto status = pbutil::JsonStringToMessage(text, message, options);
  if (status.ok()) {
    return bad_enum ? grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why) : grpc::Status::OK;
  }
  return {grpc::StatusCode::INVALID_ARGUMENT, status.message().ToString()};
}

// grpc-gateway's error body: {"error":m,"message":m,"code":N}.
std::string ErrorBody(const grpc::Status& status) {
  json::Writer w;
  w.BeginObject()
      .Field("error", status.error_message())
      .Field("message", status.error_message())
      .Field("code", static_cast<int64_t>(status.error_code()))
      .EndObject();
  return w.Take();
}

http::Response ErrorResponse(const grpc::Status& status) {
  http::Response r;
  r.status = HttpStatusForCode(status.error_code());
  r.body = ErrorBody(status);
  return r;
}

http::Response JsonResponse(const google::protobuf::Message& message) {
  http::Response r;
  r.body = ToJson(message);
  return r;
}

// Go's http.StatusText, for a stream's error line.
const char* StatusText(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
  }
}

// grpc-gateway's error inside a stream, which has sent its 200 already:
// {"error":{"grpc_code":14,"http_code":503,"message":...,"http_status":...}}.
std::string StreamErrorLine(const grpc::Status& status) {
  const int http_status = HttpStatusForCode(status.error_code());
  json::Writer w;
  w.BeginObject().Key("error").BeginObject()
      .Field("grpc_code", static_cast<int64_t>(status.error_code()))
      .Field("http_code", static_cast<int64_t>(http_status))
      .Field("message", status.error_message())
      .Field("http_status", StatusText(http_status))
      .EndObject().EndObject();
  return w.Take() + "\n";
}

// The caller, from the headers that carry etcd's metadata over HTTP.
CallMetadata MetadataOf(const http::Request& req) {
  auto header = [&req](const char* name) -> std::optional<std::string> {
    const std::string* value = req.Header(name);
    if (!value) return std::nullopt;
    return *value;
  };
  CallMetadata md{.token = header("authorization"),
                  .actor = header("x-actor"),
                  .reason = header("x-reason"),
                  .request_id = header("x-request-id")};
  // etcd's gateway takes the bare token; chronoconf's own clients say Bearer.
  if (md.token && md.token->starts_with("Bearer ")) md.token = md.token->substr(7);
  return md;
}

// ---------------------------------------------------------------- methods

using Reply = std::function<void(http::Response)>;
using Caller = void (*)(const EtcdContext& context, const CallMetadata& md, std::string_view body,
                        std::string_view name, Reply reply);

// Answers `reply` with `resp` or the error, and counts and logs the call.
void Finish(const EtcdContext& context, std::string_view name, Clock::time_point started,
            const grpc::Status& status, const google::protobuf::Message& resp,
            const Reply& reply) {
  RecordEtcdCall(context.options().metrics, name, status.error_code(), started);
  reply(status.ok() ? JsonResponse(resp) : ErrorResponse(status));
}

// A method that finishes through `done` (methods.h): the request and
// response live in the call until then.
template <typename Request, typename Response,
          void (*Method)(const EtcdContext&, const CallMetadata&, const Request&, Response*,
                         Done)>
void CallAsync(const EtcdContext& context, const CallMetadata& md, std::string_view body,
               std::string_view name, Reply reply) {
  const Clock::time_point started = Clock::now();
  struct Call {
    Request req;
    Response resp;
  };
  auto call = std::make_shared<Call>();
  if (grpc::Status s = FromJson(body, &call->req); !s.ok()) {
    return Finish(context, name, started, s, call->resp, reply);
  }
  Method(context, md, call->req, &call->resp,
         [&context, name, started, call, reply = std::move(reply)](const grpc::Status& s) {
           Finish(context, name, started, s, call->resp, reply);
         });
}

template <typename Request, typename Response,
          grpc::Status (*Method)(const EtcdContext&, const CallMetadata&, const Request&,
                                 Response*)>
void CallSync(const EtcdContext& context, const CallMetadata& md, std::string_view body,
              std::string_view name, Reply reply) {
  const Clock::time_point started = Clock::now();
  Request req;
  Response resp;
  grpc::Status s = FromJson(body, &req);
  if (s.ok()) s = Method(context, md, req, &resp);
  Finish(context, name, started, s, resp, reply);
}

// A server stream of one response, as etcd's gateway answers a streaming
// method called with one request (Patroni's lease keep-alive): the
// response wrapped in {"result": ...}, as each line of a stream is.
template <typename Request, typename Response,
          grpc::Status (*Method)(const EtcdContext&, const CallMetadata&, const Request&,
                                 Response*)>
void CallStreamOnce(const EtcdContext& context, const CallMetadata& md, std::string_view body,
                    std::string_view name, Reply reply) {
  const Clock::time_point started = Clock::now();
  Request req;
  Response resp;
  grpc::Status s = FromJson(body, &req);
  if (s.ok()) s = Method(context, md, req, &resp);
  RecordEtcdCall(context.options().metrics, name, s.error_code(), started);
  if (!s.ok()) return reply(ErrorResponse(s));
  http::Response r;
  r.body = "{\"result\":" + ToJson(resp) + "}";
  reply(std::move(r));
}

struct GatewayMethod {
  std::string_view path;   // after the prefix: "kv/range"
  std::string_view label;  // the metrics and log label: "/v3/kv/range"
  std::string_view name;   // the etcd method, as gRPC's are counted: "KV.Range"
  Caller call;             // null: the stream (watch)
};

// etcd's gateway routes (rpc.proto's google.api.http options) that SPEC §7
// serves; the rest are not served here (404), as on an etcd without them.
constexpr std::array<GatewayMethod, 16> kMethods = {{
    {"kv/range", "/v3/kv/range", "KV.Range",
     CallAsync<pb::RangeRequest, pb::RangeResponse, KvRange>},
    {"kv/put", "/v3/kv/put", "KV.Put", CallAsync<pb::PutRequest, pb::PutResponse, KvPut>},
    {"kv/deleterange", "/v3/kv/deleterange", "KV.DeleteRange",
     CallAsync<pb::DeleteRangeRequest, pb::DeleteRangeResponse, KvDeleteRange>},
    {"kv/txn", "/v3/kv/txn", "KV.Txn", CallAsync<pb::TxnRequest, pb::TxnResponse, KvTxn>},
    {"kv/compaction", "/v3/kv/compaction", "KV.Compact",
     CallAsync<pb::CompactionRequest, pb::CompactionResponse, KvCompact>},
    {"watch", "/v3/watch", "Watch.Watch", nullptr},
    {"lease/grant", "/v3/lease/grant", "Lease.LeaseGrant",
     CallSync<pb::LeaseGrantRequest, pb::LeaseGrantResponse, LeaseGrant>},
    {"lease/revoke", "/v3/lease/revoke", "Lease.LeaseRevoke",
     CallSync<pb::LeaseRevokeRequest, pb::LeaseRevokeResponse, LeaseRevoke>},
    {"lease/keepalive", "/v3/lease/keepalive", "Lease.LeaseKeepAlive",
     CallStreamOnce<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse, LeaseKeepAlive>},
    {"lease/timetolive", "/v3/lease/timetolive", "Lease.LeaseTimeToLive",
     CallSync<pb::LeaseTimeToLiveRequest, pb::LeaseTimeToLiveResponse, LeaseTimeToLive>},
    // etcd 3.4's gateway also serves these two under kv/ (rpc.proto's
    // additional_bindings).
    {"kv/lease/revoke", "/v3/kv/lease/revoke", "Lease.LeaseRevoke",
     CallSync<pb::LeaseRevokeRequest, pb::LeaseRevokeResponse, LeaseRevoke>},
    {"kv/lease/timetolive", "/v3/kv/lease/timetolive", "Lease.LeaseTimeToLive",
     CallSync<pb::LeaseTimeToLiveRequest, pb::LeaseTimeToLiveResponse, LeaseTimeToLive>},
    {"lease/leases", "/v3/lease/leases", "Lease.LeaseLeases",
     CallSync<pb::LeaseLeasesRequest, pb::LeaseLeasesResponse, LeaseLeases>},
    {"cluster/member/list", "/v3/cluster/member/list", "Cluster.MemberList",
     CallSync<pb::MemberListRequest, pb::MemberListResponse, ClusterMemberList>},
    {"maintenance/status", "/v3/maintenance/status", "Maintenance.Status",
     CallSync<pb::StatusRequest, pb::StatusResponse, MaintenanceStatus>},
    {"auth/authenticate", "/v3/auth/authenticate", "Auth.Authenticate",
     CallSync<pb::AuthenticateRequest, pb::AuthenticateResponse, AuthAuthenticate>},
}};

const GatewayMethod* Find(std::string_view path) {
  for (const GatewayMethod& m : kMethods) {
    if (m.path == path) return &m;
  }
  return nullptr;
}

// ---------------------------------------------------------------- watch

// POST /v3/watch: the body's WatchRequests, then a line per response.
class JsonWatchStream final : public http::GatewayStream {
 public:
  JsonWatchStream(const EtcdContext* context, CallMetadata md)
      : context_(context), session_(context, std::move(md)) {}
  ~JsonWatchStream() override {
    RecordEtcdCall(context_->options().metrics, "Watch.Watch", end_, started_);
  }

  void Handle(const pb::WatchRequest& req) { session_.Handle(req); }

  Next Read(std::string* out, size_t max_bytes) override {
    // progress_notify: this stream is read on each commit and at least every
    // --watch-keepalive-ms, so a notice may come that much after its tick.
    if (const Clock::time_point now = Clock::now(); now >= next_tick_) {
      session_.Tick();
      next_tick_ = now + context_->options().watch_progress_interval;
    }
    while (out->size() < max_bytes) {
      pb::WatchResponse resp;
      grpc::Status end;
      switch (session_.Pop(&resp, &end)) {
        case WatchSession::Next::kResponse:
          *out += "{\"result\":" + ToJson(resp) + "}\n";
          break;
        case WatchSession::Next::kNothing:
          return out->empty() ? Next::kNothing : Next::kLines;
        case WatchSession::Next::kBehind:  // a catch-up goes on at the next Read
          return out->empty() ? Next::kMore : Next::kLines;
        case WatchSession::Next::kEnd:
          end_ = end.error_code();
          *out += StreamErrorLine(end);
          return Next::kEnd;
      }
    }
    return Next::kLines;
  }

  std::string StoppedLine() override {
    end_ = rpctypes::Stopped().error_code();
    return StreamErrorLine(rpctypes::Stopped());
  }

 private:
  const EtcdContext* context_;
  WatchSession session_;
  const Clock::time_point started_ = Clock::now();
  Clock::time_point next_tick_ = started_ + context_->options().watch_progress_interval;
  grpc::StatusCode end_ = grpc::StatusCode::OK;  // the client went away
};

}  // namespace

int HttpStatusForCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::CANCELLED: return 408;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS: return 409;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::FAILED_PRECONDITION: return 412;
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    default: return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

std::vector<std::string_view> SplitJsonObjects(std::string_view body, bool* rest_invalid) {
  std::vector<std::string_view> out;
  *rest_invalid = false;
  size_t i = 0;
  while (true) {
    i = body.find_first_not_of(" \t\r\n", i);
    if (i == std::string_view::npos) return out;
    if (body[i] != '{') break;
    // The object's end: braces outside strings balance.
    int depth = 0;
    bool in_string = false;
    size_t j = i;
    for (; j < body.size(); ++j) {
      const char c = body[j];
      if (in_string) {
        if (c == '\\') ++j;
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        break;
      }
    }
    if (j >= body.size()) break;
    out.push_back(body.substr(i, j + 1 - i));
    i = j + 1;
  }
  *rest_invalid = true;
  return out;
}

http::EtcdGateway::Kind JsonGateway::KindOf(std::string_view method) const {
  const GatewayMethod* m = Find(method);
  if (!m) return Kind::kUnknown;
  return m->call ? Kind::kUnary : Kind::kStream;
}

std::string_view JsonGateway::Label(std::string_view method) const {
  const GatewayMethod* m = Find(method);
  return m ? m->label : std::string_view();
}

void JsonGateway::Call(const http::Request& req, std::string_view method,
                       std::function<void(http::Response)> done) {
  const GatewayMethod* m = Find(method);
  if (!m || !m->call) {
    return done(ErrorResponse({grpc::StatusCode::NOT_FOUND, "no such etcd gateway method"}));
  }
  m->call(*context_, MetadataOf(req), req.body, m->name, std::move(done));
}

std::unique_ptr<http::GatewayStream> JsonGateway::Open(const http::Request& req,
                                                       std::string_view /*method*/,
                                                       http::Response* refusal) {
  bool rest_invalid = false;
  const std::vector<std::string_view> objects = SplitJsonObjects(req.body, &rest_invalid);
  std::vector<pb::WatchRequest> requests(objects.size());
  grpc::Status first_error;
  for (size_t i = 0; i < objects.size() && first_error.ok(); ++i) {
    if (grpc::Status s = FromJson(objects[i], &requests[i]); !s.ok()) {
      if (i == 0) first_error = s;
      requests.resize(i);
    }
  }
  if (objects.empty() && rest_invalid) {
    pb::WatchRequest ignored;
    first_error = FromJson(req.body, &ignored);
    if (first_error.ok()) first_error = {grpc::StatusCode::INVALID_ARGUMENT, "not a JSON object"};
  }
  if (!first_error.ok()) {
    // etcd's gateway fails the call (UNKNOWN, 500) when its first request
    // does not parse; it stops reading at a later one that does not.
    RecordEtcdCall(context_->options().metrics, "Watch.Watch", grpc::StatusCode::UNKNOWN,
                   Clock::now());
    *refusal = ErrorResponse({grpc::StatusCode::UNKNOWN, first_error.error_message()});
    return nullptr;
  }
  auto stream = std::make_unique<JsonWatchStream>(context_, MetadataOf(req));
  for (const pb::WatchRequest& request : requests) stream->Handle(request);
  return stream;
}

http::Response JsonGateway::Version() const {
  // etcd answers its own version and the cluster's major.minor.0.
  const std::string& version = context_->options().version;
  std::string cluster = version;
  if (size_t dot = version.find('.'); dot != std::string::npos) {
    if (size_t second = version.find('.', dot + 1); second != std::string::npos) {
      cluster = version.substr(0, second) + ".0";
    }
  }
  json::Writer w;
  w.BeginObject().Field("etcdserver", version).Field("etcdcluster", cluster).EndObject();
  http::Response r;
  r.body = w.Take();
  return r;
}

http::Response JsonGateway::Error(const Status& status) const {
  grpc::Status g = ToGrpc(status);
  // A refusal of the HTTP layer (a Host, an origin) says why in its own words.
  if (status.code() == Code::kForbidden) {
    g = {grpc::StatusCode::PERMISSION_DENIED, "etcdserver: " + status.message()};
  }
  return ErrorResponse(g);
}

}  // namespace chronoconf::etcd
