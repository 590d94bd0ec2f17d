// Errors: each constraint kind and busy map to their own type, carrying code, message and SQL.
#include <cpm/sqlite.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

cpm::connection constrained_db() {
  auto db = cpm::connection::open_memory();
  db.exec(
      "CREATE TABLE orgs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
      "CREATE TABLE repos(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id),"
      "  name TEXT NOT NULL, level TEXT NOT NULL CHECK(level IN ('read', 'write')), UNIQUE(org_id, name));"
      "INSERT INTO orgs(id, name) VALUES (1, 'acme');"
      "INSERT INTO repos(org_id, name, level) VALUES (1, 'tools', 'read');");
  return db;
}

}  // namespace

TEST_CASE("a UNIQUE failure is unique_violation with the table and columns", "[errors]") {
  auto db = constrained_db();
  try {
    db.exec("INSERT INTO orgs(name) VALUES ('acme')");
    FAIL("must throw");
  } catch (const cpm::unique_violation& e) {
    CHECK(e.extended_code() == SQLITE_CONSTRAINT_UNIQUE);
    CHECK(e.code() == SQLITE_CONSTRAINT);
    CHECK(e.table() == "orgs");
    CHECK(e.columns() == std::vector<std::string>{"name"});
    CHECK(e.sql() == "INSERT INTO orgs(name) VALUES ('acme')");
  }
  try {
    db.exec("INSERT INTO repos(org_id, name, level) VALUES (1, 'tools', 'write')");
    FAIL("must throw");
  } catch (const cpm::unique_violation& e) {
    CHECK(e.table() == "repos");
    CHECK(e.columns() == std::vector<std::string>{"org_id", "name"});
  }
}

TEST_CASE("a PRIMARY KEY failure is a unique_violation too", "[errors]") {
  auto db = constrained_db();
  db.exec("CREATE TABLE kv(k TEXT PRIMARY KEY, v)");
  db.exec("INSERT INTO kv VALUES ('a', 1)");
  CHECK_THROWS_AS(db.exec("INSERT INTO kv VALUES ('a', 2)"), cpm::unique_violation);
}

TEST_CASE("a FOREIGN KEY failure is foreign_key_violation", "[errors]") {
  auto db = constrained_db();
  try {
    db.exec("INSERT INTO repos(org_id, name, level) VALUES (99, 'x', 'read')");
    FAIL("must throw");
  } catch (const cpm::foreign_key_violation& e) {
    CHECK(e.extended_code() == SQLITE_CONSTRAINT_FOREIGNKEY);
  }
}

TEST_CASE("a CHECK failure is check_violation with the constraint", "[errors]") {
  auto db = constrained_db();
  try {
    db.exec("INSERT INTO repos(org_id, name, level) VALUES (1, 'y', 'owner')");
    FAIL("must throw");
  } catch (const cpm::check_violation& e) {
    CHECK(e.extended_code() == SQLITE_CONSTRAINT_CHECK);
    CHECK_THAT(e.constraint(), Catch::Contains("level IN"));
  }
}

TEST_CASE("a NOT NULL failure is not_null_violation with the table and column", "[errors]") {
  auto db = constrained_db();
  try {
    db.exec("INSERT INTO orgs(name) VALUES (NULL)");
    FAIL("must throw");
  } catch (const cpm::not_null_violation& e) {
    CHECK(e.extended_code() == SQLITE_CONSTRAINT_NOTNULL);
    CHECK(e.table() == "orgs");
    CHECK(e.column() == "name");
  }
}

TEST_CASE("every constraint error is also a constraint_error, sqlite_error and cpm::error", "[errors]") {
  auto db = constrained_db();
  CHECK_THROWS_AS(db.exec("INSERT INTO orgs(name) VALUES ('acme')"), cpm::constraint_error);
  CHECK_THROWS_AS(db.exec("INSERT INTO orgs(name) VALUES ('acme')"), cpm::sqlite_error);
  CHECK_THROWS_AS(db.exec("INSERT INTO orgs(name) VALUES ('acme')"), cpm::error);
}

TEST_CASE("a write blocked by another connection's lock is busy_error after the timeout", "[errors]") {
  cpm_test::temp_dir dir;
  cpm::open_options quick;
  quick.busy_timeout = std::chrono::milliseconds(50);
  auto holder = cpm::connection::open(dir / "busy.db");
  holder.exec("CREATE TABLE t(x)");
  auto waiter = cpm::connection::open(dir / "busy.db", quick);
  holder.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);");
  try {
    waiter.exec("INSERT INTO t VALUES (2)");
    FAIL("must throw");
  } catch (const cpm::busy_error& e) {
    CHECK(e.code() == SQLITE_BUSY);
  }
  holder.exec("COMMIT");
  waiter.exec("INSERT INTO t VALUES (2)");
  CHECK(waiter.changes() == 1);
}

TEST_CASE("SQLITE_LOCKED (a table dropped while the same connection reads it) is busy_error", "[errors][busy]") {
  auto db = constrained_db();
  auto reading = db.prepare("SELECT name FROM orgs");
  REQUIRE(reading.step());  // a read of orgs is in progress on this connection
  try {
    db.exec("DROP TABLE repos; DROP TABLE orgs");
    FAIL("must throw");
  } catch (const cpm::busy_error& e) {
    CHECK(e.code() == SQLITE_LOCKED);
    CHECK(e.extended_code() == SQLITE_LOCKED);
    CHECK_THAT(e.sqlite_message(), Catch::Contains("locked"));
  }
  reading.reset();
  db.exec("DROP TABLE repos; DROP TABLE orgs");  // with the read ended, the same drop goes through
}

TEST_CASE("a database file with a damaged table page is corrupt_error (SQLITE_CORRUPT) when read", "[errors][corrupt]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "damaged.db").string();
  constexpr std::size_t page_size = 4096;
  {
    cpm::open_options options;
    options.journal = cpm::journal_mode::rollback;
    options.pragmas = {"PRAGMA page_size=4096"};
    auto db = cpm::connection::open(path, options);
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);"
            "INSERT INTO t(name) VALUES ('a'), ('b'), ('c');");
    auto root = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 't'");
    REQUIRE(root.step());
    REQUIRE(root.column<int>(0) == 2);  // the table's rows live on page 2, right after the header page
  }
  REQUIRE(std::filesystem::file_size(path) == 2 * page_size);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(page_size));
    const std::string garbage(page_size, '\xA5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    REQUIRE(file.good());
  }

  auto db = cpm::connection::open(path);  // the header page is intact: opening works
  try {
    auto select = db.prepare("SELECT name FROM t");
    while (select.step()) {
    }
    FAIL("read a damaged page without an error");
  } catch (const cpm::corrupt_error& e) {
    CHECK(e.code() == SQLITE_CORRUPT);
    CHECK(e.sql() == "SELECT name FROM t");
  }
}
