// cpm: a string usable as a template argument and built at compile time.
//
// Compile-time SQL text never becomes a template argument character by character (each one
// would be mangled into the symbols of every function it reaches, thousands of characters for
// a generated statement): statements are keyed by a reference to the constant that holds
// their text (`const auto& Text`, mangled as that constant's short name). A literal written
// at the call site (cpm::sql<"...">) is a packed_string, eight characters per template
// argument word, unpacked once into a constant of its own (unpacked<L>).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
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

// A string literal as a template argument, eight characters to a 64-bit word: a mangled name
// carries about 2.9 characters per character of text, not the 5 to 6 of a char array.
template <std::size_t N>
struct packed_string {
  static constexpr std::size_t size = N;
  std::uint64_t words[N / 8 + 1]{};

  constexpr packed_string(const char (&text)[N + 1]) {
    for (std::size_t i = 0; i < N; ++i)
      words[i / 8] |= std::uint64_t{static_cast<unsigned char>(text[i])} << (8 * (i % 8));
  }
  [[nodiscard]] constexpr char at(std::size_t i) const noexcept {
    return static_cast<char>(static_cast<unsigned char>(words[i / 8] >> (8 * (i % 8))));
  }
};

template <std::size_t N>
packed_string(const char (&)[N]) -> packed_string<N - 1>;

template <auto Packed>
consteval auto unpack() {
  fixed_string<decltype(Packed)::size> out;
  for (std::size_t i = 0; i < decltype(Packed)::size; ++i) out.data[i] = Packed.at(i);
  return out;
}

// The text of a packed literal, as a constant with an address of its own.
template <packed_string Packed>
inline constexpr auto unpacked = unpack<Packed>();

}  // namespace cpm::detail
