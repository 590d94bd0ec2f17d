// cpm: reading and writing timestamps as text, the way SQLite's CURRENT_TIMESTAMP writes them.
//
// Written: "YYYY-MM-DD HH:MM:SS" (UTC), plus ".f" digits for durations finer than a second
// (3 for milliseconds, 6 for microseconds, 9 for nanoseconds); "YYYY-MM-DD" for sys_days.
// Read: the layouts SQLite and the Go driver of the original cpm wrote, that is
//   YYYY-MM-DD
//   YYYY-MM-DD[ T]HH:MM[:SS[.fraction]][ ][Z | ±HH:MM | ±HHMM]
// Offsets are applied, so every value read is UTC.
// to_time_point() turns seconds (and nanoseconds) since the epoch into any sys_time<Duration>,
// refusing what the Duration cannot hold instead of overflowing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ratio>
#include <string_view>
#include <type_traits>

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

// floor(a / b) for b > 0.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  return (a % b < 0) ? q - 1 : q;
}

// True when `ticks` fits Rep (an integer type).
template <class Rep, class Int>
constexpr bool fits_rep(Int ticks) noexcept {
  if constexpr (std::is_signed_v<Rep>) {
    return ticks >= static_cast<Int>(std::numeric_limits<Rep>::min()) &&
           ticks <= static_cast<Int>(std::numeric_limits<Rep>::max());
  } else {
    return ticks >= 0 && (sizeof(Rep) >= sizeof(Int) || ticks <= static_cast<Int>(std::numeric_limits<Rep>::max()));
  }
}

// The time point `seconds` + `nanos` (in [0, 1e9)) after the epoch, floored to Duration; false
// when Duration's representation cannot hold it (sys_time<nanoseconds> spans only the years
// 1677 to 2262), checked before converting, so that nothing overflows.
template <class Duration>
constexpr bool to_time_point(std::int64_t seconds, std::int64_t nanos, std::chrono::sys_time<Duration>& out) noexcept {
  using namespace std::chrono;
  using rep = typename Duration::rep;
  if constexpr (!std::is_integral_v<rep>) {
    // Floating-point (or class type) ticks: no overflow to fear at these magnitudes.
    out = sys_time<Duration>{duration_cast<Duration>(std::chrono::seconds{seconds}) +
                             duration_cast<Duration>(nanoseconds{nanos})};
    return true;
  } else {
    using per_second = std::ratio_divide<std::ratio<1>, typename Duration::period>;  // ticks per second
    using per_nano = std::ratio_divide<std::nano, typename Duration::period>;        // ticks per nanosecond
    std::int64_t ticks = 0;
    if constexpr (per_second::num == 1) {
      // A tick of whole seconds (seconds, minutes, days): the fraction never moves the floor.
      ticks = floor_div(seconds, per_second::den);
    } else if constexpr (per_second::den == 1) {
      // per_second::num ticks per second (milliseconds, nanoseconds, ...).
      static_assert(per_nano::num <= std::numeric_limits<std::int64_t>::max() / 1'000'000'000,
                    "cpm: time points finer than 1e-18 s are not supported");
      constexpr auto per = static_cast<std::int64_t>(per_second::num);
      std::int64_t fraction = nanos * per_nano::num / per_nano::den;  // in [0, per)
      // Before the epoch, seconds * per alone may overflow where the sum does not (the first
      // nanosecond of sys_time<nanoseconds>): go from the next second down instead.
      bool overflow = seconds < 0 && fraction > 0
                          ? __builtin_mul_overflow(seconds + 1, per, &ticks) || __builtin_sub_overflow(ticks, per - fraction, &ticks)
                          : __builtin_mul_overflow(seconds, per, &ticks) || __builtin_add_overflow(ticks, fraction, &ticks);
      if (overflow) return false;
    } else {
      // A tick that is no whole multiple or fraction of a second (ratio<3, 2>): in 128 bits.
      static_assert(per_nano::num <= 1'000'000'000, "cpm: this time point's period is not supported");
      __extension__ using wide = __int128;
      wide total = static_cast<wide>(seconds) * 1'000'000'000 + nanos;  // below 2^94
      wide scaled = total * per_nano::num;
      wide q = scaled / per_nano::den;
      if (scaled % per_nano::den < 0) --q;
      if (!fits_rep<rep>(q)) return false;
      out = sys_time<Duration>{Duration{static_cast<rep>(q)}};
      return true;
    }
    if (!fits_rep<rep>(ticks)) return false;
    out = sys_time<Duration>{Duration{static_cast<rep>(ticks)}};
    return true;
  }
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
