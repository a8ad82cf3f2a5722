// `chronoconf import-etcd` against the real thing: Debian's etcd-server 3.4
// written with Debian's etcdctl, imported into a real `chronoconf serve`.
// The keys as they are now, the history from a revision on (one commit per
// etcd revision, puts and deletes), dry runs, and the refusals: keys or
// values chronoconf cannot hold, a compacted --rev, an unreachable etcd, a
// token that may not write there. Without etcd-server or etcdctl: skipped
// locally, a failure under CI.
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/real_etcd.h"
#include "support/require.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

std::string EtcdctlMissing() {
  if (access("/usr/bin/etcdctl", X_OK) == 0) return "";
  return "etcdctl is not installed (apt-get install etcd-client)";
}

class CliImportEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHRONOCONF_REQUIRE(RealEtcd::MissingReason());
    CHRONOCONF_REQUIRE(EtcdctlMissing());
    ASSERT_TRUE(etcd_.Start()) << "etcd-server did not start";
  }

  // Starts the chronoconf server (memory store) with `args`.
  void StartServer(std::vector<std::string> args = {}) {
    server_ = std::make_unique<ServerProcess>("memory:", std::move(args));
    ASSERT_TRUE(server_->Start());
    api_ = std::make_unique<Api>(server_->url());
  }

  // etcdctl against the real etcd; `stdin_data` (when given) is the value.
  CommandResult Ctl(const std::vector<std::string>& args, std::optional<std::string> stdin_data = {}) {
    std::vector<std::string> argv{"etcdctl", "--endpoints=" + etcd_.url(), "--dial-timeout=5s",
                                  "--command-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions options;
    options.env["ETCDCTL_API"] = "3";
    options.stdin_data = std::move(stdin_data);
    CommandResult r = RunCommand(argv, options);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r;
  }

  // chronoconf import-etcd --server <server> --endpoints <etcd> args...
  CommandResult Import(const std::vector<std::string>& args, const std::string& token = "") {
    std::vector<std::string> argv{CHRONOCONF_BIN, "import-etcd", "--server", server_->url(),
                                  "--endpoints", etcd_.url()};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions options;
    if (token.empty()) {
      options.env["CHRONOCONF_TOKEN"] = std::nullopt;
    } else {
      options.env["CHRONOCONF_TOKEN"] = token;
    }
    options.env["CHRONOCONF_SERVER"] = std::nullopt;
    return RunCommand(argv, options);
  }

  // Every event of the server, oldest first.
  json Events() {
    ApiResponse r = api_->Get("/v1/events?limit=10000");
    EXPECT_EQ(r.status, 200) << r;
    return r.json["events"];
  }

  RealEtcd etcd_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Api> api_;
};

TEST_F(CliImportEtcdTest, TheKeysAsTheyAreNowInOneCommit) {
  StartServer();
  Ctl({"put", "app/host", "db1"});
  Ctl({"put", "app/host", "db2"});                 // a later version wins
  Ctl({"put", "app/json", R"({"port":5432})"});    // minified JSON stays JSON
  Ctl({"put", "app/spaced", R"({ "a": 1 })"});     // other text is a string
  Ctl({"put", "app/gone", "x"});
  Ctl({"del", "app/gone"});
  Ctl({"put", "other/k", "v"});                     // etcd is now at revision 8

  CommandResult r = Import({"--prefix", "app/"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("imported 3 keys as at etcd revision 8 from " + etcd_.url() +
                       ": 3 changes in 1 commit (revision 1)"),
            std::string::npos)
      << r.out;

  ApiResponse list = api_->Get("/v1/kv?prefix=");
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.json["entries"].size(), 3u) << list;
  EXPECT_EQ(list.json["entries"][0]["key"], "app/host");
  EXPECT_EQ(list.json["entries"][0]["value"], "db2");
  EXPECT_EQ(list.json["entries"][1]["value"], json::parse(R"({"port":5432})"));
  EXPECT_EQ(list.json["entries"][2]["value"], R"({ "a": 1 })");

  ApiResponse commit = api_->Get("/v1/revisions/1");
  ASSERT_EQ(commit.status, 200) << commit;
  EXPECT_EQ(commit.json["reason"], "import-etcd from " + etcd_.url() + ": etcd revision 8");

  // Again: the same keys, nothing to change, no commit.
  CommandResult again = Import({"--prefix", "app/"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("nothing to change (revision 1)"), std::string::npos) << again.out;
  EXPECT_EQ(api_->Head(), 1);

  // Without a prefix, every key; --json tells what was committed.
  CommandResult all = Import({"--json"});
  ASSERT_EQ(all.exit_code, 0) << all.out << all.err;
  json doc = json::parse(all.out);
  EXPECT_EQ(doc["etcd_revision"], 8);
  ASSERT_EQ(doc["commits"].size(), 1u) << all.out;
  EXPECT_EQ(doc["commits"][0]["revision"], 2);
  EXPECT_EQ(doc["commits"][0]["events"], 1);  // other/k; the app/ keys are as they were
}

TEST_F(CliImportEtcdTest, TheHistoryFromARevisionOneCommitPerEtcdRevision) {
  StartServer();
  Ctl({"put", "app/a", "1"});   // 2
  Ctl({"put", "app/b", "x"});   // 3
  Ctl({"put", "app/a", "2"});   // 4
  Ctl({"put", "app/a", "2"});   // 5: the same value still commits, as in etcd
  Ctl({"del", "app/b"});        // 6
  Ctl({"put", "other/z", "1"}); // 7: outside the prefix
  Ctl({"put", "app/b", "y"});   // 8

  CommandResult r = Import({"--rev", "4", "--prefix", "app/"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 keys as at etcd revision 3 and 4 etcd revisions (4–8)"),
            std::string::npos)
      << r.out;

  // Revision 1: the keys as at etcd revision 3; then one commit per etcd
  // revision that touched app/, in order, each naming its source.
  json events = Events();
  ASSERT_EQ(events.size(), 6u) << events.dump();
  const std::string from = "import-etcd from " + etcd_.url() + ": ";
  EXPECT_EQ(events[0]["revision"], 1);
  EXPECT_EQ(events[0]["reason"], from + "the keys as at etcd revision 3");
  EXPECT_EQ(events[1]["revision"], 1);
  struct Want {
    int revision;
    std::string type, key, value, reason;
  };
  std::vector<Want> want = {{2, "ConfigSet", "app/a", "2", from + "etcd revision 4"},
                            {3, "ConfigSet", "app/a", "2", from + "etcd revision 5"},
                            {4, "ConfigDeleted", "app/b", "", from + "etcd revision 6"},
                            {5, "ConfigSet", "app/b", "y", from + "etcd revision 8"}};
  for (size_t i = 0; i < want.size(); ++i) {
    const json& e = events[i + 2];
    EXPECT_EQ(e["revision"], want[i].revision) << e.dump();
    EXPECT_EQ(e["type"], want[i].type) << e.dump();
    EXPECT_EQ(e["key"], want[i].key) << e.dump();
    if (!want[i].value.empty()) {
      EXPECT_EQ(e["value"], want[i].value) << e.dump();
    }
    EXPECT_EQ(e["reason"], want[i].reason) << e.dump();
  }
  // The end state is etcd's.
  EXPECT_EQ(api_->GetKey("app/a").json["value"], "2");
  EXPECT_EQ(api_->GetKey("app/b").json["value"], "y");
  EXPECT_EQ(api_->GetKey("other/z").status, 404);
}

TEST_F(CliImportEtcdTest, FromRevisionOneHasNoBaseCommit) {
  StartServer();
  Ctl({"put", "k", "1"});
  Ctl({"put", "k", "2"});
  CommandResult r = Import({"--rev", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json events = Events();
  ASSERT_EQ(events.size(), 2u) << events.dump();
  EXPECT_EQ(events[0]["value"], "1");
  EXPECT_EQ(events[1]["value"], "2");
  EXPECT_EQ(events[1]["version"], 2);
}

TEST_F(CliImportEtcdTest, ADryRunPrintsTheCommitsAndWritesNothing) {
  StartServer();
  Ctl({"put", "app/a", "1"});
  Ctl({"put", "app/b", "2"});
  Ctl({"del", "app/a"});
  CommandResult r = Import({"--rev", "3", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 key as at etcd revision 2:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dry run: would commit revision 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("etcd revision 3: would commit put app/b"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("etcd revision 4: would commit delete app/a"), std::string::npos) << r.out;
  EXPECT_EQ(api_->Head(), 0);

  CommandResult none = Import({"--prefix", "nothing/", "--dry-run"});
  ASSERT_EQ(none.exit_code, 0) << none.out << none.err;
  EXPECT_NE(none.out.find("dry run: nothing to import (etcd revision 4)"), std::string::npos)
      << none.out;
}

TEST_F(CliImportEtcdTest, KeysAndValuesChronoconfCannotHoldStopItBeforeAnyWrite) {
  StartServer();
  Ctl({"put", "app/ok", "1"});
  Ctl({"put", "app/bin"}, std::string("ab\xff", 3));  // not UTF-8
  Ctl({"put", std::string("app/ctl\x01key"), "v"});    // a control character
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, std::vector<std::string>{"--rev", "2"}}) {
    CommandResult r = Import(args);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("error: unimportable: 2 keys or values chronoconf cannot hold"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("key \"app/bin\" (etcd revision"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("value is not valid UTF-8"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("key \"app/ctl\\x01key\""), std::string::npos) << r.err;
    EXPECT_EQ(api_->Head(), 0) << "nothing may be written";
  }
  // A prefix that leaves them out imports the rest.
  CommandResult ok = Import({"--prefix", "app/ok"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(api_->Head(), 1);
}

TEST_F(CliImportEtcdTest, ACompactedRevisionNamesEtcdsCompactRevision) {
  StartServer();
  for (int i = 0; i < 5; ++i) Ctl({"put", "k", std::to_string(i)});  // revisions 2..6
  Ctl({"compaction", "5"});  // etcdctl 3.4's name for it
  CommandResult r = Import({"--rev", "3"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("error: compacted: etcd at " + etcd_.url() +
                       " has compacted its history at revision 5: revision 2 is gone"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("give --rev 6 or later"), std::string::npos) << r.err;
  EXPECT_EQ(api_->Head(), 0);

  // From the first revision it still has: the keys as at 5, then 6.
  CommandResult ok = Import({"--rev", "6"});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  json events = Events();
  ASSERT_EQ(events.size(), 2u) << events.dump();
  EXPECT_EQ(events[0]["value"], "3");
  EXPECT_EQ(events[1]["value"], "4");
}

TEST_F(CliImportEtcdTest, AFutureRevisionAndAnUnreachableEtcdAreErrors) {
  StartServer();
  CommandResult future = Import({"--rev", "99"});
  EXPECT_EQ(future.exit_code, 1) << future.err;
  EXPECT_NE(future.err.find("error: future_revision: etcd at " + etcd_.url() +
                            " is at revision 1; --rev 99 is after it"),
            std::string::npos)
      << future.err;

  const std::string nowhere = "http://127.0.0.1:" + std::to_string(PickFreePort());
  CommandResult r = RunCommand({CHRONOCONF_BIN, "import-etcd", "--server", server_->url(),
                                "--endpoints", nowhere});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error: etcd_unreachable: cannot read etcd at " + nowhere),
            std::string::npos)
      << r.err;

  for (const char* bad : {"https://127.0.0.1:2379", "127.0.0.1", "a:1,b:2"}) {
    CommandResult usage = RunCommand(
        {CHRONOCONF_BIN, "import-etcd", "--server", server_->url(), "--endpoints", bad});
    EXPECT_EQ(usage.exit_code, 2) << bad << ": " << usage.err;
  }
  CommandResult prefix = Import({"--prefix", std::string("a\x01")});
  EXPECT_EQ(prefix.exit_code, 2) << prefix.err;
  CommandResult zero = Import({"--rev", "0"});
  EXPECT_EQ(zero.exit_code, 2) << zero.err;
  EXPECT_EQ(api_->Head(), 0);
}

TEST_F(CliImportEtcdTest, AuthDecidesTheActorAndWhatMayBeWritten) {
  constexpr char kAdmin[] = "import-admin-token";
  constexpr char kScoped[] = "import-scoped-token";
  TempDir dir("chronoconf-import-etcd-auth");
  std::ofstream(dir.File("auth.json"))
      << R"({"tokens":[{"name":"alice","sha256":")" << Sha256Hex(kAdmin)
      << R"(","role":"admin"},{"name":"ci","sha256":")" << Sha256Hex(kScoped)
      << R"(","role":"write","prefixes":["app/"]}]})";
  StartServer({"--auth-file", dir.File("auth.json")});
  Ctl({"put", "app/a", "1"});
  Ctl({"put", "ops/b", "2"});

  // No token: refused before etcd is read.
  CommandResult none = Import({});
  EXPECT_EQ(none.exit_code, 1) << none.err;
  EXPECT_NE(none.err.find("error: unauthorized"), std::string::npos) << none.err;

  // A token scoped to app/ replaying a revision outside it: the etcd
  // gateway refuses that commit; what came before stays, and it says so.
  CommandResult scoped = Import({"--rev", "1"}, kScoped);
  EXPECT_EQ(scoped.exit_code, 1) << scoped.err;
  EXPECT_NE(scoped.err.find("etcdserver: permission denied"), std::string::npos) << scoped.err;
  EXPECT_NE(scoped.err.find("stopped at etcd revision 3: what came before it is imported "
                            "(revision 1); run again with --rev 3 to go on"),
            std::string::npos)
      << scoped.err;
  // ... and the same through /v1/import (the keys as at a revision).
  CommandResult scoped_base = Import({"--rev", "3"}, kScoped);
  EXPECT_EQ(scoped_base.exit_code, 1) << scoped_base.err;
  EXPECT_NE(scoped_base.err.find("stopped at the keys as at etcd revision 2: nothing was "
                                 "imported; run again with --rev 3 to go on"),
            std::string::npos)
      << scoped_base.err;

  CommandResult admin = Import({"--rev", "3"}, kAdmin);
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  ApiResponse all = api_->Get("/v1/events", {{"Authorization", std::string("Bearer ") + kAdmin}});
  ASSERT_EQ(all.status, 200) << all;
  ASSERT_EQ(all.json["events"].size(), 2u) << all;
  EXPECT_EQ(all.json["events"][0]["actor"], "ci");
  EXPECT_EQ(all.json["events"][1]["actor"], "alice");
  EXPECT_EQ(all.json["events"][1]["key"], "ops/b");
}

}  // namespace
}  // namespace chronoconf::test
