// cpm: rebuilding a table, for the changes SQLite's ALTER TABLE cannot make.
//
// SQLite's documented procedure (https://sqlite.org/lang_altertable.html, "other kinds of
// table schema changes"): with foreign keys OFF (outside the transaction), create the new
// table, copy the rows, drop the old table, rename the new one, recreate the indexes and
// triggers, run PRAGMA foreign_key_check, commit. With foreign keys ON, the DROP would run the
// ON DELETE actions of every referencing table: rebuilding ssh_keys would silently set every
// servers.ssh_key_id to NULL.
//
// Call it from a migration step marked foreign_keys_off; it refuses to run otherwise.
//   {3, "ssh_keys: add comment", {}, [](cpm::connection& db) {
//      cpm::rebuild_table(db, {.table = "ssh_keys",
//                              .definition = "(id INTEGER PRIMARY KEY AUTOINCREMENT, ..., comment TEXT)",
//                              .columns = "id, name, public_key, private_key_path, created_at"});
//    }, true}
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/query/detail/sql_text.hpp>
#include <cpm/schema/migration.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpm {

struct table_rebuild {
  std::string_view table{};       // the table to rebuild
  std::string_view definition{};  // what follows CREATE TABLE <name>: "(col TYPE ..., ...)"
  std::string_view columns{};     // the columns copied, by name, in both tables ("a, b, c")
  std::string_view select = {}; // what to copy instead of `columns` from the old table, if they differ
};

namespace detail {

inline bool has_sequence_table(connection& db) {
  auto stmt = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'");
  return stmt.step();
}

// PRAGMA legacy_alter_table=ON for one scope, then back to what it was.
class legacy_rename {
 public:
  explicit legacy_rename(connection& db) : db_(db) {
    auto stmt = db.prepare("PRAGMA legacy_alter_table");
    was_on_ = stmt.step() && stmt.column<int>(0) != 0;
    if (!was_on_) db.exec("PRAGMA legacy_alter_table=ON");
  }
  legacy_rename(const legacy_rename&) = delete;
  legacy_rename& operator=(const legacy_rename&) = delete;
  ~legacy_rename() {
    if (was_on_) return;
    try {
      db_.exec("PRAGMA legacy_alter_table=OFF");
    } catch (...) {
      // A destructor never throws; the setting only affects later renames on this connection.
    }
  }

 private:
  connection& db_;
  bool was_on_ = false;
};

struct string_sql_out {
  std::string& text;
  string_sql_out& operator<<(std::string_view part) {
    text.append(part);
    return *this;
  }
};

// "name", with embedded quotes doubled: the quoting of the SQL cpm generates (sql_text.hpp).
inline std::string quoted_identifier(std::string_view name) {
  std::string text;
  string_sql_out out{text};
  identifier(out, name);
  return text;
}

}  // namespace detail

inline void rebuild_table(connection& db, const table_rebuild& change) {
  if (!db.in_transaction()) throw usage_error("cpm: rebuild_table runs inside a migration step's transaction");
  {
    auto fk = db.prepare("PRAGMA foreign_keys");
    fk.step();
    if (fk.column<int>(0) != 0)
      throw usage_error(
          "cpm: rebuild_table needs foreign keys off (mark the migration step foreign_keys_off); with them on, "
          "dropping the old table would run the ON DELETE actions of the tables that reference it");
  }
  // The indexes and triggers to recreate (the automatic ones come back with the definition).
  std::vector<std::string> recreate;
  {
    auto stmt = db.prepare(
        "SELECT sql FROM sqlite_schema WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL");
    stmt.bind(change.table);
    while (stmt.step()) recreate.push_back(stmt.column<std::string>(0));
  }
  // AUTOINCREMENT promises that an id is never handed out twice, but the copy carries over only
  // the ids still present: keep the old table's high-water mark, or the ids of rows deleted at
  // the top would be given again.
  std::optional<std::int64_t> sequence;
  if (detail::has_sequence_table(db)) {
    auto stmt = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?");
    stmt.bind(change.table);
    if (stmt.step()) sequence = stmt.column<std::int64_t>(0);
  }
  std::string quoted = detail::quoted_identifier(change.table);
  std::string temporary = detail::quoted_identifier(detail::message("cpm_rebuild_{}", change.table));
  db.exec(detail::message("CREATE TABLE {} {}", temporary, change.definition));
  db.exec(detail::message("INSERT INTO {} ({}) SELECT {} FROM {}", temporary, change.columns,
                          change.select.empty() ? change.columns : change.select, quoted));
  db.exec(detail::message("DROP TABLE {}", quoted));
  {
    // Since SQLite 3.26 a RENAME checks every view and trigger of the schema, and one that names
    // the table (a view over it, another table's trigger) fails it, the table being dropped by
    // now. SQLite's procedure expects them to be left alone here; legacy mode does that.
    detail::legacy_rename legacy(db);
    db.exec(detail::message("ALTER TABLE {} RENAME TO {}", temporary, quoted));
  }
  if (sequence) {
    auto autoincrement = db.prepare(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ? AND sql LIKE '%AUTOINCREMENT%'");
    autoincrement.bind(change.table);
    if (autoincrement.step()) {
      // The copy made a row for the new table unless it copied none.
      auto raise = db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = ?2");
      raise.bind(*sequence, change.table);
      raise.run();
      if (db.changes() == 0) {
        auto insert = db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES (?2, ?1)");
        insert.bind(*sequence, change.table);
        insert.run();
      }
    }
  }
  for (const auto& sql : recreate) db.exec(sql);
  if (auto found = foreign_key_violations(db); !found.empty()) throw foreign_key_check_error(std::move(found));
}

}  // namespace cpm
