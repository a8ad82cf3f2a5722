// Output helpers for the human-readable output of the client commands:
// colour, aligned tables, safe table cells, and the one-line renderings of
// diffs and watch events. Everything here is pure (text in, text out) so it is
// unit tested without a server; only ColourEnabled() looks at the process.
//
// Values are always printed from their JSON source text (json::Value::
// Minified()), never re-encoded, so `1.50` prints as `1.50`.
//
// Thread safety: free functions are thread-safe; a Table is a plain value.
#ifndef CHRONOCONF_CLI_OUTPUT_FORMAT_H_
#define CHRONOCONF_CLI_OUTPUT_FORMAT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chronoconf::cli {

enum class Colour { kNone, kBold, kDim, kRed, kGreen, kYellow, kCyan };

// True when output to `fd` should be coloured: `fd` is a terminal, NO_COLOR
// is unset (https://no-color.org: any value, even empty, disables colour) and
// TERM is not "dumb".
bool ColourEnabled(int fd);

// `text` wrapped in the ANSI escape for `colour` when `enabled`, else `text`.
std::string Paint(std::string_view text, Colour colour, bool enabled);

// The number of terminal columns `text` takes, counting one per UTF-8 code
// point (wide CJK characters are not special-cased).
size_t DisplayWidth(std::string_view text);

// Makes `text` safe to print in one table cell or line: control characters
// (C0, DEL and the C1 range, which includes terminal escape introducers) are
// written as visible escapes (`\n`, `\t`, `\r`, `\u001b`), so a stored reason
// or value can neither break the layout nor drive the terminal.
std::string SanitizeCell(std::string_view text);

// `text` cut to at most `max_width` columns, ending in "…" when it was cut.
// REQUIRES: max_width >= 1.
std::string Truncate(std::string_view text, size_t max_width);

// A table with a header row and columns aligned by padding with spaces; two
// spaces separate columns and the last column is not padded, so no line ends
// in spaces. Cells are sanitised when added.
class Table {
 public:
  struct Cell {
    Cell(std::string t) : text(std::move(t)) {}  // NOLINT: implicit by design
    Cell(const char* t) : text(t) {}             // NOLINT
    Cell(std::string t, Colour c) : text(std::move(t)), colour(c) {}
    std::string text;
    Colour colour = Colour::kNone;
  };

  explicit Table(std::vector<std::string> headers);

  // Cells beyond the header count are dropped; missing ones are blank.
  void AddRow(std::vector<Cell> cells);
  // Cuts every cell of `column` to `max_width` columns (see Truncate()).
  void SetMaxWidth(size_t column, size_t max_width);

  size_t rows() const { return rows_.size(); }
  // The rendered table, one '\n'-terminated line per row, header first
  // (bold when `colour`).
  std::string Render(bool colour) const;

 private:
  std::vector<std::string> headers_;
  std::vector<size_t> max_widths_;  // 0 = unlimited
  std::vector<std::vector<Cell>> rows_;
};

// One line of `chronoconf diff` output, without the newline:
//   "+ key value", "- key value", "~ key before -> after".
std::string DiffAddedLine(std::string_view key, std::string_view value, bool colour);
std::string DiffRemovedLine(std::string_view key, std::string_view value, bool colour);
std::string DiffChangedLine(std::string_view key, std::string_view before, std::string_view after,
                            bool colour);

// The word the tables and `watch` use for an event type: "set" for ConfigSet,
// "delete" for ConfigDeleted, anything else as it is.
std::string EventVerb(std::string_view type);

// One line of `chronoconf watch` output, without the newline; it reads as a
// sentence: "57 alice set payments/timeout_ms 1500", "58 bob delete
// payments/timeout_ms". `value` is ignored for deletes.
std::string WatchLine(std::string_view revision, std::string_view actor, std::string_view type,
                      std::string_view key, std::string_view value, bool colour);

// "1d 2h 3m 4s" style duration for status output ("0s" for zero).
std::string HumanDuration(long long seconds);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_OUTPUT_FORMAT_H_
