// cpm: versioned migrations, each component of a database with a history of its own.
//
// A migration is an ordered list of steps, each a version, a name, and either SQL or a C++
// function. cpm::migrate(db, component, steps) applies the steps newer than what the history
// records for `component`, each in its own transaction, and records each one in
// cpm_schema_history(component, version, name, checksum, applied_at). Several components
// share one file (cpm's store is "cpm.store"; an application adds its own), and each refuses
// only what is newer *for itself*. Running it again does nothing. A database whose history of
// the component is newer than the code is refused (cpm::schema_too_new) and left untouched; a
// failing step is rolled back completely and reported as cpm::migration_error naming the step;
// an applied step whose SQL was edited since is refused (cpm::migration_changed) until the
// change is accepted with cpm::accept_migration_change.
//
//   static const cpm::migration steps[] = {
//     {1, "create notes", "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT NOT NULL)"},
//     {2, "index notes", "CREATE INDEX notes_text ON notes(text)"},
//   };
//   cpm::migrate(db, "notes-app", steps);
#pragma once

#include <cpm/detail/message.hpp>
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

// The database was written by newer code than this (for one component).
class schema_too_new : public error {
 public:
  schema_too_new(std::string component, int database_version, int code_version)
      : error(detail::message("cpm: the database is at schema version {} of '{}', newer than this code knows ({}); "
                              "it was left untouched",
                              database_version, component, code_version)),
        component_(std::move(component)),
        database_(database_version),
        code_(code_version) {}
  [[nodiscard]] const std::string& component() const noexcept { return component_; }
  [[nodiscard]] int database_version() const noexcept { return database_; }
  [[nodiscard]] int code_version() const noexcept { return code_; }

 private:
  std::string component_;
  int database_;
  int code_;
};

// An applied step's SQL differs from what was applied (its checksum changed).
class migration_changed : public error {
 public:
  migration_changed(std::string component, int version, std::string name, std::string applied, std::string now)
      : error(detail::message("cpm: migration {} '{}' of '{}' was changed after it was applied (checksum {} applied, "
                              "{} now); restore its SQL, or accept the change with "
                              "cpm::accept_migration_change(db, \"{}\", steps, {})",
                              version, name, component, applied, now, component, version)),
        component_(std::move(component)),
        version_(version),
        name_(std::move(name)) {}
  [[nodiscard]] const std::string& component() const noexcept { return component_; }
  [[nodiscard]] int version() const noexcept { return version_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  std::string component_;
  int version_;
  std::string name_;
};

// A step failed; it was rolled back. what() names the step and the cause.
class migration_error : public error {
 public:
  migration_error(int version, std::string name, const std::string& cause)
      : error(detail::message("cpm: migration {} '{}' failed and was rolled back: {}", version, name, cause)),
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
    std::string text = detail::message("cpm: {} row(s) violate foreign keys", found.size());
    for (std::size_t i = 0; i < found.size() && i < 5; ++i)
      text += detail::message("{} {} row {} -> {}", i ? ";" : ":", found[i].table, found[i].rowid, found[i].parent);
    return text;
  }
  std::vector<violation> violations_;
};

// PRAGMA user_version: the store's schema version, which the store also writes there for
// readers that ask it (see cpm::migrate_options::record_user_version).
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

struct migrate_options {
  // Also write each version applied to PRAGMA user_version (cpm's store does: readers of the
  // store's version, older cpm among them, ask it there). One component per file at most.
  bool record_user_version = false;
};

struct migration_report {
  std::string component{};
  int from = 0;                  // the version found
  int to = 0;                    // the version now
  std::vector<int> applied{};    // the steps run, in order
};

namespace detail {

inline void check_steps(std::string_view component, std::span<const migration> steps) {
  if (component.empty()) throw usage_error("cpm: migrate needs a component name (\"myapp\", say)");
  int previous = 0;
  for (const auto& step : steps) {
    if (step.version <= previous)
      throw usage_error(detail::message("cpm: migration versions must increase from 1; {} '{}' follows {}", step.version,
                                        step.name, previous));
    if (step.sql.empty() && !step.apply)
      throw usage_error(detail::message("cpm: migration {} '{}' has neither SQL nor a function", step.version, step.name));
    previous = step.version;
  }
}

// What a step's checksum covers: its SQL (a function step's code cannot be read; its name and
// version identify it). FNV-1a, 64 bits, as "fnv1a64:<16 hex digits>".
inline std::string step_checksum(const migration& step) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : step.sql) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return detail::message("fnv1a64:{:016x}", h);
}

// The statements of the schema history, as named constants: a constant is keyed by its
// address, so that its text stays out of mangled names (see cpm::sql_constant).
inline constexpr fixed_string table_exists_sql{"SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?"};
inline constexpr fixed_string history_steps_sql{"SELECT version, name, checksum FROM cpm_schema_history WHERE component = ? ORDER BY version"};
inline constexpr fixed_string history_version_sql{"SELECT coalesce(max(version), 0) FROM cpm_schema_history WHERE component = ?"};
inline constexpr fixed_string history_record_sql{"INSERT INTO cpm_schema_history(component, version, name, checksum) VALUES (?, ?, ?, ?)"};

inline bool table_exists(connection& db, std::string_view name) {
  auto stmt = db.cached(sql_constant<table_exists_sql>{});
  stmt.bind(name);
  return stmt.step();
}

inline constexpr std::string_view history_table_sql =
    "CREATE TABLE IF NOT EXISTS cpm_schema_history("
    "component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL, "
    "applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (component, version))";

struct applied_step {
  int version = 0;
  std::string name;
  std::string checksum;
};

// The component's history, oldest first (empty when nothing is recorded).
inline std::vector<applied_step> applied_steps(connection& db, std::string_view component) {
  std::vector<applied_step> out;
  if (!table_exists(db, "cpm_schema_history")) return out;
  auto stmt = db.cached(sql_constant<history_steps_sql>{});
  stmt.bind(component);
  while (stmt.step()) out.push_back({stmt.column<int>(0), stmt.column<std::string>(1), stmt.column<std::string>(2)});
  return out;
}

inline int recorded_version(connection& db, std::string_view component) {
  if (!table_exists(db, "cpm_schema_history")) return 0;
  auto stmt = db.cached(sql_constant<history_version_sql>{});
  stmt.bind(component);
  stmt.step();
  return stmt.column<int>(0);
}

// Rows of the single history of earlier cpm versions (cpm_migrations, beside user_version)
// that are steps of `steps`: same version, same name.
inline std::vector<const migration*> legacy_steps(connection& db, std::span<const migration> steps) {
  std::vector<const migration*> found;
  if (!table_exists(db, "cpm_migrations")) return found;
  auto stmt = db.prepare("SELECT version, name FROM cpm_migrations ORDER BY version");
  while (stmt.step()) {
    const int version = stmt.column<int>(0);
    const auto name = stmt.column<std::string>(1);
    for (const auto& step : steps)
      if (step.version == version && step.name == name) found.push_back(&step);
  }
  return found;
}

// Carries the steps an earlier cpm recorded in cpm_migrations over into the component's
// history (cpm_migrations itself is kept as it was). Nothing is done once the component has a
// history of its own.
inline void carry_over_legacy(connection& db, std::string_view component, std::span<const migration> steps) {
  if (recorded_version(db, component) > 0) return;
  if (legacy_steps(db, steps).empty()) return;
  transaction tx(db, tx_mode::immediate);
  if (recorded_version(db, component) > 0) return;  // another connection carried them over first
  db.exec(history_table_sql);
  auto record = db.prepare(
      "INSERT INTO cpm_schema_history(component, version, name, checksum, applied_at) "
      "SELECT ?, version, name, ?, applied_at FROM cpm_migrations WHERE version = ?");
  for (const migration* step : legacy_steps(db, steps)) {
    record.bind(component, step_checksum(*step), step->version);
    record.run();
  }
  tx.commit();
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
inline bool apply_step(connection& db, std::string_view component, const migration& step,
                       const migrate_options& options) {
  transaction tx(db, tx_mode::immediate);
  if (recorded_version(db, component) >= step.version) return false;  // someone else got here first
  db.exec(history_table_sql);
  if (!step.sql.empty()) db.exec(step.sql);
  if (step.apply) step.apply(db);
  if (step.foreign_keys_off) {
    if (auto found = foreign_key_violations(db); !found.empty()) throw foreign_key_check_error(std::move(found));
  }
  auto record = db.cached(
      sql_constant<history_record_sql>{});
  record.bind(component, step.version, step.name, step_checksum(step));
  record.run();
  if (options.record_user_version) db.exec(detail::message("PRAGMA user_version = {}", step.version));
  tx.commit();
  return true;
}

// Refuses a history newer than the steps, or an applied step whose SQL changed, before
// anything is written.
inline void check_history(connection& db, std::string_view component, std::span<const migration> steps) {
  const int target = steps.empty() ? 0 : steps.back().version;
  for (const auto& done : applied_steps(db, component)) {
    if (done.version > target) throw schema_too_new(std::string(component), done.version, target);
    for (const auto& step : steps) {
      if (step.version != done.version) continue;
      if (auto now = step_checksum(step); now != done.checksum)
        throw migration_changed(std::string(component), step.version, step.name, done.checksum, now);
    }
  }
}

}  // namespace detail

// The version the steps lead to.
inline int target_version(std::span<const migration> steps) { return steps.empty() ? 0 : steps.back().version; }

// The newest version of `component` recorded in the database (0 when none).
inline int schema_version(connection& db, std::string_view component) {
  return detail::recorded_version(db, component);
}

// Applies the steps of `component` newer than the database. Must not be called inside a
// transaction. Two connections (or processes) migrating at once: one applies each step, the
// other waits for its lock (the busy timeout) and finds it applied.
inline migration_report migrate(connection& db, std::string_view component, std::span<const migration> steps,
                                const migrate_options& options = {}) {
  detail::check_steps(component, steps);
  if (db.in_transaction()) throw usage_error("cpm: migrate runs each step in its own transaction; call it outside one");
  detail::check_history(db, component, steps);
  detail::carry_over_legacy(db, component, steps);
  migration_report report;
  report.component = std::string(component);
  report.from = schema_version(db, component);
  report.to = report.from;
  for (const auto& step : steps) {
    if (step.version <= report.to) continue;
    // Foreign keys go back to what they were whatever the step throws: left off, the
    // connection's cascades and SET NULLs would silently stop.
    const bool keys_were_on = step.foreign_keys_off && detail::foreign_keys_on(db);
    if (keys_were_on) detail::set_foreign_keys(db, false);
    try {
      if (detail::apply_step(db, component, step, options)) report.applied.push_back(step.version);
    } catch (...) {
      if (keys_were_on) detail::set_foreign_keys(db, true);
      // The cause stays reachable with std::rethrow_if_nested.
      std::throw_with_nested(migration_error(step.version, step.name, detail::current_exception_text()));
    }
    if (keys_were_on) detail::set_foreign_keys(db, true);
    report.to = step.version;
  }
  return report;
}

// Accepts the current SQL of applied step `version` of `component` as what was applied: the
// explicit way past cpm::migration_changed after a deliberate edit (a comment, a rename in a
// step already run everywhere). Throws cpm::not_found when the step was never applied.
inline void accept_migration_change(connection& db, std::string_view component, std::span<const migration> steps,
                                    int version) {
  const migration* step = nullptr;
  for (const auto& s : steps)
    if (s.version == version) step = &s;
  if (!step) throw usage_error(detail::message("cpm: the steps of '{}' have no version {}", component, version));
  bool updated = false;
  if (detail::table_exists(db, "cpm_schema_history")) {
    auto update = db.prepare("UPDATE cpm_schema_history SET checksum = ? WHERE component = ? AND version = ?");
    update.bind(detail::step_checksum(*step), component, version);
    update.run();
    updated = db.changes() > 0;
  }
  if (!updated) throw not_found(detail::message("cpm: migration {} of '{}' was never applied", version, component));
}

}  // namespace cpm
