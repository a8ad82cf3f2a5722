// Auth.AuthStatus (SPEC §7) over real gRPC: a method etcd 3.4's proto does
// not declare, so it is called here as a generic method, the way a client
// built on etcd 3.5's proto calls it, and its answer decoded by hand.
#include <google/protobuf/io/coded_stream.h>
#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <string>

#include "common/sha256.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

struct Answer {
  grpc::Status status;
  std::map<uint32_t, uint64_t> varints;  // field number -> value
  etcdserverpb::ResponseHeader header;
};

// Calls `method` with an empty request, with `token` as etcd's metadata.
Answer Call(int port, const std::string& method, const std::string& token = "") {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx.AddMetadata("token", token);
  grpc::Slice empty("", 0);  // AuthStatusRequest has no fields
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  Answer a;
  a.status = done.get_future().get();
  if (!a.status.ok()) return a;
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  while (uint32_t tag = in.ReadTag()) {
    if ((tag & 7) == 2) {
      uint32_t size = 0;
      std::string field;
      EXPECT_TRUE(in.ReadVarint32(&size) && in.ReadString(&field, static_cast<int>(size)));
      if (tag >> 3 == 1) {
        EXPECT_TRUE(a.header.ParseFromString(field));
      }
    } else {
      uint64_t v = 0;
      EXPECT_TRUE(in.ReadVarint64(&v));
      a.varints[tag >> 3] = v;
    }
  }
  return a;
}

constexpr char kToken[] = "status-admin-secret";

TEST(EtcdAuthStatusTest, SaysWhetherAuthIsOnAndUnknownMethodsAreUnimplemented) {
  const int port = PickFreePort();
  ServerProcess server("memory:", {"--etcd-listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(server.Start()) << server.Log();
  Api api(server.url());
  ASSERT_EQ(api.Request("PUT", "/v1/kv/a", R"({"value":1})").status, 201);

  Answer off = Call(port, "/etcdserverpb.Auth/AuthStatus");
  ASSERT_TRUE(off.status.ok()) << off.status.error_message();
  EXPECT_EQ(off.header.revision(), 1);
  EXPECT_NE(off.header.cluster_id(), 0u);
  EXPECT_FALSE(off.varints.contains(2)) << "enabled is false, a default left out";

  Answer unknown = Call(port, "/etcdserverpb.Auth/Nope");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(unknown.status.error_message(), "unknown method Nope for service etcdserverpb.Auth");
}

TEST(EtcdAuthStatusTest, WithAuthOnATokenLearnsItIsEnabled) {
  TempDir dir("chronoconf-auth-status");
  std::ofstream(dir.File("auth.json"))
      << R"({"tokens":[{"name":"alice","sha256":")" << Sha256Hex(kToken)
      << R"(","role":"admin"}]})";
  const int port = PickFreePort();
  ServerProcess server("memory:", {"--auth-file", dir.File("auth.json"), "--etcd-listen",
                                   "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(server.Start()) << server.Log();
  Answer on = Call(port, "/etcdserverpb.Auth/AuthStatus", kToken);
  ASSERT_TRUE(on.status.ok()) << on.status.error_message();
  EXPECT_EQ(on.varints[2], 1u);  // enabled
  EXPECT_EQ(on.varints[3], 1u);  // authRevision
  Answer anonymous = Call(port, "/etcdserverpb.Auth/AuthStatus");
  EXPECT_EQ(anonymous.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(anonymous.status.error_message(), "etcdserver: user name is empty");
}

}  // namespace
}  // namespace chronoconf::test
