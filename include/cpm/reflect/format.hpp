// cpm: printing any model with fmt, through the same reflection.
//
//   fmt::format("{}", u)  ->  user{id: 1, username: "alice", email: "a@example.org", public_key: null, created_at: 2024-01-15 10:30:00}
//
// Strings are quoted and escaped, optionals print their value or null, time points print
// like CURRENT_TIMESTAMP, named enums print their name, blobs their size. A type with a
// formatter of its own keeps it (an explicit fmt::formatter specialisation wins).
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
#include <optional>
#include <ranges>
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

template <class T, std::size_t... I>
constexpr bool all_fields_mapped(std::index_sequence<I...>) {
  return (mapped_value<pfr_field_t<T, I>> && ...);
}

template <class T>
concept printable_model = std::is_class_v<T> && std::is_aggregate_v<T> && std::is_default_constructible_v<T> &&
                          !std::ranges::range<T> && !requires { std::tuple_size<T>::value; } &&
                          // before PFR is asked: it stops the build on a base class, and fmt asks
                          // this of every aggregate it is given (fmt::is_formattable included)
                          !has_base_class<T>() && (boost::pfr::tuple_size_v<T> > 0) &&
                          all_fields_mapped<T>(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});

}  // namespace cpm::detail

template <class T>
  requires cpm::detail::printable_model<T>
struct fmt::formatter<T, char> {
  constexpr auto parse(format_parse_context& ctx) -> decltype(ctx.begin()) {
    auto it = ctx.begin();
    if (it != ctx.end() && *it != '}') ctx.on_error("cpm: models take no format options");
    return it;
  }

  template <class FormatContext>
  auto format(const T& value, FormatContext& ctx) const -> decltype(ctx.out()) {
    auto out = fmt::format_to(ctx.out(), "{}{{", cpm::detail::type_name<T>);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((out = fmt::format_to(out, "{}{}: ", I == 0 ? "" : ", ", cpm::detail::field_name<T, I>),
        out = cpm::detail::format_value(out, boost::pfr::get<I>(value))),
       ...);
    }(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
    return fmt::format_to(out, "}}");
  }
};
