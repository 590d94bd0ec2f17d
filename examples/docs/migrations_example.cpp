// The code of docs/migrations.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <cstdio>
#include <span>

int main() {
  auto db = cpm::connection::open_memory();

  // [snippet:steps]
  static const cpm::migration steps[] = {
      {.version = 1, .name = "create notes", .sql = "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT NOT NULL)"},
      {.version = 2, .name = "index note text", .sql = "CREATE INDEX notes_text ON notes(text)"},
      {.version = 3,
       .name = "notes get an author",
       .apply = [](cpm::connection& c) { c.exec("ALTER TABLE notes ADD COLUMN author TEXT"); }},
  };
  cpm::migration_report report = cpm::migrate(db, steps);
  fmt::print("schema {} -> {}, {} steps applied\n", report.from, report.to, report.applied.size());
  // [end:steps]
  CHECK(report.from == 0 && report.to == 3 && report.applied.size() == 3);
  CHECK(cpm::migrate(db, steps).applied.empty());  // running again does nothing

  // [snippet:too_new]
  try {
    cpm::migrate(db, std::span(steps).first(2));  // older code meets a newer database
  } catch (const cpm::schema_too_new& e) {
    fmt::print("{}\n", e.what());  // database at version 3, this code knows 2: left untouched
  }
  // [end:too_new]
  CHECK(cpm::schema_version(db) == 3);

  // [snippet:rebuild]
  static const cpm::migration rebuild_steps[] = {
      steps[0], steps[1], steps[2],
      {.version = 4,
       .name = "notes: text may be NULL",  // SQLite cannot ALTER a column's constraints
       .apply =
           [](cpm::connection& c) {
             cpm::rebuild_table(c, {.table = "notes",
                                    .definition = "(id INTEGER PRIMARY KEY, text TEXT, author TEXT)",
                                    .columns = "id, text, author"});
           },
       .foreign_keys_off = true},  // off outside the transaction, checked before commit
  };
  cpm::migrate(db, rebuild_steps);
  // [end:rebuild]
  CHECK(cpm::schema_version(db) == 4);
  cpm::execute(db, "INSERT INTO notes(text) VALUES (NULL)");
  CHECK(cpm::explain(db, "SELECT id FROM notes WHERE text = 'x'").searches("notes", "notes_text"));
  return 0;
}
