// SPEC §4: the listing client commands ls, history and log against a real
// server: table output, --json, --at, filters, and paging followed to the end.
#include <cstdio>
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

class CliListTest : public ServerTest {
 protected:
  CommandResult Cli(std::vector<std::string> args) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    CommandOptions options;
    options.env["CHRONOCONF_TOKEN"] = std::nullopt;
    options.env["CHRONOCONF_SERVER"] = std::nullopt;
    options.env["NO_COLOR"] = "1";
    return RunCommand(argv, options);
  }

  // Imports `n` keys "<prefix>page/kNNNN" = NNNN in one commit.
  void ImportMany(int n) {
    std::string body = R"({"values":{)";
    for (int i = 0; i < n; ++i) {
      char name[16];
      std::snprintf(name, sizeof(name), "k%04d", i);
      if (i > 0) body += ",";
      body += "\"" + K("page/") + name + "\":" + std::to_string(i);
    }
    body += "}}";
    auto r = api().Post("/v1/import", body);
    ASSERT_EQ(r.status, 200) << r;
  }
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The whitespace-separated fields of a table line.
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

using F = std::vector<std::string>;

TEST_F(CliListTest, LsPrintsATable) {
  ASSERT_EQ(api().Set(K("b"), "1.50").status, 201);
  ASSERT_EQ(api().Set(K("a"), R"({"x": [1, 2]})").status, 201);
  ASSERT_EQ(api().Set(K("a"), R"({"x":[1,2,3]})").status, 200);
  auto a = api().GetKey(K("a"));
  auto b = api().GetKey(K("b"));

  auto r = Cli({"ls", K("")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(Fields(lines[0]), (F{"KEY", "VERSION", "MODIFIED", "VALUE"}));
  EXPECT_EQ(Fields(lines[1]),
            (F{K("a"), "2", a.json["modified_at"].get<std::string>(), R"({"x":[1,2,3]})"}));
  EXPECT_EQ(Fields(lines[2]), (F{K("b"), "1", b.json["modified_at"].get<std::string>(), "1.50"}));
  // Columns line up, and no line ends in a space.
  EXPECT_EQ(lines[1].find(" 2 ") + 1, lines[0].find("VERSION")) << r.out;
  for (const auto& line : lines) EXPECT_FALSE(line.ends_with(" ")) << line;
}

TEST_F(CliListTest, LsJsonAndAt) {
  ASSERT_EQ(api().Set(K("x"), "1").status, 201);
  const int64_t r1 = Head();
  ASSERT_EQ(api().Set(K("y"), "2").status, 201);
  ASSERT_EQ(api().Set(K("x"), "3").status, 200);

  auto now = Cli({"ls", K(""), "--json"});
  ASSERT_EQ(now.exit_code, 0) << now.err;
  auto listing = json::parse(now.out);
  EXPECT_EQ(listing["revision"], Head());
  ASSERT_EQ(listing["entries"].size(), 2u) << now.out;
  EXPECT_EQ(listing["entries"][0]["value"], 3);

  auto then = Cli({"ls", K(""), "--at", std::to_string(r1), "--json"});
  ASSERT_EQ(then.exit_code, 0) << then.err;
  auto old = json::parse(then.out);
  EXPECT_EQ(old["revision"], r1);
  ASSERT_EQ(old["entries"].size(), 1u) << then.out;
  EXPECT_EQ(old["entries"][0]["key"], K("x"));
  EXPECT_EQ(old["entries"][0]["value"], 1);

  auto table = Cli({"ls", K(""), "--at", std::to_string(r1)});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  auto lines = Lines(table.out);
  ASSERT_EQ(lines.size(), 2u) << table.out;
  EXPECT_EQ(Fields(lines[1])[0], K("x"));
  EXPECT_EQ(Fields(lines[1]).back(), "1");
}

TEST_F(CliListTest, LsOfNothingPrintsOnlyTheHeader) {
  auto r = Cli({"ls", K("none/")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "KEY  VERSION  MODIFIED  VALUE\n");
  auto j = Cli({"ls", K("none/"), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_TRUE(json::parse(j.out)["entries"].empty()) << j.out;
}

TEST_F(CliListTest, LsFollowsPagingToTheEnd) {
  ImportMany(1005);  // more than one page (default limit 1000)
  const int64_t head = Head();
  auto r = Cli({"ls", K("page/")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1006u);
  EXPECT_EQ(Fields(lines[1])[0], K("page/k0000"));
  EXPECT_EQ(Fields(lines[1005])[0], K("page/k1004"));
  EXPECT_EQ(Fields(lines[1005]).back(), "1004");

  auto j = Cli({"ls", K("page/"), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto listing = json::parse(j.out);
  EXPECT_EQ(listing["revision"], head);
  ASSERT_EQ(listing["entries"].size(), 1005u);
  EXPECT_EQ(listing["entries"][1004]["key"], K("page/k1004"));
  EXPECT_FALSE(listing.contains("next"));
}

TEST_F(CliListTest, HistoryNewestFirst) {
  ASSERT_EQ(api()
                .Put("/v1/kv/" + K("h"), R"({"value":1,"reason":"first"})", {{"X-Actor", "alice"}})
                .status,
            201);
  ASSERT_EQ(api().Set(K("h"), "2", {{"X-Actor", "bob"}}).status, 200);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("h") + "?reason=gone", {{"X-Actor", "carol"}}).status, 200);
  ASSERT_EQ(api().Set(K("h"), "\"back\"", {{"X-Actor", "dave"}}).status, 201);
  const int64_t head = Head();

  auto r = Cli({"history", K("h")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(Fields(lines[0]),
            (F{"REVISION", "VERSION", "TYPE", "TIME", "ACTOR", "VALUE", "REASON"}));
  auto row = [&](size_t i) {
    auto f = Fields(lines[i]);
    f.erase(f.begin() + 3);  // the time
    return f;
  };
  EXPECT_EQ(row(1), (F{std::to_string(head), "4", "set", "dave", "\"back\""}));
  EXPECT_EQ(row(2), (F{std::to_string(head - 1), "3", "delete", "carol", "-", "gone"}));
  EXPECT_EQ(row(3), (F{std::to_string(head - 2), "2", "set", "bob", "2"}));
  EXPECT_EQ(row(4), (F{std::to_string(head - 3), "1", "set", "alice", "1", "first"}));
  EXPECT_TRUE(IsTimestamp(Fields(lines[1])[3])) << lines[1];

  auto j = Cli({"history", K("h"), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto h = json::parse(j.out);
  EXPECT_EQ(h["key"], K("h"));
  ASSERT_EQ(h["events"].size(), 4u);
  EXPECT_EQ(h["events"][0]["revision"], head);

  auto missing = Cli({"history", K("never")});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_EQ(missing.err.rfind("error: not_found: ", 0), 0u) << missing.err;
}

TEST_F(CliListTest, HistoryFollowsPaging) {
  for (int i = 1; i <= 105; ++i) {  // default page: 100 events
    ASSERT_EQ(api().Set(K("many"), std::to_string(i)).status, i == 1 ? 201 : 200);
  }
  auto r = Cli({"history", K("many")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 106u);
  EXPECT_EQ(Fields(lines[1])[1], "105");
  EXPECT_EQ(Fields(lines[105])[1], "1");

  auto j = Cli({"history", K("many"), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto h = json::parse(j.out);
  ASSERT_EQ(h["events"].size(), 105u);
  EXPECT_EQ(h["events"][0]["version"], 105);
  EXPECT_EQ(h["events"][104]["version"], 1);
  EXPECT_EQ(h["key"], K("many"));
}

TEST_F(CliListTest, LogFiltersByPrefixActorAndRevision) {
  const int64_t start = Head();
  ASSERT_EQ(api().Set(K("l/a"), "1", {{"X-Actor", "alice"}}).status, 201);
  ASSERT_EQ(api().Set(K("l/b"), "2", {{"X-Actor", "bob"}}).status, 201);
  ASSERT_EQ(api().Set(K("other"), "3", {{"X-Actor", "bob"}}).status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("l/a"), {{"X-Actor", "bob"}}).status, 200);

  auto all = Cli({"log", "--prefix", K("l/"), "--from", std::to_string(start)});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  auto lines = Lines(all.out);
  ASSERT_EQ(lines.size(), 4u) << all.out;
  EXPECT_EQ(Fields(lines[0]),
            (F{"REVISION", "TIME", "ACTOR", "TYPE", "KEY", "VERSION", "VALUE", "REASON"}));
  auto row = [&](size_t i) {
    auto f = Fields(lines[i]);
    f.erase(f.begin() + 1);  // the time
    return f;
  };
  EXPECT_EQ(row(1), (F{std::to_string(start + 1), "alice", "set", K("l/a"), "1", "1"}));
  EXPECT_EQ(row(2), (F{std::to_string(start + 2), "bob", "set", K("l/b"), "1", "2"}));
  EXPECT_EQ(row(3), (F{std::to_string(start + 4), "bob", "delete", K("l/a"), "2", "-"}));

  auto bob = Cli({"log", "--prefix", K(""), "--actor", "bob"});
  ASSERT_EQ(bob.exit_code, 0) << bob.err;
  EXPECT_EQ(Lines(bob.out).size(), 4u) << bob.out;  // header + 3

  auto later = Cli({"log", "--prefix", K(""), "--from", std::to_string(start + 2)});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(Lines(later.out).size(), 3u) << later.out;

  auto j = Cli({"log", "--prefix", K(""), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto log = json::parse(j.out);
  ASSERT_EQ(log["events"].size(), 4u) << j.out;
  EXPECT_EQ(log["events"][0]["revision"], start + 1);
  EXPECT_EQ(log["events"][3]["type"], "ConfigDeleted");
  EXPECT_TRUE(log.contains("next_from_revision"));
}

TEST_F(CliListTest, LogFollowsPagingToTheEnd) {
  const int64_t start = Head();
  ImportMany(1005);  // one commit larger than a page
  ASSERT_EQ(api().Set(K("page/z1"), "1").status, 201);
  ASSERT_EQ(api().Set(K("page/z2"), "2").status, 201);

  auto r = Cli({"log", "--prefix", K("page/"), "--from", std::to_string(start)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1008u);
  EXPECT_EQ(Fields(lines[1007])[4], K("page/z2"));

  auto j = Cli({"log", "--prefix", K("page/"), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto log = json::parse(j.out);
  ASSERT_EQ(log["events"].size(), 1007u);
  EXPECT_EQ(log["events"][1006]["key"], K("page/z2"));
}

}  // namespace
}  // namespace chronoconf::test
