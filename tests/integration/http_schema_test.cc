// SPEC §8 over HTTP: schemas per prefix on every write route, their errors,
// reads at a revision, dry runs, and who may change a schema.
#include <fstream>
#include <set>
#include <string>

#include "common/sha256.h"
#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

const Headers kJson = {{"Content-Type", "application/json"}};
constexpr const char* kPortSchema =
    R"({"type":"object","required":["port"],"properties":{"port":{"type":"integer","minimum":1}}})";

class HttpSchemaTest : public ServerTest {
 protected:
  ApiResponse SetSchema(const std::string& prefix, const std::string& schema,
                        const std::string& extra = "") {
    return api().Put("/v1/schemas/" + prefix,
                     R"({"schema":)" + schema + R"(,"reason":"shape")" + extra + "}", kJson);
  }
};

TEST_F(HttpSchemaTest, EveryWriteRouteRefusesAViolationWithItsFailuresAndWritesNothing) {
  ASSERT_EQ(SetSchema(K(""), kPortSchema).status, 201);
  const int64_t head = Head();
  auto put = api().Set(K("a"), R"({"port":0})");
  ASSERT_EQ(put.status, 422) << put;
  EXPECT_EQ(put.json["error"]["code"], "schema_violation");
  ASSERT_EQ(put.json["error"]["failures"].size(), 1u) << put;
  EXPECT_EQ(put.json["error"]["failures"][0]["key"], K("a"));
  EXPECT_EQ(put.json["error"]["failures"][0]["pointer"], "/port");
  EXPECT_EQ(put.json["error"]["failures"][0]["rule"], "minimum");
  EXPECT_EQ(put.json["error"]["failures"][0]["prefix"], K(""));
  auto txn = api().Post("/v1/txn",
                        R"({"ops":[{"op":"set","key":")" + K("b") + R"(","value":{"port":2}},)" +
                            R"({"op":"set","key":")" + K("c") + R"(","value":{"no":1}}]})",
                        kJson);
  ASSERT_EQ(txn.status, 422) << txn;
  EXPECT_EQ(txn.json["error"]["failures"][0]["key"], K("c"));
  EXPECT_EQ(txn.json["error"]["failures"][0]["rule"], "required");
  auto import = api().Post("/v1/import",
                           R"({"values":{")" + K("d") + R"(":{"port":"80"}}})", kJson);
  ASSERT_EQ(import.status, 422) << import;
  EXPECT_EQ(import.json["error"]["failures"][0]["rule"], "type");
  EXPECT_EQ(Head(), head);  // nothing was written
  EXPECT_EQ(api().GetKey(K("b")).status, 404);
  // A value that fits goes in; a key outside the prefix is not checked.
  EXPECT_EQ(api().Set(K("a"), R"({"port":443})").status, 201);
  const std::string outside = prefix().substr(0, prefix().size() - 1) + "-other/x";
  EXPECT_EQ(api().Set(outside, R"("anything")").status, 201);
}

TEST_F(HttpSchemaTest, ARevertToAValueTheSchemaRefusesIsRefused) {
  ASSERT_EQ(api().Set(K("a"), R"({"port":"eighty"})").status, 201);
  const int64_t old = Head();
  ASSERT_EQ(api().Set(K("a"), R"({"port":80})").status, 200);
  ASSERT_EQ(SetSchema(K(""), kPortSchema).status, 201);
  auto revert = api().Post("/v1/revert",
                           R"({"to_revision":)" + std::to_string(old) + R"(,"prefix":")" +
                               K("") + R"("})",
                           kJson);
  ASSERT_EQ(revert.status, 422) << revert;
  EXPECT_EQ(revert.json["error"]["failures"][0]["pointer"], "/port");
}

TEST_F(HttpSchemaTest, ASchemaCurrentValuesBreakIsAConflictUnlessForcedAndReadsAtARevision) {
  ASSERT_EQ(api().Set(K("a"), R"({"port":"x"})").status, 201);
  auto refused = SetSchema(K(""), kPortSchema);
  ASSERT_EQ(refused.status, 409) << refused;
  EXPECT_EQ(refused.json["error"]["code"], "schema_conflict");
  EXPECT_EQ(refused.json["error"]["failures"][0]["key"], K("a"));
  EXPECT_EQ(api().Get("/v1/schemas/" + K("")).status, 404);
  const int64_t before = Head();
  auto forced = SetSchema(K(""), kPortSchema, R"(,"force":true)");
  ASSERT_EQ(forced.status, 201) << forced;
  const int64_t set_at = forced.json["revision"].get<int64_t>();
  auto got = api().Get("/v1/schemas/" + K(""));
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(got.json["revision"], set_at);
  EXPECT_EQ(got.json["schema"]["required"][0], "port");
  EXPECT_EQ(api().Get("/v1/schemas/" + K("") + "?at_revision=" + std::to_string(before)).status,
            404);
  auto list = api().Get("/v1/schemas");
  ASSERT_EQ(list.status, 200);
  bool listed = false;
  for (auto& s : list.json["schemas"]) listed = listed || s["prefix"] == K("");
  EXPECT_TRUE(listed) << list;
  // The schema change is an audited commit like any other.
  auto events = api().Events(before);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["type"], "SchemaSet") << events.back();
  EXPECT_EQ(events.back()["reason"], "shape");
  EXPECT_EQ(events.back()["revision"], set_at);
  // A read at a past revision says the head it was served from (SPEC §2).
  auto past = api().Get("/v1/schemas?at_revision=" + std::to_string(before));
  ASSERT_EQ(past.status, 200) << past;
  EXPECT_EQ(past.json["revision"], before);
  EXPECT_GE(past.RevisionHeader(), set_at);
  // The schema in force again: no commit (SPEC §1's no-op).
  auto same = SetSchema(K(""), kPortSchema);
  ASSERT_EQ(same.status, 200) << same;
  EXPECT_EQ(same.json["changed"], false);
  EXPECT_EQ(same.json["revision"], set_at);
  EXPECT_EQ(Head(), set_at);
  // Replaced (200), then deleted: any value goes in again.
  auto replaced = SetSchema(K(""), R"({"type":"object"})");
  EXPECT_EQ(replaced.status, 200);
  EXPECT_EQ(replaced.json["changed"], true);
  EXPECT_EQ(api().Delete("/v1/schemas/" + K("") + "?reason=done").status, 200);
  EXPECT_EQ(api().Delete("/v1/schemas/" + K("")).status, 404);
  EXPECT_EQ(api().Set(K("b"), "12").status, 201);
}

TEST_F(HttpSchemaTest, ASchemaThatIsNotOneIsRefused) {
  for (const char* bad : {R"({"type":12})", R"({"$schema":"https://json-schema.org/draft/2020-12/schema"})",
                          R"([1,2])"}) {
    auto r = SetSchema(K(""), bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r;
  }
  EXPECT_EQ(api().Put("/v1/schemas/" + K(""), R"({"schema":{},"typo":1})", kJson).status, 400);
  EXPECT_EQ(api().Put("/v1/schemas/", R"({"schema":{}})", kJson).status / 100, 4);
}

TEST_F(HttpSchemaTest, ADryRunAnswersWhatTheWriteWouldDoAndWritesNothing) {
  ASSERT_EQ(SetSchema(K(""), kPortSchema).status, 201);
  ASSERT_EQ(api().Set(K("a"), R"({"port":1})").status, 201);
  const int64_t head = Head();
  auto dry = api().Put("/v1/kv/" + K("a") + "?dry_run=true", R"({"value":{"port":2}})", kJson);
  ASSERT_EQ(dry.status, 200) << dry;
  EXPECT_EQ(dry.json["dry_run"], true);
  EXPECT_EQ(dry.json["decided_at"], head);
  EXPECT_EQ(dry.json["revision"], head + 1);
  // The events in the audit trail's shape (SPEC §2.1), the revision they
  // would get, and the schema each value passed.
  const json& event = dry.json["commit"]["events"][0];
  EXPECT_EQ(event["type"], "ConfigSet");
  EXPECT_EQ(event["version"], 2);
  EXPECT_EQ(event["revision"], head + 1);
  EXPECT_EQ(event["index"], 0);
  EXPECT_EQ(event["previous_value"]["port"], 1);
  EXPECT_EQ(dry.json["entries"][0]["value"]["port"], 2);
  EXPECT_EQ(dry.json["entries"][0]["modified_revision"], head + 1);
  ASSERT_EQ(dry.json["schemas"].size(), 1u) << dry;
  EXPECT_EQ(dry.json["schemas"][0]["prefix"], K(""));
  EXPECT_EQ(dry.json["schemas"][0]["valid"], true);
  auto created = api().Put("/v1/kv/" + K("new") + "?dry_run=true", R"({"value":{"port":3}})", kJson);
  ASSERT_EQ(created.status, 200) << created;
  EXPECT_FALSE(created.json["commit"]["events"][0].contains("previous_value")) << created;
  auto bad = api().Put("/v1/kv/" + K("a") + "?dry_run=true", R"({"value":{"port":-2}})", kJson);
  EXPECT_EQ(bad.status, 422) << bad;
  auto del = api().Delete("/v1/kv/" + K("a") + "?dry_run=true");
  ASSERT_EQ(del.status, 200) << del;
  EXPECT_EQ(del.json["entries"][0]["deleted"], true);
  EXPECT_FALSE(del.json["commit"]["events"][0].contains("value")) << del;  // a ConfigDeleted
  auto txn = api().Post("/v1/txn?dry_run=true",
                        R"({"ops":[{"op":"check","key":")" + K("a") + R"(","expected_version":9}]})",
                        kJson);
  EXPECT_EQ(txn.status, 409) << txn;
  auto same = api().Put("/v1/kv/" + K("a") + "?dry_run=true", R"({"value":{"port":1}})", kJson);
  ASSERT_EQ(same.status, 200) << same;
  EXPECT_EQ(same.json["changed"], false);
  EXPECT_EQ(api().Put("/v1/kv/" + K("a") + "?dry_run=yes", R"({"value":1})", kJson).status, 400);
  auto schema = api().Put("/v1/schemas/" + K("") + "?dry_run=true",
                          R"({"schema":{"type":"string"}})", kJson);
  EXPECT_EQ(schema.status, 409) << schema;  // K("a") is an object
  EXPECT_EQ(Head(), head);  // nothing was written
  // The write then does what the dry run said.
  auto real = api().Set(K("a"), R"({"port":2})");
  ASSERT_EQ(real.status, 200);
  EXPECT_EQ(real.json["revision"], head + 1);
  EXPECT_EQ(real.json["entry"]["version"], 2);
}

// Each of these crashed the server (SPEC §6) when it was set or on the
// first write under it, or (the last two) held its committer for seconds:
// now they are refused when set.
TEST_F(HttpSchemaTest, ASchemaThatWouldCrashOrStallTheServerIsRefusedWhenSet) {
  std::string doubling = R"({"definitions":{)";
  for (int i = 0; i < 20; ++i) {
    doubling += "\"d" + std::to_string(i) + R"(":{"allOf":[{"$ref":"#/definitions/d)" +
                std::to_string(i + 1) + R"("},{"$ref":"#/definitions/d)" + std::to_string(i + 1) +
                R"("}]},)";
  }
  doubling += R"("d20":{}},"$ref":"#/definitions/d0"})";
  std::string chain = R"({"definitions":{)";
  for (int i = 0; i < 5000; ++i) {
    chain += "\"a" + std::to_string(i) + R"(":{"allOf":[{"$ref":"#/definitions/a)" +
             std::to_string(i + 1) + R"("}]},)";
  }
  chain += R"("a5000":{}},"$ref":"#/definitions/a0"})";
  const std::string bad[] = {
      R"({"multipleOf":0})",
      R"({"$ref":"#"})",
      R"({"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},)"
      R"("$ref":"#/definitions/a"})",
      R"({"properties":{"p":{"anyOf":[{"not":{"$ref":"#/properties/p"}}]}}})",
      R"({"pattern":"(a"})",
      R"({"patternProperties":{"[a-":{}}})",
      chain,
      doubling,
  };
  for (const std::string& schema : bad) {
    auto r = SetSchema(K(""), schema);
    EXPECT_EQ(r.status, 400) << schema.substr(0, 200) << " " << r;
    EXPECT_EQ(r.json["error"]["code"], "invalid_request") << r;
  }
  EXPECT_EQ(api().Get("/v1/schemas/" + K("")).status, 404);
  EXPECT_EQ(api().Set(K("a"), "1").status, 201);  // and the server is still there
}

// Long strings (and property names) under regular expressions and date
// formats overflowed std::regex's stack: now each is answered.
TEST_F(HttpSchemaTest, ALongStringUnderAPatternIsAnsweredNotACrash) {
  ASSERT_EQ(SetSchema(K(""), R"({"type":"object","properties":{"s":{"pattern":"^[a-z]+$"},)"
                                R"("d":{"format":"date-time"},"u":{"uniqueItems":true}},)"
                                R"("patternProperties":{"^x-[a-z]+$":{"type":"string"}}})")
                .status,
            201);
  const std::string a(30000, 'a');
  auto ok = api().Set(K("ok"), R"({"s":")" + a + R"(","x-)" + a + R"(":"v"})");
  EXPECT_EQ(ok.status, 201) << ok;
  auto bad = api().Set(K("bad"), R"({"s":")" + a + R"(!","d":")" + a + R"(","x-)" + a + R"(":1})");
  ASSERT_EQ(bad.status, 422) << bad;
  std::set<std::string> rules;
  for (const auto& f : bad.json["error"]["failures"]) rules.insert(f["rule"].get<std::string>());
  EXPECT_EQ(rules, (std::set<std::string>{"pattern", "format", "type"})) << bad;
  std::string items = "[";
  for (int i = 0; i < 20000; ++i) items += (i ? "," : "") + std::to_string(i);
  auto unique = api().Set(K("u"), R"({"u":)" + items + "]}");
  EXPECT_EQ(unique.status, 201) << unique;
  auto repeated = api().Set(K("u"), R"({"u":)" + items + ",0]}");
  ASSERT_EQ(repeated.status, 422) << repeated;
  EXPECT_EQ(repeated.json["error"]["failures"][0]["rule"], "uniqueItems");
}

// Only admin changes schemas; any reader reads them.
class HttpSchemaAuthTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("chronoconf-schema-auth");
    std::ofstream(dir_->File("auth.json"))
        << R"({"tokens":[{"name":"alice","sha256":")" << Sha256Hex("admin-token")
        << R"(","role":"admin"},{"name":"ci","sha256":")" << Sha256Hex("write-token")
        << R"(","role":"write"}]})";
    StartSharedServer("memory:", {"--auth-file", dir_->File("auth.json")});
  }
  static void TearDownTestSuite() {
    StopSharedServer();
    dir_.reset();
  }
  static std::unique_ptr<TempDir> dir_;
};
std::unique_ptr<TempDir> HttpSchemaAuthTest::dir_;

TEST_F(HttpSchemaAuthTest, OnlyAdminChangesASchemaAndItsActorIsTheToken) {
  Headers write = kJson, admin = kJson;
  write["Authorization"] = "Bearer write-token";
  admin["Authorization"] = "Bearer admin-token";
  const std::string body = std::string(R"({"schema":)") + kPortSchema + "}";
  EXPECT_EQ(api().Put("/v1/schemas/" + K(""), body, write).status, 403);
  auto set = api().Put("/v1/schemas/" + K(""), body, admin);
  ASSERT_EQ(set.status, 201) << set;
  auto read = api().Get("/v1/schemas/" + K(""), write);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.json["set_by"], "alice");
  EXPECT_EQ(api().Delete("/v1/schemas/" + K(""), write).status, 403);
  EXPECT_EQ(api().Put("/v1/kv/" + K("a"), R"({"value":{"port":0}})", write).status, 422);
}

}  // namespace
}  // namespace chronoconf::test
