// Statements: prepare errors, binding, stepping, column checks, the statement cache, moving.
#include <cpm/sqlite.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <string>

namespace {

cpm::connection sample_db() {
  auto db = cpm::connection::open_memory();
  db.exec(
      "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
      "INSERT INTO t(name) VALUES ('a'), ('b'), ('c');");
  return db;
}

}  // namespace

TEST_CASE("a prepare error names the SQL and SQLite's message", "[statement][errors]") {
  auto db = sample_db();
  try {
    (void)db.prepare("SELECT missing_column FROM t");
    FAIL("must throw");
  } catch (const cpm::sqlite_error& e) {
    CHECK(e.sql() == "SELECT missing_column FROM t");
    CHECK_THAT(e.sqlite_message(), Catch::Contains("missing_column"));
    CHECK_THAT(e.what(), Catch::Contains("SELECT missing_column FROM t"));
  }
}

TEST_CASE("prepare refuses a script of several statements and empty SQL", "[statement][errors]") {
  auto db = sample_db();
  CHECK_THROWS_AS(db.prepare("SELECT 1; SELECT 2"), cpm::usage_error);
  CHECK_THROWS_AS(db.prepare("  -- nothing\n"), cpm::usage_error);
  CHECK_NOTHROW(db.prepare("SELECT 1; -- trailing comment\n /* and block */ ;"));
}

TEST_CASE("bind, step and reset run a statement again with new values", "[statement]") {
  auto db = sample_db();
  auto stmt = db.prepare("SELECT name FROM t WHERE id = ?");
  stmt.bind(2);
  REQUIRE(stmt.step());
  CHECK(stmt.column<std::string>(0) == "b");
  CHECK_FALSE(stmt.step());
  stmt.reset();
  stmt.bind(3);
  REQUIRE(stmt.step());
  CHECK(stmt.column<std::string>(0) == "c");
}

TEST_CASE("binding the wrong number of values throws usage_error naming both counts", "[statement][errors]") {
  auto db = sample_db();
  auto stmt = db.prepare("SELECT name FROM t WHERE id = ? AND name = ?");
  try {
    stmt.bind(1);
    FAIL("must throw");
  } catch (const cpm::usage_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("2 parameters") && Catch::Contains("1 values"));
  }
}

TEST_CASE("column reads are checked against the column count", "[statement][errors]") {
  auto db = sample_db();
  auto stmt = db.prepare("SELECT id, name FROM t");
  REQUIRE(stmt.step());
  CHECK(stmt.column_count() == 2);
  CHECK_THROWS_AS(stmt.column<int>(2), cpm::usage_error);
  CHECK_THROWS_AS(stmt.column<int>(-1), cpm::usage_error);
}

TEST_CASE("a failing step throws the typed error and leaves the statement reusable", "[statement][errors]") {
  auto db = sample_db();
  auto insert = db.prepare("INSERT INTO t(id, name) VALUES (?, ?)");
  insert.bind(1, "dup");
  CHECK_THROWS_AS(insert.step(), cpm::unique_violation);
  insert.bind(10, "fresh");
  CHECK_FALSE(insert.step());
  CHECK(db.changes() == 1);
}

TEST_CASE("a cached statement is prepared once and reused", "[statement][cache]") {
  auto db = sample_db();
  auto before = db.prepare_count();
  for (int id = 1; id <= 3; ++id) {
    auto stmt = db.cached(cpm::sql<"SELECT name FROM t WHERE id = ?">);
    stmt.bind(id);
    REQUIRE(stmt.step());
    CHECK(stmt.is_cached());
  }
  CHECK(db.prepare_count() == before + 1);
  for (int id = 1; id <= 3; ++id) {
    auto stmt = db.cached("SELECT id FROM t WHERE name = ?");
    const std::string name(1, static_cast<char>('a' + id - 1));  // bound without a copy: must outlive step()
    stmt.bind(name);
    REQUIRE(stmt.step());
    CHECK(stmt.column<int>(0) == id);
  }
  CHECK(db.prepare_count() == before + 2);
}

TEST_CASE("a cached statement leased twice at once gives the second lease its own", "[statement][cache]") {
  auto db = sample_db();
  auto first = db.cached(cpm::sql<"SELECT name FROM t ORDER BY id">);
  REQUIRE(first.step());
  auto second = db.cached(cpm::sql<"SELECT name FROM t ORDER BY id">);
  CHECK(first.is_cached());
  CHECK_FALSE(second.is_cached());
  REQUIRE(second.step());
  REQUIRE(second.step());
  CHECK(first.column<std::string>(0) == "a");
  CHECK(second.column<std::string>(0) == "b");
}

TEST_CASE("a lease resets its statement when it ends, releasing the read transaction", "[statement][cache]") {
  auto db = sample_db();
  {
    auto stmt = db.cached(cpm::sql<"SELECT name FROM t ORDER BY id">);
    REQUIRE(stmt.step());
    CHECK(sqlite3_stmt_busy(stmt.native()));
  }
  auto again = db.cached(cpm::sql<"SELECT name FROM t ORDER BY id">);
  CHECK_FALSE(sqlite3_stmt_busy(again.native()));
  REQUIRE(again.step());
  CHECK(again.column<std::string>(0) == "a");
}

TEST_CASE("a lease that ends mid-result resets its statement then, not when it is next leased", "[statement][cache]") {
  auto db = sample_db();
  sqlite3_stmt* native = nullptr;
  {
    auto stmt = db.cached(cpm::sql<"SELECT name FROM t ORDER BY id">);
    REQUIRE(stmt.step());
    native = stmt.native();
    CHECK(sqlite3_stmt_busy(native));
  }
  // Nothing has leased it again: the lease's end alone must have reset it.
  CHECK(cpm_test::busy_statements(db.native()) == 0);
  {
    auto stmt = db.cached("SELECT id FROM t WHERE id >= ?");
    stmt.bind(1);
    REQUIRE(stmt.step());
    CHECK(cpm_test::busy_statements(db.native()) == 1);
    auto moved = std::move(stmt);  // a moved lease keeps it running; the moved-from one lets nothing go
    CHECK(cpm_test::busy_statements(db.native()) == 1);
    REQUIRE(moved.step());
  }
  CHECK(cpm_test::busy_statements(db.native()) == 0);
  // The statement is still the cached one, and starts over.
  auto again = db.cached(cpm::sql<"SELECT name FROM t ORDER BY id">);
  CHECK(again.native() == native);
  REQUIRE(again.step());
  CHECK(again.column<std::string>(0) == "a");
}

TEST_CASE("clear_cache finalizes idle cached statements so they are prepared again", "[statement][cache]") {
  auto db = sample_db();
  { auto stmt = db.cached(cpm::sql<"SELECT 1">); }
  auto before = db.prepare_count();
  db.clear_cache();
  { auto stmt = db.cached(cpm::sql<"SELECT 1">); }
  CHECK(db.prepare_count() == before + 1);
}

TEST_CASE("moved statements keep their state", "[statement]") {
  auto db = sample_db();
  auto stmt = db.prepare("SELECT name FROM t ORDER BY id");
  REQUIRE(stmt.step());
  cpm::statement moved = std::move(stmt);
  CHECK_FALSE(static_cast<bool>(stmt));
  CHECK(moved.column<std::string>(0) == "a");
  REQUIRE(moved.step());
  CHECK(moved.column<std::string>(0) == "b");
  cpm::statement assigned;
  assigned = std::move(moved);
  REQUIRE(assigned.step());
  CHECK(assigned.column<std::string>(0) == "c");
}
