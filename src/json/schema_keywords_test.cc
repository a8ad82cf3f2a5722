// The keywords chronoconf checks itself (schema_keywords.h): their meaning,
// as JSON Schema and RFC 3339 give it, and the regex budget.
#include "json/schema_keywords.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "json/json_schema.h"

namespace chronoconf::json {
namespace {

TEST(SchemaKeywordsTest, DatesAndTimesAreRfc3339) {
  for (const char* ok : {"2024-02-29", "2000-02-29", "1999-12-31", "0001-01-01"}) {
    EXPECT_TRUE(IsDate(ok)) << ok;
  }
  for (const char* bad : {"2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-00-10",
                          "2024-1-01", "24-01-01", "2024-01-01T", "2024/01/01", ""}) {
    EXPECT_FALSE(IsDate(bad)) << bad;
  }
  for (const char* ok :
       {"08:30:06Z", "23:59:60z", "08:30:06.283185Z", "08:30:06+05:30", "08:30:06-00:00"}) {
    EXPECT_TRUE(IsTime(ok)) << ok;
  }
  for (const char* bad : {"08:30:06", "24:00:00Z", "08:60:00Z", "08:30:61Z", "08:30:06.Z",
                          "08:30:06|01:00", "08:30:06+24:00", "8:30:06Z"}) {
    EXPECT_FALSE(IsTime(bad)) << bad;
  }
  EXPECT_TRUE(IsDateTime("1963-06-19T08:30:06.283185Z"));
  EXPECT_TRUE(IsDateTime("1963-06-19t08:30:06+01:00"));
  EXPECT_FALSE(IsDateTime("1963-06-19 08:30:06Z"));
  EXPECT_FALSE(IsDateTime("1963-06-19T08:30:06"));
  EXPECT_FALSE(IsDateTime("1963-02-30T08:30:06Z"));
}

TEST(SchemaKeywordsTest, PatternsAreEcmaScriptSearches) {
  auto search = [](const char* pattern, const std::string& text) {
    auto re = CompilePattern(pattern);
    EXPECT_TRUE(re.ok()) << pattern;
    std::string why;
    return Search(**re, text, &why);
  };
  EXPECT_EQ(search("b", "abc"), Match::kYes);       // not anchored
  EXPECT_EQ(search("^abc$", "abc\n"), Match::kNo);  // "$" only at the end
  EXPECT_EQ(search("^b", "a\nb"), Match::kNo);      // "^" only at the start
  EXPECT_EQ(search("a.c", "a\nc"), Match::kNo);     // "." is no line break
  EXPECT_EQ(search("^\\d{3}-\\w+$", "123-abc_9"), Match::kYes);
  EXPECT_EQ(search("^(?!x)", "y"), Match::kYes);
  EXPECT_FALSE(CompilePattern("(a").ok());
  EXPECT_FALSE(CompilePattern("a{2,1}").ok());
}

TEST(SchemaKeywordsTest, MatchingGivesUpRatherThanRunOn) {
  auto slow = CompilePattern("^(a|aa)+$");
  auto fast = CompilePattern("a");
  ASSERT_TRUE(slow.ok() && fast.ok());
  std::string why;
  ValidationBudget budget(0);  // kRegexStepsPerPass characters for this pass
  // Boost's own bound on an exponential match.
  EXPECT_EQ(Search(**slow, std::string(28, 'a') + "b", &why), Match::kGaveUp);
  EXPECT_NE(why.find("gave up"), std::string::npos) << why;
  // The pass's budget: every character read counts, in every search...
  why.clear();
  EXPECT_EQ(Search(**fast, std::string(kRegexStepsPerPass, 'b'), &why), Match::kGaveUp);
  EXPECT_NE(why.find("only so many characters"), std::string::npos) << why;
  EXPECT_EQ(Search(**fast, "ba", &why), Match::kGaveUp);  // ...until the pass ends
  {
    ValidationBudget next(0);
    EXPECT_EQ(Search(**fast, "ba", &why), Match::kYes);
  }
}

TEST(SchemaKeywordsTest, UniqueItemsUsesJsonSchemaEquality) {
  auto schema = CompiledSchema::Compile(R"({"uniqueItems":true})");
  ASSERT_TRUE(schema.ok());
  for (const char* same : {"[1,1.0]", R"([{"a":1,"b":[2]},{"b":[2.0],"a":1}])", "[null,null]",
                           R"(["x","x"])", "[[],[]]", "[-0.0,0]", "[1e2,100]"}) {
    auto failures = (*schema)->Validate(same);
    ASSERT_EQ(failures.size(), 1u) << same;
    EXPECT_EQ(failures[0].rule, "uniqueItems");
    EXPECT_EQ(failures[0].message, "Elements at indexes #0 and #1 violate uniqueness constraint.");
  }
  for (const char* different :
       {R"([1,"1",true,null,[1],{"1":1}])", "[0,false]", "[1,1.5]", R"([{"a":1},{"a":1,"b":1}])",
        R"(["ab","a","b"])", "[[1,2],[2,1]]", R"(["s1:x","s"])", "[]", R"("not an array")"}) {
    EXPECT_TRUE((*schema)->Validate(different).empty()) << different;
  }
  EXPECT_TRUE((*CompiledSchema::Compile(R"({"uniqueItems":false})"))->Validate("[1,1]").empty());
}

// The failures of `value` under `schema`, which must compile.
std::vector<SchemaFailure> Check(const char* schema, const char* value) {
  auto compiled = CompiledSchema::Compile(schema);
  EXPECT_TRUE(compiled.ok()) << schema << ": " << compiled.status().message();
  return compiled.ok() ? (*compiled)->Validate(value) : std::vector<SchemaFailure>{};
}

// `value` breaks `schema` by one failure of `rule`.
void ExpectOnly(const char* rule, const char* schema, const char* value) {
  auto failures = Check(schema, value);
  ASSERT_EQ(failures.size(), 1u) << schema << " " << value;
  EXPECT_EQ(failures[0].rule, rule) << schema << " " << value << ": " << failures[0].message;
}

TEST(SchemaKeywordsTest, MultipleOfIsExactForIntegersAndDecimalOtherwise) {
  struct Case {
    const char* schema;
    std::vector<const char*> multiples, others;
  };
  const Case cases[] = {
      // valijson truncated the value when the divisor is an integer.
      {R"({"multipleOf":2})",
       {"4", "4.0", "-6", "0", "-0.0", "1e2", "9223372036854775808", "18446744073709551614"},
       {"4.5", "7", "-4.5", "1e-300", "18446744073709551615", "9223372036854775807"}},
      {R"({"multipleOf":3})", {"18446744073709551615", "-9223372036854775806"}, {"1e20"}},
      {R"({"multipleOf":18446744073709551615})",
       {"18446744073709551615", "0"},
       {"9223372036854775807", "18446744073709551614", "1.8446744073709552e19"}},
      {R"({"multipleOf":2.5})", {"7.5", "10", "-2.5"}, {"8", "7.4"}},
      {R"({"multipleOf":1.5})", {"4.5", "0"}, {"35"}},
      // The JSON-Schema-Test-Suite's, also of its later versions.
      {R"({"multipleOf":0.0001})", {"0.0075", "1"}, {"0.00751"}},
      {R"({"multipleOf":0.1})", {"0.3", "1e300"}, {"0.35"}},
      {R"({"multipleOf":1e-8})", {"12391239123"}, {"1.5e-8"}},
      {R"({"multipleOf":0.5})", {"1e308", "18446744073709551615"}, {"0.25"}},
      {R"({"multipleOf":0.123456789})", {"0.246913578"}, {"1e308", "1e300"}},
      // Far below valijson's absolute tolerance (2.2e-16).
      {R"({"multipleOf":1e-20})", {"3e-20", "1"}, {"1.5e-20", "2.5e-21"}},
      // RapidJSON reads these 1 ulp off (1e-30 as 9.999999999999999e-31):
      // a double is read to 15 significant digits, which undoes that...
      {R"({"multipleOf":1e-30})", {"3e-30", "1e-29"}, {"1.5e-30"}},
      {R"({"multipleOf":1e-39})", {"5e-39", "7e-39"}, {"5.5e-39"}},
      {R"({"multipleOf":1e-300})", {"6e-300"}, {"6.5e-300"}},
      // ...and float noise past them.
      {R"({"multipleOf":0.1})", {"0.30000000000000004"}, {"0.30000000000001"}},
  };
  for (const Case& c : cases) {
    for (const char* v : c.multiples) {
      EXPECT_TRUE(Check(c.schema, v).empty()) << c.schema << " " << v;
    }
    for (const char* v : c.others) ExpectOnly("multipleOf", c.schema, v);
  }
  // The suite's "float division = inf": not a multiple (an integer, though:
  // 1e308 has no fractional part, and drafts 6 and 7 count that).
  ExpectOnly("multipleOf", R"({"type":"integer","multipleOf":0.123456789})", "1e308");
  EXPECT_TRUE(Check(R"({"multipleOf":2})", R"("4.5")").empty());  // numbers only
  auto failures = Check(R"({"multipleOf":0.0001})", "0.00751");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].message, "Value should be a multiple of 0.0001");
}

// An integer past int64's range (a uint64) is the large positive number it
// is; valijson read 18446744073709551615 as -1 and compared as doubles.
TEST(SchemaKeywordsTest, BoundsCompareEveryNumberExactly) {
  EXPECT_TRUE(Check(R"({"minimum":0})", "9223372036854775808").empty());
  EXPECT_TRUE(Check(R"({"minimum":-1})", "18446744073709551615").empty());
  ExpectOnly("maximum", R"({"maximum":10})", "9223372036854775808");
  ExpectOnly("maximum", R"({"maximum":-1})", "18446744073709551615");
  ExpectOnly("maximum", R"({"maximum":18446744073709551614})", "18446744073709551615");
  EXPECT_TRUE(Check(R"({"maximum":18446744073709551614})", "18446744073709551614").empty());
  ExpectOnly("exclusiveMaximum", R"({"exclusiveMaximum":18446744073709551615})",
             "18446744073709551615");
  EXPECT_TRUE(
      Check(R"({"exclusiveMaximum":18446744073709551615})", "18446744073709551614").empty());
  ExpectOnly("exclusiveMinimum", R"({"exclusiveMinimum":9223372036854775807})",
             "9223372036854775807");
  EXPECT_TRUE(Check(R"({"exclusiveMinimum":9223372036854775807})", "9223372036854775808").empty());
  // Integers beyond a double's 53 bits, and integers against doubles.
  ExpectOnly("maximum", R"({"maximum":9007199254740992})", "9007199254740993");
  ExpectOnly("minimum", R"({"minimum":1e19})", "9999999999999999999");
  EXPECT_TRUE(Check(R"({"minimum":1e19})", "10000000000000000000").empty());
  ExpectOnly("maximum", R"({"maximum":1.5})", "2");
  EXPECT_TRUE(Check(R"({"maximum":1.5})", "1").empty());
  EXPECT_TRUE(Check(R"({"maximum":1})", R"("2")").empty());  // numbers only
  // Draft 4's boolean exclusiveMaximum.
  constexpr const char* kDraft4 =
      R"({"$schema":"http://json-schema.org/draft-04/schema#","maximum":18446744073709551614,)"
      R"("exclusiveMaximum":true})";
  ExpectOnly("exclusiveMaximum", kDraft4, "18446744073709551614");
  EXPECT_TRUE(Check(kDraft4, "18446744073709551613").empty());
  // The message gives the bound as written.
  auto failures = Check(R"({"maximum":18446744073709551614})", "18446744073709551615");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].message, "Expected number less than or equal to 18446744073709551614");
}

TEST(SchemaKeywordsTest, LargeIntegersAreIntegersAndEqualOnlyToThemselves) {
  for (const char* big : {"9223372036854775808", "18446744073709551615"}) {
    EXPECT_TRUE(Check(R"({"type":"integer"})", big).empty()) << big;
    EXPECT_TRUE(Check(R"({"type":"number"})", big).empty()) << big;
  }
  EXPECT_TRUE(Check(R"({"const":18446744073709551615})", "18446744073709551615").empty());
  for (const char* other : {"-1", "18446744073709551614", "1.8446744073709552e19"}) {
    ExpectOnly("const", R"({"const":18446744073709551615})", other);
  }
  ExpectOnly("const", R"({"const":-1})", "18446744073709551615");
  constexpr const char* kEnum = R"({"enum":[1,9223372036854775808]})";
  for (const char* in : {"1", "1.0", "9223372036854775808"}) {
    EXPECT_TRUE(Check(kEnum, in).empty()) << in;
  }
  ExpectOnly("enum", kEnum, "-9223372036854775808");
  ExpectOnly("enum", R"({"enum":[9007199254740992]})", "9007199254740993");
  // uniqueItems: -1 and 18446744073709551615 differ; 1e19 is 10000000000000000000.
  EXPECT_TRUE(Check(R"({"uniqueItems":true})", "[-1,18446744073709551615]").empty());
  ExpectOnly("uniqueItems", R"({"uniqueItems":true})", "[10000000000000000000,1e19]");
}

TEST(SchemaKeywordsTest, EnumAndConstUseJsonSchemaEquality) {
  constexpr const char* kConst = R"({"const":{"a":[1,2.0],"b":null}})";
  EXPECT_TRUE(Check(kConst, R"({"b":null,"a":[1.0,2]})").empty());
  for (const char* other :
       {R"({"a":[1,2]})", R"({"a":[1,2],"b":null,"c":1})", R"({"a":[2,1],"b":null})",
        R"({"a":[1,2,3],"b":null})", R"({"a":[1,2],"b":false})", R"([1,2])"}) {
    ExpectOnly("const", kConst, other);
  }
  constexpr const char* kEnum = R"({"enum":[null,false,"x",[],{}]})";
  for (const char* in : {"null", "false", R"("x")", "[]", "{}"}) {
    EXPECT_TRUE(Check(kEnum, in).empty()) << in;
  }
  for (const char* out : {"0", "true", R"("y")", R"("")", "[null]", R"({"x":1})"}) {
    ExpectOnly("enum", kEnum, out);
  }
}

}  // namespace
}  // namespace chronoconf::json
