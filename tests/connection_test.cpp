// The connection: opening, per-connection pragmas, open errors, exec, counters, moving.
#include <cpm/sqlite.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace {

std::string pragma_text(cpm::connection& db, const std::string& sql) {
  auto stmt = db.prepare(sql);
  REQUIRE(stmt.step());
  return std::string(cpm::field(stmt.native(), 0).text());  // as SQLite prints it: pragmas are integers
}

}  // namespace

TEST_CASE("a file database is created, in WAL mode with synchronous NORMAL", "[connection]") {
  cpm_test::temp_dir dir;
  auto db = cpm::connection::open(dir / "new.db");
  CHECK(std::filesystem::exists(dir / "new.db"));
  CHECK(pragma_text(db, "PRAGMA journal_mode") == "wal");
  CHECK(pragma_text(db, "PRAGMA synchronous") == "1");
  CHECK(pragma_text(db, "PRAGMA foreign_keys") == "1");
  CHECK(pragma_text(db, "PRAGMA busy_timeout") == "5000");
  CHECK_FALSE(db.is_memory());
  CHECK(db.path() == (dir / "new.db").string());
}

TEST_CASE("open options set the busy timeout, journal, synchronous and extra pragmas", "[connection]") {
  cpm_test::temp_dir dir;
  cpm::open_options options;
  options.busy_timeout = std::chrono::milliseconds(250);
  options.journal = cpm::journal_mode::rollback;
  options.synchronous = cpm::synchronous_mode::full;
  options.pragmas = {"PRAGMA cache_size=-4096"};
  auto db = cpm::connection::open(dir / "opts.db", options);
  CHECK(pragma_text(db, "PRAGMA busy_timeout") == "250");
  CHECK(pragma_text(db, "PRAGMA journal_mode") == "delete");
  CHECK(pragma_text(db, "PRAGMA synchronous") == "2");
  CHECK(pragma_text(db, "PRAGMA cache_size") == "-4096");
}

TEST_CASE("switching to WAL waits, up to the busy timeout, while another connection writes", "[connection][threads]") {
  // The switch reads first, then needs an exclusive lock; while another connection holds the
  // write lock SQLite answers SQLITE_BUSY without calling the busy handler (it could deadlock).
  // Without cpm's retry the open below fails at once with busy_error ("database is locked").
  cpm_test::temp_dir dir;
  const auto path = (dir.path() / "switch.db").string();
  cpm::open_options rollback;
  rollback.journal = cpm::journal_mode::rollback;
  auto writer = cpm::connection::open(path, rollback);
  writer.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  writer.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (2);");  // holds the write lock until COMMIT
  std::thread release([&writer] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    writer.exec("COMMIT");
  });
  std::optional<cpm::connection> db;
  try {
    db.emplace(cpm::connection::open(path));  // WAL, busy timeout 5 s
  } catch (...) {
    release.join();
    throw;
  }
  release.join();
  auto mode = db->prepare("PRAGMA journal_mode");
  REQUIRE(mode.step());
  CHECK(mode.column<std::string>(0) == "wal");
}

TEST_CASE("foreign keys are enforced on every connection, not just the first", "[connection]") {
  cpm_test::temp_dir dir;
  {
    auto first = cpm::connection::open(dir / "fk.db");
    first.exec(
        "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
        "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));"
        "INSERT INTO parent(id) VALUES (1);");
  }
  auto second = cpm::connection::open(dir / "fk.db");
  CHECK(pragma_text(second, "PRAGMA foreign_keys") == "1");
  second.exec("INSERT INTO child(parent_id) VALUES (1)");
  CHECK_THROWS_AS(second.exec("INSERT INTO child(parent_id) VALUES (42)"), cpm::foreign_key_violation);
}

TEST_CASE("an in-memory database opens and works", "[connection]") {
  auto db = cpm::connection::open_memory();
  CHECK(db.is_memory());
  db.exec("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3);");
  CHECK(db.changes() == 3);
  CHECK(db.last_insert_rowid() == 3);
  CHECK(db.total_changes() == 3);
  CHECK(pragma_text(db, "PRAGMA foreign_keys") == "1");
}

TEST_CASE("opening a directory throws open_error naming the path", "[connection][errors]") {
  cpm_test::temp_dir dir;
  try {
    (void)cpm::connection::open(dir.path());
    FAIL("opening a directory must throw");
  } catch (const cpm::open_error& e) {
    CHECK(e.path() == dir.path().string());
    CHECK_THAT(e.what(), Catch::Contains(dir.path().string()));
  }
}

TEST_CASE("opening a file that is not a database throws open_error and leaves it unchanged", "[connection][errors]") {
  cpm_test::temp_dir dir;
  auto path = dir / "text.db";
  std::string content(4096, 'x');
  std::ofstream(path) << content;
  try {
    (void)cpm::connection::open(path);
    FAIL("opening a text file must throw");
  } catch (const cpm::open_error& e) {
    CHECK(e.path() == path.string());
    CHECK(e.code() == SQLITE_NOTADB);
  }
  std::ifstream in(path);
  std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(after == content);
  CHECK_FALSE(std::filesystem::exists(dir / "text.db-wal"));
}

TEST_CASE("opening a missing file read-only, or without create, throws open_error", "[connection][errors]") {
  cpm_test::temp_dir dir;
  cpm::open_options read_only;
  read_only.read_only = true;
  CHECK_THROWS_AS(cpm::connection::open(dir / "missing.db", read_only), cpm::open_error);
  cpm::open_options no_create;
  no_create.create = false;
  CHECK_THROWS_AS(cpm::connection::open(dir / "missing.db", no_create), cpm::open_error);
  CHECK_FALSE(std::filesystem::exists(dir / "missing.db"));
}

TEST_CASE("a read-only connection reads and refuses writes with readonly_error", "[connection][errors]") {
  cpm_test::temp_dir dir;
  {
    auto db = cpm::connection::open(dir / "ro.db");
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (7);");
  }
  cpm::open_options options;
  options.read_only = true;
  auto db = cpm::connection::open(dir / "ro.db", options);
  CHECK(db.is_read_only());
  CHECK(pragma_text(db, "SELECT x FROM t") == "7");
  CHECK_THROWS_AS(db.exec("INSERT INTO t VALUES (8)"), cpm::readonly_error);
}

TEST_CASE("exec runs scripts and reports the failing SQL", "[connection][errors]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE a(x); CREATE TABLE b(y);");
  try {
    db.exec("SELECT nope FROM a");
    FAIL("must throw");
  } catch (const cpm::sqlite_error& e) {
    CHECK(e.code() == SQLITE_ERROR);
    CHECK(e.sql() == "SELECT nope FROM a");
    CHECK_THAT(e.sqlite_message(), Catch::Contains("nope"));
  }
}

TEST_CASE("a moved connection keeps working and the moved-from one is empty", "[connection]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  auto lease = db.cached("SELECT x FROM t");
  cpm::connection other = std::move(db);
  REQUIRE(lease.step());
  CHECK(lease.column<int>(0) == 1);
  lease = {};
  other.exec("INSERT INTO t VALUES (2)");
  CHECK(other.changes() == 1);
  cpm::connection third = cpm::connection::open_memory();
  third = std::move(other);
  CHECK(pragma_text(third, "SELECT count(*) FROM t") == "2");
}

TEST_CASE("sqlite_mutex opens SQLite's serialized mode, and the default has no mutex", "[connection]") {
  cpm::open_options options;
  options.sqlite_mutex = true;
  auto serialized = cpm::connection::open_memory(options);
  CHECK(sqlite3_db_mutex(serialized.native()) != nullptr);
  serialized.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  CHECK(pragma_text(serialized, "SELECT x FROM t") == "1");
  auto plain = cpm::connection::open_memory();
  CHECK(sqlite3_db_mutex(plain.native()) == nullptr);
}
