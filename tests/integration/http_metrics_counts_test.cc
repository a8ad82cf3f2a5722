// Issue 7 item 2: /metrics after known traffic — request counts by route,
// method and status (watch and malformed included), the group-commit and
// append histograms, build info, watchers dropping when they hang up — and
// the exposition format checked line by line, and by `promtool check
// metrics` (Debian's prometheus package; scripts/setup.sh installs it).
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/http_test_util.h"
#include "support/require.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

double Value(const std::vector<MetricSample>& samples, const std::string& name,
             const std::string& labels = "") {
  for (const auto& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return -1;
}

// Checks the text format: every sample has a # TYPE before it, names and
// labels are well formed, histogram buckets are cumulative and end with
// +Inf equal to _count.
void CheckExposition(const std::string& text) {
  std::set<std::string> typed;
  std::map<std::string, std::string> types;
  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$)");
  const std::regex type_line(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    ASSERT_FALSE(line.empty()) << "empty line in /metrics";
    std::smatch m;
    if (line.starts_with("# HELP ")) continue;
    if (line.starts_with("# TYPE ")) {
      ASSERT_TRUE(std::regex_match(line, m, type_line)) << line;
      EXPECT_TRUE(typed.insert(m[1].str()).second) << "TYPE given twice: " << line;
      types[m[1].str()] = m[2].str();
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
    std::string name = m[1].str();
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix) && types.count(name.substr(0, name.size() - strlen(suffix)))) {
        family = name.substr(0, name.size() - strlen(suffix));
      }
    }
    EXPECT_TRUE(types.count(family)) << "no # TYPE before " << line;
    if (types[family] == "counter") {
      EXPECT_TRUE(name.ends_with("_total")) << line;
    }
  }
  // Buckets cumulative, +Inf == _count.
  auto samples = ParseMetrics(text);
  std::map<std::string, std::pair<double, double>> by_series;  // last bucket, +Inf
  for (const auto& s : samples) {
    if (!s.name.ends_with("_bucket")) continue;
    std::string series = s.name + "|" + std::regex_replace(s.labels, std::regex(R"(,?le="[^"]*")"), "");
    auto& [last, inf] = by_series[series];
    EXPECT_GE(s.value, last) << "bucket not cumulative: " << s.name << "{" << s.labels << "}";
    last = s.value;
    if (s.labels.find("le=\"+Inf\"") != std::string::npos) inf = s.value;
  }
  for (const auto& s : samples) {
    if (!s.name.ends_with("_count")) continue;
    std::string base = s.name.substr(0, s.name.size() - 6) + "_bucket|" + s.labels;
    if (by_series.count(base)) {
      EXPECT_EQ(by_series[base].second, s.value) << base;
    }
  }
}

TEST(HttpMetricsCountsTest, CountsAfterKnownTraffic) {
  ServerProcess server("memory:");
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  constexpr int kPuts = 5, kGets = 3;
  for (int i = 0; i < kPuts; ++i) {
    ASSERT_EQ(api.Set("m/k" + std::to_string(i), "1").status, 201);
  }
  for (int i = 0; i < kGets; ++i) ASSERT_EQ(api.GetKey("m/k0").status, 200);
  ASSERT_EQ(api.GetKey("m/missing").status, 404);

  RawConnection raw;
  ASSERT_TRUE(raw.Connect(server.port()));
  ASSERT_TRUE(raw.SendAll("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"));
  raw.ReadUntilClosed(std::chrono::seconds(5));

  {
    WatchStream watch;
    ASSERT_TRUE(watch.Open(server.port(), "/v1/watch?from_revision=0"));
    ASSERT_EQ(watch.status(), 200);
    ASSERT_TRUE(watch.WaitForEvents(kPuts));
    auto during = ParseMetrics(api.Get("/metrics").body);
    EXPECT_EQ(Value(during, "chronoconf_watchers"), 1);
    watch.Close();
  }
  // The hang-up is noticed at once, not at the next keepalive.
  double watchers = -1;
  for (int i = 0; i < 40 && watchers != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    watchers = Value(ParseMetrics(api.Get("/metrics").body), "chronoconf_watchers");
  }
  EXPECT_EQ(watchers, 0) << "chronoconf_watchers did not drop within 2 s";

  auto metrics = api.Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string& text = metrics.body;
  CheckExposition(text);
  auto s = ParseMetrics(text);
  EXPECT_EQ(Value(s, "chronoconf_http_requests_total",
                  R"(route="/v1/kv/{key}",method="PUT",status="201")"), kPuts);
  EXPECT_EQ(Value(s, "chronoconf_http_requests_total",
                  R"(route="/v1/kv/{key}",method="GET",status="200")"), kGets);
  EXPECT_EQ(Value(s, "chronoconf_http_requests_total",
                  R"(route="/v1/kv/{key}",method="GET",status="404")"), 1);
  EXPECT_EQ(Value(s, "chronoconf_http_requests_total",
                  R"(route="/v1/watch",method="GET",status="200")"), 1);
  EXPECT_EQ(Value(s, "chronoconf_http_requests_total",
                  R"(route="malformed",method="other",status="400")"), 1);
  EXPECT_EQ(Value(s, "chronoconf_commits_total"), kPuts);
  EXPECT_EQ(Value(s, "chronoconf_head_revision"), kPuts);
  EXPECT_EQ(Value(s, "chronoconf_read_model_events"), kPuts);
  EXPECT_GT(Value(s, "chronoconf_read_model_bytes"), 0);
  // Each sequential PUT is its own store transaction of one commit.
  EXPECT_EQ(Value(s, "chronoconf_group_commit_batch_commits_count"),
            Value(s, "chronoconf_store_transactions_total"));
  EXPECT_EQ(Value(s, "chronoconf_group_commit_batch_commits_sum"), kPuts);
  EXPECT_EQ(Value(s, "chronoconf_group_commit_batch_commits_bucket", R"(le="1")"), kPuts);
  EXPECT_EQ(Value(s, "chronoconf_store_append_duration_seconds_count"), kPuts);
  EXPECT_GT(Value(s, "chronoconf_store_append_duration_seconds_sum"), 0);
  EXPECT_EQ(Value(s, "chronoconf_build_info", R"(version="0.1.0")"), 1) << text;
  // 5 PUT + 3 GET + 1 404 + the watch + the /metrics reads, each a connection
  // or more; the malformed one too.
  EXPECT_GE(Value(s, "chronoconf_connections_accepted_total"), 3);
}

// The format as Prometheus's own linter reads it.
TEST(HttpMetricsCountsTest, PromtoolAcceptsTheExposition) {
  CHRONOCONF_REQUIRE(access("/usr/bin/promtool", X_OK) == 0
                         ? ""
                         : "promtool is missing (apt-get install prometheus)");
  ServerProcess server("memory:");
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  ASSERT_EQ(api.Set("p/a", "1").status, 201);
  ASSERT_EQ(api.GetKey("p/a").status, 200);
  auto m = api.Get("/metrics");
  ASSERT_EQ(m.status, 200);
  auto r = RunCommand({"/usr/bin/promtool", "check", "metrics"}, m.body);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace chronoconf::test
