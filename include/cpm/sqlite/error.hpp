// cpm: the typed errors of the sqlite layer.
//
//   cpm::error                       every error cpm throws
//   ├─ cpm::sqlite_error             SQLite said no: extended code, SQLite's message, the SQL
//   │  ├─ cpm::open_error            opening a database failed (carries the path)
//   │  ├─ cpm::busy_error            SQLITE_BUSY / SQLITE_LOCKED after the busy timeout
//   │  ├─ cpm::readonly_error        a write to a read-only database
//   │  ├─ cpm::io_error              disk I/O failed or the disk is full
//   │  ├─ cpm::corrupt_error         the file is not a database, or is damaged
//   │  └─ cpm::constraint_error      a constraint failed
//   │     ├─ cpm::unique_violation       UNIQUE / PRIMARY KEY (table, columns)
//   │     ├─ cpm::foreign_key_violation  FOREIGN KEY
//   │     ├─ cpm::check_violation        CHECK (the constraint's text)
//   │     └─ cpm::not_null_violation     NOT NULL (table, column)
//   ├─ cpm::value_error              a value did not fit its column or parameter
//   ├─ cpm::not_found                a row that had to exist does not
//   └─ cpm::usage_error              the API was used against its contract
//      └─ cpm::column_count_mismatch a result's columns do not match the row type's fields
#pragma once

#include <cpm/detail/message.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpm {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class usage_error : public error {
 public:
  using error::error;
};

// query<Row>(sql) on a result whose column count is not Row's field count.
class column_count_mismatch : public usage_error {
 public:
  column_count_mismatch(std::size_t expected, std::size_t actual, std::string sql)
      : usage_error(detail::message("cpm: the row type has {} fields but the query returns {} columns: {}", expected,
                                    actual, sql)),
        expected_(expected),
        actual_(actual),
        sql_(std::move(sql)) {}
  [[nodiscard]] std::size_t expected() const noexcept { return expected_; }
  [[nodiscard]] std::size_t actual() const noexcept { return actual_; }
  [[nodiscard]] const std::string& sql() const noexcept { return sql_; }

 private:
  std::size_t expected_;
  std::size_t actual_;
  std::string sql_;
};

class sqlite_error : public error {
 public:
  sqlite_error(int extended_code, std::string message, std::string sql)
      : error(describe(extended_code, message, sql)),
        code_(extended_code),
        message_(std::move(message)),
        sql_(std::move(sql)) {}

  // The primary result code (SQLITE_CONSTRAINT, SQLITE_BUSY, ...).
  [[nodiscard]] int code() const noexcept { return code_ & 0xff; }
  // The extended result code (SQLITE_CONSTRAINT_UNIQUE, SQLITE_BUSY_SNAPSHOT, ...).
  [[nodiscard]] int extended_code() const noexcept { return code_; }
  // SQLite's own message, as sqlite3_errmsg() gave it.
  [[nodiscard]] const std::string& sqlite_message() const noexcept { return message_; }
  // The SQL that failed; empty when the failure was not tied to a statement.
  [[nodiscard]] const std::string& sql() const noexcept { return sql_; }

 private:
  static std::string describe(int code, const std::string& message, const std::string& sql) {
    std::string text = message;
    text += " [sqlite code ";
    text += std::to_string(code);
    text += ']';
    if (!sql.empty()) {
      text += " in: ";
      text += sql;
    }
    return text;
  }

  int code_;
  std::string message_;
  std::string sql_;
};

class open_error : public sqlite_error {
 public:
  open_error(int code, std::string message, std::string path)
      : sqlite_error(code, "cannot open database '" + path + "': " + message, {}),
        path_(std::move(path)) {}
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

class busy_error : public sqlite_error {
 public:
  using sqlite_error::sqlite_error;
};

class readonly_error : public sqlite_error {
 public:
  using sqlite_error::sqlite_error;
};

class io_error : public sqlite_error {
 public:
  using sqlite_error::sqlite_error;
};

class corrupt_error : public sqlite_error {
 public:
  using sqlite_error::sqlite_error;
};

class constraint_error : public sqlite_error {
 public:
  using sqlite_error::sqlite_error;
};

// "UNIQUE constraint failed: users.username" or "...: repositories.org_id, repositories.name"
class unique_violation : public constraint_error {
 public:
  unique_violation(int code, std::string message, std::string sql)
      : constraint_error(code, message, std::move(sql)) {
    constexpr std::string_view prefix = ": ";
    std::string_view rest = message;
    if (auto at = rest.find(prefix); at != std::string_view::npos) rest.remove_prefix(at + prefix.size());
    while (!rest.empty()) {
      auto comma = rest.find(", ");
      std::string_view item = rest.substr(0, comma);
      if (auto dot = item.find('.'); dot != std::string_view::npos) {
        table_ = std::string(item.substr(0, dot));
        columns_.emplace_back(item.substr(dot + 1));
      } else {
        columns_.emplace_back(item);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 2);
    }
  }
  [[nodiscard]] const std::string& table() const noexcept { return table_; }
  [[nodiscard]] const std::vector<std::string>& columns() const noexcept { return columns_; }

 private:
  std::string table_;
  std::vector<std::string> columns_;
};

class foreign_key_violation : public constraint_error {
 public:
  using constraint_error::constraint_error;
};

// "CHECK constraint failed: access_level IN ('read', 'write', 'admin')"
class check_violation : public constraint_error {
 public:
  check_violation(int code, std::string message, std::string sql)
      : constraint_error(code, message, std::move(sql)) {
    if (auto at = message.find(": "); at != std::string::npos) constraint_ = message.substr(at + 2);
  }
  [[nodiscard]] const std::string& constraint() const noexcept { return constraint_; }

 private:
  std::string constraint_;
};

// "NOT NULL constraint failed: users.email"
class not_null_violation : public constraint_error {
 public:
  not_null_violation(int code, std::string message, std::string sql)
      : constraint_error(code, message, std::move(sql)) {
    if (auto at = message.find(": "); at != std::string::npos) {
      std::string_view item = std::string_view(message).substr(at + 2);
      if (auto dot = item.find('.'); dot != std::string_view::npos) {
        table_ = std::string(item.substr(0, dot));
        column_ = std::string(item.substr(dot + 1));
      } else {
        column_ = std::string(item);
      }
    }
  }
  [[nodiscard]] const std::string& table() const noexcept { return table_; }
  [[nodiscard]] const std::string& column() const noexcept { return column_; }

 private:
  std::string table_;
  std::string column_;
};

// A value that cannot be stored in, or read from, a column or parameter as the C++ type asks.
class value_error : public error {
 public:
  enum class kind {
    null_value,     // NULL read into a type that cannot hold it
    out_of_range,   // an integer that does not fit the C++ type (or SQLite's int64)
    bad_timestamp,  // text that is no timestamp layout cpm reads
    bad_enum,       // a value no enumerator is mapped to
    type_mismatch,  // a storage class the C++ type cannot be read from
  };

  value_error(kind k, std::string column, std::string detail)
      : error("column '" + column + "': " + detail), kind_(k), column_(std::move(column)) {}

  [[nodiscard]] kind what_kind() const noexcept { return kind_; }
  // The column's name for reads, "parameter N" for binds.
  [[nodiscard]] const std::string& column() const noexcept { return column_; }

 private:
  kind kind_;
  std::string column_;
};

class not_found : public error {
 public:
  using error::error;
};

namespace detail {

// Throws the error type that matches SQLite's extended result code.
[[noreturn]] inline void throw_sqlite(int code, std::string message, std::string sql) {
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      throw unique_violation(code, std::move(message), std::move(sql));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      throw foreign_key_violation(code, std::move(message), std::move(sql));
    case SQLITE_CONSTRAINT_CHECK:
      throw check_violation(code, std::move(message), std::move(sql));
    case SQLITE_CONSTRAINT_NOTNULL:
      throw not_null_violation(code, std::move(message), std::move(sql));
    default:
      break;
  }
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
      throw constraint_error(code, std::move(message), std::move(sql));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      if (code == SQLITE_BUSY_SNAPSHOT)
        message += " (another connection wrote after this transaction's snapshot began, so it cannot write: "
                   "roll back and run the whole transaction again, or begin it with tx_mode::immediate)";
      throw busy_error(code, std::move(message), std::move(sql));
    case SQLITE_READONLY:
      throw readonly_error(code, std::move(message), std::move(sql));
    case SQLITE_IOERR:
    case SQLITE_FULL:
      throw io_error(code, std::move(message), std::move(sql));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      throw corrupt_error(code, std::move(message), std::move(sql));
    default:
      throw sqlite_error(code, std::move(message), std::move(sql));
  }
}

// Throws for a failed call on `db`; the message and extended code come from the connection.
[[noreturn]] inline void throw_sqlite(sqlite3* db, int rc, std::string_view sql = {}) {
  int code = db ? sqlite3_extended_errcode(db) : rc;
  // sqlite3_extended_errcode() may have been overwritten by a later call; trust rc's primary.
  if ((code & 0xff) != (rc & 0xff)) code = rc;
  std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw_sqlite(code, std::move(message), std::string(sql));
}

}  // namespace detail
}  // namespace cpm
