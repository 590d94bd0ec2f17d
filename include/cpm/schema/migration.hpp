// cpm: versioned migrations.
//
// A migration is an ordered list of steps, each a version, a name, and either SQL or a C++
// function. cpm::migrate applies the steps newer than the database, each in its own
// transaction, and records each one twice: in PRAGMA user_version and in the history table
// cpm_migrations(version, name, applied_at). Running it again does nothing. A database newer
// than the code is refused (cpm::schema_too_new) and left untouched; a failing step is rolled
// back completely and reported as cpm::migration_error naming the step.
//
//   static const cpm::migration steps[] = {
//     {1, "create notes", "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT NOT NULL)"},
//     {2, "index notes", "CREATE INDEX notes_text ON notes(text)"},
//   };
//   cpm::migrate(db, steps);
#pragma once

#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/sqlite/transaction.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpm {

struct migration {
  int version = 0;
  std::string name{};
  std::string sql{};                          // a script, run with connection::exec
  std::function<void(connection&)> apply{};   // or a function, run after the SQL (if any)
  // Run with foreign keys switched off (outside the transaction, as SQLite requires), for
  // steps that rebuild tables; PRAGMA foreign_key_check must pass before the step commits.
  bool foreign_keys_off = false;
};

struct migration_report {
  int from = 0;                  // the version found
  int to = 0;                    // the version now
  std::vector<int> applied{};    // the steps run, in order
};

// The database was written by newer code than this.
class schema_too_new : public error {
 public:
  schema_too_new(int database_version, int code_version)
      : error(fmt::format("cpm: the database is at schema version {}, newer than this code knows ({}); "
                          "it was left untouched",
                          database_version, code_version)),
        database_(database_version),
        code_(code_version) {}
  [[nodiscard]] int database_version() const noexcept { return database_; }
  [[nodiscard]] int code_version() const noexcept { return code_; }

 private:
  int database_;
  int code_;
};

// A step failed; it was rolled back. what() names the step and the cause.
class migration_error : public error {
 public:
  migration_error(int version, std::string name, const std::string& cause)
      : error(fmt::format("cpm: migration {} '{}' failed and was rolled back: {}", version, name, cause)),
        version_(version),
        name_(std::move(name)) {}
  [[nodiscard]] int version() const noexcept { return version_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  int version_;
  std::string name_;
};

// A foreign key check found rows that point nowhere.
class foreign_key_check_error : public error {
 public:
  struct violation {
    std::string table;
    std::int64_t rowid = 0;
    std::string parent;
  };
  explicit foreign_key_check_error(std::vector<violation> found)
      : error(describe(found)), violations_(std::move(found)) {}
  [[nodiscard]] const std::vector<violation>& violations() const noexcept { return violations_; }

 private:
  static std::string describe(const std::vector<violation>& found) {
    std::string text = fmt::format("cpm: {} row(s) violate foreign keys", found.size());
    for (std::size_t i = 0; i < found.size() && i < 5; ++i)
      text += fmt::format("{} {} row {} -> {}", i ? ";" : ":", found[i].table, found[i].rowid, found[i].parent);
    return text;
  }
  std::vector<violation> violations_;
};

// PRAGMA user_version.
inline int schema_version(connection& db) {
  auto stmt = db.cached(sql<"PRAGMA user_version">);
  stmt.step();
  return stmt.column<int>(0);
}

// Every row PRAGMA foreign_key_check reports (empty when all references resolve).
inline std::vector<foreign_key_check_error::violation> foreign_key_violations(connection& db) {
  std::vector<foreign_key_check_error::violation> found;
  auto stmt = db.prepare("PRAGMA foreign_key_check");
  while (stmt.step()) {
    foreign_key_check_error::violation v;
    v.table = stmt.column<std::string>(0);
    v.rowid = stmt.column<std::optional<std::int64_t>>(1).value_or(0);
    v.parent = stmt.column<std::string>(2);
    found.push_back(std::move(v));
  }
  return found;
}

namespace detail {

inline void check_steps(std::span<const migration> steps) {
  int previous = 0;
  for (const auto& step : steps) {
    if (step.version <= previous)
      throw usage_error(fmt::format("cpm: migration versions must increase from 1; {} '{}' follows {}", step.version,
                                    step.name, previous));
    if (step.sql.empty() && !step.apply)
      throw usage_error(fmt::format("cpm: migration {} '{}' has neither SQL nor a function", step.version, step.name));
    previous = step.version;
  }
}

inline void set_foreign_keys(connection& db, bool on) {
  db.exec(on ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
}

inline bool foreign_keys_on(connection& db) {
  auto stmt = db.prepare("PRAGMA foreign_keys");
  return stmt.step() && stmt.column<int>(0) != 0;
}

// what() of the exception being handled, for one that is not a std::exception too.
inline std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

// Runs one step in its own transaction; returns false when another connection applied it first.
inline bool apply_step(connection& db, const migration& step) {
  transaction tx(db, tx_mode::immediate);
  if (schema_version(db) >= step.version) return false;  // someone else got here first
  db.exec(
      "CREATE TABLE IF NOT EXISTS cpm_migrations("
      "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)");
  if (!step.sql.empty()) db.exec(step.sql);
  if (step.apply) step.apply(db);
  if (step.foreign_keys_off) {
    if (auto found = foreign_key_violations(db); !found.empty()) throw foreign_key_check_error(std::move(found));
  }
  auto record = db.cached(sql<"INSERT INTO cpm_migrations(version, name) VALUES (?, ?)">);
  record.bind(step.version, step.name);
  record.run();
  db.exec(fmt::format("PRAGMA user_version = {}", step.version));
  tx.commit();
  return true;
}

}  // namespace detail

// The version the steps lead to.
inline int target_version(std::span<const migration> steps) { return steps.empty() ? 0 : steps.back().version; }

// Applies the steps newer than the database. Must not be called inside a transaction.
inline migration_report migrate(connection& db, std::span<const migration> steps) {
  detail::check_steps(steps);
  if (db.in_transaction()) throw usage_error("cpm: migrate runs each step in its own transaction; call it outside one");
  migration_report report;
  report.from = schema_version(db);
  report.to = report.from;
  const int target = target_version(steps);
  if (report.from > target) throw schema_too_new(report.from, target);
  for (const auto& step : steps) {
    if (step.version <= report.to) continue;
    // Foreign keys go back to what they were whatever the step throws: left off, the
    // connection's cascades and SET NULLs would silently stop.
    const bool keys_were_on = step.foreign_keys_off && detail::foreign_keys_on(db);
    if (keys_were_on) detail::set_foreign_keys(db, false);
    try {
      if (detail::apply_step(db, step)) report.applied.push_back(step.version);
    } catch (...) {
      if (keys_were_on) detail::set_foreign_keys(db, true);
      // The cause stays reachable with std::rethrow_if_nested.
      std::throw_with_nested(migration_error(step.version, std::string(step.name), detail::current_exception_text()));
    }
    if (keys_were_on) detail::set_foreign_keys(db, true);
    report.to = step.version;
  }
  return report;
}

}  // namespace cpm
