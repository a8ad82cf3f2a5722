// Auth (SPEC §4, issue 5 part 2): the matrix of tokens, roles and prefixes,
// on every route that reads or writes, plus the refused non-loopback listen
// and SIGHUP reload.
#include <signal.h>

#include <fstream>
#include <set>
#include <tuple>
#include <string>
#include <thread>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

constexpr char kAdmin[] = "admin-token-1";
constexpr char kCi[] = "ci-token-2";          // write, payments/ only
constexpr char kDash[] = "dash-token-3";      // read
constexpr char kPayRead[] = "pay-token-4";    // read, payments/ only

Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string AuthFile() {
  return std::string(R"({"tokens":[)") +                                            //
         R"({"name":"alice","sha256":")" + Sha256Hex(kAdmin) + R"(","role":"admin"},)" +
         R"({"name":"ci","sha256":")" + Sha256Hex(kCi) +
         R"(","role":"write","prefixes":["payments/"]},)" +
         R"({"name":"dash","sha256":")" + Sha256Hex(kDash) + R"(","role":"read"},)" +
         R"({"name":"payread","sha256":")" + Sha256Hex(kPayRead) +
         R"(","role":"read","prefixes":["payments/"]}]})";
}

class HttpAuthTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("chronoconf-auth");
    std::ofstream(dir_->File("auth.json")) << AuthFile();
    StartSharedServer("memory:", {"--auth-file", dir_->File("auth.json")});
  }
  static void TearDownTestSuite() {
    StopSharedServer();
    dir_.reset();
  }

 protected:
  ApiResponse As(const std::string& token, std::string_view method, const std::string& target,
                 std::string_view body = {}) {
    Headers h = Bearer(token);
    if (!body.empty()) h["Content-Type"] = "application/json";
    return api().Request(method, target, body, h);
  }
  int64_t HeadAs(const std::string& token) {
    return As(token, "GET", "/v1/status").json["revision"].get<int64_t>();
  }
  // Sets `key` to `value` as the admin.
  void Seed(const std::string& key, const std::string& value) {
    auto r = As(kAdmin, "PUT", "/v1/kv/" + key, R"({"value":)" + value + "}");
    ASSERT_LT(r.status, 300) << r;
  }

 private:
  static std::unique_ptr<TempDir> dir_;
};

std::unique_ptr<TempDir> HttpAuthTest::dir_;

TEST_F(HttpAuthTest, NoTokenIs401WithAChallenge) {
  for (const std::string& target : {std::string("/v1/kv/a"), std::string("/v1/kv"),
                                    std::string("/v1/status"), std::string("/metrics"),
                                    std::string("/v1/events"), std::string("/v1/export")}) {
    auto r = api().Get(target);
    EXPECT_EQ(r.status, 401) << target << ": " << r;
    EXPECT_EQ(r.ErrorCode(), "unauthorized") << r;
    EXPECT_NE(r.Header("www-authenticate").find("Bearer"), std::string::npos) << r;
  }
  auto put = api().Put("/v1/kv/" + K("x"), R"({"value":1})");
  EXPECT_EQ(put.status, 401) << put;
  WatchStream w;
  ASSERT_TRUE(w.Open(server()->port(), "/v1/watch"));
  EXPECT_EQ(w.status(), 401);
  EXPECT_EQ(api().Get("/healthz").status, 200) << "probes need no token";
  EXPECT_EQ(api().Get("/readyz").status, 200);
}

TEST_F(HttpAuthTest, WrongOrMalformedTokenIs401) {
  for (const Headers& h : {Bearer("not-a-token"), Bearer(""),
                           Headers{{"Authorization", std::string("Basic ") + kAdmin}},
                           Headers{{"Authorization", kAdmin}}}) {
    auto r = api().Get("/v1/status", h);
    EXPECT_EQ(r.status, 401) << r;
  }
}

TEST_F(HttpAuthTest, ReadRoleCannotWrite) {
  Seed(K("r"), "1");
  const int64_t head = HeadAs(kAdmin);
  EXPECT_EQ(As(kDash, "GET", "/v1/kv/" + K("r")).status, 200);
  for (auto [method, target, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"PUT", "/v1/kv/" + K("r"), R"({"value":2})"},
           {"DELETE", "/v1/kv/" + K("r"), ""},
           {"POST", "/v1/txn", R"({"ops":[{"op":"set","key":")" + K("r") + R"(","value":2}]})"},
           {"POST", "/v1/import", R"({"values":{")" + K("r") + R"(":2}})"},
           {"POST", "/v1/revert", R"({"to_revision":0})"}}) {
    auto r = As(kDash, method, target, body);
    EXPECT_EQ(r.status, 403) << method << " " << target << ": " << r;
    EXPECT_EQ(r.ErrorCode(), "forbidden") << r;
  }
  EXPECT_EQ(HeadAs(kAdmin), head) << "nothing may be written";
}

TEST_F(HttpAuthTest, WriteRoleIsLimitedToItsPrefixes) {
  Seed("other/" + K("x"), "1");
  const int64_t head = HeadAs(kAdmin);
  EXPECT_EQ(As(kCi, "GET", "/v1/kv/other/" + K("x")).status, 403);
  EXPECT_EQ(As(kCi, "GET", "/v1/history/other/" + K("x")).status, 403);
  EXPECT_EQ(As(kCi, "PUT", "/v1/kv/other/" + K("x"), R"({"value":2})").status, 403);
  EXPECT_EQ(As(kCi, "DELETE", "/v1/kv/other/" + K("x")).status, 403);
  auto txn = As(kCi, "POST", "/v1/txn",
                R"({"ops":[{"op":"set","key":"payments/)" + K("ok") +
                    R"(","value":1},{"op":"set","key":"other/)" + K("x") + R"(","value":3}]})");
  EXPECT_EQ(txn.status, 403) << txn;
  EXPECT_EQ(txn.json["error"]["op_index"], 1) << txn;
  EXPECT_EQ(As(kCi, "POST", "/v1/import", R"({"values":{"payments/)" + K("i") + R"(":1}})").status,
            403)
      << "an import must name a prefix inside the token's";
  EXPECT_EQ(As(kCi, "POST", "/v1/revert", R"({"to_revision":0})").status, 403);
  EXPECT_EQ(HeadAs(kAdmin), head) << "nothing may be written";

  auto put = As(kCi, "PUT", "/v1/kv/payments/" + K("ok"), R"({"value":1})");
  EXPECT_EQ(put.status, 201) << put;
  auto imp = As(kCi, "POST", "/v1/import",
                R"({"prefix":"payments/","values":{"payments/)" + K("i") + R"(":1}})");
  EXPECT_EQ(imp.status, 200) << imp;
}

TEST_F(HttpAuthTest, TheTokenNamesTheActorAndXActorCannotSpoofIt) {
  Headers h = Bearer(kCi);
  h["X-Actor"] = "mallory";
  h["Content-Type"] = "application/json";
  auto put = api().Put("/v1/kv/payments/" + K("who"), R"({"value":1})", h);
  ASSERT_EQ(put.status, 201) << put;
  EXPECT_EQ(put.json["entry"]["modified_by"], "ci");
  auto rev = As(kAdmin, "GET", "/v1/revisions/" + std::to_string(put.json["revision"].get<int>()));
  EXPECT_EQ(rev.json["actor"], "ci") << rev;
}

TEST_F(HttpAuthTest, PrefixScopedReadsSeeOnlyTheirKeys) {
  const std::string inside = "payments/" + K("in");
  const std::string outside = "billing/" + K("out");
  const int64_t from = HeadAs(kAdmin);
  // One commit that touches both, and one outside only.
  auto mixed = As(kAdmin, "POST", "/v1/txn",
                  R"({"ops":[{"op":"set","key":")" + inside + R"(","value":1},{"op":"set","key":")" +
                      outside + R"(","value":2}]})");
  ASSERT_EQ(mixed.status, 200) << mixed;
  Seed(outside, "3");
  const int64_t mixed_rev = from + 1, outside_rev = from + 2;

  auto list = As(kPayRead, "GET", "/v1/kv");
  ASSERT_EQ(list.status, 200) << list;
  for (const auto& e : list.json["entries"]) {
    EXPECT_TRUE(e["key"].get<std::string>().starts_with("payments/")) << e;
  }
  auto events = As(kPayRead, "GET", "/v1/events?from_revision=" + std::to_string(from));
  ASSERT_EQ(events.status, 200) << events;
  ASSERT_EQ(events.json["events"].size(), 1u) << events;
  EXPECT_EQ(events.json["events"][0]["key"], inside);

  auto rev = As(kPayRead, "GET", "/v1/revisions/" + std::to_string(mixed_rev));
  ASSERT_EQ(rev.status, 200) << rev;
  ASSERT_EQ(rev.json["events"].size(), 1u) << rev;
  EXPECT_EQ(rev.json["events"][0]["key"], inside);
  EXPECT_EQ(As(kPayRead, "GET", "/v1/revisions/" + std::to_string(outside_rev)).status, 403);

  auto exported = As(kPayRead, "GET", "/v1/export");
  ASSERT_EQ(exported.status, 200) << exported;
  EXPECT_TRUE(exported.json.contains(inside)) << exported;
  EXPECT_FALSE(exported.json.contains(outside)) << exported;

  auto diff = As(kPayRead, "GET", "/v1/diff?from_revision=" + std::to_string(from));
  ASSERT_EQ(diff.status, 200) << diff;
  ASSERT_EQ(diff.json["added"].size(), 1u) << diff;
  EXPECT_EQ(diff.json["added"][0]["key"], inside);

  auto all = As(kAdmin, "GET", "/v1/status");
  auto scoped = As(kPayRead, "GET", "/v1/status");
  ASSERT_EQ(scoped.status, 200);
  EXPECT_LT(scoped.json["keys"].get<int64_t>(), all.json["keys"].get<int64_t>());
  EXPECT_EQ(scoped.json["revision"], all.json["revision"]);

  WatchStream w;
  ASSERT_TRUE(w.Open(server()->port(), "/v1/watch?from_revision=" + std::to_string(from),
                     Bearer(kPayRead)));
  ASSERT_EQ(w.status(), 200);
  Seed(inside, "5");
  ASSERT_TRUE(w.WaitForEvents(2));
  for (const auto& e : w.events()) EXPECT_EQ(e.json["key"], inside) << e.data;
}

TEST_F(HttpAuthTest, AdminMayDoEverything) {
  Seed(K("adm"), "1");
  EXPECT_EQ(As(kAdmin, "GET", "/metrics").status, 200);
  EXPECT_EQ(As(kAdmin, "POST", "/v1/revert", R"({"to_revision":0,"prefix":")" + K("") + "\"}")
                .status,
            200);
  EXPECT_EQ(As(kDash, "GET", "/metrics").status, 200) << "a read token may scrape metrics";
}

TEST(AuthServeTest, NonLoopbackListenNeedsAuthOrInsecure) {
  CommandOptions o;
  o.timeout = std::chrono::seconds(10);
  auto refused = RunCommand({CHRONOCONF_BIN, "serve", "--store", "memory:", "--listen",
                             "0.0.0.0:" + std::to_string(PickFreePort())},
                            o);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("--auth-file"), std::string::npos) << refused.err;
  auto broken = RunCommand({CHRONOCONF_BIN, "serve", "--store", "memory:", "--auth-file",
                            "/nonexistent/auth.json"},
                           o);
  EXPECT_EQ(broken.exit_code, 2) << broken.err;
  ServerProcess insecure("memory:", {"--insecure"});
  // (ServerProcess listens on 127.0.0.1; --insecure is accepted there too.)
  EXPECT_TRUE(insecure.Start());
}

TEST(AuthServeTest, SighupReloadsTheFileAndKeepsConnections) {
  TempDir dir;
  const std::string path = dir.File("auth.json");
  std::ofstream(path) << R"({"tokens":[{"name":"old","sha256":")" << Sha256Hex("old-token")
                      << R"(","role":"admin"}]})";
  ServerProcess server("memory:", {"--auth-file", path});
  ASSERT_TRUE(server.Start());
  Api kept(server.url());  // one keep-alive connection across the reloads
  ASSERT_EQ(kept.Get("/v1/status", Bearer("old-token")).status, 200);

  std::ofstream(path, std::ios::trunc) << R"({"tokens":[{"name":"new","sha256":")"
                                       << Sha256Hex("new-token") << R"(","role":"read"}]})";
  ::kill(server.pid(), SIGHUP);
  bool reloaded = false;
  for (int i = 0; i < 200 && !reloaded; ++i) {
    reloaded = kept.Get("/v1/status", Bearer("new-token")).status == 200;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(reloaded) << server.Log();
  EXPECT_EQ(kept.Get("/v1/status", Bearer("old-token")).status, 401);

  std::ofstream(path, std::ios::trunc) << "{ not json";
  ::kill(server.pid(), SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(kept.Get("/v1/status", Bearer("new-token")).status, 200)
      << "a broken file keeps the tokens in force";
  EXPECT_NE(server.Log().find("kept the current tokens"), std::string::npos) << server.Log();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.Log().find("new-token"), std::string::npos) << "a token is never logged";
}

}  // namespace
}  // namespace chronoconf::test
