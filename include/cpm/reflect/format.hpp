// cpm: printing models with fmt, through the same reflection.
//
//   fmt::format("{}", u)  ->  user{id: 1, username: "alice", email: "a@example.org", public_key: null, created_at: 2024-01-15 10:30:00}
//
// Strings are quoted and escaped, optionals print their value or null, time points print
// like CURRENT_TIMESTAMP, named enums print their name, blobs their size.
//
// Printing is opted into per type, so that including cpm changes how no other aggregate
// prints, and a formatter of the program's own (constrained or not) is never ambiguous:
//   template <> struct fmt::formatter<note> : cpm::model_formatter<note> {};
// or, without opting in, as a string:
//   fmt::print("{}\n", cpm::format_model(n));
// cpm's own store models (cpm/store/models.hpp) are opted in.
#pragma once

#include <cpm/reflect/detail/names.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/detail/timestamp.hpp>
#include <cpm/sqlite/value.hpp>

#include <boost/pfr/core.hpp>
// fmt/format.h, not fmt/core.h: the formatter writes with format_to into fmt's appender, whose
// definition lives there. With fmt/core.h alone, clang++ links against the copy in libfmt under
// a name mangled differently from g++'s build of it, and fails with an undefined reference.
#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cpm::detail {

template <class T>
inline constexpr bool is_sys_time = false;
template <class Duration>
inline constexpr bool is_sys_time<std::chrono::sys_time<Duration>> = true;

// One value of a model, as the model's formatter prints it. (One function with a branch per
// kind, so that an optional's value finds the right branch whatever its type.)
template <class Out, class T>
Out format_value(Out out, const T& v) {
  if constexpr (is_optional<T>::value) {
    if (!v) return fmt::format_to(out, "null");
    return format_value(out, *v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return fmt::format_to(out, "{:?}", v);
  } else if constexpr (std::is_same_v<T, std::vector<std::byte>>) {
    return fmt::format_to(out, "<{} bytes>", v.size());
  } else if constexpr (is_sys_time<T>) {
    char buf[timestamp_buffer_size];
    std::size_t n = format_timestamp(v, buf);
    if (n == 0) return fmt::format_to(out, "<time out of range>");
    return fmt::format_to(out, "{}", std::string_view(buf, n));
  } else if constexpr (named_enum<T>) {
    std::string_view name = enum_to_text(v);
    if (name.empty()) return fmt::format_to(out, "{}", static_cast<long long>(v));
    return fmt::format_to(out, "{}", name);
  } else if constexpr (std::is_enum_v<T>) {
    return fmt::format_to(out, "{}", static_cast<long long>(v));
  } else if constexpr (fmt::is_formattable<T>::value) {
    return fmt::format_to(out, "{}", v);
  } else {
    return fmt::format_to(out, "<{} unprintable>", type_name<T>);
  }
}

// type{field: value, ...}
template <class T, class Out>
Out format_model_to(Out out, const T& value) {
  out = fmt::format_to(out, "{}{{", type_name<T>);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((out = fmt::format_to(out, "{}{}: ", I == 0 ? "" : ", ", field_name<T, I>),
      out = format_value(out, boost::pfr::get<I>(value))),
     ...);
  }(std::make_index_sequence<model_info<T>::size>{});
  return fmt::format_to(out, "}}");
}

}  // namespace cpm::detail

namespace cpm {

// The fmt formatter of a model, for a program to opt its model into:
//   template <> struct fmt::formatter<note> : cpm::model_formatter<note> {};
//   template <class T> struct fmt::formatter<box<T>> : cpm::model_formatter<box<T>> {};
// A type cpm cannot map stops the build with the model checks' own message where it is
// formatted. (The checks run there, not when the class is named: opting a model in costs a
// translation unit that never prints it nothing.)
template <class T>
struct model_formatter {
  constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) {
    auto it = ctx.begin();
    if (it != ctx.end() && *it != '}') ctx.on_error("cpm: models take no format options");
    return it;
  }

  template <class FormatContext>
  auto format(const T& value, FormatContext& ctx) const -> decltype(ctx.out()) {
    static_assert(detail::check_model<T>() || true);  // its static_asserts say what is wrong
    return detail::format_model_to(ctx.out(), value);
  }
};

// A model as text, as model_formatter prints it, whether or not its type is opted in.
template <model T>
[[nodiscard]] std::string format_model(const T& value) {
  static_assert(detail::check_model<T>() || true);  // its static_asserts say what is wrong
  std::string text;
  detail::format_model_to(std::back_inserter(text), value);
  return text;
}

}  // namespace cpm
