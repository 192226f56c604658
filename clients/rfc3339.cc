#include "clients/rfc3339.h"

#include <cstdio>

#include "core/assert.h"

namespace coffer::client {
namespace {

constexpr int64_t kUsPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` decimal digits at text[*pos].
bool digits(std::string_view text, size_t* pos, size_t n, int64_t* out) {
  if (*pos + n > text.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool expect(std::string_view text, size_t* pos, char a, char b = 0) {
  if (*pos >= text.size()) return false;
  char c = text[*pos];
  if (c != a && (b == 0 || c != b)) return false;
  ++*pos;
  return true;
}

// "YYYY-MM-DD" at *pos, validated; days since the epoch.
bool read_date(std::string_view text, size_t* pos, int64_t* days) {
  int64_t y = 0, m = 0, d = 0;
  if (!digits(text, pos, 4, &y) || !expect(text, pos, '-') || !digits(text, pos, 2, &m) ||
      !expect(text, pos, '-') || !digits(text, pos, 2, &d)) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, unsigned(m))) return false;
  *days = days_from_civil(y, unsigned(m), unsigned(d));
  return true;
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

std::string format_rfc3339(int64_t time_us) {
  COFFER_ASSERT(time_us >= rfc3339_us_min && time_us <= rfc3339_us_max);
  // Floor division so that times before 1970 format correctly.
  int64_t secs = time_us / kUsPerSecond;
  int64_t us = time_us % kUsPerSecond;
  if (us < 0) {
    us += kUsPerSecond;
    secs -= 1;
  }
  int64_t days = secs / kSecondsPerDay;
  int64_t sod = secs % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    days -= 1;
  }
  CivilDate c = civil_from_days(days);
  char buf[40];
  int n;
  if (us == 0) {
    n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                      static_cast<long long>(c.year), c.month, c.day,
                      static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                      static_cast<long long>(sod % 60));
  } else {
    n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                      static_cast<long long>(c.year), c.month, c.day,
                      static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                      static_cast<long long>(sod % 60), static_cast<long long>(us));
  }
  COFFER_ASSERT(n > 0 && size_t(n) < sizeof buf);
  return std::string(buf, size_t(n));
}

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  size_t pos = 0;
  int64_t days, hh, mm, ss;
  if (!read_date(text, &pos, &days)) return std::nullopt;
  if (!expect(text, &pos, 'T', 't')) return std::nullopt;
  if (!digits(text, &pos, 2, &hh) || !expect(text, &pos, ':') || !digits(text, &pos, 2, &mm) ||
      !expect(text, &pos, ':') || !digits(text, &pos, 2, &ss)) {
    return std::nullopt;
  }
  // No leap seconds: core time never has one, and accepting ":60" would make
  // two strings name the same microsecond.
  if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  int64_t frac_us = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t n = 0;
    int64_t scale = 100'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n >= 9) return std::nullopt;
      if (n < 6) {
        frac_us += (text[pos] - '0') * scale;
        scale /= 10;
      }
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int64_t sign = text[pos] == '+' ? 1 : -1;
    ++pos;
    int64_t oh = 0, om = 0;
    if (!digits(text, &pos, 2, &oh) || !expect(text, &pos, ':') || !digits(text, &pos, 2, &om)) {
      return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  int64_t secs = days * kSecondsPerDay + hh * 3600 + mm * 60 + ss - offset_s;
  int64_t us = secs * kUsPerSecond + frac_us;
  if (us < rfc3339_us_min || us > rfc3339_us_max) return std::nullopt;
  return us;
}

std::optional<int64_t> parse_date(std::string_view text) {
  size_t pos = 0;
  int64_t days;
  if (!read_date(text, &pos, &days) || pos != text.size()) return std::nullopt;
  return days;
}

std::string format_date(int64_t days) {
  CivilDate c = civil_from_days(days);
  COFFER_ASSERT(c.year >= 0 && c.year <= 9999);
  char buf[16];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year),
                        c.month, c.day);
  COFFER_ASSERT(n == 10);
  return std::string(buf, 10);
}

}  // namespace coffer::client
