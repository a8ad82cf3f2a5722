#include "json/json_schema.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace chronoconf::json {
namespace {

std::shared_ptr<const CompiledSchema> MustCompile(std::string_view text) {
  auto s = CompiledSchema::Compile(text);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : nullptr;
}

TEST(JsonSchemaTest, ReportsEachFailureWithItsPointerAndRule) {
  auto schema = MustCompile(R"({
    "type": "object",
    "required": ["name", "port"],
    "properties": {
      "port": {"type": "integer", "minimum": 1, "maximum": 65535},
      "tags": {"type": "array", "items": {"type": "string"}},
      "a/b": {"type": "boolean"}
    }
  })");
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(schema->Validate(R"({"name":"x","port":80})").empty());
  auto failures = schema->Validate(R"({"port":70000,"tags":["a",2],"a/b":1})");
  ASSERT_EQ(failures.size(), 4u);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& f : failures) got.emplace_back(f.pointer, f.rule);
  EXPECT_NE(std::find(got.begin(), got.end(), std::pair<std::string, std::string>{"", "required"}), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), std::pair<std::string, std::string>{"/port", "maximum"}), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), std::pair<std::string, std::string>{"/tags/1", "type"}), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), std::pair<std::string, std::string>{"/a~1b", "type"}), got.end());
}

TEST(JsonSchemaTest, ReadsTheDraftFromDollarSchemaAndRefusesOthers) {
  EXPECT_EQ(MustCompile(R"({"$schema":"http://json-schema.org/draft-04/schema#"})")->draft(), "draft-04");
  EXPECT_EQ(MustCompile(R"({"$schema":"http://json-schema.org/draft-06/schema#"})")->draft(), "draft-06");
  EXPECT_EQ(MustCompile(R"({"type":"string"})")->draft(), "draft-07");
  for (const char* bad : {R"({"$schema":"https://json-schema.org/draft/2020-12/schema"})",
                          R"({"$schema":"http://json-schema.org/draft-03/schema#"})"}) {
    auto s = CompiledSchema::Compile(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), Code::kInvalidRequest);
    EXPECT_NE(s.status().message().find("drafts 7, 6 and 4"), std::string::npos);
  }
}

// Drafts 6 and 7: "an integer is a number with a zero fractional part"
// (1.0, 1e2); draft 4 counts only numbers written without one.
TEST(JsonSchemaTest, AnIntegerIsANumberWithNoFractionalPartExceptInDraft4) {
  auto draft7 = MustCompile(R"({"type":"integer"})");
  auto draft6 = MustCompile(R"({"$schema":"http://json-schema.org/draft-06/schema#",)"
                            R"("type":["integer","string"]})");
  auto draft4 = MustCompile(R"({"$schema":"http://json-schema.org/draft-04/schema#",)"
                            R"("type":"integer"})");
  ASSERT_NE(draft7, nullptr);
  ASSERT_NE(draft6, nullptr);
  ASSERT_NE(draft4, nullptr);
  for (const char* whole : {"1", "-3", "1.0", "-0.0", "1e2", "18446744073709551615", "1.0e300"}) {
    EXPECT_TRUE(draft7->Validate(whole).empty()) << whole;
    EXPECT_TRUE(draft6->Validate(whole).empty()) << whole;
  }
  for (const char* not_whole : {"1.5", "1e-2", "true", "null", "[1]", R"({"a":1})"}) {
    auto failures = draft7->Validate(not_whole);
    ASSERT_EQ(failures.size(), 1u) << not_whole;
    EXPECT_EQ(failures[0].rule, "type");
    EXPECT_EQ(draft6->Validate(not_whole).size(), 1u) << not_whole;
  }
  EXPECT_TRUE(draft6->Validate(R"("s")").empty());
  EXPECT_TRUE(draft4->Validate("1").empty());
  for (const char* fraction_written : {"1.0", "1e2"}) {
    auto failures = draft4->Validate(fraction_written);
    ASSERT_EQ(failures.size(), 1u) << fraction_written;
    EXPECT_EQ(failures[0].rule, "type");
  }
}

TEST(JsonSchemaTest, RefusesWhatIsNotASchema) {
  for (const char* bad : {"[1]", "12", "{", R"({"type":12})", R"({"$ref":"http://example.com/s.json"})"}) {
    auto s = CompiledSchema::Compile(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), Code::kInvalidRequest) << bad;
  }
}

// The official JSON-Schema-Test-Suite (Debian's json-schema-test-suite),
// every required file of the drafts chronoconf claims, through the same
// Compile/Validate the write path uses. A draft-4 file's schemas get the
// draft-4 "$schema", as a user of draft 4 writes them. Remote references
// need a server chronoconf never asks (it fetches nothing): those files are
// counted apart. Optional tests (format...) are reported, not required.
constexpr const char* kSuite = "/usr/share/json-schema-test-suite/tests";

struct Counts {
  int passed = 0, failed = 0, unsupported = 0;
  std::vector<std::string> failures;
};

std::string Text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

void RunFile(const std::filesystem::path& file, const char* draft_uri, Counts* counts) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(ss.str().c_str());
  ASSERT_FALSE(doc.HasParseError()) << file;
  for (auto& group : doc.GetArray()) {
    rapidjson::Value& schema = group["schema"];
    if (draft_uri && schema.IsObject() && !schema.HasMember("$schema")) {
      schema.AddMember("$schema", rapidjson::Value(draft_uri, doc.GetAllocator()),
                       doc.GetAllocator());
    }
    const std::string name = file.filename().string() + ": " + group["description"].GetString();
    auto compiled = CompiledSchema::Compile(Text(schema));
    for (const auto& test : group["tests"].GetArray()) {
      if (!compiled) {
        ++counts->unsupported;
        counts->failures.push_back(name + " (compile: " + compiled.status().message() + ")");
        continue;
      }
      const bool valid = (*compiled)->Validate(Text(test["data"])).empty();
      if (valid == test["valid"].GetBool()) {
        ++counts->passed;
      } else {
        ++counts->failed;
        counts->failures.push_back(name + " / " + test["description"].GetString());
      }
    }
  }
}

Counts RunDraft(const std::string& dir, const char* draft_uri, bool optional) {
  Counts counts;
  const std::filesystem::path root = std::filesystem::path(kSuite) / dir / (optional ? "optional" : "");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".json") continue;
    const bool in_optional = entry.path().string().find("/optional/") != std::string::npos;
    if (in_optional != optional) continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) RunFile(f, draft_uri, &counts);
  return counts;
}

// Schemas that reference a document elsewhere (http://localhost:1234/…, a
// draft's meta-schema): chronoconf refuses them when they are set, as it
// fetches nothing.
bool NeedsARemote(const std::string& failure) {
  return failure.find("outside the schema: chronoconf fetches nothing") != std::string::npos;
}

void ExpectTheRequiredSuitePasses(const std::string& dir, const char* draft_uri) {
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(kSuite) / dir))
      << kSuite << " is missing: apt-get install json-schema-test-suite (scripts/setup.sh does)";
  Counts required = RunDraft(dir, draft_uri, false);
  Counts optional = RunDraft(dir, draft_uri, true);
  int remote = 0;
  for (const std::string& f : required.failures) {
    if (NeedsARemote(f)) {
      ++remote;
    } else {
      ADD_FAILURE() << dir << ": " << f;
    }
  }
  std::printf("JSON-Schema-Test-Suite %s: required %d passed, %d failed, %d refused (a remote $ref); "
              "optional %d passed, %d failed, %d unsupported\n",
              dir.c_str(), required.passed, required.failed + required.unsupported - remote, remote,
              optional.passed, optional.failed, optional.unsupported);
  EXPECT_GT(required.passed, 290);
}

TEST(JsonSchemaSuiteTest, Draft7) { ExpectTheRequiredSuitePasses("draft7", nullptr); }
TEST(JsonSchemaSuiteTest, Draft6) {
  ExpectTheRequiredSuitePasses("draft6", "http://json-schema.org/draft-06/schema#");
}
TEST(JsonSchemaSuiteTest, Draft4) {
  ExpectTheRequiredSuitePasses("draft4", "http://json-schema.org/draft-04/schema#");
}

}  // namespace
}  // namespace chronoconf::json
