#include "etcd/auth_status.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <grpcpp/support/byte_buffer.h>

#include <fmt/format.h>

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"

namespace chronoconf::etcd {
namespace {

// One call of a method no service declares: AuthStatus is answered, any
// other is UNIMPLEMENTED as grpc-go says it ("unknown method M for service
// S"), which is what etcd answers too.
class GenericReactor final : public grpc::ServerGenericBidiReactor {
 public:
  GenericReactor(const EtcdContext* context, grpc::GenericCallbackServerContext* ctx)
      : context_(context), md_(MetadataOf(*ctx)) {
    const std::string& method = ctx->method();
    if (method == kAuthStatusMethod) {
      StartRead(&request_);
      return;
    }
    const size_t slash = method.rfind('/');
    const bool named = slash != std::string::npos && slash > 0;
    const std::string service = named ? method.substr(1, slash - 1) : method;
    Finish({grpc::StatusCode::UNIMPLEMENTED,
            fmt::format("unknown method {} for service {}",
                        named ? method.substr(slash + 1) : method, service)});
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed without a request
      Finish({grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: AuthStatus needs a request"});
      return;
    }
    // AuthStatusRequest has no fields: any bytes are one (unknown fields are
    // skipped, as protobuf does). Answered like Status: any reader.
    Caller caller;
    if (grpc::Status s = context_->Admit(md_, http::Role::kRead, &caller); !s.ok()) {
      Finish(s);
      return;
    }
    etcdserverpb::ResponseHeader header;
    context_->FillHeader(context_->projection().head(), &header);
    const bool enabled = context_->auth() != nullptr;
    // etcd counts changes to users and roles; the auth file has no such
    // count, so an enabled auth is at revision 1.
    const std::string bytes = EncodeAuthStatus(header, enabled, enabled ? 1 : 0);
    grpc::Slice slice(bytes);
    response_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  void OnDone() override { delete this; }

 private:
  const EtcdContext* context_;
  const CallMetadata md_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

std::string EncodeAuthStatus(const etcdserverpb::ResponseHeader& header, bool enabled,
                             uint64_t auth_revision) {
  namespace io = google::protobuf::io;
  std::string out;
  {
    io::StringOutputStream stream(&out);
    io::CodedOutputStream coded(&stream);
    const std::string head = header.SerializeAsString();
    coded.WriteTag(1 << 3 | 2);  // header: length-delimited
    coded.WriteVarint32(static_cast<uint32_t>(head.size()));
    coded.WriteString(head);
    if (enabled) {  // proto3 leaves defaults out
      coded.WriteTag(2 << 3 | 0);
      coded.WriteVarint32(1);
    }
    if (auth_revision != 0) {
      coded.WriteTag(3 << 3 | 0);
      coded.WriteVarint64(auth_revision);
    }
  }  // the stream flushes into `out` here
  return out;
}

grpc::ServerGenericBidiReactor* GenericMethods::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  return new GenericReactor(context_, ctx);
}

}  // namespace chronoconf::etcd
