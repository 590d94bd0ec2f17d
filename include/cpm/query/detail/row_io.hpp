// cpm: moving a model's fields in and out of a statement, one sqlite3 call per column.
#pragma once

#include <cpm/query/detail/sql_text.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/statement.hpp>
#include <cpm/sqlite/value.hpp>

#include <boost/pfr/core.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpm::detail {

// A row type is either a single mapped value (one column) or an aggregate read by position.
template <class Row>
constexpr std::size_t row_width() {
  if constexpr (mapped_value<Row>) {
    return 1;
  } else {
    return boost::pfr::tuple_size_v<Row>;
  }
}

// Whether field I of a row type stores "none" as '' (model_traits<Row>::none_as_empty).
template <class Row, std::size_t I>
consteval bool empty_is_none() {
  if constexpr (has_traits_none_as_empty<Row>) {
    return model_info<Row>::empty_is_none[I];
  } else {
    return false;
  }
}

// Field I of `row` from result column Offset + I. Inlined into read_fields: a row is read by
// one function, without a call per column.
template <class Row, std::size_t I, std::size_t Offset = 0>
[[gnu::always_inline]] inline void read_field(sqlite3_stmt* stmt, Row& row) {
  auto& value = boost::pfr::get<I>(row);
  value_traits<pfr_field_t<Row, I>>::read(field(stmt, static_cast<int>(Offset + I)), value);
  if constexpr (empty_is_none<Row, I>()) {
    if (value && value->empty()) value.reset();
  }
}

// The fields of `row` from result columns Offset, Offset + 1, ... (a join reads two models
// from one row).
template <class Row, std::size_t Offset = 0, std::size_t... I>
[[gnu::always_inline]] inline void read_fields(sqlite3_stmt* stmt, Row& row, std::index_sequence<I...>) {
  (read_field<Row, I, Offset>(stmt, row), ...);
}

// Binds an optional string a none_as_empty field holds: '' for none.
inline void bind_none_as_empty(statement_base& stmt, int index, const std::optional<std::string>& value) {
  if (value) {
    stmt.bind_ref(index, *value);
  } else {
    parameter(stmt.native(), index).text_ref(std::string_view(""));
  }
}

// Reads the current result row into `row`, in place (strings keep their capacity).
template <class Row>
void read_row(sqlite3_stmt* stmt, Row& row) {
  if constexpr (mapped_value<Row>) {
    value_traits<Row>::read(field(stmt, 0), row);
  } else {
    read_fields(stmt, row, std::make_index_sequence<boost::pfr::tuple_size_v<Row>>{});
  }
}

// Binds field I of a model; an integer primary key of 0 binds NULL so SQLite picks the rowid.
template <class T, std::size_t I>
void bind_field(statement_base& stmt, int index, const T& obj) {
  using info = model_info<T>;
  const auto& value = boost::pfr::get<I>(obj);
  if constexpr (I == info::primary_key && info::rowid_key) {
    if (value == 0) {
      parameter(stmt.native(), index).null();
      return;
    }
  }
  if constexpr (empty_is_none<T, I>()) {
    bind_none_as_empty(stmt, index, value);
  } else {
    stmt.bind_ref(index, value);  // the caller's object outlives the statement's run
  }
}

// Binds the fields insert variant `Omit` writes, from parameter 1; returns the next index.
template <class T, unsigned Omit>
int bind_inserted(statement_base& stmt, const T& obj) {
  int index = 1;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((inserted<T>(I, Omit) ? (bind_field<T, I>(stmt, index++, obj), 0) : 0), ...);
  }(std::make_index_sequence<model_info<T>::size>{});
  return index;
}

// Which defaulted fields of `obj` are empty, as the bit mask insert_sql takes.
template <class T>
unsigned omitted_defaults(const T& obj) {
  using info = model_info<T>;
  unsigned mask = 0;
  unsigned bit = 0;
  auto visit = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
    if constexpr (info::defaulted[I]) {
      if (!boost::pfr::get<I>(obj).has_value()) mask |= 1u << bit;
      ++bit;
    }
  };
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (visit(std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<info::size>{});
  return mask;
}

// Calls f(std::integral_constant<unsigned, omit>) with omit as a compile-time constant.
template <class T, unsigned Mask = 0, class F>
decltype(auto) with_omit_mask(unsigned omit, F&& f) {
  constexpr unsigned variants = 1u << model_info<T>::defaulted_count;
  static_assert(model_info<T>::defaulted_count <= 4, "cpm: a model may list at most 4 defaults");
  if constexpr (Mask + 1 < variants) {
    if (omit != Mask) return with_omit_mask<T, Mask + 1>(omit, std::forward<F>(f));
  }
  return std::forward<F>(f)(std::integral_constant<unsigned, Mask>{});
}

}  // namespace cpm::detail
