// cpm: a typed join of two models on a pair of member pointers (a foreign key and the key it
// refers to), yielding both rows, lazily.
//
//   using cpm::col;
//   for (auto& [repo, owner] : cpm::join<&repository::org_id, &org::id>
//                                  .where(col<&org::name> == "acme")
//                                  .order_by(cpm::asc<&repository::name>)
//                                  .rows(db)) ...
//   // SELECT "repository"."id", ..., "org"."id", ... FROM "repository"
//   //   JOIN "org" ON "repository"."org_id" = "org"."id" WHERE "org"."name" = ? ORDER BY "repository"."name"
//
// An inner join: a row of the left model without a match is not there. The columns of both
// are qualified by their table. where() takes predicates over fields of either model (each
// call's predicate over one model: where(a).where(b) for one on each side); order_by too.
// count() and exists() work as for one model; update, remove and projections do not apply.
#pragma once

#include <cpm/query/detail/row_io.hpp>
#include <cpm/query/detail/sql_text.hpp>
#include <cpm/query/select.hpp>
#include <cpm/query/where.hpp>
#include <cpm/reflect/model.hpp>

#include <boost/pfr/core.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace cpm {

namespace detail {

// A row of a join: the left model's row and the right one's. An aggregate, so that
// `auto& [left, right] : rows` names them.
template <class L, class R>
struct joined_row {
  L first{};
  R second{};
};

// Found by argument-dependent lookup from the rows cursor (cpm/query/rows.hpp): the left
// model's columns come first, then the right one's.
template <class L, class R>
void read_row(sqlite3_stmt* stmt, joined_row<L, R>& row) {
  constexpr std::size_t left = model_info<L>::size;
  read_fields<L, 0>(stmt, row.first, std::make_index_sequence<left>{});
  read_fields<R, left>(stmt, row.second, std::make_index_sequence<model_info<R>::size>{});
}

template <class T, class Out>
constexpr void table_qualified_columns(Out& out, bool first) {
  for (std::size_t i = 0; i < model_info<T>::size; ++i) {
    if (!first || i) out << ", ";
    identifier(out, model_info<T>::table);
    out << ".";
    identifier(out, model_info<T>::columns[i]);
  }
}

template <class T, class Out>
constexpr void qualified_key(Out& out) {
  identifier(out, model_info<T>::table);
  out << ".";
  identifier(out, model_info<T>::columns[model_info<T>::primary_key]);
}

template <class Left, class Right, class LeftField, class RightField>
inline constexpr bool join_fields_match = std::is_same_v<value_of_t<LeftField>, value_of_t<RightField>>;

template <class Left, class Right, class LeftField, class RightField>
consteval bool check_join() {
  static_assert(!std::is_same_v<Left, Right>,
                "cpm: a typed join joins two different models (a model with itself needs table aliases: "
                "write it with cpm::query)");
  static_assert(join_fields_match<Left, Right, LeftField, RightField>,
                "cpm: the two fields a join is on must have the same type, std::optional aside (the models and "
                "the fields' types are the template arguments named here)");
  return true;  // the static_asserts above are the one error
}

// "left" JOIN "right" ON "left"."a" = "right"."b"
template <auto LeftField, auto RightField>
struct join_source {
  using left = member_class_t<LeftField>;
  using right = member_class_t<RightField>;
  static_assert(check_join<left, right, member_field_t<LeftField>, member_field_t<RightField>>());

  using row = joined_row<left, right>;
  static constexpr bool qualified = true;
  static constexpr bool single = false;
  template <class M>
  static constexpr bool has = std::is_same_v<M, left> || std::is_same_v<M, right>;

  template <class Out>
  static constexpr void from(Out& out) {
    const sql_context cx{0, 0, true};
    identifier(out, model_info<left>::table);
    out << " JOIN ";
    identifier(out, model_info<right>::table);
    out << " ON ";
    write_column<LeftField>(out, cx);
    out << " = ";
    write_column<RightField>(out, cx);
  }
  template <class Out>
  static constexpr void columns(Out& out) {
    table_qualified_columns<left>(out, true);
    table_qualified_columns<right>(out, false);
  }
  // By the left model's key, then the right one's (when they have keys).
  template <class Out>
  static constexpr void default_order(Out& out) {
    constexpr bool left_key = model_info<left>::has_primary_key;
    constexpr bool right_key = model_info<right>::has_primary_key;
    if constexpr (left_key || right_key) out << " ORDER BY ";
    if constexpr (left_key) qualified_key<left>(out);
    if constexpr (left_key && right_key) out << ", ";
    if constexpr (right_key) qualified_key<right>(out);
  }
};

}  // namespace detail

// A row of cpm::join<&L::a, &R::b>: .first is the L, .second the R.
template <class L, class R>
using joined = detail::joined_row<L, R>;

// The rows of two models whose fields LeftField and RightField are equal (an inner join), to
// refine with where, order_by, limit and offset as cpm::from's.
template <auto LeftField, auto RightField>
inline constexpr typed_query<detail::join_source<LeftField, RightField>,
                             joined<detail::member_class_t<LeftField>, detail::member_class_t<RightField>>,
                             detail::no_predicate, detail::order_list<>, false, false>
    join{};

}  // namespace cpm
