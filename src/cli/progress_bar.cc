#include "cli/progress_bar.h"

#include <algorithm>

#include <fmt/format.h>

namespace chronoconf::cli {

std::string ProgressBar(int64_t done, int64_t total, const char* what) {
  constexpr int kWidth = 30;
  int filled = total > 0 ? static_cast<int>(done * kWidth / total) : kWidth;
  filled = std::clamp(filled, 0, kWidth);
  return fmt::format("\r[{}{}] {}/{} {}", std::string(static_cast<size_t>(filled), '='),
                     std::string(static_cast<size_t>(kWidth - filled), ' '), done, total, what);
}

}  // namespace chronoconf::cli
