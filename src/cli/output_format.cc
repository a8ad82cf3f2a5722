#include "cli/output_format.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace chronoconf::cli {

bool ColourEnabled(int fd) {
  if (std::getenv("NO_COLOR") != nullptr) return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return isatty(fd) == 1;
}

std::string Paint(std::string_view text, Colour colour, bool enabled) {
  if (!enabled || colour == Colour::kNone) return std::string(text);
  const char* code = "";
  switch (colour) {
    case Colour::kNone:
      break;
    case Colour::kBold:
      code = "1";
      break;
    case Colour::kDim:
      code = "2";
      break;
    case Colour::kRed:
      code = "31";
      break;
    case Colour::kGreen:
      code = "32";
      break;
    case Colour::kYellow:
      code = "33";
      break;
    case Colour::kCyan:
      code = "36";
      break;
  }
  return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
}

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (char ch : text) {
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;  // not a continuation byte
  }
  return n;
}

std::string SanitizeCell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += fmt::format("\\u{:04x}", c);
          break;
      }
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      // U+0080..U+009F (C1 controls; U+009B is a one-byte CSI).
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string Truncate(std::string_view text, size_t max_width) {
  if (DisplayWidth(text) <= max_width) return std::string(text);
  // Keep max_width - 1 code points, then the ellipsis.
  size_t kept = 0;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (kept == max_width - 1) break;
      ++kept;
    }
  }
  return std::string(text.substr(0, i)) + "\xE2\x80\xA6";  // U+2026 …
}

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), max_widths_(headers_.size(), 0) {}

void Table::AddRow(std::vector<Cell> cells) {
  cells.resize(headers_.size(), Cell(""));
  for (Cell& cell : cells) cell.text = SanitizeCell(cell.text);
  rows_.push_back(std::move(cells));
}

void Table::SetMaxWidth(size_t column, size_t max_width) {
  if (column < max_widths_.size()) max_widths_[column] = max_width;
}

std::string Table::Render(bool colour) const {
  const size_t n = headers_.size();
  std::vector<std::vector<Cell>> rows = rows_;
  for (auto& row : rows) {
    for (size_t c = 0; c < n; ++c) {
      if (max_widths_[c] > 0) row[c].text = Truncate(row[c].text, max_widths_[c]);
    }
  }
  std::vector<size_t> widths(n, 0);
  for (size_t c = 0; c < n; ++c) widths[c] = DisplayWidth(headers_[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < n; ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c].text));
  }

  std::string out;
  auto append_line = [&](const std::vector<Cell>& cells) {
    std::string line;
    for (size_t c = 0; c < n; ++c) {
      if (c > 0) line += "  ";
      line += Paint(cells[c].text, cells[c].colour, colour);
      if (c + 1 < n) line.append(widths[c] - DisplayWidth(cells[c].text), ' ');
    }
    // The last cell may be empty: never leave trailing spaces.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out.push_back('\n');
  };
  std::vector<Cell> header;
  for (const auto& h : headers_) header.emplace_back(h, Colour::kBold);
  append_line(header);
  for (const auto& row : rows) append_line(row);
  return out;
}

std::string DiffAddedLine(std::string_view key, std::string_view value, bool colour) {
  return Paint(fmt::format("+ {} {}", SanitizeCell(key), SanitizeCell(value)), Colour::kGreen,
               colour);
}

std::string DiffRemovedLine(std::string_view key, std::string_view value, bool colour) {
  return Paint(fmt::format("- {} {}", SanitizeCell(key), SanitizeCell(value)), Colour::kRed,
               colour);
}

std::string DiffChangedLine(std::string_view key, std::string_view before, std::string_view after,
                            bool colour) {
  return Paint(
      fmt::format("~ {} {} -> {}", SanitizeCell(key), SanitizeCell(before), SanitizeCell(after)),
      Colour::kYellow, colour);
}

std::string EventVerb(std::string_view type) {
  if (type == "ConfigSet") return "set";
  if (type == "ConfigDeleted") return "delete";
  return std::string(type);
}

std::string WatchLine(std::string_view revision, std::string_view actor, std::string_view type,
                      std::string_view key, std::string_view value, bool colour) {
  std::string verb = EventVerb(type);
  std::string line = fmt::format(
      "{} {} {} {}", Paint(SanitizeCell(revision), Colour::kDim, colour), SanitizeCell(actor),
      Paint(verb, type == "ConfigDeleted" ? Colour::kRed : Colour::kGreen, colour),
      Paint(SanitizeCell(key), Colour::kBold, colour));
  if (type != "ConfigDeleted") {
    line.push_back(' ');
    line += SanitizeCell(value);
  }
  return line;
}

std::string HumanDuration(long long seconds) {
  if (seconds <= 0) return "0s";
  const long long d = seconds / 86400;
  const long long h = seconds % 86400 / 3600;
  const long long m = seconds % 3600 / 60;
  const long long s = seconds % 60;
  std::string out;
  auto part = [&](long long v, char unit) {
    if (v == 0 && out.empty()) return;
    if (!out.empty()) out.push_back(' ');
    out += fmt::format("{}{}", v, unit);
  };
  part(d, 'd');
  part(h, 'h');
  part(m, 'm');
  part(s, 's');
  return out;
}

}  // namespace chronoconf::cli
