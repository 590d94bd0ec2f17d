// A read_snapshot is read-only: a write inside it is refused at once (nothing is written that
// the snapshot's end could lose), a transaction inside it is refused up front, and the
// connection is writable again after it. Writes that fail after SQLite committed them (an
// insert whose RETURNING row cannot be read) leave nothing behind.
#include "store_support.hpp"
#include "support.hpp"

#include <cpm/query.hpp>
#include <cpm/sqlite/transaction.hpp>
#include <cpm/store.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace {

struct item {
  std::int64_t id = 0;
  std::string name;
};

cpm::connection items_file(const std::filesystem::path& path, cpm::journal_mode journal) {
  cpm::open_options options;
  options.journal = journal;
  options.busy_timeout = std::chrono::milliseconds(100);
  auto db = cpm::connection::open(path.string(), options);
  db.exec("CREATE TABLE IF NOT EXISTS item(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  return db;
}

}  // namespace

TEST_CASE("a write inside a read snapshot is refused at once and nothing is written", "[snapshot]") {
  cpm_test::temp_dir dir;
  auto db = items_file(dir / "a.db", cpm::journal_mode::rollback);
  // Another connection holds a read: the snapshot's COMMIT of a write would be busy.
  auto reader = items_file(dir / "a.db", cpm::journal_mode::rollback);
  reader.exec("BEGIN; SELECT count(*) FROM item;");
  {
    cpm::read_snapshot snapshot(db);
    CHECK(db.in_snapshot());
    try {
      (void)cpm::insert(db, item{0, "lost?"});
      FAIL("a write inside a read snapshot was accepted");
    } catch (const cpm::readonly_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("read_snapshot") && Catch::Contains("cpm::transaction"));
    }
    CHECK_THROWS_AS(cpm::execute(db, "DELETE FROM item"), cpm::readonly_error);
  }
  reader.exec("COMMIT");
  CHECK(cpm::count<item>(db) == 0);
  CHECK_FALSE(db.in_snapshot());
  (void)cpm::insert(db, item{0, "after"});
  CHECK(cpm::count<item>(db) == 1);
}

TEST_CASE("a statement prepared before a read snapshot, and a script, cannot write inside it", "[snapshot]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  auto add = db.prepare("INSERT INTO item(name) VALUES ('early')");  // owned, prepared outside
  auto count = db.prepare("SELECT count(*) FROM item");
  {
    cpm::read_snapshot snapshot(db);
    CHECK_THROWS_AS(add.run(), cpm::readonly_error);
    CHECK_THROWS_WITH(db.exec("SELECT 1; DELETE FROM item; SELECT 2"), Catch::Contains("read_snapshot"));
    db.exec("SELECT 1; -- a read script runs\n SELECT count(*) FROM item;");
    REQUIRE(count.step());
    CHECK(count.column<std::int64_t>(0) == 0);
    count.reset();
  }
  add.run();  // after the snapshot, the same statement writes
  REQUIRE(count.step());
  CHECK(count.column<std::int64_t>(0) == 1);
}

TEST_CASE("a read snapshot leaves the connection's prepared statements valid: nothing is prepared again",
          "[snapshot]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  (void)cpm::insert(db, item{0, "a"});
  auto lookup = [&] { return cpm::get<item>(db, 1).value().name; };
  CHECK(lookup() == "a");  // prepared here
  sqlite3_stmt* stmt = cpm::detail::lease<cpm::detail::select_by_key_sql<item>>(db).native();  // the one get uses
  const int before = sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0);
  for (int i = 0; i < 3; ++i) {
    cpm::read_snapshot snapshot(db);
    CHECK(lookup() == "a");
  }
  CHECK(lookup() == "a");
  CHECK(sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0) == before);
}

TEST_CASE("a transaction inside a read snapshot is refused up front with a usage_error", "[snapshot]") {
  auto store = cpm::store::open_memory();
  cpm::read_snapshot snapshot(store.db());
  try {
    (void)store.create_user({.username = "alice", .email = "alice@example.org"});
    FAIL("a store write inside a read snapshot was accepted");
  } catch (const cpm::usage_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("read_snapshot") && Catch::Contains("end the snapshot first"));
  }
  CHECK_THROWS_AS(cpm::transaction(store.db()), cpm::usage_error);
  CHECK_FALSE(store.user_by_name("alice"));
}

TEST_CASE("a standalone read snapshot sees one snapshot and commits its read transaction", "[snapshot]") {
  cpm_test::temp_dir dir;
  auto db = items_file(dir / "w.db", cpm::journal_mode::wal);
  auto writer = items_file(dir / "w.db", cpm::journal_mode::wal);
  (void)cpm::insert(writer, item{0, "first"});
  {
    cpm::read_snapshot snapshot(db);
    CHECK(snapshot.is_active());
    CHECK(db.in_transaction());
    CHECK(cpm::count<item>(db) == 1);
    (void)cpm::insert(writer, item{0, "second"});  // WAL: the writer does not wait for the reader
    CHECK(cpm::count<item>(db) == 1);               // still the snapshot's view
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(cpm::count<item>(db) == 2);
}

TEST_CASE("a read snapshot inside a transaction does nothing and leaves writes allowed", "[snapshot]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  cpm::transaction tx(db);
  {
    cpm::read_snapshot snapshot(db);
    CHECK_FALSE(snapshot.is_active());
    CHECK_FALSE(db.in_snapshot());
    (void)cpm::insert(db, item{0, "inside"});
  }
  tx.commit();
  CHECK(cpm::count<item>(db) == 1);
}

TEST_CASE("a query-only connection stays query-only after a read snapshot", "[snapshot]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL); PRAGMA query_only=ON;");
  { cpm::read_snapshot snapshot(db); }
  CHECK_THROWS_AS(cpm::insert(db, item{0, "no"}), cpm::readonly_error);
}

TEST_CASE("a stale deferred transaction's write says to retry the whole transaction", "[snapshot]") {
  cpm_test::temp_dir dir;
  auto db = items_file(dir / "s.db", cpm::journal_mode::wal);
  auto writer = items_file(dir / "s.db", cpm::journal_mode::wal);
  cpm::transaction tx(db, cpm::tx_mode::deferred);
  CHECK(cpm::count<item>(db) == 0);             // the read transaction begins here
  (void)cpm::insert(writer, item{0, "other"});  // another connection writes after it
  try {
    (void)cpm::insert(db, item{0, "mine"});
    FAIL("a write on a stale snapshot succeeded");
  } catch (const cpm::busy_error& e) {
    CHECK(e.extended_code() == SQLITE_BUSY_SNAPSHOT);
    CHECK_THAT(e.what(), Catch::Contains("run the whole transaction again"));
  }
}

namespace {

struct stamped {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::chrono::sys_seconds> at;
};

}  // namespace

template <>
struct cpm::model_traits<stamped> {
  static constexpr auto defaults = std::tuple{&stamped::at};
};

TEST_CASE("insert and upsert whose stored row cannot be read back leave nothing behind", "[snapshot][atomic]") {
  auto db = cpm::connection::open_memory();
  // The DEFAULT is no timestamp: the write succeeds, reading the RETURNING row fails.
  db.exec("CREATE TABLE stamped(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, at TEXT DEFAULT 'never')");
  CHECK_THROWS_AS(cpm::insert(db, stamped{0, "a", std::nullopt}), cpm::value_error);
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM stamped").one() == 0);
  CHECK_THROWS_AS(cpm::upsert<&stamped::name>(db, stamped{0, "b", std::nullopt}), cpm::value_error);
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM stamped").one() == 0);
  CHECK_FALSE(db.in_transaction());
  // Inside a caller's transaction the caller decides: its rollback undoes the row.
  {
    cpm::transaction tx(db);
    CHECK_THROWS_AS(cpm::insert(db, stamped{0, "c", std::nullopt}), cpm::value_error);
  }
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM stamped").one() == 0);
}

TEST_CASE("a refused adoption leaves a rollback-journal file byte for byte unchanged", "[snapshot][adoption]") {
  cpm_test::temp_dir dir;
  const auto path = dir / "legacy.db";
  {
    cpm::open_options options;
    options.journal = cpm::journal_mode::rollback;
    auto db = cpm::connection::open(path.string(), options);
    db.exec(R"sql(
      CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE,
                          email TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
      INSERT INTO users(username, email) VALUES ('alice', 'a@example.org');
    )sql");
  }
  const auto before = cpm_test::file_bytes(path);
  CHECK_THROWS_AS(cpm::store::open(path.string()), cpm::error);
  CHECK(cpm_test::file_bytes(path) == before);
  CHECK_FALSE(std::filesystem::exists(path.string() + "-wal"));

  // Opened without migrating, then migrated by hand: still refused, still unchanged.
  {
    auto store = cpm::store::open(path.string(), {.migrate = false});
    CHECK_THROWS_AS(store.migrate(), cpm::migration_error);
  }
  CHECK(cpm_test::file_bytes(path) == before);
  CHECK_FALSE(std::filesystem::exists(path.string() + "-wal"));
}
