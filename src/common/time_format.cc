#include "common/time_format.h"

#include <cctype>

#include <fmt/format.h>

namespace chronoconf {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

// Reads exactly `n` digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, int n, int64_t* out) {
  if (*pos + static_cast<size_t>(n) > s.size()) return false;
  int64_t v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + static_cast<size_t>(i)];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<size_t>(n);
  *out = v;
  return true;
}

int64_t DaysInMonth(int64_t y, int64_t m) {
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Takes `c`, or its upper-case form when `c` is a lower-case letter.
bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos < s.size() && (s[*pos] == c || std::tolower(static_cast<unsigned char>(s[*pos])) == c)) {
    ++*pos;
    return true;
  }
  return false;
}

}  // namespace

std::string FormatRfc3339Micros(int64_t unix_micros) {
  int64_t secs = unix_micros >= 0 ? unix_micros / 1000000 : -((-unix_micros + 999999) / 1000000);
  int64_t micros = unix_micros - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0 || y > 9999) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", y, m, d, sod / 3600,
                       (sod / 60) % 60, sod % 60, micros);
  }
  // Every commit's time is formatted twice (its hash, its row): digits by
  // hand cost a tenth of fmt's runtime format string.
  std::string out = "0000-00-00T00:00:00.000000Z";
  auto put = [&out](size_t end, int64_t v, int width) {
    for (int i = 0; i < width; ++i, v /= 10) out[end - static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  put(3, y, 4);
  put(6, m, 2);
  put(9, d, 2);
  put(12, sod / 3600, 2);
  put(15, (sod / 60) % 60, 2);
  put(18, sod % 60, 2);
  put(25, micros, 6);
  return out;
}

Result<int64_t> ParseRfc3339Micros(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidRequest(fmt::format(
        "'{}' is not an RFC 3339 time (like 2026-11-26T14:00:00Z): {}", s, why));
  };
  // RFC 3339 §5.6: full-date "T" full-time, where full-time carries
  // seconds and an offset ("Z" or +hh:mm); §5.6 also allows "t" and "z".
  size_t pos = 0;
  int64_t y, mo, d, h, mi, sec, frac_micros = 0, offset_s = 0;
  if (!Digits(s, &pos, 4, &y) || !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &mo) ||
      !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &d)) {
    return bad("the date must be YYYY-MM-DD");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo)) return bad("no such day");
  if (pos == s.size()) return bad("a time of day and an offset are required");
  if (!Expect(s, &pos, 't')) return bad("the date and time are separated by 'T'");
  if (!Digits(s, &pos, 2, &h) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &mi) ||
      !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &sec)) {
    return bad("the time must be hh:mm:ss");
  }
  // 60 is a leap second (RFC 3339 §5.7); it counts as the next second.
  if (h > 23 || mi > 59 || sec > 60) return bad("no such time of day");
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    // Any number of digits (RFC 3339 time-secfrac); digits past the sixth
    // are truncated, never rounded: commit times are whole microseconds, so
    // "at or before T" holds for exactly the same commits.
    int n = 0;
    int64_t scale = 100000;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (n < 6) frac_micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++n;
      ++pos;
    }
    if (n == 0) return bad("a '.' must be followed by digits");
  }
  if (Expect(s, &pos, 'z')) {
    // UTC
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh, om;
    if (!Digits(s, &pos, 2, &oh) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &om)) {
      return bad("the offset must be Z or +hh:mm");
    }
    if (oh > 23 || om > 59) return bad("the offset is beyond +-23:59");
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return bad("an offset (Z or +hh:mm) is required");
  }
  if (pos != s.size()) return bad("unexpected text after the offset");
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000000 + frac_micros;
}

}  // namespace chronoconf
