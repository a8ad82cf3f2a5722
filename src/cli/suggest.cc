#include "cli/suggest.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace chronoconf::cli {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string UnknownCommandMessage(std::string_view word,
                                  const std::vector<std::string>& candidates) {
  std::string message = fmt::format("unknown command '{}'", word);
  const std::string* best = nullptr;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& c : candidates) {
    // "stat" means "status" more often than it means "set".
    size_t d = c.starts_with(word) ? 0 : EditDistance(word, c);
    if (d < best_distance) {
      best = &c;
      best_distance = d;
    }
  }
  if (best != nullptr) message += fmt::format("; did you mean '{}'?", *best);
  return message;
}

}  // namespace chronoconf::cli
