// RFC 3339 times <-> microseconds since the Unix epoch (UTC), strictly; the
// gateway's and the CLI's one implementation.
// Output is always UTC with 'Z'; input accepts any offset and 1-9 fractional
// digits (beyond microseconds truncated toward the past).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace coffer::client {

// Years 0000..9999 only: the range RFC 3339 can express.
inline constexpr int64_t rfc3339_us_min = -62167219200LL * 1'000'000;            // 0000-01-01
inline constexpr int64_t rfc3339_us_max = 253402300799LL * 1'000'000 + 999'999;  // 9999-12-31

// "2026-01-02T03:04:05Z", or "...05.000123Z" when there are microseconds.
// REQUIRES: rfc3339_us_min <= time_us <= rfc3339_us_max.
std::string format_rfc3339(int64_t time_us);

// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" ('T' and 'Z' in either
// case). nullopt for anything else, including invalid dates, leap seconds
// (":60") and results outside the years 0000..9999 once the offset applies.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// "YYYY-MM-DD" <-> days since 1970-01-01 (report dates).
std::optional<int64_t> parse_date(std::string_view text);
std::string format_date(int64_t days);

// Civil calendar helpers (proleptic Gregorian; H. Hinnant's algorithms).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};
CivilDate civil_from_days(int64_t days);

}  // namespace coffer::client
