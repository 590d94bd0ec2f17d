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

#include <cpm/detail/message.hpp>
#include <cpm/reflect/detail/names.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/detail/timestamp.hpp>
#include <cpm/sqlite/value.hpp>

#include <boost/pfr/core.hpp>
// fmt/core.h only: every value is rendered by fmt::vformat, compiled in libfmt, and the result
// copied to the formatter's output. (fmt::format_to into fmt's appender would need the
// templates of fmt/format.h, a header that costs a quarter of a second in every translation
// unit including cpm.)
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
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

// One value of a model, as the model's formatter prints it, appended to `out`. (One function
// with a branch per kind, so that an optional's value finds the right branch whatever its
// type.)
template <class T>
void format_value(std::string& out, const T& v) {
  if constexpr (is_optional<T>::value) {
    if (!v) {
      out += "null";
    } else {
      format_value(out, *v);
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    out += message("{:?}", v);
  } else if constexpr (std::is_same_v<T, std::vector<std::byte>>) {
    out += message("<{} bytes>", v.size());
  } else if constexpr (is_sys_time<T>) {
    char buf[timestamp_buffer_size];
    std::size_t n = format_timestamp(v, buf);
    if (n == 0) {
      out += "<time out of range>";
    } else {
      out.append(buf, n);
    }
  } else if constexpr (named_enum<T>) {
    std::string_view name = enum_to_text(v);
    if (name.empty()) {
      out += message("{}", static_cast<long long>(v));
    } else {
      out += name;
    }
  } else if constexpr (std::is_enum_v<T>) {
    out += message("{}", static_cast<long long>(v));
  } else if constexpr (fmt::is_formattable<T>::value) {
    out += message("{}", v);
  } else {
    out += '<';
    out += type_name<T>;
    out += " unprintable>";
  }
}

// type{field: value, ...}
template <class T>
void format_model_to(std::string& out, const T& value) {
  out += type_name<T>;
  out += '{';
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((out += I == 0 ? "" : ", ", out += field_name<T, I>, out += ": ", format_value(out, boost::pfr::get<I>(value))),
     ...);
  }(std::make_index_sequence<model_info<T>::size>{});
  out += '}';
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
    std::string text;
    detail::format_model_to(text, value);
    return std::copy(text.begin(), text.end(), ctx.out());
  }
};

// A model as text, as model_formatter prints it, whether or not its type is opted in.
template <model T>
[[nodiscard]] std::string format_model(const T& value) {
  static_assert(detail::check_model<T>() || true);  // its static_asserts say what is wrong
  std::string text;
  detail::format_model_to(text, value);
  return text;
}

}  // namespace cpm
