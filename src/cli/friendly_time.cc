#include "cli/friendly_time.h"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "common/time_format.h"

namespace chronoconf::cli {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;

// Seconds per unit for "<N><unit> ago"; 0 for an unknown unit.
int64_t UnitSeconds(std::string_view unit) {
  if (unit == "s" || unit == "sec" || unit == "secs" || unit == "second" || unit == "seconds") {
    return 1;
  }
  if (unit == "m" || unit == "min" || unit == "mins" || unit == "minute" || unit == "minutes") {
    return 60;
  }
  if (unit == "h" || unit == "hour" || unit == "hours") return 3600;
  if (unit == "d" || unit == "day" || unit == "days") return 86400;
  if (unit == "w" || unit == "week" || unit == "weeks") return 7 * 86400;
  return 0;
}

bool IsDateOnly(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

Result<std::string> ToRfc3339(std::string_view text, int64_t now_micros) {
  auto bad = [&] {
    return Status::InvalidRequest(fmt::format(
        "'{}' is not a time: give an RFC 3339 time (2026-11-26T14:00:00Z), a date "
        "(2026-11-26, midnight UTC) or a time ago (90s ago, 15m ago, 2h ago, 3d ago, 1w ago)",
        text));
  };
  if (text.ends_with(" ago")) {
    std::string_view amount = text.substr(0, text.size() - 4);
    while (amount.ends_with(' ')) amount.remove_suffix(1);
    size_t digits = 0;
    while (digits < amount.size() && amount[digits] >= '0' && amount[digits] <= '9') ++digits;
    std::string_view unit = amount.substr(digits);
    while (unit.starts_with(' ')) unit.remove_prefix(1);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(amount.data(), amount.data() + digits, n);
    int64_t per = UnitSeconds(unit);
    // Up to 100 years back: enough for any store, far from overflow.
    if (digits == 0 || ec != std::errc() || end != amount.data() + digits || per == 0 ||
        n > int64_t{100} * 366 * 86400 / per) {
      return bad();
    }
    return FormatRfc3339Micros(now_micros - n * per * kMicrosPerSecond);
  }
  std::string full(text);
  if (IsDateOnly(text)) full += "T00:00:00Z";
  auto parsed = ParseRfc3339Micros(full);
  if (!parsed) return bad();
  return FormatRfc3339Micros(*parsed);
}

Result<std::string> ToRfc3339Now(std::string_view text) {
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return ToRfc3339(text, now);
}

}  // namespace chronoconf::cli
