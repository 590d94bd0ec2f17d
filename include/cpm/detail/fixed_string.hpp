// cpm: a string usable as a template argument and built at compile time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace cpm::detail {

template <std::size_t N>
struct fixed_string {
  char data[N + 1]{};

  constexpr fixed_string() = default;
  constexpr fixed_string(const char (&text)[N + 1]) { std::copy_n(text, N + 1, data); }

  [[nodiscard]] constexpr std::size_t size() const noexcept { return N; }
  [[nodiscard]] constexpr const char* c_str() const noexcept { return data; }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, N}; }
  constexpr operator std::string_view() const noexcept { return view(); }

  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& other) const noexcept {
    return view() == other.view();
  }
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N - 1>;

}  // namespace cpm::detail
