// SPEC §7 through the real etcd client: Debian's etcdctl 3.4 (ETCDCTL_API=3)
// against `serve --etcd-listen` on loopback. Put/get/range/revisions/delete,
// the value mapping, etcd's versions, error texts, Status, MemberList, auth.
// etcdctl missing: skipped locally, a failure under CI (scripts/setup.sh
// installs etcd-client for the test profile).
#include <unistd.h>

#include <fstream>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/require.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

std::string EtcdctlMissing() {
  for (const char* path : {"/usr/bin/etcdctl", "/usr/local/bin/etcdctl"}) {
    if (access(path, X_OK) == 0) return "";
  }
  return "etcdctl is not installed (apt-get install etcd-client)";
}

std::string Base64Decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0;
  uint32_t acc = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = kAlphabet.find(c);
    if (v == std::string::npos) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// etcdctl against `port`, with `user` ("name:token") when not empty.
CommandResult Etcdctl(int port, const std::vector<std::string>& args,
                      const std::string& user = "") {
  std::vector<std::string> argv{"etcdctl", "--endpoints=127.0.0.1:" + std::to_string(port),
                                "--dial-timeout=5s", "--command-timeout=10s"};
  if (!user.empty()) argv.push_back("--user=" + user);
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env["ETCDCTL_API"] = "3";
  options.env["ETCDCTL_ENDPOINTS"] = std::nullopt;
  options.timeout = std::chrono::seconds(20);
  return RunCommand(argv, options);
}

class EtcdKvTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    etcd_port_ = PickFreePort();
    StartSharedServer("sqlite", {"--etcd-listen", "127.0.0.1:" + std::to_string(etcd_port_)});
  }

 protected:
  void SetUp() override {
    CHRONOCONF_REQUIRE(EtcdctlMissing());
    ServerTest::SetUp();
  }

  CommandResult Ctl(const std::vector<std::string>& args) { return Etcdctl(etcd_port_, args); }

  // `etcdctl get ... -w json`, parsed; keys and values decoded from base64.
  json GetJson(std::vector<std::string> args) {
    args.insert(args.begin(), "get");
    args.push_back("-w");
    args.push_back("json");
    CommandResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    if (j.contains("kvs")) {
      for (auto& kv : j["kvs"]) {
        kv["key"] = Base64Decode(kv["key"].get<std::string>());
        if (kv.contains("value")) kv["value"] = Base64Decode(kv["value"].get<std::string>());
      }
    }
    return j;
  }

  std::vector<std::string> Keys(const json& j) {
    std::vector<std::string> keys;
    if (j.contains("kvs")) {
      for (const auto& kv : j["kvs"]) keys.push_back(kv["key"].get<std::string>());
    }
    return keys;
  }

  static int etcd_port_;
};

int EtcdKvTest::etcd_port_ = 0;

TEST_F(EtcdKvTest, PutThenGetGivesTheTextBack) {
  auto put = Ctl({"put", K("greeting"), "hello world"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(put.out, "OK\n");
  auto get = Ctl({"get", K("greeting")});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, K("greeting") + "\nhello world\n");
  // Natively it is a JSON string holding the text.
  auto native = api().GetKey(K("greeting"));
  ASSERT_EQ(native.status, 200) << native;
  EXPECT_EQ(RawAt(native.body, "value"), "\"hello world\"");
}

TEST_F(EtcdKvTest, ValuesMapAsSpecSevenSays) {
  // A minified object or array is stored as JSON; anything else as text.
  ASSERT_EQ(Ctl({"put", K("obj"), R"({"a":[1,2.50]})"}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("num"), "1.50"}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("spaced"), R"({ "a": 1 })"}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("quoted"), "say \"hi\"\\n"}).exit_code, 0);
  EXPECT_EQ(RawAt(api().GetKey(K("obj")).body, "value"), R"({"a":[1,2.50]})");
  EXPECT_EQ(RawAt(api().GetKey(K("num")).body, "value"), "\"1.50\"");
  EXPECT_EQ(RawAt(api().GetKey(K("spaced")).body, "value"), R"("{ \"a\": 1 }")");
  for (const char* name : {"obj", "num", "spaced", "quoted"}) {
    json j = GetJson({K(name)});
    ASSERT_EQ(j["kvs"].size(), 1u) << name;
  }
  EXPECT_EQ(GetJson({K("obj")})["kvs"][0]["value"], R"({"a":[1,2.50]})");
  EXPECT_EQ(GetJson({K("num")})["kvs"][0]["value"], "1.50");
  EXPECT_EQ(GetJson({K("spaced")})["kvs"][0]["value"], R"({ "a": 1 })");
  EXPECT_EQ(GetJson({K("quoted")})["kvs"][0]["value"], "say \"hi\"\\n");
  // A native JSON value reads as its minified text.
  ASSERT_EQ(api().Set(K("native"), R"({"b" : true})").status, 201);
  EXPECT_EQ(GetJson({K("native")})["kvs"][0]["value"], R"({"b":true})");
}

TEST_F(EtcdKvTest, PutOfTheSameValueStillCommits) {
  ASSERT_EQ(Ctl({"put", K("same"), "v"}).exit_code, 0);
  const int64_t first = Head();
  ASSERT_EQ(Ctl({"put", K("same"), "v"}).exit_code, 0);
  EXPECT_EQ(Head(), first + 1);
  json j = GetJson({K("same")});
  ASSERT_EQ(j["kvs"].size(), 1u);
  EXPECT_EQ(j["kvs"][0]["version"], 2);
  EXPECT_EQ(j["kvs"][0]["create_revision"], first);
  EXPECT_EQ(j["kvs"][0]["mod_revision"], first + 1);
  EXPECT_EQ(j["header"]["revision"], first + 1);
  // The native no-op rule is unchanged.
  auto native = api().Set(K("same"), "\"v\"");
  EXPECT_EQ(native.json["changed"], false) << native;
}

TEST_F(EtcdKvTest, VersionAndCreateRevisionResetWhenAKeyIsRecreated) {
  ASSERT_EQ(Ctl({"put", K("life"), "1"}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("life"), "2"}).exit_code, 0);
  ASSERT_EQ(Ctl({"del", K("life")}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("life"), "3"}).exit_code, 0);
  const int64_t recreated = Head();
  json j = GetJson({K("life")});
  ASSERT_EQ(j["kvs"].size(), 1u);
  EXPECT_EQ(j["kvs"][0]["version"], 1);
  EXPECT_EQ(j["kvs"][0]["create_revision"], recreated);
  // Natively the version never resets.
  EXPECT_EQ(api().GetKey(K("life")).json["version"], 4);
}

TEST_F(EtcdKvTest, PrefixRangeLimitSortAndCount) {
  for (const char* k : {"p/b", "p/a", "p/c"}) ASSERT_EQ(Ctl({"put", K(k), k}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("p0"), "outside"}).exit_code, 0);  // just past the prefix
  json all = GetJson({K("p/"), "--prefix"});
  EXPECT_EQ(Keys(all), (std::vector<std::string>{K("p/a"), K("p/b"), K("p/c")}));
  EXPECT_EQ(all["count"], 3);

  json limited = GetJson({K("p/"), "--prefix", "--limit=2"});
  EXPECT_EQ(Keys(limited), (std::vector<std::string>{K("p/a"), K("p/b")}));
  EXPECT_EQ(limited["more"], true);
  EXPECT_EQ(limited["count"], 3);

  json by_mod = GetJson({K("p/"), "--prefix", "--sort-by=MODIFY", "--order=DESCEND"});
  EXPECT_EQ(Keys(by_mod), (std::vector<std::string>{K("p/c"), K("p/a"), K("p/b")}));

  json keys_only = GetJson({K("p/"), "--prefix", "--keys-only"});
  ASSERT_EQ(keys_only["kvs"].size(), 3u);
  EXPECT_FALSE(keys_only["kvs"][0].contains("value"));

  // [p/a, p/c): a range with an explicit end.
  json range = GetJson({K("p/a"), K("p/c")});
  EXPECT_EQ(Keys(range), (std::vector<std::string>{K("p/a"), K("p/b")}));
  // --from-key: every key >= p/b (range_end "\0"), here up to this test's keys.
  json from = GetJson({K("p/b"), "--from-key"});
  ASSERT_GE(Keys(from).size(), 3u);
  EXPECT_EQ(Keys(from)[0], K("p/b"));
}

TEST_F(EtcdKvTest, RevisionTravelsBackInTime) {
  ASSERT_EQ(Ctl({"put", K("t"), "old"}).exit_code, 0);
  const int64_t old_rev = Head();
  ASSERT_EQ(Ctl({"put", K("t"), "new"}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("t2"), "later"}).exit_code, 0);
  auto get = Ctl({"get", K("t"), "--rev=" + std::to_string(old_rev)});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, K("t") + "\nold\n");
  json j = GetJson({K("t"), "--prefix", "--rev=" + std::to_string(old_rev)});
  EXPECT_EQ(Keys(j), (std::vector<std::string>{K("t")}));
  EXPECT_EQ(j["header"]["revision"], Head());  // the header is the head, as in etcd
}

TEST_F(EtcdKvTest, DeleteOneKeyARangeAndNothing) {
  for (const char* k : {"d/1", "d/2", "d/3"}) ASSERT_EQ(Ctl({"put", K(k), "x"}).exit_code, 0);
  auto one = Ctl({"del", K("d/1")});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, "1\n");
  auto prefix = Ctl({"del", K("d/"), "--prefix", "--prev-kv"});
  ASSERT_EQ(prefix.exit_code, 0) << prefix.err;
  EXPECT_EQ(prefix.out, "2\n" + K("d/2") + "\nx\n" + K("d/3") + "\nx\n");
  // The two keys went in one commit.
  auto history = api().Get("/v1/history/" + Q(K("d/3")));
  auto history2 = api().Get("/v1/history/" + Q(K("d/2")));
  EXPECT_EQ(history.json["events"][0]["revision"], history2.json["events"][0]["revision"]);
  // Deleting nothing makes no commit.
  const int64_t head = Head();
  auto none = Ctl({"del", K("d/"), "--prefix"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "0\n");
  auto missing = Ctl({"del", K("never")});
  EXPECT_EQ(missing.out, "0\n");
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(GetJson({K("d/"), "--prefix"}).value("count", -1), -1);  // 0: omitted, as etcd does
}

TEST_F(EtcdKvTest, PutWithPrevKv) {
  ASSERT_EQ(Ctl({"put", K("pk"), "one"}).exit_code, 0);
  auto put = Ctl({"put", K("pk"), "two", "--prev-kv"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(put.out, "OK\n" + K("pk") + "\none\n");
}

TEST_F(EtcdKvTest, ErrorsUseEtcdsCodesAndTexts) {
  auto future = Ctl({"get", K("x"), "--rev=" + std::to_string(Head() + 1000)});
  EXPECT_NE(future.exit_code, 0);
  EXPECT_NE(future.err.find("etcdserver: mvcc: required revision is a future revision"),
            std::string::npos)
      << future.err;
  auto not_utf8 = Ctl({"put", K("bin"), "\xff\xfe"});
  EXPECT_NE(not_utf8.exit_code, 0);
  EXPECT_NE(
      not_utf8.err.find("etcdserver: chronoconf stores text values; this value is not valid UTF-8"),
      std::string::npos)
      << not_utf8.err;
  auto control = Ctl({"put", K("a\x01" "b"), "v"});
  EXPECT_NE(control.exit_code, 0);
  EXPECT_NE(control.err.find("etcdserver: "), std::string::npos) << control.err;
  auto lease = Ctl({"put", K("l"), "v", "--lease=1234"});
  EXPECT_NE(lease.err.find("etcdserver: requested lease not found"), std::string::npos)
      << lease.err;
  auto grant = Ctl({"lease", "grant", "100000000000"});
  EXPECT_NE(grant.exit_code, 0);
  EXPECT_NE(grant.err.find("etcdserver: too large lease TTL"), std::string::npos) << grant.err;
  auto user = Ctl({"user", "list"});
  EXPECT_NE(user.err.find("tokens and roles live in the auth file"), std::string::npos)
      << user.err;
}

TEST_F(EtcdKvTest, EndpointStatusAndMemberList) {
  ASSERT_EQ(Ctl({"put", K("s"), "v"}).exit_code, 0);
  auto status = Ctl({"endpoint", "status", "-w", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json s = json::parse(status.out, nullptr, false);
  ASSERT_TRUE(s.is_array() && s.size() == 1) << status.out;
  const json& st = s[0]["Status"];
  EXPECT_EQ(st["version"], "3.5.0");
  EXPECT_EQ(st["raftTerm"], 1);
  EXPECT_EQ(st["raftIndex"], Head());
  EXPECT_EQ(st["raftAppliedIndex"], Head());
  EXPECT_GT(st["dbSize"].get<int64_t>(), 0);
  EXPECT_EQ(st["leader"], st["header"]["member_id"]);

  auto members = Ctl({"member", "list", "-w", "json"});
  ASSERT_EQ(members.exit_code, 0) << members.err;
  json m = json::parse(members.out, nullptr, false);
  ASSERT_EQ(m["members"].size(), 1u) << members.out;
  EXPECT_EQ(m["members"][0]["ID"], st["leader"]);
  EXPECT_EQ(m["members"][0]["clientURLs"][0], "http://127.0.0.1:" + std::to_string(etcd_port_));

  // Every call is counted by method and gRPC code (KV's unary methods
  // count themselves, the other services through the interceptor).
  EXPECT_NE(Ctl({"get", K("s"), "--rev", "1000000"}).exit_code, 0);  // a future revision
  auto metrics = api().Get("/metrics");
  EXPECT_NE(metrics.body.find(R"(chronoconf_etcd_requests_total{method="KV.Put",code="OK"})"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(
                R"(chronoconf_etcd_requests_total{method="KV.Range",code="OUT_OF_RANGE"})"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(
                R"(chronoconf_etcd_requests_total{method="Maintenance.Status",code="OK"})"),
            std::string::npos);
}

TEST_F(EtcdKvTest, WritesAreOrdinaryHistoryWithAnActorAndARequestId) {
  ASSERT_EQ(Ctl({"put", K("audit"), "v"}).exit_code, 0);
  auto history = api().Get("/v1/history/" + Q(K("audit")));
  ASSERT_EQ(history.status, 200) << history;
  const json& e = history.json["events"][0];
  EXPECT_EQ(e["actor"], "anonymous");
  EXPECT_EQ(e["type"], "ConfigSet");
  EXPECT_EQ(e["request_id"].get<std::string>().size(), 32u);
}

// `etcdctl txn` reads compares, success ops and failure ops from stdin,
// each block ended by an empty line.
TEST_F(EtcdKvTest, TxnTakesOneBranchInOneCommit) {
  ASSERT_EQ(Ctl({"put", K("tx/a"), "1"}).exit_code, 0);
  const int64_t before = Head();
  auto txn = [&](const std::string& script) {
    std::vector<std::string> argv{"etcdctl",
                                  "--endpoints=127.0.0.1:" + std::to_string(etcd_port_), "txn"};
    CommandOptions options;
    options.env["ETCDCTL_API"] = "3";
    options.stdin_data = script;
    return RunCommand(argv, options);
  };
  // Compares hold: the success branch's two puts are one commit, and its
  // reads see its earlier writes (and not its later ones).
  auto ok = txn("value(\"" + K("tx/a") + "\") = \"1\"\nversion(\"" + K("tx/none") +
                "\") = \"0\"\n\nget " + K("tx/b") + "\nput " + K("tx/a") + " 2\nput " +
                K("tx/b") + " new\nget " + K("tx/b") + "\n\nput " + K("tx/a") + " failed\n\n");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "SUCCESS\n\n\nOK\n\nOK\n\n" + K("tx/b") + "\nnew\n");
  EXPECT_EQ(Head(), before + 1);
  EXPECT_EQ(Ctl({"get", K("tx/a"), "--print-value-only"}).out, "2\n");
  auto history = api().Get("/v1/history/" + Q(K("tx/b")));
  EXPECT_EQ(history.json["events"][0]["revision"], before + 1);

  // Compares fail: the failure branch runs.
  auto failed = txn("mod(\"" + K("tx/a") + "\") < \"" + std::to_string(before) +
                    "\"\n\nput " + K("tx/a") + " never\n\ndel " + K("tx/b") + "\n\n");
  ASSERT_EQ(failed.exit_code, 0) << failed.err;
  EXPECT_EQ(failed.out, "FAILURE\n\n1\n");
  EXPECT_EQ(Head(), before + 2);

  // A branch that only reads commits nothing.
  auto read = txn("\nget " + K("tx/a") + "\n\n\n");
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(read.out, "SUCCESS\n\n" + K("tx/a") + "\n2\n");
  EXPECT_EQ(Head(), before + 2);

  // etcd's checks, with its texts.
  auto duplicate = txn("\nput " + K("tx/c") + " 1\nput " + K("tx/c") + " 2\n\n\n");
  EXPECT_NE(duplicate.err.find("etcdserver: duplicate key given in txn request"),
            std::string::npos)
      << duplicate.err;
  std::string many = "\n";
  for (int i = 0; i < 129; ++i) many += "put " + K("tx/m" + std::to_string(i)) + " v\n";
  auto too_many = txn(many + "\n\n");
  EXPECT_NE(too_many.err.find("etcdserver: too many operations in txn request"),
            std::string::npos)
      << too_many.err;
  EXPECT_EQ(Head(), before + 2);
}

// etcdctl watch runs until killed: it is given a few seconds, and what it
// printed is read afterwards.
CommandResult WatchFor(int port, const std::vector<std::string>& args,
                       std::chrono::milliseconds how_long) {
  std::vector<std::string> argv{"etcdctl", "--endpoints=127.0.0.1:" + std::to_string(port),
                                "watch"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env["ETCDCTL_API"] = "3";
  options.timeout = how_long;
  return RunCommand(argv, options);
}

// True when `text` holds `parts` in this order.
bool InOrder(const std::string& text, const std::vector<std::string>& parts) {
  size_t at = 0;
  for (const std::string& p : parts) {
    at = text.find(p, at);
    if (at == std::string::npos) return false;
    at += p.size();
  }
  return true;
}

TEST_F(EtcdKvTest, WatchReplaysFromARevisionThenFollowsLive) {
  ASSERT_EQ(Ctl({"put", K("w/1"), "one"}).exit_code, 0);
  const int64_t first = Head();
  ASSERT_EQ(Ctl({"put", K("w/2"), "two"}).exit_code, 0);
  CommandResult watch;
  std::thread watcher([&] {
    watch = WatchFor(etcd_port_, {K("w/"), "--prefix", "--prev-kv", "--rev=" + std::to_string(first)},
                     std::chrono::seconds(4));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(Ctl({"put", K("w/1"), "uno"}).exit_code, 0);
  ASSERT_EQ(Ctl({"del", K("w/2")}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("w0"), "outside"}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", K("w/3"), "tres"}).exit_code, 0);
  watcher.join();
  EXPECT_TRUE(InOrder(watch.out, {"PUT\n" + K("w/1") + "\none\n",          // history
                                  "PUT\n" + K("w/2") + "\ntwo\n",
                                  "PUT\n" + K("w/1") + "\none\n" + K("w/1") + "\nuno\n",  // live, prev_kv
                                  "DELETE\n" + K("w/2") + "\ntwo\n" + K("w/2") + "\n",
                                  "PUT\n" + K("w/3") + "\ntres\n"}))
      << watch.out << watch.err;
  EXPECT_EQ(watch.out.find(K("w0")), std::string::npos) << watch.out;
}

// --------------------------------------------------------------- compaction

// SPEC §7 "Compaction": Compact records a floor for the etcd view, with
// etcd's errors (the texts and exit codes real etcd 3.4 gives for the same
// calls); the native API still reads everything. A suite of its own: the
// floor is shared by every key of its server (gtest starts the server of
// each suite in turn).
class EtcdCompactionTest : public EtcdKvTest {};

TEST_F(EtcdCompactionTest, CompactSetsAFloorForTheEtcdViewOnly) {
  ASSERT_EQ(Ctl({"put", K("c"), "a"}).exit_code, 0);
  const int64_t a = Head();
  ASSERT_EQ(Ctl({"put", K("c"), "b"}).exit_code, 0);
  const int64_t b = Head();
  ASSERT_EQ(Ctl({"put", K("c"), "c"}).exit_code, 0);
  const std::string floor = std::to_string(b);

  auto compact = Ctl({"compaction", floor});
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_EQ(compact.out, "compacted revision " + floor + "\n");

  auto below = Ctl({"get", K("c"), "--rev=" + std::to_string(a)});
  EXPECT_EQ(below.exit_code, 1);
  EXPECT_NE(below.err.find("Error: etcdserver: mvcc: required revision has been compacted"),
            std::string::npos)
      << below.err;
  auto at = Ctl({"get", K("c"), "--rev=" + floor});
  EXPECT_EQ(at.exit_code, 0) << at.err;
  EXPECT_EQ(at.out, K("c") + "\nb\n");
  EXPECT_EQ(Ctl({"get", K("c")}).out, K("c") + "\nc\n");

  auto again = Ctl({"compaction", floor});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("Error: etcdserver: mvcc: required revision has been compacted"),
            std::string::npos)
      << again.err;
  auto lower = Ctl({"compaction", std::to_string(a)});
  EXPECT_NE(lower.err.find("required revision has been compacted"), std::string::npos);
  auto future = Ctl({"compaction", std::to_string(Head() + 100)});
  EXPECT_EQ(future.exit_code, 1);
  EXPECT_NE(future.err.find("Error: etcdserver: mvcc: required revision is a future revision"),
            std::string::npos)
      << future.err;

  // A watch from below the floor is canceled with the floor, as etcd does.
  auto watch = Ctl({"watch", K("c"), "--rev=" + std::to_string(a)});
  EXPECT_EQ(watch.exit_code, 5) << watch.out << watch.err;
  EXPECT_NE((watch.out + watch.err)
                .find("watch was canceled (etcdserver: mvcc: required revision has been compacted)"),
            std::string::npos)
      << watch.out << watch.err;

  // One floor for both transports: the JSON gateway on the HTTP port too.
  auto gateway = api().Post("/v3/kv/range", json({{"key", "Yw=="}, {"revision", std::to_string(a)}}).dump(),
                            {{"Content-Type", "application/json"}});
  EXPECT_EQ(gateway.status, 400) << gateway;
  EXPECT_NE(gateway.body.find("required revision has been compacted"), std::string::npos)
      << gateway;

  // History is never deleted: the native API still reads before the floor.
  auto old = api().GetKey(K("c"), "at_revision=" + std::to_string(a));
  ASSERT_EQ(old.status, 200) << old;
  EXPECT_EQ(RawAt(old.body, "value"), "\"a\"");
}

// --------------------------------------------------------------- auth

constexpr char kAdminToken[] = "etcd-admin-secret";
constexpr char kScopedToken[] = "etcd-scoped-secret";
constexpr char kReadToken[] = "etcd-read-secret";

class EtcdAuthTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("chronoconf-etcd-auth");
    std::ofstream(dir_->File("auth.json"))
        << R"({"tokens":[{"name":"alice","sha256":")" << Sha256Hex(kAdminToken)
        << R"(","role":"admin"},{"name":"ci","sha256":")" << Sha256Hex(kScopedToken)
        << R"(","role":"write","prefixes":["payments/"]},{"name":"dash","sha256":")"
        << Sha256Hex(kReadToken) << R"(","role":"read"}]})";
    port_ = PickFreePort();
    server_ = std::make_unique<ServerProcess>(
        "memory:", std::vector<std::string>{"--auth-file", dir_->File("auth.json"),
                                            "--etcd-listen",
                                            "127.0.0.1:" + std::to_string(port_)});
    started_ = server_->Start();
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }

 protected:
  void SetUp() override {
    CHRONOCONF_REQUIRE(EtcdctlMissing());
    ASSERT_TRUE(started_) << server_->Log();
  }
  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<ServerProcess> server_;
  static bool started_;
  static int port_;
};

std::unique_ptr<TempDir> EtcdAuthTest::dir_;
std::unique_ptr<ServerProcess> EtcdAuthTest::server_;
bool EtcdAuthTest::started_ = false;
int EtcdAuthTest::port_ = 0;

TEST_F(EtcdAuthTest, TheTokensNameIsTheActor) {
  auto put = Etcdctl(port_, {"put", "app/x", "1"}, std::string("alice:") + kAdminToken);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  Api http(server_->url());
  auto history =
      http.Get("/v1/history/app%2Fx", {{"Authorization", std::string("Bearer ") + kAdminToken}});
  ASSERT_EQ(history.status, 200) << history;
  EXPECT_EQ(history.json["events"][0]["actor"], "alice");
}

// SPEC §8: a prefix that requires reviews refuses a non-admin's etcd write
// as it refuses its native one; an admin's goes through.
TEST_F(EtcdAuthTest, AReviewedPrefixRefusesAWritersPutDeleteAndLeaseRevoke) {
  Api http(server_->url());
  const Headers admin = {{"Authorization", std::string("Bearer ") + kAdminToken},
                         {"Content-Type", "application/json"}};
  ASSERT_EQ(http.Put("/v1/policies/payments%2Freviewed%2F", R"({"approvals":1})", admin).status,
            201);
  const std::string ci = std::string("ci:") + kScopedToken;
  auto put = Etcdctl(port_, {"put", "payments/reviewed/rate", "2"}, ci);
  EXPECT_NE(put.exit_code, 0);
  EXPECT_NE(put.err.find("approval"), std::string::npos) << put.err;
  EXPECT_NE(put.err.find("PermissionDenied"), std::string::npos) << put.err;
  EXPECT_EQ(Etcdctl(port_, {"del", "payments/reviewed/", "--prefix"}, ci).exit_code, 0);  // nothing to delete
  EXPECT_EQ(http.Get("/v1/kv/payments%2Freviewed%2Frate", admin).status, 404);
  EXPECT_EQ(Etcdctl(port_, {"put", "payments/reviewed/rate", "3"}, std::string("alice:") + kAdminToken)
                .exit_code,
            0);
  auto del = Etcdctl(port_, {"del", "payments/reviewed/rate"}, ci);
  EXPECT_NE(del.exit_code, 0) << del.out;
  EXPECT_EQ(http.Get("/v1/kv/payments%2Freviewed%2Frate", admin).status, 200);
  // Revoking a lease deletes its keys: a writer may not do that under a
  // reviewed prefix either.
  const std::string alice = std::string("alice:") + kAdminToken;
  ASSERT_EQ(Etcdctl(port_, {"lease", "grant", "600"}, alice).exit_code, 0);
  auto leases = http.Get("/v1/leases", admin);
  ASSERT_EQ(leases.status, 200) << leases;
  ASSERT_FALSE(leases.json["leases"].empty()) << leases;
  const std::string id = leases.json["leases"][0]["id"].is_string()
                             ? leases.json["leases"][0]["id"].get<std::string>()
                             : std::to_string(leases.json["leases"][0]["id"].get<int64_t>());
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(std::stoll(id)));
  ASSERT_EQ(Etcdctl(port_, {"put", "payments/reviewed/held", "1", std::string("--lease=") + hex},
                    alice)
                .exit_code,
            0);
  auto revoke = Etcdctl(port_, {"lease", "revoke", hex}, ci);
  EXPECT_NE(revoke.exit_code, 0) << revoke.out;
  EXPECT_NE(revoke.err.find("approval"), std::string::npos) << revoke.err;
  EXPECT_EQ(http.Get("/v1/kv/payments%2Freviewed%2Fheld", admin).status, 200);
  EXPECT_EQ(Etcdctl(port_, {"lease", "revoke", hex}, alice).exit_code, 0);
  EXPECT_EQ(http.Get("/v1/kv/payments%2Freviewed%2Fheld", admin).status, 404);
}

TEST_F(EtcdAuthTest, RefusalsUseEtcdsTexts) {
  auto anonymous = Etcdctl(port_, {"get", "app/x"});
  EXPECT_NE(anonymous.err.find("etcdserver: user name is empty"), std::string::npos)
      << anonymous.err;
  auto wrong = Etcdctl(port_, {"get", "app/x"}, "alice:not-the-token");
  EXPECT_NE(wrong.err.find("etcdserver: authentication failed, invalid user ID or password"),
            std::string::npos)
      << wrong.err;
  auto other_name = Etcdctl(port_, {"get", "app/x"}, std::string("bob:") + kAdminToken);
  EXPECT_NE(other_name.err.find("etcdserver: authentication failed"), std::string::npos)
      << other_name.err;
  // A prefix-limited token: inside its prefix yes, outside no, a range
  // reaching outside no.
  const std::string ci = std::string("ci:") + kScopedToken;
  EXPECT_EQ(Etcdctl(port_, {"put", "payments/rate", "2"}, ci).exit_code, 0);
  auto outside = Etcdctl(port_, {"put", "app/y", "1"}, ci);
  EXPECT_NE(outside.err.find("etcdserver: permission denied"), std::string::npos) << outside.err;
  EXPECT_EQ(Etcdctl(port_, {"get", "payments/", "--prefix"}, ci).exit_code, 0);
  auto everything = Etcdctl(port_, {"get", "", "--prefix"}, ci);
  EXPECT_NE(everything.err.find("etcdserver: permission denied"), std::string::npos)
      << everything.err;
  // A read token may not write.
  const std::string dash = std::string("dash:") + kReadToken;
  EXPECT_EQ(Etcdctl(port_, {"get", "payments/rate"}, dash).exit_code, 0);
  auto write = Etcdctl(port_, {"put", "payments/rate", "3"}, dash);
  EXPECT_NE(write.err.find("etcdserver: permission denied"), std::string::npos) << write.err;
  // Maintenance's admin methods answer with etcd's auth package error as it
  // is (etcd 3.4: code Unknown, "auth: user name is empty").
  auto hashkv = Etcdctl(port_, {"endpoint", "hashkv"});
  EXPECT_NE(hashkv.exit_code, 0);
  EXPECT_NE(hashkv.err.find("auth: user name is empty"), std::string::npos) << hashkv.err;
  EXPECT_EQ(hashkv.err.find("etcdserver: user name is empty"), std::string::npos) << hashkv.err;
}

// --------------------------------------------------------------- lifecycle

TEST(EtcdServeTest, SigtermStopsTheServerWithTheEtcdApiOpen) {
  CHRONOCONF_REQUIRE(EtcdctlMissing());
  const int port = PickFreePort();
  ServerProcess server("memory:", {"--etcd-listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(server.Start());
  ASSERT_EQ(Etcdctl(port, {"put", "k", "v"}).exit_code, 0);
  // An open watch stream is ended by the shutdown, not waited for.
  std::thread watcher([&] { WatchFor(port, {"k"}, std::chrono::seconds(3)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_TRUE(server.Stop(std::chrono::seconds(5))) << server.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(3));
  watcher.join();
  RawConnection conn;
  EXPECT_FALSE(conn.Connect(port));  // the etcd port is closed too
}

TEST(EtcdServeTest, ANonLoopbackEtcdAddressNeedsAuthOrInsecure) {
  auto r = RunCommand({CHRONOCONF_BIN, "serve", "--store", "memory:", "--listen",
                       "127.0.0.1:0", "--etcd-listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("refusing to listen on the non-loopback address 0.0.0.0"),
            std::string::npos)
      << r.err;
}

// SPEC §7 "Listening": with --tls-cert and --tls-key the gRPC port speaks
// TLS; etcdctl with the CA reads and writes, a plaintext client does not get
// in, and MemberList names the https URL. Bad flags stop the start.
TEST(EtcdServeTest, TlsOnTheEtcdPort) {
  CHRONOCONF_REQUIRE(EtcdctlMissing());
  TempDir dir("chronoconf-etcd-tls");
  const std::string cert = dir.File("cert.pem"), key = dir.File("key.pem");
  auto made = RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                          "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext",
                          "subjectAltName=IP:127.0.0.1,DNS:localhost"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const int port = PickFreePort();
  const std::string endpoint = "127.0.0.1:" + std::to_string(port);
  ServerProcess server("memory:", {"--etcd-listen", endpoint, "--tls-cert", cert, "--tls-key", key});
  ASSERT_TRUE(server.Start());
  CommandOptions options;
  options.env["ETCDCTL_API"] = "3";
  options.timeout = std::chrono::seconds(20);
  auto ctl = [&](std::vector<std::string> args, bool tls) {
    std::vector<std::string> argv{"etcdctl", "--dial-timeout=3s", "--command-timeout=5s",
                                  "--endpoints=" + std::string(tls ? "https://" : "") + endpoint};
    if (tls) argv.push_back("--cacert=" + cert);
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, options);
  };
  ASSERT_EQ(ctl({"put", "tls/a", "1"}, true).exit_code, 0);
  EXPECT_EQ(ctl({"get", "tls/a", "--print-value-only"}, true).out, "1\n");
  EXPECT_NE(ctl({"member", "list"}, true).out.find("https://" + endpoint), std::string::npos);
  EXPECT_NE(ctl({"get", "tls/a"}, false).exit_code, 0);  // plaintext: no handshake

  auto alone = RunCommand({CHRONOCONF_BIN, "serve", "--store", "memory:", "--listen", "127.0.0.1:0",
                           "--etcd-listen", "127.0.0.1:0", "--tls-cert", cert});
  EXPECT_EQ(alone.exit_code, 2);
  EXPECT_NE(alone.err.find("give --tls-cert and --tls-key together"), std::string::npos) << alone.err;
  auto missing = RunCommand({CHRONOCONF_BIN, "serve", "--store", "memory:", "--listen",
                             "127.0.0.1:0", "--etcd-listen", "127.0.0.1:0", "--tls-cert",
                             dir.File("nope.pem"), "--tls-key", key});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read a PEM file from"), std::string::npos) << missing.err;
}

// SPEC §8: an etcd Put is a write like any other, checked against the
// schema of its prefix; the refusal says where and why.
TEST_F(EtcdKvTest, APutThatBreaksASchemaIsRefusedAndWritesNothing) {
  auto schema = api().Put("/v1/schemas/" + K(""),
                          R"({"schema":{"type":"object","required":["port"]}})",
                          {{"Content-Type", "application/json"}});
  ASSERT_EQ(schema.status, 201) << schema;
  const int64_t head = Head();
  auto refused = Ctl({"put", K("svc"), R"({"host":"a"})"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("FailedPrecondition"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("breaks the schema of prefix"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("required"), std::string::npos) << refused.err;
  auto text = Ctl({"put", K("plain"), "not json"});  // stored as a JSON string: not an object
  EXPECT_NE(text.exit_code, 0);
  EXPECT_EQ(Head(), head);
  auto ok = Ctl({"put", K("svc"), R"({"port":80})"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

}  // namespace
}  // namespace chronoconf::test
