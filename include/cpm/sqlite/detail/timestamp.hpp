// cpm: reading and writing timestamps as text, the way SQLite's CURRENT_TIMESTAMP writes them.
//
// Written: "YYYY-MM-DD HH:MM:SS" (UTC), plus ".f" digits for durations finer than a second
// (3 for milliseconds, 6 for microseconds, 9 for nanoseconds); "YYYY-MM-DD" for sys_days.
// Read: the layouts SQLite and the Go driver of the original cpm wrote, that is
//   YYYY-MM-DD
//   YYYY-MM-DD[ T]HH:MM[:SS[.fraction]][ ][Z | ±HH:MM | ±HHMM]
// Offsets are applied, so every value read is UTC.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cpm::detail {

struct parsed_timestamp {
  std::chrono::sys_seconds seconds;
  std::chrono::nanoseconds fraction;  // in [0, 1s)
};

// "YYYY-MM-DD HH:MM:SS" exactly, the layout CURRENT_TIMESTAMP and cpm write (nearly every
// stored value): read by position, without the general parser's bookkeeping. False when
// `text` is not that layout or not a valid time; parse_timestamp then decides.
constexpr bool parse_plain_timestamp(std::string_view text, parsed_timestamp& out) noexcept {
  if (text.size() != 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' || text[16] != ':')
    return false;
  auto number = [&](std::size_t at, std::size_t count, int& value) {
    value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      auto digit = static_cast<unsigned>(text[i] - '0');
      if (digit > 9) return false;
      value = value * 10 + static_cast<int>(digit);
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!number(0, 4, y) || !number(5, 2, mo) || !number(8, 2, d) || !number(11, 2, h) || !number(14, 2, mi) ||
      !number(17, 2, s))
    return false;
  using namespace std::chrono;
  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return false;
  out.seconds = sys_days{date} + hours{h} + minutes{mi} + seconds{s};
  out.fraction = nanoseconds{0};
  return true;
}

// Returns false when `text` is no accepted layout, or names no valid date or time.
constexpr bool parse_timestamp(std::string_view text, parsed_timestamp& out) noexcept {
  if (parse_plain_timestamp(text, out)) return true;
  std::size_t pos = 0;
  auto digits = [&](std::size_t count, int& value) {
    if (pos + count > text.size()) return false;
    value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      char c = text[pos + i];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    pos += count;
    return true;
  };
  auto literal = [&](char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };

  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(4, y) || !literal('-') || !digits(2, mo) || !literal('-') || !digits(2, d)) return false;
  using namespace std::chrono;
  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return false;

  std::int64_t nanos = 0;
  int offset_minutes = 0;
  if (pos < text.size()) {
    if (!literal(' ') && !literal('T')) return false;
    if (!digits(2, h) || !literal(':') || !digits(2, mi)) return false;
    if (literal(':')) {
      if (!digits(2, s)) return false;
      if (literal('.')) {
        std::size_t first = pos;
        std::int64_t scale = 100'000'000;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          nanos += (text[pos] - '0') * scale;  // digits past nanoseconds are truncated
          scale /= 10;
          ++pos;
        }
        if (pos == first) return false;
      }
    }
    if (h > 23 || mi > 59 || s > 59) return false;
    if (pos < text.size() && text[pos] == ' ') ++pos;
    if (literal('Z')) {
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      int oh = 0, om = 0;
      if (!digits(2, oh)) return false;
      literal(':');
      if (!digits(2, om) || oh > 23 || om > 59) return false;
      offset_minutes = sign * (oh * 60 + om);
    }
    if (pos != text.size()) return false;
  }

  out.seconds = sys_days{date} + hours{h} + minutes{mi} + std::chrono::seconds{s} -
                minutes{offset_minutes};
  out.fraction = nanoseconds{nanos};
  return true;
}

// Buffer large enough for every layout format_timestamp writes.
inline constexpr std::size_t timestamp_buffer_size = 32;

// Writes `tp` as UTC text into `buf`; returns the length, or 0 when the year is outside 0..9999.
template <class Duration>
constexpr std::size_t format_timestamp(std::chrono::sys_time<Duration> tp, char* buf) noexcept {
  using namespace std::chrono;
  auto put = [&](std::size_t at, long long value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  sys_days day_point = floor<days>(tp);
  year_month_day date{day_point};
  int y = static_cast<int>(date.year());
  if (y < 0 || y > 9999) return 0;
  put(0, y, 4);
  buf[4] = '-';
  put(5, static_cast<unsigned>(date.month()), 2);
  buf[7] = '-';
  put(8, static_cast<unsigned>(date.day()), 2);
  if constexpr (std::ratio_greater_equal_v<typename Duration::period, days::period>) {
    return 10;
  } else {
    auto in_day = tp - day_point;
    auto secs = floor<seconds>(in_day).count();
    buf[10] = ' ';
    put(11, secs / 3600, 2);
    buf[13] = ':';
    put(14, secs / 60 % 60, 2);
    buf[16] = ':';
    put(17, secs % 60, 2);
    constexpr std::intmax_t den = Duration::period::den / Duration::period::num;
    if constexpr (den <= 1) {
      return 19;
    } else {
      constexpr int width = den <= 1'000 ? 3 : den <= 1'000'000 ? 6 : 9;
      auto frac = duration_cast<nanoseconds>(in_day - floor<seconds>(in_day)).count();
      for (int i = width; i < 9; ++i) frac /= 10;
      buf[19] = '.';
      put(20, frac, width);
      return 20 + static_cast<std::size_t>(width);
    }
  }
}

}  // namespace cpm::detail
