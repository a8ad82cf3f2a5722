// The keywords chronoconf checks itself (schema_keywords.h): their meaning,
// as JSON Schema and RFC 3339 give it, and the regex budget.
#include "json/schema_keywords.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace chronoconf::json
