// The code of docs/migrations.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <cstdio>
#include <iterator>
#include <span>
#include <vector>

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
  cpm::migration_report report = cpm::migrate(db, "notes-app", steps);
  fmt::print("schema {} -> {}, {} steps applied\n", report.from, report.to, report.applied.size());
  // [end:steps]
  CHECK(report.from == 0 && report.to == 3 && report.applied.size() == 3);
  CHECK(cpm::migrate(db, "notes-app", steps).applied.empty());  // running again does nothing

  // [snippet:too_new]
  try {
    cpm::migrate(db, "notes-app", std::span(steps).first(2));  // older code meets a newer database
  } catch (const cpm::schema_too_new& e) {
    fmt::print("{}\n", e.what());  // database at version 3, this code knows 2: left untouched
  }
  // [end:too_new]
  CHECK(cpm::schema_version(db, "notes-app") == 3);

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
  cpm::migrate(db, "notes-app", rebuild_steps);
  // [end:rebuild]
  CHECK(cpm::schema_version(db, "notes-app") == 4);
  cpm::execute(db, "INSERT INTO notes(text) VALUES (NULL)");
  CHECK(cpm::explain(db, "SELECT id FROM notes WHERE text = 'x'").searches("notes", "notes_text"));

  // [snippet:changed]
  std::vector<cpm::migration> edited(std::begin(rebuild_steps), std::end(rebuild_steps));
  edited[1].sql = "CREATE INDEX notes_text ON notes(text COLLATE NOCASE)";  // an applied step, edited
  try {
    cpm::migrate(db, "notes-app", edited);
  } catch (const cpm::migration_changed& e) {
    fmt::print("{}\n", e.what());  // names "notes-app", version 2 and "index note text"
  }
  cpm::accept_migration_change(db, "notes-app", edited, 2);  // deliberate: accept it
  cpm::migrate(db, "notes-app", edited);                     // runs again
  // [end:changed]
  CHECK(cpm::migrate(db, "notes-app", edited).applied.empty());

  // [snippet:components]
  auto store = cpm::store::open_memory();  // the store's own history: "cpm.store"
  static const cpm::migration app_steps[] = {
      {.version = 1,
       .name = "builds",
       .sql = "CREATE TABLE builds(id INTEGER PRIMARY KEY, "
              "repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE, status TEXT NOT NULL)"},
  };
  cpm::migrate(store.db(), "ci", app_steps);  // the application's history, beside it
  fmt::print("cpm.store at {}, ci at {}\n", cpm::schema_version(store.db(), cpm::store_component),
             cpm::schema_version(store.db(), "ci"));
  // [end:components]
  CHECK(cpm::schema_version(store.db(), "ci") == 1);
  CHECK(store.schema_version() == cpm::store::target_version());
  CHECK(store.migrate().applied.empty());
  return 0;
}
