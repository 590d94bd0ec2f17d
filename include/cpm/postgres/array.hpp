// cpm: a list bound as one PostgreSQL array parameter (binary format), for "column" = ANY($n).
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/postgres/value.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace cpm::pg {

namespace detail {

// The array type whose elements are `element` (0 when cpm binds no such arrays).
inline Oid array_type(Oid element) noexcept {
  switch (element) {
    case oid::boolean: return 1000;
    case oid::bytea: return 1001;
    case oid::int2: return 1005;
    case oid::int4: return 1007;
    case oid::text: return 1009;
    case oid::int8: return 1016;
    case oid::float8: return 1022;
    case oid::timestamptz: return 1185;
    default: return 0;
  }
}

// A list bound as one array parameter (binary: dimensions, element type, then each element
// as value_traits<T> binds it). Holds its encoding until the statement has run.
template <class T, class Values = std::vector<T>>
struct array_ref {
  const Values* values;
  mutable std::string encoded{};
};

inline void put_int32(std::string& out, std::uint32_t v) {
  char b[4];
  put_be(b, v);
  out.append(b, 4);
}

}  // namespace detail

template <class T, class Values>
struct value_traits<detail::array_ref<T, Values>> {
  static void bind(parameter& p, const detail::array_ref<T, Values>& list) {
    // The element type: what T binds as (text, which cpm sends untyped, as TEXT).
    static const Oid element = [] {
      Oid t = detail::null_type<T>();
      return t == oid::unknown ? oid::text : t;
    }();
    const Oid array = detail::array_type(element);
    if (array == 0)
      p.fail(value_error::kind::type_mismatch,
             detail::message("cpm: an IN list of {} values cannot be sent as a PostgreSQL array", detail::type_name(element)));
    std::string& out = list.encoded;
    out.clear();
    const Values& values = *list.values;
    detail::put_int32(out, values.empty() ? 0 : 1);  // dimensions
    detail::put_int32(out, 0);                        // no NULL elements
    detail::put_int32(out, element);
    if (!values.empty()) {
      if (values.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        p.fail(value_error::kind::out_of_range, detail::message("{} values exceed one PostgreSQL array", values.size()));
      detail::put_int32(out, static_cast<std::uint32_t>(values.size()));
      detail::put_int32(out, 1);  // lower bound
    }
    for (const T& v : values) {
      parameter one;
      one.set_index(p.index());
      value_traits<T>::bind(one, v);
      detail::put_int32(out, static_cast<std::uint32_t>(one.length()));
      out.append(one.value(), static_cast<std::size_t>(one.length()));
    }
    p.bytes_ref(array, std::as_bytes(std::span<const char>(out.data(), out.size())));
  }
};

}  // namespace cpm::pg
