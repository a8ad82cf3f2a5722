// No schema or value crashes validation or stalls it (SPEC §6): each test
// here crashed the server, or held its committer for seconds, before
// chronoconf stopped using valijson's parser and its std::regex keywords.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "json/json_schema.h"
#include "json/schema_walk.h"

namespace chronoconf::json {
namespace {

std::shared_ptr<const CompiledSchema> MustCompile(std::string_view text) {
  auto s = CompiledSchema::Compile(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().message();
  return s.ok() ? *s : nullptr;
}

// The message Compile refuses `text` with (kInvalidRequest), "" if it compiles.
std::string Refusal(std::string_view text) {
  auto s = CompiledSchema::Compile(text);
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), Code::kInvalidRequest) << text;
  return s.status().message();
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// The wall-clock bounds below tell bounded work from unbounded work (which
// takes minutes); sanitizer and unoptimized (coverage) builds run several
// times slower.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
constexpr double kSlower = 5.0;
#else
constexpr double kSlower = 1.0;
#endif

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Defect 1: std::regex recursed once per character of the string.
TEST(JsonSchemaSafetyTest, ALongStringUnderAPatternIsChecked) {
  auto schema = MustCompile(R"({"type":"string","pattern":"^[a-z]+$"})");
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(schema->Validate(Quoted(std::string(30000, 'a'))).empty());
  auto failures = schema->Validate(Quoted(std::string(30000, 'a') + "!"));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].rule, "pattern");

  // 100 KB under an alternation: valid, or a "pattern" failure that says
  // matching gave up; never a crash.
  auto alternation = MustCompile(R"({"pattern":"^(a|b)*$"})");
  ASSERT_NE(alternation, nullptr);
  std::string ab;
  for (int i = 0; i < 50000; ++i) ab += "ab";
  for (const auto& f : alternation->Validate(Quoted(ab))) {
    EXPECT_EQ(f.rule, "pattern");
    EXPECT_NE(f.message.find("gave up"), std::string::npos) << f.message;
  }
}

TEST(JsonSchemaSafetyTest, ACatastrophicPatternGivesUpWithinTheBudget) {
  auto schema = MustCompile(R"({"items":{"pattern":"^(a+)+$"}})");
  ASSERT_NE(schema, nullptr);
  // One long string, then 2,000 short ones, each exponential for a
  // backtracking matcher: the pass's budget stops them all.
  const auto start = std::chrono::steady_clock::now();
  auto one = schema->Validate("[" + Quoted(std::string(30000, 'a') + "!") + "]");
  std::string many = "[";
  for (int i = 0; i < 2000; ++i) many += (i ? "," : "") + Quoted(std::string(40, 'a') + "!");
  many += "]";
  auto failures = schema->Validate(many);
  EXPECT_LT(SecondsSince(start), 5.0 * kSlower);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].rule, "pattern");
  EXPECT_NE(one[0].message.find("gave up"), std::string::npos) << one[0].message;
  ASSERT_FALSE(failures.empty());
  for (const auto& f : failures) EXPECT_EQ(f.rule, "pattern") << f.message;
}

// A pattern that gives up cannot say whether it matches: under "not" a
// plain failure would let the value in, so the value is refused.
TEST(JsonSchemaSafetyTest, APatternThatGivesUpRefusesTheValueEvenUnderNot) {
  auto schema = MustCompile(R"({"properties":{"s":{"not":{"pattern":"^(a+)+$"}}}})");
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(schema->Validate(R"({"s":"b"})").empty());
  auto failures = schema->Validate(R"({"s":)" + Quoted(std::string(30, 'a') + "!") + "}");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].pointer, "/s");
  EXPECT_EQ(failures[0].rule, "pattern");
  EXPECT_NE(failures[0].message.find("gave up"), std::string::npos) << failures[0].message;
}

TEST(JsonSchemaSafetyTest, ALongPropertyNameUnderPatternPropertiesIsChecked) {
  auto schema = MustCompile(
      R"({"properties":{"ID":{"type":"integer"}},"patternProperties":{"^[a-z]+$":{"type":"string"},)"
      R"("^x-":{"maxLength":3}},"additionalProperties":{"type":"boolean"}})");
  ASSERT_NE(schema, nullptr);
  const std::string name(30000, 'a');
  EXPECT_TRUE(
      schema->Validate("{" + Quoted(name) + R"(:"v","ID":1,"x-y":"abc","X":true})").empty());
  auto failures = schema->Validate("{" + Quoted(name) + R"(:1,"ID":"1","x-y":"abcd","X":2})");
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& f : failures) got.emplace_back(f.pointer, f.rule);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"/" + name, "type"}, {"/ID", "type"}, {"/x-y", "maxLength"}, {"/X", "type"}};
  EXPECT_EQ(got, want);
  // Without additionalProperties, a name no pattern matches is refused.
  auto closed =
      MustCompile(R"({"patternProperties":{"^[a-z]+$":true},"additionalProperties":false})");
  ASSERT_NE(closed, nullptr);
  EXPECT_TRUE(closed->Validate("{" + Quoted(name) + ":1}").empty());
  ASSERT_EQ(closed->Validate("{" + Quoted(name + "A") + ":1}").size(), 1u);
  EXPECT_EQ(closed->Validate("{" + Quoted(name + "A") + ":1}")[0].rule, "additionalProperties");
}

TEST(JsonSchemaSafetyTest, ALongStringUnderADateFormatIsChecked) {
  for (const char* format : {"date", "time", "date-time"}) {
    auto schema = MustCompile(std::string(R"({"format":")") + format + "\"}");
    ASSERT_NE(schema, nullptr);
    auto failures = schema->Validate(Quoted(std::string(30000, '1')));
    ASSERT_EQ(failures.size(), 1u) << format;
    EXPECT_EQ(failures[0].rule, "format");
    EXPECT_TRUE(schema->Validate("12").empty()) << "a format speaks of strings only";
  }
}

// Defect 2: valijson divided by the divisor as an integer.
TEST(JsonSchemaSafetyTest, AMultipleOfThatIsNotPositiveIsRefused) {
  for (const char* bad : {R"({"multipleOf":0})", R"({"multipleOf":-2})", R"({"multipleOf":0.0})",
                          R"({"multipleOf":"2"})", R"({"properties":{"n":{"multipleOf":0}}})"}) {
    const std::string why = Refusal(bad);
    EXPECT_NE(why.find("multipleOf: must be a number greater than 0"), std::string::npos)
        << bad << ": " << why;
  }
  EXPECT_NE(Refusal(R"({"properties":{"n":{"multipleOf":0}}})").find("#/properties/n/multipleOf"),
            std::string::npos);
  auto schema = MustCompile(R"({"multipleOf":0.5})");
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(schema->Validate("1.5").empty());
  EXPECT_EQ(schema->Validate("1.25").size(), 1u);
}

// Defect 3: a $ref cycle recursed forever while the schema was set, or
// while a value was checked.
TEST(JsonSchemaSafetyTest, AnInPlaceCycleIsRefusedNamingWhere) {
  const std::pair<const char*, const char*> cycles[] = {
      {R"({"$ref":"#"})", "# -> #"},
      {R"({"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},)"
       R"("$ref":"#/definitions/a"})",
       "#/definitions/a -> #/definitions/b -> #/definitions/a"},
      {R"({"allOf":[{"$ref":"#"}]})", "# -> #/allOf/0 -> #"},
      {R"({"anyOf":[{"type":"string"},{"not":{"$ref":"#"}}]})", "#/anyOf/1/not -> #"},
      {R"({"if":{"$ref":"#/definitions/x"},"definitions":{"x":{"then":{},"if":{"$ref":"#"}}}})",
       "# -> #/if"},
      {R"({"dependencies":{"a":{"$ref":"#"}}})", "#/dependencies/a"},
      {R"({"properties":{"p":{"oneOf":[{"$ref":"#/properties/p"}]}}})", "#/properties/p"},
  };
  for (const auto& [schema, where] : cycles) {
    const std::string why = Refusal(schema);
    EXPECT_NE(why.find("applies itself to the same value"), std::string::npos)
        << schema << ": " << why;
    EXPECT_NE(why.find(where), std::string::npos) << schema << ": " << why;
  }
}

TEST(JsonSchemaSafetyTest, RecursionThatDescendsIntoTheValueIsKept) {
  auto list = MustCompile(R"({"type":"object","properties":{"next":{"$ref":"#"}},)"
                          R"("additionalProperties":false})");
  ASSERT_NE(list, nullptr);
  EXPECT_TRUE(list->Validate(R"({"next":{"next":{"next":{}}}})").empty());
  auto failures = list->Validate(R"({"next":{"next":{"other":1}}})");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].pointer, "/next/next");
  EXPECT_EQ(failures[0].rule, "additionalProperties");
  for (const char* recursive :
       {R"({"items":{"$ref":"#"}})", R"({"additionalProperties":{"$ref":"#"}})",
        R"({"contains":{"$ref":"#"}})",
        R"({"definitions":{"t":{"anyOf":[{"type":"integer"},)"
        R"({"type":"array","items":{"$ref":"#/definitions/t"}}]}},)"
        R"("$ref":"#/definitions/t"})"}) {
    auto s = MustCompile(recursive);
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->Validate("[[[1]],[2]]").empty()) << recursive;
  }
  // 100 levels of a value under a schema that recurses at each of them.
  std::string deep;
  for (int i = 0; i < 99; ++i) deep += R"({"next":)";
  deep += "{}" + std::string(99, '}');
  EXPECT_TRUE(list->Validate(deep).empty());
}

TEST(JsonSchemaSafetyTest, RefsArePointersIntoTheSchemaOnly) {
  // Escapes as RFC 6901 and URI fragments have them.
  auto escaped = MustCompile(
      R"({"definitions":{"a/b":{"type":"integer"},"c~d":{"type":"string"},"e%f":{"type":"null"}},)"
      R"("properties":{"x":{"$ref":"#/definitions/a~1b"},"y":{"$ref":"#/definitions/c~0d"},)"
      R"("z":{"$ref":"#/definitions/e%25f"}}})");
  ASSERT_NE(escaped, nullptr);
  EXPECT_TRUE(escaped->Validate(R"({"x":1,"y":"s","z":null})").empty());
  EXPECT_EQ(escaped->Validate(R"({"x":"1","y":2,"z":0})").size(), 3u);
  const std::pair<const char*, const char*> refused[] = {
      {R"({"$ref":"http://example.com/s.json"})", "outside the schema"},
      {R"({"properties":{"a":{"$ref":"other.json#/x"}}})", "outside the schema"},
      {R"({"$ref":"#/definitions/missing"})", "names nothing"},
      {R"({"$ref":"#foo"})", "is not a JSON pointer"},
      {R"({"$ref":"#/a%zz"})", "'%' not followed by two hex digits"},
      {R"({"$ref":"#/a~2"})", "'~' not followed by 0 or 1"},
      {R"({"enum":[{"type":"string"}],"properties":{"a":{"$ref":"#/enum/0"}}})", "data"},
      {R"({"default":{"pattern":"("},"$ref":"#/default"})", "data"},
      {R"({"properties":{"a":{"type":"string"}},"not":{"$ref":"#/properties"}})", "list or map"},
      {R"({"properties":{"a":{"$ref":1}}})", "must be a string"},
  };
  for (const auto& [schema, why] : refused) {
    EXPECT_NE(Refusal(schema).find(why), std::string::npos) << schema << ": " << Refusal(schema);
  }
  // A value used both as a schema (through a $ref) and as data.
  EXPECT_NE(Refusal(R"({"x":{"enum":[{}]},"allOf":[{"$ref":"#/x/enum/0"},{"$ref":"#/x"}]})")
                .find("both as a schema and as data"),
            std::string::npos);
}

// valijson's parser cached subschemas under path strings two schemas can
// share: here "#/definitions/e/dependencies/allOf/0" (a $ref's target) and
// the path of the dependency "foo"'s allOf item, which closed a cycle the
// document does not have and crashed on {"p":{"foo":1}}.
TEST(JsonSchemaSafetyTest, SchemasAreBuiltByIdentityNotByPath) {
  auto schema =
      MustCompile(R"({"items":{"$ref":"#/definitions/e/dependencies/allOf/0"},)"
                  R"("properties":{"p":{"$ref":"#/definitions/e"}},)"
                  R"("definitions":{"e":{"dependencies":{"foo":{"allOf":[{"required":["bar"]}]},)"
                  R"("allOf":{"0":{"$ref":"#/definitions/e"}}}}}})");
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(schema->Validate(R"({"p":{"foo":1,"bar":2}})").empty());
  auto failures = schema->Validate(R"({"p":{"foo":1}})");
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(failures[0].pointer, "/p");
  EXPECT_EQ(failures[0].rule, "required");
}

// valijson's parser recursed once per $ref it followed: 5,000 of them in a
// chain overflowed the stack of the PUT that set the schema.
TEST(JsonSchemaSafetyTest, ALongChainOfRefsIsBuiltWithoutRecursion) {
  auto chain = [](const char* link, int n) {
    std::string s = R"({"definitions":{)";
    for (int i = 0; i < n; ++i) {
      s += fmt::format(R"("a{}":)", i) + fmt::format(fmt::runtime(link), i + 1) + ",";
    }
    return s + fmt::format(R"("a{}":{{"type":"integer"}}}},"$ref":"#/definitions/a0"}})", n);
  };
  // Descending (one level of the value per link): fine however long.
  auto below =
      MustCompile(chain(R"({{"properties":{{"x":{{"$ref":"#/definitions/a{}"}}}}}})", 4000));
  ASSERT_NE(below, nullptr);
  EXPECT_TRUE(below->Validate(R"({"x":{"x":{"x":1}}})").empty());
  // In place: refused past kMaxInPlaceDepth, kept below it.
  EXPECT_NE(Refusal(chain(R"({{"allOf":[{{"$ref":"#/definitions/a{}"}}]}})", 5000))
                .find(fmt::format("more than {} deep", kMaxInPlaceDepth)),
            std::string::npos);
  auto in_place =
      MustCompile(chain(R"({{"allOf":[{{"$ref":"#/definitions/a{}"}}]}})", kMaxInPlaceDepth - 1));
  ASSERT_NE(in_place, nullptr);
  EXPECT_TRUE(in_place->Validate("1").empty());
  auto failures = in_place->Validate("1.5");
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(failures[0].rule, "type");
}

// Defect 4: an invalid pattern was stored, then refused every write.
TEST(JsonSchemaSafetyTest, AnInvalidPatternIsRefusedNamingWhereAndWhy) {
  const std::string why = Refusal(R"({"properties":{"a":{"pattern":"(a"}}})");
  EXPECT_NE(why.find("#/properties/a/pattern"), std::string::npos) << why;
  EXPECT_NE(why.find("parenthesis"), std::string::npos) << why;
  const std::string key = Refusal(R"({"patternProperties":{"[a-":{}}})");
  EXPECT_NE(key.find("#/patternProperties/[a-"), std::string::npos) << key;
  EXPECT_NE(Refusal(R"({"pattern":12})").find("#/pattern: must be a string"), std::string::npos);
  // Where nothing applies it (an unused definition), it is not looked at.
  EXPECT_EQ(Refusal(R"({"definitions":{"unused":{"pattern":"(a"}}})"), "");
}

// Defect 5: uniqueItems compared every pair (40,000 items took 37 s), and
// in-place applicators multiplied without bound.
TEST(JsonSchemaSafetyTest, UniqueItemsOfALargeArrayIsQuick) {
  auto schema = MustCompile(R"({"uniqueItems":true})");
  ASSERT_NE(schema, nullptr);
  std::string items = "[";
  for (int i = 0; i < 40000; ++i) items += (i ? "," : "") + fmt::format(R"({{"n":{},"s":"x"}})", i);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(schema->Validate(items + "]").empty());
  auto failures = schema->Validate(items + R"(,{"s":"x","n":39999.0}])");
  EXPECT_LT(SecondsSince(start), 2.0 * kSlower);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].rule, "uniqueItems");
  EXPECT_NE(failures[0].message.find("#39999 and #40000"), std::string::npos)
      << failures[0].message;
}

// Within the in-place limit, a value can still be large: the work of one
// validation is bounded in proportion to the value (ValidationBudget).
TEST(JsonSchemaSafetyTest, AValueThatTakesTooMuchWorkIsRefusedQuickly) {
  std::string s = R"({"items":{"$ref":"#/definitions/d0"},"definitions":{)";
  for (int i = 0; i < 12; ++i) {  // 8,191 subschemas per item
    s += fmt::format(
        R"("d{0}":{{"allOf":[{{"$ref":"#/definitions/d{1}"}},{{"$ref":"#/definitions/d{1}"}}]}},)", i,
        i + 1);
  }
  s += R"("d12":{"type":"integer"}}})";
  auto schema = MustCompile(s);
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(schema->Validate("[1,2,3]").empty());
  std::string items = "[";
  for (int i = 0; i < 10000; ++i) items += (i ? "," : "") + std::to_string(i);
  const auto start = std::chrono::steady_clock::now();
  auto failures = schema->Validate(items + "]");
  EXPECT_LT(SecondsSince(start), 2.0 * kSlower);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].rule, "schema");
  EXPECT_NE(failures[0].message.find("more work than one write may"), std::string::npos);
}

TEST(JsonSchemaSafetyTest, InPlaceWorkBeyondTheBudgetIsRefused) {
  // Each level is an allOf of two $refs to the next: 2^20 subschemas.
  std::string s = R"({"definitions":{)";
  for (int i = 0; i < 20; ++i) {
    s += fmt::format(
        R"("d{0}":{{"allOf":[{{"$ref":"#/definitions/d{1}"}},{{"$ref":"#/definitions/d{1}"}}]}},)",
        i, i + 1);
  }
  s += R"("d20":{"type":"integer"}},"$ref":"#/definitions/d0"})";
  const std::string why = Refusal(s);
  EXPECT_NE(why.find(fmt::format("more than {} subschemas", kMaxInPlaceSubschemas)),
            std::string::npos)
      << why;
  // 2^13 = 8,192 is within it.
  std::string fits = R"({"definitions":{)";
  for (int i = 0; i < 12; ++i) {
    fits += fmt::format(
        R"("d{0}":{{"allOf":[{{"$ref":"#/definitions/d{1}"}},{{"$ref":"#/definitions/d{1}"}}]}},)",
        i, i + 1);
  }
  fits += R"("d12":{"type":"integer"}},"$ref":"#/definitions/d0"})";
  auto schema = MustCompile(fits);
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(schema->Validate("3").empty());
}

}  // namespace
}  // namespace chronoconf::json
