// cpm: prepared statements.
//
//   cpm::statement        owns a sqlite3_stmt (move-only); from connection::prepare
//   cpm::statement_lease  borrows one from the connection's statement cache and gives it back,
//                         reset, when it goes out of scope; from connection::cached
// (Both are defined in cpm/sqlite/connection.hpp: each keeps its connection's state alive.)
//
// Both offer the same operations: bind by position (1-based, through cpm::value_traits),
// step, reset, and column reads (0-based, checked against the column count).
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/sqlite/value.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace cpm {

namespace detail {

struct statement_finalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

// True when `tail` holds nothing but whitespace, semicolons and comments.
constexpr bool only_trivia(std::string_view tail) noexcept {
  std::size_t i = 0;
  while (i < tail.size()) {
    char c = tail[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' || c == '\f' || c == '\v') {
      ++i;
    } else if (tail.substr(i, 2) == "--") {
      i = tail.find('\n', i);
      if (i == std::string_view::npos) return true;
    } else if (tail.substr(i, 2) == "/*") {
      i = tail.find("*/", i + 2);
      if (i == std::string_view::npos) return true;
      i += 2;
    } else {
      return false;
    }
  }
  return true;
}

// True when PRAGMA query_only is on for `db` (asked only on the error path).
[[gnu::cold]] inline bool is_query_only(sqlite3* db) noexcept {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA query_only", -1, &stmt, nullptr) != SQLITE_OK) return false;
  bool on = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) != 0;
  sqlite3_finalize(stmt);
  return on;
}

// Prepares exactly one statement; throws naming the SQL and SQLite's message.
inline statement_ptr prepare(sqlite3* db, std::string_view sql, unsigned flags) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &raw, &tail);
  statement_ptr stmt(raw);
  if (rc != SQLITE_OK) throw_sqlite(db, rc, sql);
  if (!stmt) throw usage_error("cpm: no SQL statement to prepare in: '" + std::string(sql) + "'");
  if (tail && !only_trivia(std::string_view(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail))))
    throw usage_error("cpm: prepare takes one SQL statement (use connection::exec for scripts): " + std::string(sql));
  return stmt;
}

}  // namespace detail

// The operations on a prepared statement, shared by statement and statement_lease.
class statement_base {
 public:
  // Binds `args` to parameters 1..N; N must be the statement's parameter count.
  template <class... Args>
  void bind(const Args&... args) {
    check_parameter_count(sizeof...(Args));
    bind_from(1, args...);
  }

  // As bind, with bind_ref: the arguments must outlive the statement's run.
  template <class... Args>
  void bind_refs(const Args&... args) {
    check_parameter_count(sizeof...(Args));
    int index = 1;
    (bind_ref(index++, args), ...);
  }

  // Binds `args` to parameters first, first+1, ... without checking the total count.
  template <class... Args>
  void bind_from(int first, const Args&... args) {
    int index = first;
    (bind_at(index++, args), ...);
  }

  // Binds `value` to parameter `index`. Text and blobs are copied into the statement, so the
  // value may die before the statement runs.
  template <class T>
  void bind_at(int index, const T& value) {
    static_assert(bindable_value<T>, "cpm: this type has no cpm::value_traits<T>::bind; specialise value_traits for it");
    value_traits<T>::bind(parameter(stmt_, index), value);
  }

  // As bind_at, but the bytes of a string or blob held inside `value` are bound without a copy:
  // `value` must stay alive and unchanged until the statement is reset. (A value_traits that
  // builds the bound text itself still has it copied; see cpm::parameter.)
  template <class T>
  void bind_ref(int index, const T& value) {
    static_assert(bindable_value<T>, "cpm: this type has no cpm::value_traits<T>::bind; specialise value_traits for it");
    value_traits<T>::bind(parameter(stmt_, index, true), value);
  }

  // Advances to the next row: true when a row is ready, false when the statement is done.
  // On error the statement is reset and the typed error thrown. Inside a cpm::read_snapshot,
  // a statement that writes is refused before it runs (cpm::readonly_error).
  [[gnu::always_inline]] bool step() {
    if (*read_only_ && !sqlite3_stmt_readonly(stmt_)) [[unlikely]]
      refuse_write();
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(rc);
  }

  // Runs the statement to its end, ignoring any rows, then resets it.
  void run() {
    while (step()) {
    }
    reset();
  }

  // Ends the current execution (and the read transaction it holds); bindings stay.
  void reset() noexcept { sqlite3_reset(stmt_); }

  [[nodiscard]] int column_count() const noexcept { return sqlite3_column_count(stmt_); }
  [[nodiscard]] int parameter_count() const noexcept { return sqlite3_bind_parameter_count(stmt_); }

  // Reads column `index` (0-based) of the current row as T.
  template <mapped_value T>
  [[nodiscard]] T column(int index) const {
    T out{};
    read_column(index, out);
    return out;
  }

  template <mapped_value T>
  void read_column(int index, T& out) const {
    if (index < 0 || index >= column_count())
      throw usage_error(detail::message("cpm: column {} requested, but the statement has {} columns: {}", index,
                                        column_count(), sql()));
    value_traits<T>::read(field(stmt_, index), out);
  }

  [[nodiscard]] std::string_view sql() const noexcept {
    const char* text = sqlite3_sql(stmt_);
    return text ? std::string_view(text) : std::string_view();
  }
  [[nodiscard]] sqlite3_stmt* native() const noexcept { return stmt_; }
  explicit operator bool() const noexcept { return stmt_ != nullptr; }

 protected:
  statement_base() = default;
  // `read_only`: true while the statement's connection must not write (a read snapshot is
  // active); it outlives the statement.
  statement_base(sqlite3_stmt* stmt, const bool* read_only) noexcept : stmt_(stmt), read_only_(read_only) {}

  void check_parameter_count(std::size_t given) const {
    int expected = sqlite3_bind_parameter_count(stmt_);
    if (expected != static_cast<int>(given))
      throw usage_error(detail::message("cpm: the statement has {} parameters but {} values were given: {}", expected,
                                        given, sql()));
  }

  [[noreturn, gnu::cold, gnu::noinline]] void fail(int rc) {
    sqlite3* db = sqlite3_db_handle(stmt_);
    int code = sqlite3_extended_errcode(db);
    if ((code & 0xff) != (rc & 0xff)) code = rc;
    std::string message = sqlite3_errmsg(db);
    sqlite3_reset(stmt_);
    if ((code & 0xff) == SQLITE_READONLY && detail::is_query_only(db))
      message += " (the connection is query-only: PRAGMA query_only is on, as on a cpm::pool's readers; "
                 "write through a connection that may write)";
    detail::throw_sqlite(code, std::move(message), std::string(sql()));
  }

  [[noreturn, gnu::cold, gnu::noinline]] void refuse_write() {
    throw readonly_error(SQLITE_READONLY,
                         "a statement that writes, inside a cpm::read_snapshot, which is read-only; write in a "
                         "cpm::transaction instead (its reads see one snapshot too)",
                         std::string(sql()));
  }

  static constexpr bool never = false;
  sqlite3_stmt* stmt_ = nullptr;
  const bool* read_only_ = &never;
};


}  // namespace cpm
