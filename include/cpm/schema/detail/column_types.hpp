// cpm: the SQL column type of each mapped C++ type, and SQLite's type affinity rules.
//
// The declared type of a column follows the value mapping (cpm/sqlite/value.hpp):
//   integers, bool, enums without cpm::enum_names   INTEGER
//   float, double                                   REAL
//   std::string, enums with cpm::enum_names         TEXT
//   std::vector<std::byte>                          BLOB
//   std::chrono::sys_time<D>                        TEXT ("YYYY-MM-DD HH:MM:SS", UTC)
//   std::optional<T>                                T's type, and the column may be NULL
//   a type whose value_traits derive from cpm::converted_value<T, Stored>: Stored's type
//   a type whose value_traits declare `static constexpr std::string_view sql_type`: that text
// Anything else has no SQL type: create_table_sql and check_schema refuse it at compile time.
#pragma once

#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/value.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpm::detail::ddl {

// SQLite's five column affinities (https://sqlite.org/datatype3.html#type_affinity), as bits so
// that a set of them fits in an unsigned.
enum affinity : unsigned {
  integer_affinity = 1u << 0,
  text_affinity = 1u << 1,
  blob_affinity = 1u << 2,
  real_affinity = 1u << 3,
  numeric_affinity = 1u << 4,
};

constexpr char ascii_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// True when `text` contains `word` (upper case), ignoring ASCII case.
constexpr bool contains_nocase(std::string_view text, std::string_view word) noexcept {
  if (word.size() > text.size()) return false;
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < word.size() && match; ++j) match = ascii_upper(text[i + j]) == word[j];
    if (match) return true;
  }
  return false;
}

constexpr bool equal_nocase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  return true;
}

// The affinity of a column declared with type `declared`, by SQLite's rules, in their order:
// "INT" anywhere: INTEGER; "CHAR", "CLOB" or "TEXT": TEXT; "BLOB" or no type: BLOB; "REAL",
// "FLOA" or "DOUB": REAL; anything else (NUMERIC, DECIMAL, BOOLEAN, DATE, DATETIME): NUMERIC.
constexpr affinity affinity_of(std::string_view declared) noexcept {
  if (contains_nocase(declared, "INT")) return integer_affinity;
  if (contains_nocase(declared, "CHAR") || contains_nocase(declared, "CLOB") || contains_nocase(declared, "TEXT"))
    return text_affinity;
  if (contains_nocase(declared, "BLOB") || declared.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return blob_affinity;
  if (contains_nocase(declared, "REAL") || contains_nocase(declared, "FLOA") || contains_nocase(declared, "DOUB"))
    return real_affinity;
  return numeric_affinity;
}

constexpr std::string_view affinity_name(affinity a) noexcept {
  switch (a) {
    case integer_affinity: return "INTEGER";
    case text_affinity: return "TEXT";
    case blob_affinity: return "BLOB";
    case real_affinity: return "REAL";
    case numeric_affinity: return "NUMERIC";
  }
  return "?";
}

// The column affinities that keep a value the mapping binds as it was bound (or converted
// losslessly) and read back as it was written. Besides the exact one:
//   INTEGER values: NUMERIC too (it keeps integers integers; BOOLEAN is NUMERIC);
//   REAL values: NUMERIC too (a real with no fraction comes back as an integer, and reads as
//     the same double);
//   NUMERIC values (a user sql_type): INTEGER too;
//   TEXT, BLOB: only themselves (NUMERIC would turn the text "007" into the integer 7).
// Time points widen theirs with NUMERIC (see time_point_accepts).
constexpr unsigned compatible_affinities(affinity a) noexcept {
  switch (a) {
    case integer_affinity: return integer_affinity | numeric_affinity;
    case real_affinity: return real_affinity | numeric_affinity;
    case numeric_affinity: return numeric_affinity | integer_affinity;
    default: return a;
  }
}

// A time point is text that never looks like a number, so a NUMERIC column (DATETIME, DATE,
// TIMESTAMP: the spelling legacy schemas use) keeps it as text.
inline constexpr unsigned time_point_accepts = text_affinity | numeric_affinity;

// What a field's type asks of its column.
struct column_type {
  std::string_view name{};  // the declared type create_table_sql writes; empty: no known type
  unsigned accepts = 0;     // the column affinities it is compatible with
};

template <class T>
struct is_sys_time : std::false_type {};
template <class Duration>
struct is_sys_time<std::chrono::sys_time<Duration>> : std::true_type {};

template <class T>
concept declares_sql_type = requires {
  { value_traits<T>::sql_type } -> std::convertible_to<std::string_view>;
};

// The Stored of a value_traits<T> derived from converted_value<T, Stored>.
template <class T, class Stored>
Stored converted_stored(const converted_value<T, Stored>*);

template <class T>
concept converted_type = requires { converted_stored(static_cast<const value_traits<T>*>(nullptr)); };

template <class T>
using stored_type = decltype(converted_stored(static_cast<const value_traits<T>*>(nullptr)));

template <class T>
struct unwrap_optional {
  using type = T;
};
template <class T>
struct unwrap_optional<std::optional<T>> {
  using type = T;
};
template <class T>
using unwrap_optional_t = typename unwrap_optional<T>::type;

// The column type of a (non-optional) field type; an empty name when it has none.
template <class F>
consteval column_type column_type_of() {
  if constexpr (declares_sql_type<F>) {
    constexpr std::string_view name = value_traits<F>::sql_type;
    return {name, compatible_affinities(affinity_of(name))};
  } else if constexpr (is_optional<F>::value) {
    return column_type_of<typename F::value_type>();
  } else if constexpr (std::is_integral_v<F>) {  // bool included
    return {"INTEGER", compatible_affinities(integer_affinity)};
  } else if constexpr (std::is_floating_point_v<F>) {
    return {"REAL", compatible_affinities(real_affinity)};
  } else if constexpr (std::is_same_v<F, std::string>) {
    return {"TEXT", text_affinity};
  } else if constexpr (std::is_same_v<F, std::vector<std::byte>>) {
    return {"BLOB", blob_affinity};
  } else if constexpr (is_sys_time<F>::value) {
    return {"TEXT", time_point_accepts};
  } else if constexpr (named_enum<F>) {
    return {"TEXT", text_affinity};
  } else if constexpr (std::is_enum_v<F>) {
    return column_type_of<std::underlying_type_t<F>>();
  } else if constexpr (converted_type<F>) {
    return column_type_of<stored_type<F>>();
  } else {
    return {};
  }
}

// The PostgreSQL column type of a (non-optional) field type, as cpm::pg binds and reads it; an
// empty name when it has none (a type with its own SQLite sql_type, a converted_value type).
// Text sorts and compares byte by byte (COLLATE "C"), as SQLite's BINARY does: order_by, page,
// < and > on text give the same rows on both backends, whatever the database's collation.
template <class F>
consteval std::string_view pg_column_type_of() {
  if constexpr (declares_sql_type<F>) {
    return {};
  } else if constexpr (is_optional<F>::value) {
    return pg_column_type_of<typename F::value_type>();
  } else if constexpr (std::is_same_v<F, bool>) {
    return "BOOLEAN";
  } else if constexpr (std::is_integral_v<F>) {
    if constexpr (std::is_signed_v<F> && sizeof(F) <= 2) return "SMALLINT";
    if constexpr ((std::is_signed_v<F> && sizeof(F) == 4) || (std::is_unsigned_v<F> && sizeof(F) <= 2)) return "INTEGER";
    return "BIGINT";
  } else if constexpr (std::is_floating_point_v<F>) {
    return "DOUBLE PRECISION";
  } else if constexpr (std::is_same_v<F, std::string>) {
    return "TEXT COLLATE \"C\"";
  } else if constexpr (std::is_same_v<F, std::vector<std::byte>>) {
    return "BYTEA";
  } else if constexpr (is_sys_time<F>::value) {
    return "TIMESTAMPTZ";
  } else if constexpr (named_enum<F>) {
    return "TEXT COLLATE \"C\"";
  } else if constexpr (std::is_enum_v<F>) {
    return pg_column_type_of<std::underlying_type_t<F>>();
  } else {
    return {};
  }
}

template <class Model, auto FieldName, class FieldType>
struct field_has_pg_type : std::bool_constant<!pg_column_type_of<FieldType>().empty()> {};

template <class T, std::size_t I>
consteval std::string_view field_pg_column_type() {
  using field = typename model_info<T>::template field_type<I>;
  static_assert(field_has_pg_type<T, field_name_storage<T, I>, field>::value,
                "cpm: a field of this model has no PostgreSQL column type (field_has_pg_type<model, field name, "
                "field type> names it): write its CREATE TABLE by hand");
  return pg_column_type_of<field>();
}

template <class T>
inline constexpr auto field_pg_column_types = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<std::string_view, sizeof...(I)>{field_pg_column_type<T, I>()...};
}(std::make_index_sequence<model_info<T>::size>{});

// Named in the error when a field's type has no SQL type: g++ and clang++ print this
// template's arguments (model, field name, field type) above the message.
template <class Model, auto FieldName, class FieldType>
struct field_has_sql_type : std::bool_constant<!column_type_of<FieldType>().name.empty()> {};

template <class T, std::size_t I>
consteval column_type field_column_type() {
  using field = typename model_info<T>::template field_type<I>;
  static_assert(field_has_sql_type<T, field_name_storage<T, I>, field>::value,
                "cpm: a field of this model has no SQL column type (field_has_sql_type<model, field name, "
                "field type> names it): declare `static constexpr std::string_view sql_type = \"...\";` in its "
                "cpm::value_traits, or derive them from cpm::converted_value<T, Stored>");
  return column_type_of<field>();
}

// The column type of every field of T, in order.
template <class T>
inline constexpr auto field_column_types = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<column_type, sizeof...(I)>{field_column_type<T, I>()...};
}(std::make_index_sequence<model_info<T>::size>{});

// Which fields of T are std::optional (nullable columns).
template <class T>
inline constexpr auto field_nullable = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<bool, sizeof...(I)>{is_optional<typename model_info<T>::template field_type<I>>::value...};
}(std::make_index_sequence<model_info<T>::size>{});

}  // namespace cpm::detail::ddl
