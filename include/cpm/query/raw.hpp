// cpm: hand-written SQL, mapped to any aggregate (or a single value).
//
//   struct member_row { std::string username; cpm::org_role role; };
//   for (auto& m : cpm::query<member_row>(db, "SELECT u.username, m.role FROM ...", org_id)) ...
//   std::int64_t n = cpm::query<std::int64_t>(db, "SELECT count(*) FROM users").one();
//   for (auto& t : cpm::query<total>(db, cpm::by_position, "SELECT role, count(*) FROM ...")) ...
//
// Columns fill the row's fields in order, and their names must be the fields' names (or the
// column names model_traits<Row>::columns gives), ignoring ASCII case: alias computed columns
// (`count(*) AS how_many`). A column named otherwise throws cpm::column_name_mismatch, so that
// `SELECT 10 AS b, 20 AS a` into struct {a, b} is refused instead of swapped. cpm::by_position
// maps by position only. A single-value row (query<std::int64_t>) is never name-checked.
//
// Arguments bind through cpm::value_traits like everything else. A result whose column count
// is not the row type's field count throws cpm::column_count_mismatch. SQL given as
// cpm::sql<"..."> is cached in a slot of its own; other text is cached by its content.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/query/detail/row_io.hpp>
#include <cpm/query/rows.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>

#include <boost/pfr/core.hpp>
#include <fmt/core.h>
#include <sqlite3.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpm {

// Passed before the SQL, maps a query's columns to the row's fields by position only.
struct by_position_t {
  explicit by_position_t() = default;
};
inline constexpr by_position_t by_position{};

// query<Row>(sql) on a result whose column `index()` (from 0) is not named like the row's
// field there.
class column_name_mismatch : public usage_error {
 public:
  column_name_mismatch(std::size_t index, std::string expected, std::string actual, std::string sql)
      : usage_error(detail::message("cpm: column {} of the result is named \"{}\" but field {} of the row type is \"{}\" "
                                    "(alias the column: AS {}; or map by position with cpm::by_position): {}",
                                    index, actual, index, expected, expected, sql)),
        index_(index),
        expected_(std::move(expected)),
        actual_(std::move(actual)),
        sql_(std::move(sql)) {}
  [[nodiscard]] std::size_t index() const noexcept { return index_; }
  // The name the row type wants there (its field's name, or its model_traits column name).
  [[nodiscard]] const std::string& expected() const noexcept { return expected_; }
  // The column's name, as sqlite3_column_name gives it.
  [[nodiscard]] const std::string& actual() const noexcept { return actual_; }
  [[nodiscard]] const std::string& sql() const noexcept { return sql_; }

 private:
  std::size_t index_;
  std::string expected_;
  std::string actual_;
  std::string sql_;
};

namespace detail {

template <class Row>
concept row_type = mapped_value<Row> || (std::is_aggregate_v<Row> && std::is_default_constructible_v<Row>);

// The names each field of an aggregate row answers to: its own, and the column
// model_traits<Row>::columns gives it (the same name when there is none).
template <class Row>
inline constexpr auto row_field_names = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<std::string_view, sizeof...(I)>{field_name<Row, I>...};
}(std::make_index_sequence<boost::pfr::tuple_size_v<Row>>{});

template <class Row>
constexpr std::string_view row_column_name(std::size_t i) {
  if constexpr (has_traits_columns<Row>) {
    return model_traits<Row>::columns[i];
  } else {
    return row_field_names<Row>[i];
  }
}

// SQLite compares identifiers ignoring ASCII case, and so does this.
constexpr bool same_identifier(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Throws column_name_mismatch at the first column of `stmt` not named like Row's field there.
// The column count is already known to be Row's field count.
template <class Row>
void check_column_names(const statement_base& stmt) {
  constexpr std::size_t width = boost::pfr::tuple_size_v<Row>;
  for (std::size_t i = 0; i < width; ++i) {
    const char* name = sqlite3_column_name(stmt.native(), static_cast<int>(i));
    const std::string_view actual = name ? std::string_view(name) : std::string_view();
    if (!same_identifier(actual, row_field_names<Row>[i]) && !same_identifier(actual, row_column_name<Row>(i)))
      throw column_name_mismatch(i, std::string(row_column_name<Row>(i)), std::string(actual), std::string(stmt.sql()));
  }
}

// A tag per row type: its address says which row type a statement was last checked for.
template <class Row>
inline constexpr char row_check_tag = 0;

// Checks the column names of `stmt` for Row, once per cached statement and row type.
template <class Row>
void check_row_names(statement_lease& stmt) {
  const void* const tag = &row_check_tag<Row>;
  const void** slot = stmt.row_check_slot();
  if (slot && *slot == tag) return;
  check_column_names<Row>(stmt);
  if (slot) *slot = tag;
}

template <class Row, bool ByName = true, class... Args>
rows<Row> run_query(statement_lease stmt, const Args&... args) {
  constexpr std::size_t width = row_width<Row>();
  if (static_cast<std::size_t>(stmt.column_count()) != width)
    throw column_count_mismatch(width, static_cast<std::size_t>(stmt.column_count()), std::string(stmt.sql()));
  if constexpr (ByName && !mapped_value<Row>) check_row_names<Row>(stmt);
  stmt.bind(args...);
  return rows<Row>(std::move(stmt));
}

// Runs `stmt`, an INSERT, UPDATE or DELETE, to its end, gives it back (the release resets it:
// once, not after run() too), and returns the rows it changed: sqlite3_changes().
inline std::int64_t run_update(connection& db, statement_lease& stmt) {
  while (stmt.step()) {
  }
  const std::int64_t changed = db.changes();
  stmt.release();
  return changed;
}

// As run_update, for any statement. sqlite3_changes() keeps the count of the last INSERT,
// UPDATE or DELETE when `stmt` is none of those (DDL, a SELECT, a PRAGMA): a statement that
// left total_changes() as it was changed nothing.
inline std::int64_t run_counting_changes(connection& db, statement_lease& stmt) {
  const std::int64_t before = db.total_changes();
  const std::int64_t changed = run_update(db, stmt);
  return db.total_changes() == before ? 0 : changed;
}

}  // namespace detail

template <detail::row_type Row, class... Args>
[[nodiscard]] rows<Row> query(connection& db, std::string_view sql, const Args&... args) {
  static_assert(detail::check_query_row<Row>() || true);  // its static_asserts name the row type, field and type
  return detail::run_query<Row>(db.cached(sql), args...);
}

template <detail::row_type Row, const auto& Text, class... Args>
[[nodiscard]] rows<Row> query(connection& db, sql_constant<Text> sql, const Args&... args) {
  static_assert(detail::check_query_row<Row>() || true);  // its static_asserts name the row type, field and type
  return detail::run_query<Row>(db.cached(sql), args...);
}

// As query, with the columns mapped to the fields by position only, whatever their names:
// for results whose columns cannot carry the fields' names.
template <detail::row_type Row, class... Args>
[[nodiscard]] rows<Row> query(connection& db, by_position_t, std::string_view sql, const Args&... args) {
  return detail::run_query<Row, false>(db.cached(sql), args...);
}

template <detail::row_type Row, const auto& Text, class... Args>
[[nodiscard]] rows<Row> query(connection& db, by_position_t, sql_constant<Text> sql, const Args&... args) {
  return detail::run_query<Row, false>(db.cached(sql), args...);
}

// Runs a statement that returns no rows (or whose rows are not wanted); returns the number
// of rows it changed.
template <class... Args>
std::int64_t execute(connection& db, std::string_view sql, const Args&... args) {
  auto stmt = db.cached(sql);
  stmt.bind_refs(args...);  // the arguments outlive the run
  return detail::run_counting_changes(db, stmt);
}

template <const auto& Text, class... Args>
std::int64_t execute(connection& db, sql_constant<Text> sql, const Args&... args) {
  auto stmt = db.cached(sql);
  stmt.bind_refs(args...);  // the arguments outlive the run
  return detail::run_counting_changes(db, stmt);
}

}  // namespace cpm
