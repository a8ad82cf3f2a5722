// The admin commands that open a store directly, and the promise that anyone
// can recompute the hash chain without chronoconf (docs/verify_chain.py).
#include <gtest/gtest.h>

#include "client/http_client.h"
#include "support/run_command.h"
#include "support/test_server.h"

namespace chronoconf::test {
namespace {

// Writes a small history through a real server on `url`, then stops it.
void WriteHistory(const std::string& store_url) {
  ServerProcess server(store_url);
  ASSERT_TRUE(server.Start());
  client::HttpClient http(server.url());
  client::Headers h{{"X-Actor", "alice"}, {"X-Request-Id", "req-\"1\""}};
  ASSERT_EQ(http.Request("PUT", "/v1/kv/app/ratio", R"({"value": 1.50, "reason":"why\nnot"})", h)->status, 201);
  ASSERT_EQ(http.Request("PUT", "/v1/kv/app/name", R"({"value":"caf\u00e9 \"x\""})")->status, 201);
  ASSERT_EQ(http.Request("POST", "/v1/txn",
                         R"({"ops":[{"op":"set","key":"app/ratio","value":2},)"
                         R"({"op":"set","key":"app/obj","value":{"b":[1, 2],"a":null}}]})")
                ->status,
            200);
  ASSERT_EQ(http.Request("DELETE", "/v1/kv/app/name")->status, 200);
  ASSERT_TRUE(server.Stop());
}

TEST(AdminVerifyTest, VerifyPassesOnAStoreTheServerWrote) {
  TempDir dir;
  WriteHistory(dir.SqliteUrl());
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ok: 4 commits, 5 events, 2 keys"), std::string::npos) << r.out;
}

TEST(AdminVerifyTest, ScriptRecomputesTheChainWithoutChronoconf) {
  TempDir dir;
  WriteHistory(dir.SqliteUrl());
  CommandResult script = RunCommand(
      {"python3", std::string(CHRONOCONF_SOURCE_DIR) + "/docs/verify_chain.py", dir.File("events.db")});
  ASSERT_EQ(script.exit_code, 0) << script.out << script.err;
  CommandResult verify =
      RunCommand({CHRONOCONF_BIN, "verify", "--json", "--store", dir.SqliteUrl()});
  // Both name the same head hash.
  std::string head = script.out.substr(script.out.rfind(' ') + 1, 64);
  EXPECT_NE(verify.out.find(head), std::string::npos) << verify.out << " vs " << script.out;
}

TEST(AdminVerifyTest, VerifyAndScriptFailWhenAnEventIsAlteredBehindTheStoresBack) {
  TempDir dir;
  WriteHistory(dir.SqliteUrl());
  // The trigger refuses the edit...
  CommandResult refused = RunCommand(
      {"sqlite3", dir.File("events.db"), "UPDATE events SET value = '3' WHERE revision = 3 AND idx = 0"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("immutable"), std::string::npos) << refused.err;
  // ...so drop it, as an attacker with file access would, and edit anyway.
  CommandResult tampered = RunCommand(
      {"sqlite3", dir.File("events.db"),
       "DROP TRIGGER events_immutable_update; "
       "UPDATE events SET value = '3' WHERE revision = 3 AND idx = 0"});
  ASSERT_EQ(tampered.exit_code, 0) << tampered.err;

  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("revision 3"), std::string::npos) << r.err;
  CommandResult script = RunCommand(
      {"python3", std::string(CHRONOCONF_SOURCE_DIR) + "/docs/verify_chain.py", dir.File("events.db")});
  EXPECT_EQ(script.exit_code, 1) << script.out;
}

TEST(AdminVerifyTest, VerifyCatchesABrokenPreviousValue) {
  TempDir dir;
  WriteHistory(dir.SqliteUrl());
  // A previous_value rewritten behind the store's back: verify names the
  // revision (its hash no longer recomputes).
  ASSERT_EQ(RunCommand({"sqlite3", dir.File("events.db"),
                        "DROP TRIGGER events_immutable_update; "
                        "UPDATE events SET previous_value = '9' WHERE revision = 3 AND idx = 0"})
                .exit_code,
            0);
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("revision 3"), std::string::npos) << r.err;
}

TEST(AdminVerifyTest, MigrateCreatesTheSchemaAndIsIdempotent) {
  TempDir dir;
  for (int i = 0; i < 2; ++i) {
    CommandResult r = RunCommand({CHRONOCONF_BIN, "migrate", "--store", dir.SqliteUrl()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("head revision 0"), std::string::npos) << r.out;
  }
  CommandResult tables = RunCommand(
      {"sqlite3", dir.File("events.db"), "SELECT version FROM schema_version"});
  EXPECT_EQ(tables.out, "4\n");
}

TEST(AdminVerifyTest, ServeRefusesAPublicAddressWithoutAuth) {
  CommandResult r = RunCommand({CHRONOCONF_BIN, "serve", "--store", "memory:", "--listen",
                                "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--insecure"), std::string::npos) << r.err;
}

TEST(AdminVerifyTest, UnknownStoreUrlIsAnError) {
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", "mongodb://x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown store URL"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace chronoconf::test
