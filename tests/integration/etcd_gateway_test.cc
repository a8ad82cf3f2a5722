// SPEC §7, etcd's JSON gateway on the main HTTP port, against the real
// `chronoconf serve` on loopback: every route under /v3, /v3beta and
// /v3alpha, GET /version, grpc-gateway's error shapes and statuses, auth
// (the token in Authorization), the headers that carry who and why, the
// metrics, and POST /v3/watch as chunked JSON lines (live, history, its end
// at shutdown and at the client's hang-up). EtcdGatewayDiffTest runs the
// same calls against Debian's etcd-server 3.4 and compares the JSON shapes
// (skipped without /usr/bin/etcd, a failure under CI).
#include <signal.h>

#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <atomic>
#include <thread>
#include <vector>

#include "support/http_test_util.h"
#include "support/real_etcd.h"
#include "support/require.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

// base64 of short ASCII texts (what etcd's gateway takes for bytes).
std::string B64(std::string_view in) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    for (int s : {18, 12, 6}) out += kAlphabet[(n >> s) & 63];
    out += "=";
  }
  return out;
}

// POST `path` with `body` as a JSON request (chronoconf's client sets
// Content-Type: application/json unless `headers` says otherwise).
ApiResponse Call(Api& api, const std::string& path, const json& body,
                 const Headers& headers = {}) {
  return api.Post(path, body.dump(), headers);
}

// The error grpc-gateway writes: {"error":m,"message":m,"code":N}.
void ExpectGatewayError(const ApiResponse& r, int http_status, int code,
                        const std::string& message) {
  EXPECT_EQ(r.status, http_status) << r;
  ASSERT_TRUE(r.json.is_object()) << r;
  EXPECT_EQ(r.json.size(), 3u) << r;
  EXPECT_EQ(r.json["code"], code) << r;
  EXPECT_EQ(r.json["error"], r.json["message"]) << r;
  if (!message.empty()) {
    EXPECT_EQ(r.json["message"], message) << r;
  }
}

// POST /v3/watch read from a raw socket: the response head, then the body's
// HTTP/1.1 chunks, split into JSON lines.
class GatewayWatch {
 public:
  bool Open(int port, const std::string& body, const std::string& extra_headers = "") {
    if (!conn_.Connect(port)) return false;
    const std::string request = "POST /v3/watch HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                extra_headers + "Content-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!conn_.SendAll(request)) return false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (raw_.find("\r\n\r\n") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (conn_.ReadSome(&raw_, std::chrono::milliseconds(200)) ==
          RawConnection::ReadStatus::kClosed) {
        break;
      }
    }
    const size_t end = raw_.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    head_ = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    return true;
  }
  const std::string& head() const { return head_; }

  // Reads until `n` lines arrived in all, the stream ended or `timeout`.
  bool WaitForLines(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (lines_.size() < n && !ended_ && std::chrono::steady_clock::now() < deadline) {
      Decode();
      if (lines_.size() >= n) break;
      if (conn_.ReadSome(&raw_, std::chrono::milliseconds(100)) ==
          RawConnection::ReadStatus::kClosed) {
        Decode();
        closed_ = true;
        break;
      }
    }
    Decode();
    return lines_.size() >= n;
  }
  // Reads until the server closes the connection.
  bool WaitForClose(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (!closed_) {
      std::string rest;
      closed_ = conn_.ReadUntilClosed(timeout, &rest);
      raw_ += rest;
    }
    Decode();
    return closed_;
  }
  const std::vector<json>& lines() const { return lines_; }
  bool ended() const { return ended_; }  // the last chunk (0) arrived
  bool one_line_per_chunk() const { return one_line_per_chunk_; }
  void Close() { conn_.Close(); }

 private:
  // Moves every whole chunk of raw_ into text_, then whole lines to lines_.
  void Decode() {
    while (!ended_) {
      const size_t eol = raw_.find("\r\n");
      if (eol == std::string::npos) break;
      const size_t size = std::stoul(raw_.substr(0, eol), nullptr, 16);
      if (raw_.size() < eol + 2 + size + 2) break;
      const std::string chunk = raw_.substr(eol + 2, size);
      // One line a chunk, as grpc-gateway flushes each message.
      if (size > 0 && (chunk.find('\n') != size - 1)) one_line_per_chunk_ = false;
      text_ += chunk;
      raw_.erase(0, eol + 2 + size + 2);
      if (size == 0) ended_ = true;
    }
    size_t nl;
    while ((nl = text_.find('\n')) != std::string::npos) {
      lines_.push_back(json::parse(text_.substr(0, nl), nullptr, false));
      text_.erase(0, nl + 1);
    }
  }
  RawConnection conn_;
  std::string raw_, head_, text_;
  std::vector<json> lines_;
  bool ended_ = false;
  bool closed_ = false;
  bool one_line_per_chunk_ = true;
};

// One server for the suite (auth off).
class EtcdGatewayTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    server_ = std::make_unique<ServerProcess>("memory:");
    started_ = server_->Start();
  }
  static void TearDownTestSuite() { server_.reset(); }

 protected:
  void SetUp() override { ASSERT_TRUE(started_) << server_->Log(); }
  static std::unique_ptr<ServerProcess> server_;
  static bool started_;
};
std::unique_ptr<ServerProcess> EtcdGatewayTest::server_;
bool EtcdGatewayTest::started_ = false;

TEST_F(EtcdGatewayTest, PutRangeDeleteAsEtcdsGatewayWritesThem) {
  Api api(server_->url());
  auto put = Call(api, "/v3/kv/put", {{"key", B64("gw/a")}, {"value", B64("one")}});
  ASSERT_EQ(put.status, 200) << put;
  EXPECT_EQ(put.Header("content-type"), "application/json");
  // int64 fields are strings, field names are the proto's.
  ASSERT_TRUE(put.json["header"]["revision"].is_string()) << put;
  ASSERT_TRUE(put.json["header"]["cluster_id"].is_string()) << put;
  EXPECT_EQ(put.json["header"]["raft_term"], "1") << put;
  const std::string rev = put.json["header"]["revision"];

  auto range = Call(api, "/v3/kv/range", {{"key", B64("gw/a")}});
  ASSERT_EQ(range.status, 200) << range;
  ASSERT_EQ(range.json["kvs"].size(), 1u) << range;
  const json& kv = range.json["kvs"][0];
  EXPECT_EQ(kv["key"], B64("gw/a"));
  EXPECT_EQ(kv["value"], B64("one"));
  EXPECT_EQ(kv["version"], "1");
  EXPECT_EQ(kv["mod_revision"], rev);
  EXPECT_EQ(kv["create_revision"], rev);
  EXPECT_EQ(range.json["count"], "1");
  EXPECT_FALSE(kv.contains("lease")) << "defaults are left out, as etcd's gateway does";

  // The same write path and read model as the native API.
  auto native = api.GetKey("gw%2Fa");
  ASSERT_EQ(native.status, 200) << native;
  EXPECT_EQ(native.json["value"], "one");

  auto del = Call(api, "/v3/kv/deleterange", {{"key", B64("gw/a")}, {"prev_kv", true}});
  ASSERT_EQ(del.status, 200) << del;
  EXPECT_EQ(del.json["deleted"], "1");
  EXPECT_EQ(del.json["prev_kvs"][0]["value"], B64("one"));
  auto gone = Call(api, "/v3/kv/range", {{"key", B64("gw/a")}});
  EXPECT_FALSE(gone.json.contains("kvs")) << gone;
  EXPECT_FALSE(gone.json.contains("count")) << "count 0 is a default, left out: " << gone;
}

TEST_F(EtcdGatewayTest, V3betaAndV3alphaAreAliases) {
  Api api(server_->url());
  for (const std::string prefix : {"/v3", "/v3beta", "/v3alpha"}) {
    auto put = Call(api, prefix + "/kv/put", {{"key", B64("alias" + prefix)}, {"value", B64("x")}});
    ASSERT_EQ(put.status, 200) << prefix << " " << put;
    auto range = Call(api, "/v3/kv/range", {{"key", B64("alias" + prefix)}});
    EXPECT_EQ(range.json["kvs"][0]["value"], B64("x")) << prefix << " " << range;
  }
}

TEST_F(EtcdGatewayTest, RangeOptionsAndTxnTakeEnumNamesAndNumbersAsText) {
  Api api(server_->url());
  for (const char* k : {"t/1", "t/2", "t/3"}) {
    ASSERT_EQ(Call(api, "/v3/kv/put", {{"key", B64(k)}, {"value", B64(k)}}).status, 200);
  }
  auto range = Call(api, "/v3/kv/range",
                    {{"key", B64("t/")}, {"range_end", B64("t0")}, {"limit", "2"},
                     {"sort_order", "DESCEND"}, {"sort_target", "KEY"}, {"keys_only", true}});
  ASSERT_EQ(range.status, 200) << range;
  ASSERT_EQ(range.json["kvs"].size(), 2u) << range;
  EXPECT_EQ(range.json["kvs"][0]["key"], B64("t/3"));
  EXPECT_FALSE(range.json["kvs"][0].contains("value"));
  EXPECT_EQ(range.json["more"], true);
  EXPECT_EQ(range.json["count"], "3");

  // Patroni's compare-and-set: CREATE == 0 puts only a new key.
  json txn = {{"compare", {{{"target", "CREATE"}, {"key", B64("t/new")}, {"create_revision", "0"}}}},
              {"success", {{{"request_put", {{"key", B64("t/new")}, {"value", B64("v")}}}},
                           {{"request_range", {{"key", B64("t/new")}}}}}},
              {"failure", {{{"request_range", {{"key", B64("t/new")}}}}}}};
  auto first = Call(api, "/v3/kv/txn", txn);
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.json["succeeded"], true) << first;
  EXPECT_TRUE(first.json["responses"][0].contains("response_put")) << first;
  EXPECT_EQ(first.json["responses"][1]["response_range"]["kvs"][0]["value"], B64("v")) << first;
  auto second = Call(api, "/v3/kv/txn", txn);
  ASSERT_EQ(second.status, 200) << second;
  EXPECT_FALSE(second.json.contains("succeeded")) << "false is a default: " << second;
}

TEST_F(EtcdGatewayTest, ErrorsHaveGrpcGatewaysShapeAndStatus) {
  Api api(server_->url());
  // An empty body is {}, as etcd reads it; unknown fields are ignored.
  ExpectGatewayError(api.Post("/v3/kv/range", ""), 400, 3, "etcdserver: key is not provided");
  ExpectGatewayError(api.Post("/v3/kv/range", R"({"nope":1})"), 400, 3,
                     "etcdserver: key is not provided");
  ExpectGatewayError(api.Post("/v3/kv/put", "{bad"), 400, 3, "");
  ExpectGatewayError(
      Call(api, "/v3/kv/range", {{"key", B64("x")}, {"revision", "100000"}}), 400, 11,
      "etcdserver: mvcc: required revision is a future revision");
  ExpectGatewayError(Call(api, "/v3/auth/authenticate", {{"name", "a"}, {"password", "b"}}), 412,
                     9, "etcdserver: authentication is not enabled");
  ExpectGatewayError(Call(api, "/v3/kv/put", {{"key", B64("k")}, {"value", B64("v")}, {"lease", "7"}}),
                     404, 5, "etcdserver: requested lease not found");
  // Lease errors, as etcd 3.4's gateway shapes them.
  ExpectGatewayError(Call(api, "/v3/lease/revoke", {{"ID", "424242"}}), 404, 5,
                     "etcdserver: requested lease not found");
  ASSERT_EQ(Call(api, "/v3/lease/grant", {{"TTL", "5"}, {"ID", "424242"}}).status, 200);
  ExpectGatewayError(Call(api, "/v3/lease/grant", {{"TTL", "5"}, {"ID", "424242"}}), 412, 9,
                     "etcdserver: lease already exists");
  ExpectGatewayError(Call(api, "/v3/lease/grant", {{"TTL", "10000000000"}}), 400, 11,
                     "etcdserver: too large lease TTL");
  ASSERT_EQ(Call(api, "/v3/lease/revoke", {{"ID", "424242"}}).status, 200);
  ExpectGatewayError(Call(api, "/v3/kv/compaction", {{"revision", "100000"}}), 400, 11,
                     "etcdserver: mvcc: required revision is a future revision");
  // A body over --max-body-bytes (1 MiB here), known from its Content-Length.
  ExpectGatewayError(api.Post("/v3/kv/put", std::string(1100000, ' ')), 400, 3,
                     "etcdserver: request is too large");
  // Routes: a method etcd's gateway does not have, a GET.
  // An unknown enum name is refused, as etcd's gateway does; an unknown
  // field is ignored, as there.
  auto bogus = Call(api, "/v3/kv/range", {{"key", B64("x")}, {"sort_order", "BOGUS"}});
  ExpectGatewayError(bogus, 400, 3, "");
  EXPECT_NE(bogus.json["message"].get<std::string>().find("BOGUS"), std::string::npos) << bogus;
  EXPECT_EQ(Call(api, "/v3/kv/range", {{"key", B64("x")}, {"no_such_field", 1}}).status, 200);
  EXPECT_EQ(api.Post("/v3/kv/nope", "{}").status, 404);
  EXPECT_EQ(api.Get("/v3/kv/range").status, 405);
  EXPECT_EQ(api.Post("/version", "{}").status, 405);
}

TEST_F(EtcdGatewayTest, VersionMemberListAndStatus) {
  Api api(server_->url());
  auto version = api.Get("/version");
  ASSERT_EQ(version.status, 200) << version;
  EXPECT_EQ(version.json, json({{"etcdserver", "3.5.0"}, {"etcdcluster", "3.5.0"}})) << version;

  auto members = api.Post("/v3/cluster/member/list", "{}");
  ASSERT_EQ(members.status, 200) << members;
  ASSERT_EQ(members.json["members"].size(), 1u) << members;
  const json& me = members.json["members"][0];
  EXPECT_TRUE(me["ID"].is_string()) << members;
  // The gateway's clients (Patroni) talk to the clientURLs: this HTTP port.
  EXPECT_EQ(me["clientURLs"][0], server_->url()) << members;

  // (raftIndex is the head: left out of the JSON while it is 0.)
  ASSERT_EQ(Call(api, "/v3/kv/put", {{"key", B64("s/x")}, {"value", B64("1")}}).status, 200);
  auto status = api.Post("/v3/maintenance/status", "");
  ASSERT_EQ(status.status, 200) << status;
  EXPECT_EQ(status.json["version"], "3.5.0");
  EXPECT_EQ(status.json["leader"], me["ID"]);
  EXPECT_EQ(status.json["raftTerm"], "1");
  EXPECT_TRUE(status.json.contains("raftIndex")) << status;
}

TEST_F(EtcdGatewayTest, HeadersCarryWhoAndWhy) {
  Api api(server_->url());
  auto put = Call(api, "/v3/kv/put", {{"key", B64("who/x")}, {"value", B64("1")}},
                  {{"X-Actor", "patroni"}, {"X-Reason", "failover%20test"},
                   {"X-Request-Id", "gw-req-1"}});
  ASSERT_EQ(put.status, 200) << put;
  EXPECT_EQ(put.Header("x-request-id"), "gw-req-1");
  auto history = api.Get("/v1/history/who%2Fx");
  ASSERT_EQ(history.status, 200) << history;
  EXPECT_EQ(history.json["events"][0]["actor"], "patroni") << history;
  EXPECT_EQ(history.json["events"][0]["reason"], "failover test") << history;
  EXPECT_EQ(history.json["events"][0]["request_id"], "gw-req-1") << history;
}

TEST_F(EtcdGatewayTest, AnyContentTypeButNoCrossSiteWrite) {
  Api api(server_->url());
  // curl -d sends a form type; APISIX sends none: etcd takes both.
  auto form = api.Post("/v3/kv/put", json({{"key", B64("ct/a")}, {"value", B64("1")}}).dump(),
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 200) << form;
  // A page elsewhere cannot write through the user's browser.
  auto cross = api.Post("/v3/kv/put", json({{"key", B64("ct/b")}, {"value", B64("1")}}).dump(),
                        {{"Origin", "http://evil.example"}});
  ExpectGatewayError(cross, 403, 7, "");
  EXPECT_NE(cross.json["message"].get<std::string>().find("cross-site"), std::string::npos)
      << cross;
  auto rebinding = api.Post("/v3/kv/range", json({{"key", B64("ct/a")}}).dump(),
                            {{"Host", "evil.example"}});
  ExpectGatewayError(rebinding, 403, 7, "");
}

TEST_F(EtcdGatewayTest, CountedAsEtcdCallsAndHttpRequests) {
  Api api(server_->url());
  ASSERT_EQ(Call(api, "/v3/kv/put", {{"key", B64("m/x")}, {"value", B64("1")}}).status, 200);
  ASSERT_EQ(api.Post("/v3/kv/range", "{}").status, 400);
  auto metrics = api.Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  bool put_ok = false, range_invalid = false, route = false;
  for (const MetricSample& m : ParseMetrics(metrics.body)) {
    if (m.name == "chronoconf_etcd_requests_total" &&
        m.labels == R"(method="KV.Put",code="OK")" && m.value >= 1) {
      put_ok = true;
    }
    if (m.name == "chronoconf_etcd_requests_total" &&
        m.labels == R"(method="KV.Range",code="INVALID_ARGUMENT")" && m.value >= 1) {
      range_invalid = true;
    }
    if (m.labels.find(R"(route="/v3/kv/put")") != std::string::npos) route = true;
  }
  EXPECT_TRUE(put_ok) << metrics.body;
  EXPECT_TRUE(range_invalid) << metrics.body;
  EXPECT_TRUE(route) << metrics.body;
}

TEST_F(EtcdGatewayTest, WatchStreamsJsonLines) {
  Api api(server_->url());
  auto first = Call(api, "/v3/kv/put", {{"key", B64("w/a")}, {"value", B64("1")}});
  ASSERT_EQ(first.status, 200) << first;
  const std::string start = first.json["header"]["revision"];
  GatewayWatch watch;
  ASSERT_TRUE(watch.Open(server_->port(),
                         json({{"create_request",
                                {{"key", B64("w/")}, {"range_end", B64("w0")},
                                 {"start_revision", start}, {"prev_kv", true}}}})
                                 .dump() +
                             "\n" + R"({"progress_request":{}})"));
  EXPECT_NE(watch.head().find("200 OK"), std::string::npos) << watch.head();
  EXPECT_NE(watch.head().find("Transfer-Encoding: chunked"), std::string::npos) << watch.head();
  // created, the progress answer, the history event.
  ASSERT_TRUE(watch.WaitForLines(3)) << watch.lines().size();
  EXPECT_EQ(watch.lines()[0]["result"]["created"], true) << watch.lines()[0];
  EXPECT_EQ(watch.lines()[1]["result"]["watch_id"], "-1") << watch.lines()[1];
  EXPECT_EQ(watch.lines()[2]["result"]["events"][0]["kv"]["value"], B64("1"));
  // Live: a put and a delete.
  ASSERT_EQ(Call(api, "/v3/kv/put", {{"key", B64("w/a")}, {"value", B64("2")}}).status, 200);
  ASSERT_EQ(Call(api, "/v3/kv/deleterange", {{"key", B64("w/a")}}).status, 200);
  // Two commits: in one response or two, as the watcher keeps up.
  std::vector<json> live;
  for (size_t n = 4; n <= 5 && live.size() < 2; ++n) {
    if (!watch.WaitForLines(n)) break;
    live.clear();
    for (size_t i = 3; i < watch.lines().size(); ++i) {
      for (const json& e : watch.lines()[i]["result"]["events"]) live.push_back(e);
    }
  }
  ASSERT_EQ(live.size(), 2u) << watch.lines().size();
  const json& put = live[0];
  EXPECT_FALSE(put.contains("type")) << "PUT is the default, left out: " << put;
  EXPECT_EQ(put["prev_kv"]["value"], B64("1"));
  const json& del = live[1];
  EXPECT_EQ(del["type"], "DELETE") << del;
  EXPECT_EQ(del["kv"]["key"], B64("w/a")) << del;
  EXPECT_TRUE(watch.one_line_per_chunk()) << "python-etcd3gw parses each chunk as one object";
  // A client that hangs up ends its stream (the watcher gauge falls back).
  watch.Close();
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    for (const MetricSample& m : ParseMetrics(api.Get("/metrics").body)) {
      if (m.name == "chronoconf_watchers" && m.value == 0) closed = true;
    }
    if (!closed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(closed);
}

// etcd 3.4's answers, observed against etcd-server: a watch whose
// range_end is at or below its key watches nothing and is refused.
TEST_F(EtcdGatewayTest, AWatchOfAnEmptyRangeIsRefusedAsEtcdDoes) {
  GatewayWatch watch;
  ASSERT_TRUE(watch.Open(server_->port(),
                         json({{"create_request", {{"key", B64("b")}, {"range_end", B64("a")}}}})
                                 .dump() +
                             json({{"create_request", {{"key", B64("b")}, {"range_end", B64("b")}}}})
                                 .dump()));
  ASSERT_TRUE(watch.WaitForLines(2));
  for (const json& line : watch.lines()) {
    EXPECT_EQ(line["result"]["watch_id"], "-1") << line;
    EXPECT_EQ(line["result"]["created"], true) << line;
    EXPECT_EQ(line["result"]["canceled"], true) << line;
    EXPECT_EQ(line["result"]["cancel_reason"], "mvcc: watcher range is empty") << line;
  }
}

// Inside a Txn each op's header says the revision as of that op: the one
// before the commit until the Txn's first write (etcd 3.4 answered 9, 9,
// 10, 10 for [range, delete of nothing, put, range]).
TEST_F(EtcdGatewayTest, TxnOpsCarryTheRevisionAsOfEachOp) {
  Api api(server_->url());
  auto first = Call(api, "/v3/kv/put", {{"key", B64("tr/a")}, {"value", B64("1")}});
  ASSERT_EQ(first.status, 200) << first;
  const int64_t before = std::stoll(first.json["header"]["revision"].get<std::string>());
  json txn = {{"success",
               {{{"request_range", {{"key", B64("tr/a")}}}},
                {{"request_delete_range", {{"key", B64("tr/none")}}}},
                {{"request_put", {{"key", B64("tr/b")}, {"value", B64("2")}}}},
                {{"request_range", {{"key", B64("tr/b")}}}}}}};
  auto r = Call(api, "/v3/kv/txn", txn);
  ASSERT_EQ(r.status, 200) << r;
  const std::string pre = std::to_string(before), post = std::to_string(before + 1);
  EXPECT_EQ(r.json["header"]["revision"], post) << r;
  const json& ops = r.json["responses"];
  ASSERT_EQ(ops.size(), 4u) << r;
  EXPECT_EQ(ops[0]["response_range"]["header"]["revision"], pre) << r;
  EXPECT_EQ(ops[1]["response_delete_range"]["header"]["revision"], pre) << r;
  EXPECT_EQ(ops[2]["response_put"]["header"]["revision"], post) << r;
  EXPECT_EQ(ops[3]["response_range"]["header"]["revision"], post) << r;
}

// A Put with ignore_value reads the value when it is decided: Puts to the
// same key at the same time never make it fail (etcd applies them in turn).
TEST_F(EtcdGatewayTest, ConcurrentPutsWithIgnoreValueAllSucceed) {
  Api setup(server_->url());
  ASSERT_EQ(Call(setup, "/v3/kv/put", {{"key", B64("iv/k")}, {"value", B64("0")}}).status, 200);
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Api api(server_->url());
      for (int i = 0; i < 15; ++i) {
        json body = (i + t) % 2 ? json({{"key", B64("iv/k")}, {"ignore_value", true}})
                                : json({{"key", B64("iv/k")}, {"value", B64(std::to_string(i))}});
        auto r = Call(api, "/v3/kv/put", body);
        if (r.status != 200) {
          ++failed;
          ADD_FAILURE() << r;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  auto range = Call(setup, "/v3/kv/range", {{"key", B64("iv/k")}});
  EXPECT_EQ(range.json["kvs"][0]["version"], "61") << range;  // every Put committed
}

TEST_F(EtcdGatewayTest, WatchRefusesAFirstRequestThatIsNotJsonAsEtcdDoes) {
  Api api(server_->url());
  // etcd's gateway: 500, UNKNOWN, before the stream begins.
  ExpectGatewayError(api.Post("/v3/watch", "{bad"), 500, 2, "");
  // An empty body opens a stream that sends nothing until it is given a watch.
  GatewayWatch watch;
  ASSERT_TRUE(watch.Open(server_->port(), ""));
  EXPECT_NE(watch.head().find("200 OK"), std::string::npos) << watch.head();
  EXPECT_FALSE(watch.WaitForLines(1, std::chrono::milliseconds(300)));
}

TEST(EtcdGatewayShutdownTest, AWatchEndsWithEtcdsServerStoppedLine) {
  ServerProcess server("memory:");
  ASSERT_TRUE(server.Start());
  GatewayWatch watch;
  ASSERT_TRUE(watch.Open(server.port(), json({{"create_request", {{"key", B64("s")}}}}).dump()));
  ASSERT_TRUE(watch.WaitForLines(1));
  ASSERT_TRUE(server.Stop(std::chrono::seconds(10))) << server.Log();
  ASSERT_TRUE(watch.WaitForClose());
  ASSERT_EQ(watch.lines().size(), 2u);
  const json& error = watch.lines()[1]["error"];
  EXPECT_EQ(error["grpc_code"], 14) << watch.lines()[1];
  EXPECT_EQ(error["http_code"], 503);
  EXPECT_EQ(error["message"], "etcdserver: server stopped");
  EXPECT_EQ(error["http_status"], "Service Unavailable");
  EXPECT_TRUE(watch.ended()) << "the last chunk ends the body";
}

// --------------------------------------------------------------- auth

constexpr char kAdminToken[] = "gw-admin-secret";
constexpr char kScopedToken[] = "gw-scoped-secret";
constexpr char kReadToken[] = "gw-read-secret";

class EtcdGatewayAuthTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("chronoconf-gw-auth");
    std::ofstream(dir_->File("auth.json"))
        << R"({"tokens":[{"name":"alice","sha256":")" << Sha256Hex(kAdminToken)
        << R"(","role":"admin"},{"name":"ci","sha256":")" << Sha256Hex(kScopedToken)
        << R"(","role":"write","prefixes":["payments/"]},{"name":"dash","sha256":")"
        << Sha256Hex(kReadToken) << R"(","role":"read"}]})";
    server_ = std::make_unique<ServerProcess>(
        "memory:", std::vector<std::string>{"--auth-file", dir_->File("auth.json")});
    started_ = server_->Start();
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }

 protected:
  void SetUp() override { ASSERT_TRUE(started_) << server_->Log(); }
  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<ServerProcess> server_;
  static bool started_;
};
std::unique_ptr<TempDir> EtcdGatewayAuthTest::dir_;
std::unique_ptr<ServerProcess> EtcdGatewayAuthTest::server_;
bool EtcdGatewayAuthTest::started_ = false;

TEST_F(EtcdGatewayAuthTest, AuthenticateThenTheTokenInAuthorization) {
  Api api(server_->url());
  auto auth = Call(api, "/v3/auth/authenticate", {{"name", "alice"}, {"password", kAdminToken}});
  ASSERT_EQ(auth.status, 200) << auth;
  const std::string token = auth.json["token"];
  // As etcd's gateway takes it: the bare token (Bearer is taken too).
  auto put = Call(api, "/v3/kv/put", {{"key", B64("app/x")}, {"value", B64("1")}},
                  {{"Authorization", token}});
  ASSERT_EQ(put.status, 200) << put;
  auto bearer = Call(api, "/v3/kv/range", {{"key", B64("app/x")}},
                     {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(bearer.status, 200) << bearer;
  auto history =
      api.Get("/v1/history/app%2Fx", {{"Authorization", std::string("Bearer ") + kAdminToken}});
  ASSERT_EQ(history.status, 200) << history;
  EXPECT_EQ(history.json["events"][0]["actor"], "alice");
  // /version needs no token, as etcd's.
  EXPECT_EQ(api.Get("/version").status, 200);
}

TEST_F(EtcdGatewayAuthTest, RefusalsUseEtcdsTextsAndStatuses) {
  Api api(server_->url());
  json range = {{"key", B64("app/x")}};
  ExpectGatewayError(Call(api, "/v3/kv/range", range), 400, 3, "etcdserver: user name is empty");
  ExpectGatewayError(Call(api, "/v3/kv/range", range, {{"Authorization", "not-a-token"}}), 401,
                     16, "etcdserver: invalid auth token");
  ExpectGatewayError(
      Call(api, "/v3/auth/authenticate", {{"name", "alice"}, {"password", "wrong"}}), 400, 3,
      "etcdserver: authentication failed, invalid user ID or password");
  ExpectGatewayError(Call(api, "/v3/kv/put", {{"key", B64("app/x")}, {"value", B64("1")}},
                          {{"Authorization", kReadToken}}),
                     403, 7, "etcdserver: permission denied");
  // A prefix-limited token: inside its prefix, and outside.
  EXPECT_EQ(Call(api, "/v3/kv/put", {{"key", B64("payments/a")}, {"value", B64("1")}},
                 {{"Authorization", kScopedToken}})
                .status,
            200);
  ExpectGatewayError(Call(api, "/v3/kv/put", {{"key", B64("app/y")}, {"value", B64("1")}},
                          {{"Authorization", kScopedToken}}),
                     403, 7, "etcdserver: permission denied");
}

TEST_F(EtcdGatewayAuthTest, AWatchOutsideTheTokensPrefixesIsCanceled) {
  GatewayWatch watch;
  ASSERT_TRUE(watch.Open(server_->port(),
                         json({{"create_request", {{"key", B64("app/x")}}}}).dump() +
                             json({{"create_request", {{"key", B64("payments/a")}}}}).dump(),
                         std::string("Authorization: ") + kScopedToken + "\r\n"));
  ASSERT_TRUE(watch.WaitForLines(2));
  EXPECT_EQ(watch.lines()[0]["result"]["canceled"], true) << watch.lines()[0];
  // etcd 3.4's text: grpc-go's rendering of the status.
  EXPECT_EQ(watch.lines()[0]["result"]["cancel_reason"],
            "rpc error: code = PermissionDenied desc = etcdserver: permission denied");
  EXPECT_EQ(watch.lines()[1]["result"]["created"], true) << watch.lines()[1];
  EXPECT_FALSE(watch.lines()[1]["result"].contains("canceled")) << watch.lines()[1];
}

// etcd 3.4's v3rpc words a watch refused for its token as grpc-go renders
// the status.
TEST_F(EtcdGatewayAuthTest, AWatchWithoutAGoodTokenUsesEtcdsTexts) {
  GatewayWatch none;
  ASSERT_TRUE(none.Open(server_->port(), json({{"create_request", {{"key", B64("app/x")}}}}).dump()));
  ASSERT_TRUE(none.WaitForLines(1));
  EXPECT_EQ(none.lines()[0]["result"]["cancel_reason"],
            "rpc error: code = InvalidArgument desc = etcdserver: user name is empty");
  GatewayWatch bad;
  ASSERT_TRUE(bad.Open(server_->port(), json({{"create_request", {{"key", B64("app/x")}}}}).dump(),
                       "Authorization: not-a-token\r\n"));
  ASSERT_TRUE(bad.WaitForLines(1));
  EXPECT_EQ(bad.lines()[0]["result"]["cancel_reason"],
            "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token");
}

TEST(EtcdGatewayReloadTest, AWatchWhoseTokenIsRemovedEndsWithEtcdsError) {
  TempDir dir("chronoconf-gw-reload");
  auto write_tokens = [&](bool with_bob) {
    std::ofstream(dir.File("auth.json"))
        << R"({"tokens":[{"name":"alice","sha256":")" << Sha256Hex(kAdminToken)
        << R"(","role":"admin"})"
        << (with_bob ? std::string(R"(,{"name":"bob","sha256":")") + Sha256Hex(kReadToken) +
                           R"(","role":"read"})"
                     : std::string())
        << "]}";
  };
  write_tokens(true);
  ServerProcess server("memory:", {"--auth-file", dir.File("auth.json")});
  ASSERT_TRUE(server.Start());
  GatewayWatch watch;
  ASSERT_TRUE(watch.Open(server.port(), json({{"create_request", {{"key", B64("k")}}}}).dump(),
                         std::string("Authorization: ") + kReadToken + "\r\n"));
  ASSERT_TRUE(watch.WaitForLines(1));
  EXPECT_EQ(watch.lines()[0]["result"]["created"], true) << watch.lines()[0];

  write_tokens(false);
  ASSERT_EQ(kill(server.pid(), SIGHUP), 0);
  Api api(server.url());
  bool reloaded = false;
  for (int i = 0; i < 200 && !reloaded; ++i) {
    reloaded = Call(api, "/v3/kv/range", {{"key", B64("k")}}, {{"Authorization", kReadToken}})
                   .status == 401;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(reloaded);
  // The next commit it would send: the token is checked first, and gone.
  ASSERT_EQ(Call(api, "/v3/kv/put", {{"key", B64("k")}, {"value", B64("1")}},
                 {{"Authorization", kAdminToken}})
                .status,
            200);
  ASSERT_TRUE(watch.WaitForClose());
  ASSERT_EQ(watch.lines().size(), 2u);
  EXPECT_EQ(watch.lines()[1]["error"]["grpc_code"], 16) << watch.lines()[1];
  EXPECT_EQ(watch.lines()[1]["error"]["http_code"], 401);
  EXPECT_EQ(watch.lines()[1]["error"]["message"], "etcdserver: invalid auth token");
  EXPECT_TRUE(watch.ended());
}

// --------------------------------------------------------------- differential

// The keys of a JSON value, recursively ("header.revision", "kvs[].key"):
// its shape, without the values.
void Shape(const json& j, const std::string& path, std::set<std::string>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string p = path.empty() ? it.key() : path + "." + it.key();
      out->insert(p + ":" + std::string(it.value().type_name()));
      Shape(it.value(), p, out);
    }
  } else if (j.is_array()) {
    for (const json& e : j) Shape(e, path + "[]", out);
  }
}
std::set<std::string> Shape(const json& j) {
  std::set<std::string> out;
  Shape(j, "", &out);
  return out;
}

TEST(EtcdGatewayDiffTest, SameCallsSameShapesAsRealEtcd) {
  CHRONOCONF_REQUIRE(RealEtcd::MissingReason());
  RealEtcd etcd;
  ASSERT_TRUE(etcd.Start());
  TempDir dir;  // a file store: Status's dbSize is not 0 (a default, left out)
  ServerProcess ours(dir.SqliteUrl());
  ASSERT_TRUE(ours.Start());
  Api theirs_api(etcd.url()), ours_api(ours.url());

  struct Step {
    std::string path;
    std::string body;
  };
  // Each answer's status, error body (exactly) or JSON shape (keys and types).
  const std::vector<Step> steps = {
      {"/v3/kv/put", json({{"key", B64("d/a")}, {"value", B64("1")}}).dump()},
      {"/v3/kv/put", json({{"key", B64("d/a")}, {"value", B64("2")}, {"prev_kv", true}}).dump()},
      {"/v3/kv/range", json({{"key", B64("d/a")}}).dump()},
      {"/v3/kv/range", json({{"key", B64("d/")}, {"range_end", B64("d0")}, {"count_only", true}}).dump()},
      {"/v3/kv/range", json({{"key", B64("d/none")}}).dump()},
      {"/v3/kv/txn",
       json({{"compare", {{{"target", "VALUE"}, {"key", B64("d/a")}, {"value", B64("2")}}}},
             {"success", {{{"request_put", {{"key", B64("d/b")}, {"value", B64("x")}}}},
                          {{"request_range", {{"key", B64("d/b")}}}}}}})
           .dump()},
      {"/v3/kv/deleterange", json({{"key", B64("d/")}, {"range_end", B64("d0")}, {"prev_kv", true}}).dump()},
      {"/v3/kv/deleterange", json({{"key", B64("d/none")}}).dump()},
      {"/v3beta/kv/range", json({{"key", B64("d/a")}}).dump()},
      {"/v3/maintenance/status", "{}"},
      // Errors: compared exactly.
      {"/v3/kv/range", ""},
      {"/v3/kv/range", R"({"nope":1})"},
      {"/v3/kv/range", json({{"key", B64("d/a")}, {"revision", "100000"}}).dump()},
      {"/v3/kv/put", json({{"key", B64("d/a")}, {"value", B64("1")}, {"lease", "7"}}).dump()},
      {"/v3/auth/authenticate", json({{"name", "a"}, {"password", "b"}}).dump()},
      {"/v3/kv/txn", json({{"success", {{{"request_put", {{"key", B64("d/c")}}}},
                                        {{"request_put", {{"key", B64("d/c")}}}}}}}).dump()},
  };
  for (const Step& step : steps) {
    auto theirs = theirs_api.Post(step.path, step.body);
    auto mine = ours_api.Post(step.path, step.body);
    SCOPED_TRACE(step.path + " " + step.body);
    EXPECT_EQ(mine.status, theirs.status) << "etcd: " << theirs << "\nours: " << mine;
    if (theirs.status != 200) {
      EXPECT_EQ(mine.json, theirs.json) << "etcd: " << theirs << "\nours: " << mine;
      continue;
    }
    std::set<std::string> their_shape = Shape(theirs.json), my_shape = Shape(mine.json);
    EXPECT_EQ(my_shape, their_shape) << "etcd: " << theirs << "\nours: " << mine;
  }
  // /version: the same keys.
  EXPECT_EQ(Shape(ours_api.Get("/version").json), Shape(theirs_api.Get("/version").json));
  // A watch: the same lines' shapes.
  GatewayWatch their_watch, my_watch;
  const std::string create =
      json({{"create_request", {{"key", B64("w")}, {"start_revision", "1"}}}}).dump();
  ASSERT_TRUE(their_watch.Open(etcd.port(), create));
  ASSERT_TRUE(my_watch.Open(ours.port(), create));
  ASSERT_TRUE(their_watch.WaitForLines(1));
  ASSERT_TRUE(my_watch.WaitForLines(1));
  EXPECT_EQ(Shape(my_watch.lines()[0]), Shape(their_watch.lines()[0]))
      << their_watch.lines()[0] << "\n" << my_watch.lines()[0];
  ASSERT_EQ(theirs_api.Post("/v3/kv/put", json({{"key", B64("w")}, {"value", B64("1")}}).dump()).status, 200);
  ASSERT_EQ(ours_api.Post("/v3/kv/put", json({{"key", B64("w")}, {"value", B64("1")}}).dump()).status, 200);
  ASSERT_TRUE(their_watch.WaitForLines(2));
  ASSERT_TRUE(my_watch.WaitForLines(2));
  EXPECT_EQ(Shape(my_watch.lines()[1]), Shape(their_watch.lines()[1]))
      << their_watch.lines()[1] << "\n" << my_watch.lines()[1];
}

// An empty store is at revision 0 (SPEC §7); the header still says so,
// as clients read header.revision unconditionally (Patroni's watch did not
// start on an empty store when the JSON mapping left the 0 out).
TEST(EtcdGatewayEmptyStoreTest, TheHeaderSaysRevisionZero) {
  ServerProcess server("memory:");
  ASSERT_TRUE(server.Start()) << server.Log();
  Api api(server.url());
  auto range = Call(api, "/v3/kv/range", {{"key", B64("nothing")}});
  ASSERT_EQ(range.status, 200) << range;
  EXPECT_EQ(range.json["header"]["revision"], "0") << range;
  EXPECT_TRUE(range.json["header"]["cluster_id"].is_string()) << range;
  auto status = Call(api, "/v3/maintenance/status", json::object());
  ASSERT_EQ(status.status, 200) << status;
  EXPECT_EQ(status.json["header"]["revision"], "0") << status;
  auto put = Call(api, "/v3/kv/put", {{"key", B64("k")}, {"value", B64("v")}});
  EXPECT_EQ(put.json["header"]["revision"], "1") << put;
}

}  // namespace
}  // namespace chronoconf::test
