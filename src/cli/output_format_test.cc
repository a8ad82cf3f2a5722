#include "cli/output_format.h"

#include <gtest/gtest.h>

namespace chronoconf::cli {
namespace {

TEST(OutputFormatTest, PaintOnlyWhenEnabled) {
  EXPECT_EQ(Paint("x", Colour::kRed, false), "x");
  EXPECT_EQ(Paint("x", Colour::kRed, true), "\x1b[31mx\x1b[0m");
  EXPECT_EQ(Paint("x", Colour::kNone, true), "x");
}

TEST(OutputFormatTest, NoColorDisablesColour) {
  setenv("NO_COLOR", "", 1);
  EXPECT_FALSE(ColourEnabled(1));
  unsetenv("NO_COLOR");
}

TEST(OutputFormatTest, DisplayWidthCountsCodePoints) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("caf\xC3\xA9"), 4u);  // café
}

TEST(OutputFormatTest, SanitizeCellEscapesControls) {
  EXPECT_EQ(SanitizeCell("plain text"), "plain text");
  EXPECT_EQ(SanitizeCell("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(SanitizeCell("\x1b[31mred"), "\\u001b[31mred");
  EXPECT_EQ(SanitizeCell("del\x7f"), "del\\u007f");
  EXPECT_EQ(SanitizeCell("csi\xC2\x9B"
                         "2J"),
            "csi\\u009b2J");
  EXPECT_EQ(SanitizeCell("caf\xC3\xA9"), "caf\xC3\xA9");  // other UTF-8 stays
}

TEST(OutputFormatTest, TruncateCutsByColumns) {
  EXPECT_EQ(Truncate("abcdef", 6), "abcdef");
  EXPECT_EQ(Truncate("abcdefg", 6), "abcde\xE2\x80\xA6");
  EXPECT_EQ(Truncate("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xE2\x80\xA6");
  EXPECT_EQ(DisplayWidth(Truncate("a very long value indeed", 10)), 10u);
}

TEST(OutputFormatTest, TableAlignsColumnsWithoutTrailingSpaces) {
  Table t({"KEY", "VERSION", "VALUE"});
  t.AddRow({"payments/timeout_ms", "3", "1.50"});
  t.AddRow({"a", "12", R"({"x":[1,2]})"});
  EXPECT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.Render(false),
            "KEY                  VERSION  VALUE\n"
            "payments/timeout_ms  3        1.50\n"
            "a                    12       {\"x\":[1,2]}\n");
}

TEST(OutputFormatTest, TableEmptyLastCellAndMissingCells) {
  Table t({"A", "B", "REASON"});
  t.AddRow({"1", "2", ""});
  t.AddRow({"10"});
  EXPECT_EQ(t.Render(false),
            "A   B  REASON\n"
            "1   2\n"
            "10\n");
}

TEST(OutputFormatTest, TableSanitizesAndTruncates) {
  Table t({"K", "V"});
  t.SetMaxWidth(1, 5);
  t.AddRow({"a\nb", "\"abcdefgh\""});
  EXPECT_EQ(t.Render(false),
            "K     V\n"
            "a\\nb  \"abc\xE2\x80\xA6\n");
}

TEST(OutputFormatTest, TableColourKeepsAlignment) {
  Table t({"K", "V"});
  t.AddRow({{"ab", Colour::kGreen}, "x"});
  EXPECT_EQ(t.Render(true),
            "\x1b[1mK\x1b[0m   \x1b[1mV\x1b[0m\n"
            "\x1b[32mab\x1b[0m  x\n");
}

TEST(OutputFormatTest, DiffLines) {
  EXPECT_EQ(DiffAddedLine("a/b", "1.50", false), "+ a/b 1.50");
  EXPECT_EQ(DiffRemovedLine("a/b", "\"x\"", false), "- a/b \"x\"");
  EXPECT_EQ(DiffChangedLine("a/b", "1", "2", false), "~ a/b 1 -> 2");
  EXPECT_EQ(DiffAddedLine("k", "1", true), "\x1b[32m+ k 1\x1b[0m");
}

TEST(OutputFormatTest, EventVerbs) {
  EXPECT_EQ(EventVerb("ConfigSet"), "set");
  EXPECT_EQ(EventVerb("ConfigDeleted"), "delete");
  EXPECT_EQ(EventVerb("Other"), "Other");
}

TEST(OutputFormatTest, WatchLineReadsAsASentence) {
  EXPECT_EQ(WatchLine("57", "alice", "ConfigSet", "payments/timeout_ms", "1.50", false),
            "57 alice set payments/timeout_ms 1.50");
  EXPECT_EQ(WatchLine("58", "bob", "ConfigDeleted", "payments/timeout_ms", "-", false),
            "58 bob delete payments/timeout_ms");
  EXPECT_EQ(WatchLine("59", "e\x1bvil", "ConfigSet", "k", "\"a\"", false),
            "59 e\\u001bvil set k \"a\"");
}

TEST(OutputFormatTest, HumanDuration) {
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(59), "59s");
  EXPECT_EQ(HumanDuration(3723), "1h 2m 3s");
  EXPECT_EQ(HumanDuration(86400 + 5), "1d 0h 0m 5s");
}

}  // namespace
}  // namespace chronoconf::cli
