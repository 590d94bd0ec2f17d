// Versioned migrations (cpm::migrate): order, one transaction per step, the history table,
// idempotence, refusing newer databases, rolling back failed steps, and misuse.
#include <cpm/schema.hpp>
#include <cpm/sqlite.hpp>
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <fmt/core.h>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using cpm_test::count_rows;
using cpm_test::has_schema_object;

struct history_row {
  int version = 0;
  std::string name;
  std::chrono::sys_seconds applied_at;
};

std::vector<history_row> history(cpm::connection& db) {
  std::vector<history_row> out;
  auto stmt = db.prepare("SELECT version, name, applied_at FROM cpm_schema_history WHERE component = 'app' ORDER BY version");
  while (stmt.step())
    out.push_back({stmt.column<int>(0), stmt.column<std::string>(1), stmt.column<std::chrono::sys_seconds>(2)});
  return out;
}

// Three steps: SQL, a function that depends on the first step, and SQL plus a function.
std::vector<cpm::migration> three_steps(std::vector<int>* calls = nullptr) {
  return {
      {1, "create notes", "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT NOT NULL)", {}},
      {2, "first note", {},
       [calls](cpm::connection& db) {
         if (calls) calls->push_back(2);
         db.exec("INSERT INTO notes(text) VALUES ('written by step 2')");
       }},
      {3, "index notes", "CREATE INDEX notes_text ON notes(text)",
       [calls](cpm::connection& db) {
         if (calls) calls->push_back(3);
         // The SQL of a step runs before its function.
         REQUIRE(has_schema_object(db, "index", "notes_text"));
       }},
  };
}

}  // namespace

TEST_CASE("migrate applies the steps in order and records each in the component's history", "[migration]") {
  auto db = cpm::connection::open_memory();
  std::vector<int> calls;
  auto steps = three_steps(&calls);
  const auto before = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

  auto report = cpm::migrate(db, "app", steps);

  CHECK(report.from == 0);
  CHECK(report.to == 3);
  CHECK(report.applied == std::vector<int>{1, 2, 3});
  CHECK(calls == std::vector<int>{2, 3});
  CHECK(cpm::schema_version(db, "app") == 3);
  CHECK(count_rows(db, "notes") == 1);
  CHECK(has_schema_object(db, "index", "notes_text"));

  auto rows = history(db);
  REQUIRE(rows.size() == 3);
  const char* names[] = {"create notes", "first note", "index notes"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].version == static_cast<int>(i) + 1);
    CHECK(rows[i].name == names[i]);
    // applied_at is the time the step ran (CURRENT_TIMESTAMP, UTC).
    CHECK(rows[i].applied_at >= before);
    CHECK(rows[i].applied_at <= before + std::chrono::minutes(1));
  }
}

TEST_CASE("each migration step runs inside a transaction of its own", "[migration]") {
  auto db = cpm::connection::open_memory();
  std::vector<bool> inside;
  std::vector<cpm::migration> steps = {
      {1, "one", "CREATE TABLE a(x)", [&](cpm::connection& c) { inside.push_back(c.in_transaction()); }},
      {2, "two", "CREATE TABLE b(x)", [&](cpm::connection& c) { inside.push_back(c.in_transaction()); }},
      {3, "three fails", "CREATE TABLE c(x)", [](cpm::connection&) { throw std::runtime_error("step 3 breaks"); }},
  };
  CHECK_THROWS_AS(cpm::migrate(db, "app", steps), cpm::migration_error);
  CHECK(inside == std::vector<bool>{true, true});
  CHECK_FALSE(db.in_transaction());
  // Steps 1 and 2 were committed on their own: step 3's failure does not take them back.
  CHECK(cpm::schema_version(db, "app") == 2);
  CHECK(has_schema_object(db, "table", "a"));
  CHECK(has_schema_object(db, "table", "b"));
  CHECK_FALSE(has_schema_object(db, "table", "c"));
  CHECK(history(db).size() == 2);
}

TEST_CASE("running migrate again does nothing", "[migration]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "again.db").string();
  std::vector<int> calls;
  auto steps = three_steps(&calls);
  {
    auto db = cpm::connection::open(path);
    (void)cpm::migrate(db, "app", steps);
  }
  auto db = cpm::connection::open(path);
  const auto changes = db.total_changes();
  auto report = cpm::migrate(db, "app", steps);
  CHECK(report.from == 3);
  CHECK(report.to == 3);
  CHECK(report.applied.empty());
  CHECK(calls == std::vector<int>{2, 3});  // no step function ran a second time
  CHECK(db.total_changes() == changes);
  CHECK(count_rows(db, "notes") == 1);
  CHECK(history(db).size() == 3);
}

TEST_CASE("a step added later is the only one applied", "[migration]") {
  auto db = cpm::connection::open_memory();
  auto steps = three_steps();
  (void)cpm::migrate(db, "app", steps);
  steps.push_back({7, "add a column", "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0", {}});
  auto report = cpm::migrate(db, "app", steps);
  CHECK(report.from == 3);
  CHECK(report.to == 7);
  CHECK(report.applied == std::vector<int>{7});
  CHECK(cpm::schema_version(db, "app") == 7);
  CHECK(count_rows(db, "notes") == 1);
  auto rows = history(db);
  REQUIRE(rows.size() == 4);
  CHECK(rows.back().version == 7);
  CHECK(rows.back().name == "add a column");
}

TEST_CASE("a database newer than the code is refused with schema_too_new and left byte for byte untouched",
          "[migration]") {
  cpm_test::temp_dir dir;
  const auto path = dir / "newer.db";
  {
    cpm::open_options options;
    options.journal = cpm::journal_mode::rollback;
    auto db = cpm::connection::open(path.string(), options);
    db.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes(text) VALUES ('keep me');");
    db.exec(std::string(cpm::detail::history_table_sql));
    db.exec("INSERT INTO cpm_schema_history(component, version, name, checksum) VALUES ('app', 5, 'five', 'x')");
  }
  const auto before = cpm_test::file_bytes(path);
  REQUIRE(before.size() > 0);

  {
    cpm::open_options options;
    options.journal = cpm::journal_mode::keep;
    auto db = cpm::connection::open(path.string(), options);
    auto steps = three_steps();
    try {
      (void)cpm::migrate(db, "app", steps);
      FAIL("migrate accepted a database newer than its steps");
    } catch (const cpm::schema_too_new& e) {
      CHECK(e.database_version() == 5);
      CHECK(e.code_version() == 3);
      CHECK_THAT(e.what(), Catch::Contains("5") && Catch::Contains("3") && Catch::Contains("untouched"));
    }
    CHECK_FALSE(db.in_transaction());
  }
  CHECK(cpm_test::file_bytes(path) == before);
}

TEST_CASE("store::open refuses a newer database before changing anything, WAL mode included", "[migration][store]") {
  cpm_test::temp_dir dir;
  const auto path = dir / "newer-store.db";
  {
    cpm::open_options options;
    options.journal = cpm::journal_mode::rollback;
    auto db = cpm::connection::open(path.string(), options);
    db.exec(cpm::original_schema_sql);
    db.exec("INSERT INTO users(username, email) VALUES ('alice', 'alice@example.org')");
    db.exec(fmt::format("PRAGMA user_version = {}", cpm::store::target_version() + 1));
  }
  const auto before = cpm_test::file_bytes(path);
  REQUIRE(before.size() > 20);
  REQUIRE(before[18] == 1);  // rollback journal (WAL would be 2)

  try {
    (void)cpm::store::open(path.string());  // asks for WAL by default
    FAIL("store::open accepted a database newer than the code");
  } catch (const cpm::schema_too_new& e) {
    CHECK(e.database_version() == cpm::store::target_version() + 1);
    CHECK(e.code_version() == cpm::store::target_version());
  }
  CHECK(cpm_test::file_bytes(path) == before);
  CHECK_FALSE(std::filesystem::exists(path.string() + "-wal"));
}

TEST_CASE("a step whose SQL fails is rolled back completely and the error names it", "[migration]") {
  auto db = cpm::connection::open_memory();
  std::vector<cpm::migration> steps = {
      {1, "create notes", "CREATE TABLE notes(id INTEGER PRIMARY KEY)", {}},
      {2, "broken step", "CREATE TABLE tags(id INTEGER PRIMARY KEY); INSERT INTO notes VALUES (1);"
                         "INSERT INTO no_such_table VALUES (1)", {}},
      {3, "never reached", "CREATE TABLE later(x)", {}},
  };
  try {
    (void)cpm::migrate(db, "app", steps);
    FAIL("the broken step did not throw");
  } catch (const cpm::migration_error& e) {
    CHECK(e.version() == 2);
    CHECK(e.name() == "broken step");
    CHECK_THAT(e.what(), Catch::Contains("2") && Catch::Contains("broken step") && Catch::Contains("no_such_table"));
    try {
      std::rethrow_if_nested(e);
      FAIL("the cause is not nested in the migration_error");
    } catch (const cpm::sqlite_error& cause) {
      CHECK_THAT(cause.sqlite_message(), Catch::Contains("no_such_table"));
    }
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(cpm::schema_version(db, "app") == 1);
  CHECK_FALSE(has_schema_object(db, "table", "tags"));
  CHECK_FALSE(has_schema_object(db, "table", "later"));
  CHECK(count_rows(db, "notes") == 0);
  REQUIRE(history(db).size() == 1);
  CHECK(history(db)[0].version == 1);
}

TEST_CASE("a step whose function throws is rolled back completely and the cause stays reachable", "[migration]") {
  auto db = cpm::connection::open_memory();
  std::vector<cpm::migration> steps = {
      {4, "function fails", "CREATE TABLE made_by_sql(x)",
       [](cpm::connection& c) {
         c.exec("CREATE TABLE made_by_function(x); INSERT INTO made_by_function VALUES (1)");
         throw std::runtime_error("the function gave up");
       }},
  };
  try {
    (void)cpm::migrate(db, "app", steps);
    FAIL("the failing function did not throw");
  } catch (const cpm::migration_error& e) {
    CHECK(e.version() == 4);
    CHECK(e.name() == "function fails");
    CHECK_THAT(e.what(), Catch::Contains("function fails") && Catch::Contains("the function gave up"));
    try {
      std::rethrow_if_nested(e);
      FAIL("the cause is not nested in the migration_error");
    } catch (const std::runtime_error& cause) {
      CHECK(std::string(cause.what()) == "the function gave up");
    }
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(cpm::schema_version(db, "app") == 0);
  CHECK_FALSE(has_schema_object(db, "table", "made_by_sql"));
  CHECK_FALSE(has_schema_object(db, "table", "made_by_function"));
  // Even the history table, created by this first step's transaction, is gone.
  CHECK_FALSE(has_schema_object(db, "table", "cpm_schema_history"));
}

TEST_CASE("migration steps must have increasing versions from 1 and something to run", "[migration]") {
  auto db = cpm::connection::open_memory();
  SECTION("a version repeated") {
    std::vector<cpm::migration> steps = {{1, "a", "CREATE TABLE a(x)", {}}, {1, "b", "CREATE TABLE b(x)", {}}};
    CHECK_THROWS_AS(cpm::migrate(db, "app", steps), cpm::usage_error);
  }
  SECTION("versions out of order") {
    std::vector<cpm::migration> steps = {{2, "a", "CREATE TABLE a(x)", {}}, {1, "b", "CREATE TABLE b(x)", {}}};
    CHECK_THROWS_AS(cpm::migrate(db, "app", steps), cpm::usage_error);
  }
  SECTION("version 0") {
    std::vector<cpm::migration> steps = {{0, "a", "CREATE TABLE a(x)", {}}};
    CHECK_THROWS_AS(cpm::migrate(db, "app", steps), cpm::usage_error);
  }
  SECTION("a step with neither SQL nor a function") {
    std::vector<cpm::migration> steps = {{1, "a", "CREATE TABLE a(x)", {}}, {2, "empty", {}, {}}};
    CHECK_THROWS_AS(cpm::migrate(db, "app", steps), cpm::usage_error);
  }
  // The steps are checked before any of them runs.
  CHECK(cpm::schema_version(db, "app") == 0);
  CHECK_FALSE(has_schema_object(db, "table", "a"));
  CHECK_FALSE(has_schema_object(db, "table", "cpm_schema_history"));
}

TEST_CASE("migrate refuses to run inside a transaction", "[migration]") {
  auto db = cpm::connection::open_memory();
  auto steps = three_steps();
  {
    cpm::transaction tx(db);
    CHECK_THROWS_AS(cpm::migrate(db, "app", steps), cpm::usage_error);
    CHECK(db.in_transaction());  // the caller's transaction is left alone
  }
  CHECK(cpm::schema_version(db, "app") == 0);
  CHECK_FALSE(has_schema_object(db, "table", "notes"));
}

TEST_CASE("an empty list of steps leaves a new database at version 0", "[migration]") {
  auto db = cpm::connection::open_memory();
  auto report = cpm::migrate(db, "app", std::vector<cpm::migration>{});
  CHECK(report.from == 0);
  CHECK(report.to == 0);
  CHECK(report.applied.empty());
  CHECK(cpm::target_version(std::vector<cpm::migration>{}) == 0);
}

TEST_CASE("a foreign_keys_off step runs with foreign keys off and switches them back on after", "[migration]") {
  auto db = cpm::connection::open_memory();
  auto foreign_keys = [](cpm::connection& c) {
    auto stmt = c.prepare("PRAGMA foreign_keys");
    stmt.step();
    return stmt.column<int>(0);
  };
  std::vector<int> seen;
  std::vector<cpm::migration> steps = {
      {1, "keys on", "CREATE TABLE parent(id INTEGER PRIMARY KEY)", [&](cpm::connection& c) { seen.push_back(foreign_keys(c)); }},
      {2, "keys off", {}, [&](cpm::connection& c) { seen.push_back(foreign_keys(c)); }, true},
  };
  (void)cpm::migrate(db, "app", steps);
  CHECK(seen == std::vector<int>{1, 0});
  CHECK(foreign_keys(db) == 1);
}

TEST_CASE("a foreign_keys_off step that fails with any exception still switches foreign keys back on", "[migration]") {
  auto db = cpm::connection::open_memory();
  struct not_a_std_exception {};
  std::vector<cpm::migration> steps = {
      {1, "throws something odd", "CREATE TABLE t(x)", [](cpm::connection&) { throw not_a_std_exception{}; }, true},
  };
  try {
    (void)cpm::migrate(db, "app", steps);
    FAIL("the step did not fail");
  } catch (const cpm::migration_error& e) {
    CHECK(e.version() == 1);
    CHECK(e.name() == "throws something odd");
    CHECK_THROWS_AS(std::rethrow_if_nested(e), not_a_std_exception);
  } catch (const not_a_std_exception&) {
    FAIL_CHECK("the cause escaped without naming the step");
  }
  CHECK(cpm::query<int>(db, "PRAGMA foreign_keys").one() == 1);
  CHECK_FALSE(db.in_transaction());
  CHECK(cpm::schema_version(db, "app") == 0);
  CHECK_FALSE(has_schema_object(db, "table", "t"));
}

TEST_CASE("a foreign_keys_off step leaves foreign keys as it found them on a connection that has them off",
          "[migration]") {
  cpm::open_options options;
  options.pragmas = {"PRAGMA foreign_keys=OFF"};
  auto db = cpm::connection::open_memory(options);
  std::vector<cpm::migration> steps = {{1, "keys off", "CREATE TABLE t(x)", {}, true}};
  (void)cpm::migrate(db, "app", steps);
  CHECK(cpm::query<int>(db, "PRAGMA foreign_keys").one() == 0);
}
