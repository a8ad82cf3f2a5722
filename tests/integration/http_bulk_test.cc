// SPEC §2.4: GET /v1/export, POST /v1/import, GET /v1/status, /healthz,
// /readyz, /metrics.
#include <algorithm>
#include <cctype>
#include <string>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

int64_t Rev(ApiResponse& r) { return r.json["revision"].get<int64_t>(); }

// SPEC §2.4: upper-cased, every byte but A-Za-z0-9_ as '_', no '_' run
// from a leading '/'.
std::string EnvName(const std::string& key) {
  std::string out;
  for (size_t i = key.find_first_not_of('/'); i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    out.push_back(std::isalnum(c) || c == '_' ? static_cast<char>(std::toupper(c)) : '_');
  }
  return out;
}

std::string StripFinalNewline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// ---------------------------------------------------------------- export

class HttpExportTest : public ServerTest {};

TEST_F(HttpExportTest, JsonIsAnObjectOfFullKeysWithValueTextKept) {
  ASSERT_EQ(api().Set(K("b"), R"({"z":1,"a":[1.50,"x"]})").status, 201);
  ASSERT_EQ(api().Set(K("a"), "1.50").status, 201);
  ASSERT_EQ(api().Set(K("c/d"), "12345678901234567890").status, 201);
  ASSERT_EQ(api().Set(K("gone"), "0").status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("gone")).status, 200);
  for (const char* target : {"/v1/export?prefix=", "/v1/export?format=json&prefix="}) {
    auto r = api().Get(target + Q(prefix()));
    ASSERT_EQ(r.status, 200) << target << ": " << r;
    EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u);
    ASSERT_TRUE(r.json.is_object()) << r;
    EXPECT_EQ(RawMemberNames(r.body), (std::vector<std::string>{K("a"), K("b"), K("c/d")}));
    EXPECT_EQ(RawMember(r.body, K("a")), "1.50");
    EXPECT_EQ(RawMember(r.body, K("b")), R"({"z":1,"a":[1.50,"x"]})");
    EXPECT_EQ(RawMember(r.body, K("c/d")), "12345678901234567890");
  }
}

TEST_F(HttpExportTest, EnvNamesAndQuoting) {
  const std::vector<std::pair<std::string, std::string>> values = {
      {"a_str", R"("hello")"},
      {"b_space", R"("hello world")"},
      {"c_quote", R"("it's")"},
      {"d_num", "1.50"},
      {"e_true", "true"},
      {"f_null", "null"},
      {"g_obj", R"({"a":1,"b":"x y"})"},
      {"h_safe", R"("a/b.c:d@e+f-g_h")"},
      {"i_eq", R"("x=y")"},
      {"j_dollar", R"("$HOME")"},
      {"k_arr", R"(["a", "b"])"},
      {"l_nl", R"("l1\nl2")"},
      {"m_neg", "-5"},
      {"n_utf", "\"caf\xc3\xa9\""},
      {"o_key.with-dots", "1"},
      {"p_bigint", "12345678901234567890"},
      {"q_tab", R"("tab\there")"},
      {"r_escaped", R"("caf\u00e9")"},
  };
  for (const auto& [k, v] : values) ASSERT_EQ(api().Set(K(k), v).status, 201) << k;
  const std::string p = EnvName(prefix());
  const std::string expected = p + "A_STR=hello\n" +
                               p + "B_SPACE='hello world'\n" +
                               p + "C_QUOTE='it'\\''s'\n" +
                               p + "D_NUM=1.50\n" +
                               p + "E_TRUE=true\n" +
                               p + "F_NULL=null\n" +
                               p + "G_OBJ='{\"a\":1,\"b\":\"x y\"}'\n" +
                               p + "H_SAFE=a/b.c:d@e+f-g_h\n" +
                               p + "I_EQ='x=y'\n" +
                               p + "J_DOLLAR='$HOME'\n" +
                               p + "K_ARR='[\"a\",\"b\"]'\n" +
                               p + "L_NL='l1\nl2'\n" +
                               p + "M_NEG=-5\n" +
                               p + "N_UTF='caf\xc3\xa9'\n" +
                               p + "O_KEY_WITH_DOTS=1\n" +
                               p + "P_BIGINT=12345678901234567890\n" +
                               p + "Q_TAB='tab\there'\n" +
                               p + "R_ESCAPED='caf\xc3\xa9'\n";
  auto r = api().Get("/v1/export?format=env&prefix=" + Q(prefix()));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(StripFinalNewline(r.body), StripFinalNewline(expected));
}

TEST_F(HttpExportTest, EnvNameIsTheWholeKey) {
  ASSERT_EQ(api().Set("payments/timeout_ms", "1500").status, 201);
  ASSERT_EQ(api().Set("payments/api.url-v2", R"("https://x.example/a?b=c")").status, 201);
  auto r = api().Get("/v1/export?format=env&prefix=payments%2F");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(StripFinalNewline(r.body),
            "PAYMENTS_API_URL_V2='https://x.example/a?b=c'\nPAYMENTS_TIMEOUT_MS=1500");
}

TEST_F(HttpExportTest, EnvNamesFromAnyKey) {
  ASSERT_EQ(api().Set(client::UrlEncode("/" + K("app/db url")), R"("x")").status, 201);
  ASSERT_EQ(api().Set(client::UrlEncode("/" + K("app/caf\xc3\xa9")), "1").status, 201);
  auto r = api().Get("/v1/export?format=env&prefix=" + Q("/" + prefix()));
  ASSERT_EQ(r.status, 200) << r;
  const std::string p = EnvName(prefix());
  EXPECT_EQ(StripFinalNewline(r.body), p + "APP_CAF__=1\n" + p + "APP_DB_URL=x");
}

// Keys that would be sourced as one variable (the last line winning) or not
// at all: refused, naming them (issue 13 item 14).
TEST_F(HttpExportTest, EnvRefusesCollisionsAndUnsourceableNames) {
  for (const char* k : {"db.host", "db-host", "db/host", "db_host"}) {
    ASSERT_EQ(api().Set(K(std::string("c/") + k), "1").status, 201) << k;
  }
  auto r = api().Get("/v1/export?format=env&prefix=" + Q(K("c/")));
  ASSERT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.json["error"]["code"], "invalid_request");
  for (const char* k : {"db.host", "db-host", "db/host", "db_host"}) {
    EXPECT_NE(r.body.find(K(std::string("c/") + k)), std::string::npos) << k << ": " << r;
  }
  // Another format of the same keys is fine.
  EXPECT_EQ(api().Get("/v1/export?format=json&prefix=" + Q(K("c/"))).status, 200);

  ASSERT_EQ(api().Set("9lives/" + K("x"), "1").status, 201);
  r = api().Get("/v1/export?format=env&prefix=" + Q("9lives/" + prefix()));
  ASSERT_EQ(r.status, 400) << r;
  EXPECT_NE(r.body.find("digit"), std::string::npos) << r;

  ASSERT_EQ(api().Set("%2F%2F", "1").status, 201);
  r = api().Get("/v1/export?format=env&prefix=%2F%2F");
  ASSERT_EQ(r.status, 400) << r;
  EXPECT_NE(r.body.find("empty"), std::string::npos) << r;
}

TEST_F(HttpExportTest, YamlIsServed) {
  ASSERT_EQ(api().Set(K("timeout_ms"), "1500").status, 201);
  ASSERT_EQ(api().Set(K("name"), R"("svc")").status, 201);
  auto r = api().Get("/v1/export?format=yaml&prefix=" + Q(prefix()));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_NE(r.body.find("timeout_ms"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("1500"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("svc"), std::string::npos) << r.body;
}

TEST_F(HttpExportTest, AtRevision) {
  auto w1 = api().Set(K("a"), "1");
  ASSERT_EQ(api().Set(K("a"), "2").status, 200);
  ASSERT_EQ(api().Set(K("b"), "3").status, 201);
  auto r = api().Get("/v1/export?prefix=" + Q(prefix()) + "&at_revision=" +
                     std::to_string(Rev(w1)));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json, json({{K("a"), 1}}));
  auto future = api().Get("/v1/export?at_revision=" + std::to_string(Head() + 1));
  EXPECT_EQ(future.status, 400) << future;
  EXPECT_EQ(future.ErrorCode(), "future_revision");
}

TEST_F(HttpExportTest, UnknownFormatIsInvalidRequest) {
  auto r = api().Get("/v1/export?format=xml");
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "invalid_request");
}

// ---------------------------------------------------------------- import

class HttpImportTest : public ServerTest {
 protected:
  ApiResponse Import(const json& body) { return api().Post("/v1/import", body.dump()); }
};

TEST_F(HttpImportTest, MergeWithPrefix) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("b"), "2").status, 201);
  const int64_t head = Head();
  auto r = api().Post("/v1/import",
                      R"({"values":{")" + K("a") + R"(":1,")" + K("b") + R"(":20,")" + K("c") +
                          R"(":{"n":1.50}},"mode":"merge","prefix":")" + prefix() +
                          R"(","reason":"import it"})",
                      {{"X-Actor", "importer"}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["revision"], head + 1);
  EXPECT_EQ(r.json["changed"], true);
  EXPECT_EQ(r.json["events"], 2) << "a is unchanged";
  EXPECT_EQ(Head(), head + 1);
  EXPECT_EQ(api().GetKey(K("a")).json["version"], 1);
  EXPECT_EQ(api().GetKey(K("b")).json["value"], 20);
  EXPECT_EQ(RawAt(api().GetKey(K("c")).body, "value"), R"({"n":1.50})");
  auto rev = api().Get("/v1/revisions/" + std::to_string(head + 1));
  ASSERT_EQ(rev.status, 200) << rev;
  EXPECT_EQ(rev.json["reason"], "import it");
  EXPECT_EQ(rev.json["actor"], "importer");
  EXPECT_EQ(rev.json["events"].size(), 2u);
}

TEST_F(HttpImportTest, MergeIsTheDefaultAndKeepsOtherKeys) {
  ASSERT_EQ(api().Set(K("keep"), "1").status, 201);
  auto r = Import({{"values", {{K("new"), 2}}}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["events"], 1);
  EXPECT_EQ(api().GetKey(K("keep")).status, 200);
  EXPECT_EQ(api().GetKey(K("new")).json["value"], 2);
}

TEST_F(HttpImportTest, ReplaceWithPrefixDeletesMissingKeys) {
  ASSERT_EQ(api().Set(K("in/a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("in/b"), "2").status, 201);
  ASSERT_EQ(api().Set(K("in/c"), "3").status, 201);
  ASSERT_EQ(api().Set(K("out"), "9").status, 201);
  const int64_t head = Head();
  auto r = Import({{"values", {{K("in/a"), 1}, {K("in/d"), 4}}},
                   {"mode", "replace"},
                   {"prefix", K("in/")}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["revision"], head + 1);
  EXPECT_EQ(r.json["events"], 3);
  EXPECT_EQ(Head(), head + 1);
  auto list = api().Get("/v1/kv?prefix=" + Q(prefix()));
  std::vector<std::string> keys;
  for (auto& e : list.json["entries"]) keys.push_back(e["key"].get<std::string>());
  EXPECT_EQ(keys, (std::vector<std::string>{K("in/a"), K("in/d"), K("out")}));
}

TEST_F(HttpImportTest, KeyOutsidePrefixIsRejected) {
  const int64_t head = Head();
  auto r = Import({{"values", {{K("in/a"), 1}, {K("elsewhere"), 2}}}, {"prefix", K("in/")}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_FALSE(r.ErrorCode().empty()) << r;
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(api().GetKey(K("in/a")).status, 404);
}

TEST_F(HttpImportTest, NothingToDoIsANoOp) {
  ASSERT_EQ(api().Set(K("a"), R"({"x":1})").status, 201);
  const int64_t head = Head();
  auto r = api().Post("/v1/import", R"({"values":{")" + K("a") +
                                        R"(":{ "x" : 1 }},"mode":"replace","prefix":")" +
                                        prefix() + R"("})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["changed"], false);
  EXPECT_EQ(r.json["events"], 0);
  EXPECT_EQ(r.json["revision"], head);
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpImportTest, MalformedImportsAreRejected) {
  const int64_t head = Head();
  auto bad_key = Import({{"values", {{K("a\x7f"), 1}}}});
  EXPECT_EQ(bad_key.status, 400) << bad_key;
  EXPECT_EQ(bad_key.ErrorCode(), "invalid_key");
  for (const json& body : {json::object(), json{{"values", json::array({1})}},
                           json{{"values", {{K("a"), 1}}}, {"mode", "bogus"}}}) {
    auto r = Import(body);
    EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r;
    EXPECT_EQ(r.ErrorCode(), "invalid_request") << body.dump();
  }
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpImportTest, ExportImportRoundTrip) {
  ASSERT_EQ(api().Set(K("a"), R"({"b":1.50,"a":true})").status, 201);
  ASSERT_EQ(api().Set(K("s"), R"("text")").status, 201);
  auto exported = api().Get("/v1/export?prefix=" + Q(prefix()));
  ASSERT_EQ(exported.status, 200) << exported;
  ASSERT_EQ(api().Delete("/v1/kv/" + K("a")).status, 200);
  ASSERT_EQ(api().Set(K("s"), R"("changed")").status, 200);
  auto r = api().Post("/v1/import", R"({"mode":"replace","prefix":")" + prefix() +
                                        R"(","values":)" + exported.body + "}");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["events"], 2);
  auto again = api().Get("/v1/export?prefix=" + Q(prefix()));
  EXPECT_EQ(again.body, exported.body);
}

// Replacing the whole config needs a server of its own.
class HttpImportAllTest : public ServerTest {};

TEST_F(HttpImportAllTest, ReplaceWithoutPrefixReplacesEverything) {
  ASSERT_EQ(api().Set("a", "1").status, 201);
  ASSERT_EQ(api().Set("b/c", "2").status, 201);
  auto r = api().Post("/v1/import", R"({"values":{"c":3,"b/c":2},"mode":"replace"})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["events"], 2);
  auto exported = api().Get("/v1/export");
  EXPECT_EQ(exported.json, json({{"b/c", 2}, {"c", 3}})) << exported;
}

// ---------------------------------------------------------------- status, health, metrics

class HttpStatusTest : public ServerTest {};

TEST_F(HttpStatusTest, StatusShapeAndCounts) {
  auto before = api().Get("/v1/status");
  ASSERT_EQ(before.status, 200) << before;
  for (const char* field : {"revision", "keys", "events", "uptime_s"}) {
    EXPECT_TRUE(before.json[field].is_number()) << field << ": " << before;
  }
  EXPECT_EQ(before.json["store"], "memory");
  EXPECT_TRUE(before.json["node"].is_string()) << before;
  EXPECT_TRUE(before.json["version"].is_string() &&
              !before.json["version"].get<std::string>().empty())
      << before;
  EXPECT_GE(before.json["uptime_s"].get<double>(), 0);

  const int64_t keys0 = before.json["keys"].get<int64_t>();
  const int64_t events0 = before.json["events"].get<int64_t>();
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("b"), "1").status, 201);
  ASSERT_EQ(api().Set(K("a"), "2").status, 200);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("b")).status, 200);
  auto after = api().Get("/v1/status");
  ASSERT_EQ(after.status, 200) << after;
  EXPECT_EQ(after.json["revision"], before.json["revision"].get<int64_t>() + 4);
  EXPECT_EQ(after.json["keys"], keys0 + 1);
  EXPECT_EQ(after.json["events"], events0 + 4);
  EXPECT_TRUE(IsLowerHex64(after.json.value("head_hash", ""))) << after;
  auto head = api().Get("/v1/revisions/" + std::to_string(after.json["revision"].get<int64_t>()));
  EXPECT_EQ(after.json["head_hash"], head.json["hash"]);
  EXPECT_EQ(after.RevisionHeader(), after.json["revision"].get<int64_t>());
}

TEST_F(HttpStatusTest, HealthAndReadiness) {
  auto h = api().Get("/healthz");
  EXPECT_EQ(h.status, 200) << h;
  auto r = api().Get("/readyz");
  EXPECT_EQ(r.status, 200) << r;
}

TEST_F(HttpStatusTest, MetricsArePrometheusText) {
  ASSERT_EQ(api().Set(K("m"), "1").status, 201);
  ASSERT_EQ(api().GetKey(K("m")).status, 200);
  const int64_t head = Head();
  auto m = api().Get("/metrics");
  ASSERT_EQ(m.status, 200) << m;
  EXPECT_EQ(m.Header("content-type").rfind("text/plain", 0), 0u) << m.Header("content-type");
  EXPECT_NE(m.body.find("# TYPE "), std::string::npos);
  EXPECT_NE(m.body.find("# HELP "), std::string::npos);
  auto samples = ParseMetrics(m.body);
  ASSERT_FALSE(samples.empty()) << m.body;

  double requests = 0;
  bool has_status_label = false;
  bool has_histogram = false;
  bool head_gauge = false;
  for (const auto& s : samples) {
    if (s.name.find("request") != std::string::npos && s.name.ends_with("_total")) {
      requests += s.value;
      if (s.labels.find("200") != std::string::npos || s.labels.find("201") != std::string::npos) {
        has_status_label = true;
      }
    }
    if (s.name.ends_with("_bucket")) has_histogram = true;
    if ((s.name.find("head") != std::string::npos || s.name.find("revision") != std::string::npos) &&
        !s.name.ends_with("_total") && !s.name.ends_with("_bucket") &&
        static_cast<int64_t>(s.value) == head) {
      head_gauge = true;
    }
  }
  EXPECT_GE(requests, 2) << "no request counter (name *request*_total):\n" << m.body;
  EXPECT_TRUE(has_status_label) << "request counters should be labelled with the status:\n"
                                << m.body;
  EXPECT_TRUE(has_histogram) << "no latency histogram:\n" << m.body;
  EXPECT_TRUE(head_gauge) << "no head revision gauge equal to " << head << ":\n" << m.body;

  // The counters move.
  auto m2 = api().Get("/metrics");
  double requests2 = 0;
  for (const auto& s : ParseMetrics(m2.body)) {
    if (s.name.find("request") != std::string::npos && s.name.ends_with("_total")) {
      requests2 += s.value;
    }
  }
  EXPECT_GT(requests2, requests);
}

}  // namespace
}  // namespace chronoconf::test
