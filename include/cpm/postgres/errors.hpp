// cpm: the typed errors of the PostgreSQL layer.
//
// A server error is mapped from its SQLSTATE to the same typed error the SQLite layer throws,
// so that one catch clause serves both backends:
//
//   SQLSTATE                 thrown                          is-a (catch it as)
//   23505                    cpm::pg::unique_violation       cpm::unique_violation
//   23503                    cpm::pg::foreign_key_violation  cpm::foreign_key_violation
//   23514                    cpm::pg::check_violation        cpm::check_violation
//   23502                    cpm::pg::not_null_violation     cpm::not_null_violation
//   other 23xxx              cpm::pg::constraint_error       cpm::constraint_error
//   40001                    cpm::pg::serialization_failure  cpm::busy_error (retryable)
//   40P01                    cpm::pg::deadlock               cpm::busy_error (retryable)
//   25006                    cpm::pg::read_only_transaction  cpm::readonly_error
//   class 22 (data)          cpm::pg::data_error             cpm::value_error
//   57P01-57P03, class 08,   cpm::pg::connection_lost        cpm::pg::error
//     or the connection is gone
//   anything else            cpm::pg::error                  cpm::error
// Connecting fails with cpm::pg::connect_error (a cpm::pg::error).
//
// Every one of them also is-a cpm::pg::diagnostics: sqlstate(), the server's primary message,
// detail (which holds the offending value: "Key (login)=(alice) already exists."), hint,
// and the schema, table, column and constraint the server names; sql() is the statement that
// failed. what() reads "<message>: <detail> [SQLSTATE 23505] in: <sql>".
//
// The shared constraint errors keep their accessors: unique_violation::table() and
// columns() (from the "Key (a, b)=..." detail), check_violation::constraint() (the
// constraint's name), not_null_violation::table() and column(). Their code() and
// extended_code() give the SQLite result code of the same kind (SQLITE_CONSTRAINT_UNIQUE, ...,
// SQLITE_BUSY for the retryable ones), so that code written against the SQLite layer reads
// them alike; the SQLSTATE is sqlstate().
#pragma once

#include <cpm/sqlite/error.hpp>

#include <libpq-fe.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpm::pg {

// What the server said about an error.
struct error_fields {
  std::string sqlstate;    // five characters; empty when the client failed (connection lost)
  std::string message;     // the primary message
  std::string detail;
  std::string hint;
  std::string schema;
  std::string table;
  std::string column;
  std::string constraint;
  std::string sql;         // the statement that failed; empty when none
};

// The server's account of an error, carried by every error of this layer.
class diagnostics {
 public:
  explicit diagnostics(error_fields f) : f_(std::move(f)) {}
  virtual ~diagnostics() = default;
  diagnostics(const diagnostics&) = default;
  diagnostics& operator=(const diagnostics&) = default;
  diagnostics(diagnostics&&) noexcept = default;
  diagnostics& operator=(diagnostics&&) noexcept = default;

  [[nodiscard]] const std::string& sqlstate() const noexcept { return f_.sqlstate; }
  [[nodiscard]] const std::string& server_message() const noexcept { return f_.message; }
  [[nodiscard]] const std::string& detail() const noexcept { return f_.detail; }
  [[nodiscard]] const std::string& hint() const noexcept { return f_.hint; }
  [[nodiscard]] const std::string& schema_name() const noexcept { return f_.schema; }
  [[nodiscard]] const std::string& table_name() const noexcept { return f_.table; }
  [[nodiscard]] const std::string& column_name() const noexcept { return f_.column; }
  [[nodiscard]] const std::string& constraint_name() const noexcept { return f_.constraint; }
  [[nodiscard]] const std::string& statement() const noexcept { return f_.sql; }
  [[nodiscard]] const error_fields& fields() const noexcept { return f_; }
  // True when running the whole transaction again may succeed (serialization failure,
  // deadlock).
  [[nodiscard]] virtual bool retryable() const noexcept { return false; }

  // "<message>: <detail> (hint: <hint>) [SQLSTATE xxxxx] in: <sql>"
  [[nodiscard]] static std::string describe(const error_fields& f) {
    std::string text = f.message.empty() ? std::string("PostgreSQL error") : f.message;
    if (!f.detail.empty()) {
      text += ": ";
      text += f.detail;
    }
    if (!f.hint.empty()) {
      text += " (hint: ";
      text += f.hint;
      text += ')';
    }
    if (!f.sqlstate.empty()) {
      text += " [SQLSTATE ";
      text += f.sqlstate;
      text += ']';
    }
    if (!f.sql.empty()) {
      text += " in: ";
      text += f.sql;
    }
    return text;
  }

 private:
  error_fields f_;
};

// A server error no more specific type below covers (a syntax error, a missing table, ...).
class error : public cpm::error, public diagnostics {
 public:
  explicit error(error_fields f) : cpm::error(describe(f)), diagnostics(std::move(f)) {}
};

// The connection is gone: the server ended the session (pg_terminate_backend, a shutdown) or
// the network failed. Whatever the open transaction wrote is rolled back by the server; the
// connection cannot be used again: open a new one.
class connection_lost : public error {
 public:
  using error::error;
};

// Connecting failed (no server there, authentication refused, a bad connection string).
class connect_error : public error {
 public:
  using error::error;
};

namespace detail {

// The shared SQLite-layer type E, with PostgreSQL's text as what().
template <class E>
class mapped : public E, public diagnostics {
 public:
  template <class... Base>
  mapped(error_fields f, Base&&... base)
      : E(std::forward<Base>(base)...), diagnostics(std::move(f)), what_(describe(fields())) {}
  [[nodiscard]] const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

// "table.col1, table.col2" from the detail "Key (col1, col2)=(...) already exists.".
inline std::string key_columns(const error_fields& f) {
  std::string_view d = f.detail;
  std::string out;
  constexpr std::string_view open = "Key (";
  auto at = d.find(open);
  auto end = d.find(")=(");
  if (at == std::string_view::npos || end == std::string_view::npos || end < at) return out;
  std::string_view list = d.substr(at + open.size(), end - at - open.size());
  while (!list.empty()) {
    auto comma = list.find(", ");
    std::string_view item = list.substr(0, comma);
    if (!out.empty()) out += ", ";
    if (!f.table.empty()) {
      out += f.table;
      out += '.';
    }
    out += item;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 2);
  }
  return out;
}

}  // namespace detail

class unique_violation : public detail::mapped<cpm::unique_violation> {
 public:
  explicit unique_violation(error_fields f)
      : mapped(f, SQLITE_CONSTRAINT_UNIQUE, "UNIQUE constraint failed: " + detail::key_columns(f), f.sql) {}
};

class foreign_key_violation : public detail::mapped<cpm::foreign_key_violation> {
 public:
  explicit foreign_key_violation(error_fields f)
      : mapped(f, SQLITE_CONSTRAINT_FOREIGNKEY, "FOREIGN KEY constraint failed", f.sql) {}
};

class check_violation : public detail::mapped<cpm::check_violation> {
 public:
  explicit check_violation(error_fields f)
      : mapped(f, SQLITE_CONSTRAINT_CHECK, "CHECK constraint failed: " + f.constraint, f.sql) {}
};

class not_null_violation : public detail::mapped<cpm::not_null_violation> {
 public:
  explicit not_null_violation(error_fields f)
      : mapped(f, SQLITE_CONSTRAINT_NOTNULL,
               "NOT NULL constraint failed: " + (f.table.empty() ? f.column : f.table + "." + f.column), f.sql) {}
};

// Another integrity constraint (an exclusion constraint, 23P01, ...).
class constraint_error : public detail::mapped<cpm::constraint_error> {
 public:
  explicit constraint_error(error_fields f) : mapped(f, SQLITE_CONSTRAINT, f.message, f.sql) {}
};

// 40001: the transaction could not be serialized with a concurrent one. Roll back and run the
// whole transaction again. (A cpm::busy_error, as SQLite's SQLITE_BUSY_SNAPSHOT is.)
class serialization_failure : public detail::mapped<cpm::busy_error> {
 public:
  explicit serialization_failure(error_fields f) : mapped(f, SQLITE_BUSY, f.message, f.sql) {}
  [[nodiscard]] bool retryable() const noexcept override { return true; }
};

// 40P01: the server broke a deadlock by aborting this transaction. Roll back and run it again.
class deadlock : public detail::mapped<cpm::busy_error> {
 public:
  explicit deadlock(error_fields f) : mapped(f, SQLITE_BUSY, f.message, f.sql) {}
  [[nodiscard]] bool retryable() const noexcept override { return true; }
};

// 25006: a write inside a read-only transaction (cpm::pg::read_snapshot).
class read_only_transaction : public detail::mapped<cpm::readonly_error> {
 public:
  explicit read_only_transaction(error_fields f) : mapped(f, SQLITE_READONLY, f.message, f.sql) {}
};

// Class 22: the server refused a value (out of range for its column, not valid UTF-8 text, a
// NUL byte in text, a malformed literal). A cpm::value_error: out_of_range for 22003 and 22008,
// type_mismatch otherwise; column() names the column when the server does, else "parameter".
class data_error : public detail::mapped<cpm::value_error> {
 public:
  explicit data_error(error_fields f)
      : mapped(f,
               f.sqlstate == "22003" || f.sqlstate == "22008" ? value_error::kind::out_of_range
                                                              : value_error::kind::type_mismatch,
               f.column.empty() ? std::string("parameter") : f.column, f.message) {}
};

namespace detail {

inline std::string field_text(const PGresult* res, int code) {
  const char* v = res ? PQresultErrorField(res, code) : nullptr;
  return v ? std::string(v) : std::string();
}

// True for the SQLSTATEs of a session the server ended, and of the connection classes.
inline bool is_connection_state(std::string_view state) noexcept {
  return state == "57P01" || state == "57P02" || state == "57P03" || state.substr(0, 2) == "08";
}

// Throws the error type for `fields`. `bad`: the connection is gone (PQstatus).
[[noreturn]] inline void throw_fields(error_fields f, bool bad) {
  const std::string& s = f.sqlstate;
  if (bad || is_connection_state(s)) {
    if (f.message.empty()) f.message = "the connection to the server was lost";
    throw connection_lost(std::move(f));
  }
  if (s == "23505") throw unique_violation(std::move(f));
  if (s == "23503") throw foreign_key_violation(std::move(f));
  if (s == "23514") throw check_violation(std::move(f));
  if (s == "23502") throw not_null_violation(std::move(f));
  if (s.substr(0, 2) == "23") throw constraint_error(std::move(f));
  if (s == "40001") throw serialization_failure(std::move(f));
  if (s == "40P01") throw deadlock(std::move(f));
  if (s == "25006") throw read_only_transaction(std::move(f));
  if (s.substr(0, 2) == "22") throw data_error(std::move(f));
  throw error(std::move(f));
}

// libpq's message without its trailing newline.
inline std::string trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Throws for a failed result `res` (may be null: the connection's message is used) of `sql`.
[[noreturn]] inline void throw_result(PGconn* conn, const PGresult* res, std::string_view sql) {
  error_fields f;
  f.sqlstate = field_text(res, PG_DIAG_SQLSTATE);
  f.message = field_text(res, PG_DIAG_MESSAGE_PRIMARY);
  if (f.message.empty()) f.message = trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (f.message.empty() && conn) f.message = trimmed(PQerrorMessage(conn));
  f.detail = field_text(res, PG_DIAG_MESSAGE_DETAIL);
  f.hint = field_text(res, PG_DIAG_MESSAGE_HINT);
  f.schema = field_text(res, PG_DIAG_SCHEMA_NAME);
  f.table = field_text(res, PG_DIAG_TABLE_NAME);
  f.column = field_text(res, PG_DIAG_COLUMN_NAME);
  f.constraint = field_text(res, PG_DIAG_CONSTRAINT_NAME);
  f.sql = std::string(sql);
  throw_fields(std::move(f), conn == nullptr || PQstatus(conn) == CONNECTION_BAD);
}

}  // namespace detail
}  // namespace cpm::pg
