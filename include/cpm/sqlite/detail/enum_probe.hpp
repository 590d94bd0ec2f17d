// cpm: which integers name an enumerator, found at compile time from __PRETTY_FUNCTION__.
//
// An enum without cpm::enum_names is stored as its underlying integer; a read accepts only an
// integer that names one of its enumerators. C++20 cannot list an enum's enumerators, so cpm
// asks the compiler: a function template instantiated with the values E(lo), ..., E(hi) as one
// pack prints each of them in __PRETTY_FUNCTION__ either as a name ("color::green") or as a
// cast ("(color)7"). One instantiation per enum type, parsed once into a constexpr table.
//
// The range probed is [enum_probe_min, enum_probe_max] = [-128, 127], intersected with the
// range of the underlying type (and, for an unscoped enum without a fixed underlying type,
// with the values a constant expression may cast to it). Enumerators outside it are not seen:
// give such an enum cpm::enum_names (stored as text), or specialise cpm::value_traits.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpm::detail {

inline constexpr int enum_probe_min = -128;
inline constexpr int enum_probe_max = 127;

// The compiler's text for a pack of values: "... [with auto ...V = {a, (E)1}]" (GCC) or
// "... [V = <a, (E)1>]" (Clang). (const char*, not string_view: GCC would append the typedef.)
// Evaluated at compile time only, so that no signature text ends up in the binary.
template <auto... V>
consteval const char* enum_probe_signature() noexcept {
  return __PRETTY_FUNCTION__;
}

template <class E>
consteval const char* enum_type_signature() noexcept {
  return __PRETTY_FUNCTION__;
}

// "color", "ns::color", "{anonymous}::color": E as the compiler spells it.
template <class E>
consteval std::string_view enum_type_name_in_signature() noexcept {
  std::string_view text = enum_type_signature<E>();
  std::size_t start = text.find("E = ");
  if (start == std::string_view::npos || text.back() != ']') return "enum";
  return text.substr(start + 4, text.size() - (start + 4) - 1);
}

template <class E>
inline constexpr auto enum_type_name_storage = [] {
  constexpr std::string_view name = enum_type_name_in_signature<E>();
  std::array<char, name.size()> out{};
  for (std::size_t i = 0; i < name.size(); ++i) out[i] = name[i];
  return out;
}();

// The name of enum type E, for messages.
template <class E>
inline constexpr std::string_view enum_type_name{enum_type_name_storage<E>.data(), enum_type_name_storage<E>.size()};

// True when a constant expression may convert `v` to E. (Clang 16 and later refuse values
// outside the range of an unscoped enum without a fixed underlying type; GCC accepts them.)
template <class E, long long v>
inline constexpr bool enum_castable =
    requires { std::integral_constant<E, static_cast<E>(static_cast<std::underlying_type_t<E>>(v))>{}; };

// An enum class, or an enum declared with ": type".
template <class E>
concept fixed_enum = requires { E{std::underlying_type_t<E>{}}; };

// The widest 2^k - 1 and -2^k (k <= 7) that a constant expression may convert to E.
template <class E, std::size_t... K>
constexpr std::pair<long long, long long> enum_castable_bounds(std::index_sequence<K...>) noexcept {
  long long lo = 0;
  long long hi = 0;
  (void)(... || (enum_castable<E, (1LL << (7 - K)) - 1> && (hi = (1LL << (7 - K)) - 1, true)));
  (void)(... || (enum_castable<E, -(1LL << (7 - K))> && (lo = -(1LL << (7 - K)), true)));
  return {lo, hi};
}

// The first and last value probed for E.
template <class E>
constexpr std::pair<long long, long long> enum_probe_bounds() noexcept {
  using U = std::underlying_type_t<E>;
  long long lo = enum_probe_min;
  long long hi = enum_probe_max;
  if constexpr (std::is_same_v<U, bool>) {
    lo = 0;
    hi = 1;
  } else {
    constexpr auto u_min = static_cast<long long>(std::numeric_limits<U>::min());  // 0 or negative: fits
    constexpr auto u_max = static_cast<unsigned long long>(std::numeric_limits<U>::max());
    if (u_min > lo) lo = u_min;
    if (u_max < static_cast<unsigned long long>(hi)) hi = static_cast<long long>(u_max);
  }
  if constexpr (!fixed_enum<E>) {
    // Its values are those of the smallest bit-field that holds every enumerator.
    auto [castable_lo, castable_hi] = enum_castable_bounds<E>(std::make_index_sequence<8>{});
    if (castable_lo > lo) lo = castable_lo;
    if (castable_hi < hi) hi = castable_hi;
  }
  return {lo, hi};
}

template <std::size_t N>
struct enum_probe_table {
  std::array<std::uint64_t, (N + 63) / 64> named{};  // bit i: lo + i names an enumerator
  bool parsed = false;  // the compiler's text had one entry per value
  bool any = false;     // some value names an enumerator
};

// The compiler's text for the values lo..lo + N - 1 of E.
template <class E, long long lo, std::size_t... I>
consteval std::string_view enum_probe_text(std::index_sequence<I...>) noexcept {
  using U = std::underlying_type_t<E>;
  return enum_probe_signature<static_cast<E>(static_cast<U>(lo + static_cast<long long>(I)))...>();
}

// Which of the values lo..lo + N - 1 the compiler spells as a name rather than a cast.
template <std::size_t N>
consteval enum_probe_table<N> parse_enum_probe(std::string_view text) noexcept {
  enum_probe_table<N> t;
  std::size_t open = text.find("V = ");
  if (open == std::string_view::npos || text.size() < open + 6 || text.back() != ']') return t;
  // Between "{" / "<" and the closing "}]" / ">]".
  std::string_view body = text.substr(open + 5, text.size() - (open + 5) - 2);
  std::size_t count = 0;
  std::size_t at = 0;
  while (at < body.size() && count < N) {
    // One entry: up to the next "," outside brackets.
    std::size_t end = at;
    int depth = 0;
    std::size_t first_close = std::string_view::npos;  // where a leading "(" closes
    for (; end < body.size(); ++end) {
      char c = body[end];
      if (c == '(' || c == '<' || c == '{' || c == '[') {
        ++depth;
      } else if (c == ')' || c == '>' || c == '}' || c == ']') {
        --depth;
        if (depth == 0 && c == ')' && first_close == std::string_view::npos && body[at] == '(') first_close = end;
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    // A cast is "(type)number"; a name never starts with a parenthesis, except Clang's
    // "(anonymous namespace)::...", which "::" follows.
    bool cast = body[at] == '(' && first_close != std::string_view::npos && first_close + 1 < end &&
                body[first_close + 1] != ':';
    if (!cast) t.named[count / 64] |= std::uint64_t{1} << (count % 64);
    t.any = t.any || !cast;
    ++count;
    at = end + 2;  // past ", "
  }
  t.parsed = count == N && at >= body.size();
  return t;
}

// Which values in [lo, hi] name an enumerator of E: one instantiation, parsed once.
template <class E>
struct enum_probe {
  static constexpr long long lo = enum_probe_bounds<E>().first;
  static constexpr long long hi = enum_probe_bounds<E>().second;
  static constexpr std::size_t size = static_cast<std::size_t>(hi - lo + 1);
  static constexpr enum_probe_table<size> values =
      parse_enum_probe<size>(enum_probe_text<E, lo>(std::make_index_sequence<size>{}));
};

// True when `v` names an enumerator of E (within the probed range). An enum none of whose
// probed values names an enumerator (enum class id : std::int64_t {}, a strong integer type,
// or one whose enumerators all lie outside the range) accepts every value.
template <class E>
constexpr bool enum_value_named(long long v) noexcept {
  using probe = enum_probe<E>;
  static_assert(probe::values.parsed,
                "cpm: cannot list the enumerators of this enum from __PRETTY_FUNCTION__; give it "
                "cpm::enum_names or specialise cpm::value_traits");
  if constexpr (!probe::values.any) {
    return true;
  } else {
    if (v < probe::lo || v > probe::hi) return false;
    auto i = static_cast<std::size_t>(v - probe::lo);
    return (probe::values.named[i / 64] >> (i % 64)) & 1;
  }
}

}  // namespace cpm::detail
