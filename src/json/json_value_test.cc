#include "json/json_value.h"

#include <gtest/gtest.h>

#include "json/json_writer.h"

namespace chronoconf::json {
namespace {

TEST(JsonValueTest, KeepsNumberTextEscapesAndOrder) {
  auto v = Parse(R"( { "b" : 1.50 , "a" : [ 12345678901234567890 , "caf\u00e9 \" x" ] } )");
  ASSERT_TRUE(v) << v.status().ToString();
  EXPECT_EQ(v->Minified(), R"({"b":1.50,"a":[12345678901234567890,"caf\u00e9 \" x"]})");
  ASSERT_TRUE(v->Find("a"));
  EXPECT_EQ(v->Find("a")->Minified(), R"([12345678901234567890,"caf\u00e9 \" x"])");
  EXPECT_EQ(v->Find("a")->items()[1].str(), "caf\xc3\xa9 \" x");
  EXPECT_EQ(v->Find("b")->source(), "1.50");
  EXPECT_EQ(v->members()[0].name, "b");
}

TEST(JsonValueTest, ScalarsAndInts) {
  auto v = Parse(R"({"n":-42,"f":1e300,"t":true,"z":null,"big":123456789012345678901234567890})");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->Find("n")->AsInt64(), -42);
  EXPECT_EQ(v->Find("f")->AsInt64(), std::nullopt);
  EXPECT_EQ(v->Find("big")->AsInt64(), std::nullopt);
  EXPECT_EQ(v->Find("big")->source(), "123456789012345678901234567890");
  EXPECT_TRUE(v->Find("t")->as_bool());
  EXPECT_TRUE(v->Find("z")->is_null());
  EXPECT_EQ(v->Find("missing"), nullptr);
}

// RapidJSON refuses numbers beyond the range of a double even when it keeps
// number text; we document that limit (docs/ARCHITECTURE.md) and test it.
TEST(JsonValueTest, NumbersBeyondDoubleRangeAreRejectedNotRounded) {
  auto v = Parse("1e400");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.status().code(), Code::kInvalidJson);
}

TEST(JsonValueTest, RejectsInvalid) {
  for (const char* text : {"", "{", "[1,]", "{\"a\":1}x", "01", "NaN", "'a'", "{a:1}", "[1] [2]",
                           "\"\x01\"", "\"\xff\""}) {
    auto v = Parse(text);
    EXPECT_FALSE(v) << text;
    if (!v) {
      EXPECT_EQ(v.status().code(), Code::kInvalidJson);
    }
  }
  std::string with_nul("{}\0{}", 5);
  EXPECT_FALSE(Parse(with_nul));
}

// Found by fuzz/json_value_fuzz.cc: a multi-byte UTF-8 sequence cut short at
// the end of the text made the validator read past the buffer (ASan).
TEST(JsonValueTest, TruncatedUtf8AtTheEndIsInvalidNotAnOverread) {
  for (std::string text : {std::string("{\"v\\u0a0e22222\xf4r"), std::string("\"\xf4"),
                           std::string("\"\xe2\x82"), std::string("[\"\xc3")}) {
    auto v = Parse(text);
    EXPECT_FALSE(v) << text;
  }
}

TEST(JsonValueTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  EXPECT_FALSE(Parse(deep));
  std::string ok = std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(Parse(ok));
}

TEST(JsonWriterTest, EscapesLikeTheHashSpec) {
  Writer w;
  w.BeginObject().Field("s", std::string_view("a\"b\\c\n\x01\x1f\t\xc3\xa9")).Field("n", int64_t{-3})
      .RawField("r", "1.50").Key("arr").BeginArray().Null().Bool(true).EndArray().EndObject();
  EXPECT_EQ(w.str(), "{\"s\":\"a\\\"b\\\\c\\n\\u0001\\u001f\\t\xc3\xa9\",\"n\":-3,\"r\":1.50,"
                     "\"arr\":[null,true]}");
}

TEST(JsonWriterTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  // Found by fuzzing: an error message quoting invalid bytes broke the JSON.
  EXPECT_EQ(ToValidUtf8("ok caf\xc3\xa9"), "ok caf\xc3\xa9");
  EXPECT_EQ(ToValidUtf8("a\xaf\xaf" "b"), "a\xef\xbf\xbd\xef\xbf\xbd" "b");
  EXPECT_EQ(ToValidUtf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  EXPECT_EQ(ToValidUtf8("\xc3"), "\xef\xbf\xbd");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xf4\x90\x80\x80\xc0\xaf")));
}

}  // namespace
}  // namespace chronoconf::json

namespace chronoconf::json {
namespace {

TEST(JsonEnvelopeTest, LevelsBelowBuildDepthKeepTheirTextButGetNoNodes) {
  auto v = Parse(R"({"a": [1, [2, {"x": "y"}]], "b": "text", "c": {"d": {"e": 1}}})",
                 kMaxReadDepth, 1);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->members().size(), 3u);
  const Value* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->is_array());
  EXPECT_TRUE(a->items().empty());  // sealed: no node per element
  EXPECT_EQ(a->depth(), 3u);
  EXPECT_EQ(a->source(), R"([1, [2, {"x": "y"}]])");
  EXPECT_EQ(a->Minified(), R"([1,[2,{"x":"y"}]])");
  EXPECT_EQ(v->Find("b")->str(), "text");
  EXPECT_EQ(v->Find("c")->depth(), 2u);
  EXPECT_EQ(v->depth(), 4u);
  // The same text parsed whole agrees on everything but the nodes.
  auto whole = Parse(v->source());
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->depth(), v->depth());
  EXPECT_EQ(whole->Find("a")->items().size(), 2u);
  EXPECT_EQ(whole->Find("a")->source(), a->source());
}

TEST(JsonEnvelopeTest, ErrorsAndDepthLimitsHoldBelowTheBuiltLevels) {
  EXPECT_FALSE(Parse(R"({"a": [1, 2,]})", kMaxReadDepth, 1).ok());
  EXPECT_FALSE(Parse("{\"a\": \"\xff\"}", kMaxReadDepth, 1).ok());
  std::string deep = std::string(20, '[') + std::string(20, ']');
  EXPECT_TRUE(Parse("{\"a\":" + deep + "}", 21, 1).ok());
  EXPECT_FALSE(Parse("{\"a\":" + deep + "}", 20, 1).ok());
  std::string zeros = "0";
  for (int i = 0; i < 100000; ++i) zeros += ",0";
  auto big = Parse("{\"v\":[" + zeros + "]}", kMaxReadDepth, 1);
  ASSERT_TRUE(big.ok());
  EXPECT_TRUE(big->Find("v")->items().empty());
  EXPECT_EQ(big->Find("v")->Minified().size(), zeros.size() + 2);
}

}  // namespace
}  // namespace chronoconf::json

namespace chronoconf::json {
namespace {

TEST(JsonWriterQuoteTest, EveryAsciiByteRoundTripsInRunsAndAlone) {
  std::string all;
  for (int c = 0; c < 128; ++c) all.push_back(static_cast<char>(c));
  for (const std::string& s : {all, std::string("plain text, no escape"), std::string("\"\\"),
                               std::string("a\nb") + std::string(1, '\0') + "c", std::string()}) {
    std::string quoted;
    AppendQuoted(&quoted, s);
    auto v = Parse(quoted);
    ASSERT_TRUE(v.ok()) << quoted;
    EXPECT_EQ(v->str(), s);
  }
}

}  // namespace
}  // namespace chronoconf::json
