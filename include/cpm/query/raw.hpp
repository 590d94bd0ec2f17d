// cpm: hand-written SQL, mapped to any aggregate (or a single value) by position.
//
//   struct member_row { std::string username; cpm::org_role role; };
//   for (auto& m : cpm::query<member_row>(db, "SELECT u.username, m.role FROM ...", org_id)) ...
//   std::int64_t n = cpm::query<std::int64_t>(db, "SELECT count(*) FROM users").one();
//
// Arguments bind through cpm::value_traits like everything else. A result whose column count
// is not the row type's field count throws cpm::column_count_mismatch. SQL given as
// cpm::sql<"..."> is cached in a slot of its own; other text is cached by its content.
#pragma once

#include <cpm/query/detail/row_io.hpp>
#include <cpm/query/rows.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpm {

namespace detail {

template <class Row>
concept row_type = mapped_value<Row> || (std::is_aggregate_v<Row> && std::is_default_constructible_v<Row>);

template <class Row, class... Args>
rows<Row> run_query(statement_lease stmt, const Args&... args) {
  constexpr std::size_t width = row_width<Row>();
  if (static_cast<std::size_t>(stmt.column_count()) != width)
    throw column_count_mismatch(width, static_cast<std::size_t>(stmt.column_count()), std::string(stmt.sql()));
  stmt.bind(args...);
  return rows<Row>(std::move(stmt));
}

// Runs `stmt` and returns the rows it changed. sqlite3_changes() keeps the count of the last
// INSERT, UPDATE or DELETE when `stmt` is none of those (DDL, a SELECT, a PRAGMA): a statement
// that left total_changes() as it was changed nothing.
inline std::int64_t run_counting_changes(connection& db, statement_base& stmt) {
  const std::int64_t before = db.total_changes();
  stmt.run();
  return db.total_changes() == before ? 0 : db.changes();
}

}  // namespace detail

template <detail::row_type Row, class... Args>
[[nodiscard]] rows<Row> query(connection& db, std::string_view sql, const Args&... args) {
  static_assert(detail::check_query_row<Row>() || true);  // its static_asserts name the row type, field and type
  return detail::run_query<Row>(db.cached(sql), args...);
}

template <detail::row_type Row, detail::fixed_string Text, class... Args>
[[nodiscard]] rows<Row> query(connection& db, sql_constant<Text> sql, const Args&... args) {
  static_assert(detail::check_query_row<Row>() || true);  // its static_asserts name the row type, field and type
  return detail::run_query<Row>(db.cached(sql), args...);
}

// Runs a statement that returns no rows (or whose rows are not wanted); returns the number
// of rows it changed.
template <class... Args>
std::int64_t execute(connection& db, std::string_view sql, const Args&... args) {
  auto stmt = db.cached(sql);
  stmt.bind_refs(args...);  // the arguments outlive the run
  return detail::run_counting_changes(db, stmt);
}

template <detail::fixed_string Text, class... Args>
std::int64_t execute(connection& db, sql_constant<Text> sql, const Args&... args) {
  auto stmt = db.cached(sql);
  stmt.bind_refs(args...);  // the arguments outlive the run
  return detail::run_counting_changes(db, stmt);
}

}  // namespace cpm
