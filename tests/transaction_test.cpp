// Transactions: commit, rollback on scope exit and on exceptions, nested savepoints, snapshots.
#include <cpm/sqlite.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>

namespace {

cpm::connection counter_db() {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE t(x INTEGER)");
  return db;
}

long long count(cpm::connection& db) {
  auto stmt = db.prepare("SELECT count(*) FROM t");
  REQUIRE(stmt.step());
  return stmt.column<long long>(0);
}

}  // namespace

TEST_CASE("a committed transaction keeps its work", "[transaction]") {
  auto db = counter_db();
  {
    cpm::transaction tx(db);
    CHECK(db.in_transaction());
    CHECK_FALSE(tx.is_savepoint());
    db.exec("INSERT INTO t VALUES (1)");
    tx.commit();
    CHECK_FALSE(tx.is_active());
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(count(db) == 1);
}

TEST_CASE("a transaction not committed is rolled back by its destructor", "[transaction]") {
  auto db = counter_db();
  {
    cpm::transaction tx(db);
    db.exec("INSERT INTO t VALUES (1)");
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(count(db) == 0);
}

TEST_CASE("an exception unwinding through a transaction rolls it back", "[transaction]") {
  auto db = counter_db();
  CHECK_THROWS_AS(cpm::with_transaction(db, [](cpm::connection& c) {
                    c.exec("INSERT INTO t VALUES (1)");
                    throw std::runtime_error("boom");
                  }),
                  std::runtime_error);
  CHECK(count(db) == 0);
  CHECK_FALSE(db.in_transaction());
}

TEST_CASE("with_transaction commits and returns the callable's result", "[transaction]") {
  auto db = counter_db();
  int result = cpm::with_transaction(db, [&] {
    db.exec("INSERT INTO t VALUES (1), (2)");
    return 42;
  });
  CHECK(result == 42);
  CHECK(count(db) == 2);
}

TEST_CASE("a nested transaction is a savepoint: its rollback keeps the outer work", "[transaction]") {
  auto db = counter_db();
  {
    cpm::transaction outer(db);
    db.exec("INSERT INTO t VALUES (1)");
    {
      cpm::transaction inner(db);
      CHECK(inner.is_savepoint());
      db.exec("INSERT INTO t VALUES (2)");
      CHECK(count(db) == 2);
    }  // inner rolled back
    CHECK(db.in_transaction());
    CHECK(count(db) == 1);
    {
      cpm::transaction inner(db);
      db.exec("INSERT INTO t VALUES (3)");
      inner.commit();
    }
    outer.commit();
  }
  CHECK(count(db) == 2);
}

TEST_CASE("savepoints nest several levels and the outer rollback undoes committed inner work", "[transaction]") {
  auto db = counter_db();
  {
    cpm::transaction outer(db);
    cpm::with_transaction(db, [&] {
      db.exec("INSERT INTO t VALUES (1)");
      cpm::with_transaction(db, [&] { db.exec("INSERT INTO t VALUES (2)"); });
      CHECK_THROWS(cpm::with_transaction(db, [&] {
        db.exec("INSERT INTO t VALUES (3)");
        throw std::runtime_error("inner failure");
      }));
    });
    CHECK(count(db) == 2);
  }
  CHECK(count(db) == 0);
}

TEST_CASE("explicit rollback ends the transaction and further use is a usage_error", "[transaction][errors]") {
  auto db = counter_db();
  cpm::transaction tx(db);
  db.exec("INSERT INTO t VALUES (1)");
  tx.rollback();
  CHECK(count(db) == 0);
  CHECK_THROWS_AS(tx.commit(), cpm::usage_error);
  CHECK_THROWS_AS(tx.rollback(), cpm::usage_error);
}

namespace {

// A file database with table t, and a second connection to it that never waits for a lock.
struct two_connections {
  cpm_test::temp_dir dir;
  cpm::connection db;
  cpm::connection other;

  explicit two_connections(cpm::journal_mode journal) : db(open(dir, journal, std::chrono::milliseconds(5000))),
                                                         other(open(dir, journal, std::chrono::milliseconds(0))) {}

  static cpm::connection open(const cpm_test::temp_dir& dir, cpm::journal_mode journal, std::chrono::milliseconds wait) {
    cpm::open_options options;
    options.journal = journal;
    options.busy_timeout = wait;
    auto c = cpm::connection::open(dir / "modes.db", options);
    c.exec("CREATE TABLE IF NOT EXISTS t(x)");
    return c;
  }

  // Whether `other` can take the write lock now (BEGIN IMMEDIATE, then rolled back).
  bool other_can_write() {
    try {
      other.exec("BEGIN IMMEDIATE");
    } catch (const cpm::busy_error& e) {
      CHECK(e.code() == SQLITE_BUSY);
      return false;
    }
    other.exec("ROLLBACK");
    return true;
  }
  // Whether `other` can read t now.
  bool other_can_read() {
    try {
      auto stmt = other.prepare("SELECT count(*) FROM t");
      (void)stmt.step();
    } catch (const cpm::busy_error& e) {
      CHECK(e.code() == SQLITE_BUSY);
      return false;
    }
    return true;
  }
};

}  // namespace

TEST_CASE("a default transaction takes the write lock when it begins (BEGIN IMMEDIATE)", "[transaction][modes]") {
  for (auto journal : {cpm::journal_mode::wal, cpm::journal_mode::rollback}) {
    INFO("journal mode " << static_cast<int>(journal));
    two_connections c(journal);
    REQUIRE(c.other_can_write());  // control
    {
      cpm::transaction tx(c.db);  // nothing run in it yet
      CHECK_FALSE(c.other_can_write());
      CHECK(c.other_can_read());  // only the write lock: readers go on
      tx.commit();
    }
    CHECK(c.other_can_write());
    // with_transaction's default is the same.
    cpm::with_transaction(c.db, [&] { CHECK_FALSE(c.other_can_write()); });
    CHECK(c.other_can_write());
  }
}

TEST_CASE("a deferred transaction takes no lock until it first reads or writes", "[transaction][modes]") {
  for (auto journal : {cpm::journal_mode::wal, cpm::journal_mode::rollback}) {
    INFO("journal mode " << static_cast<int>(journal));
    two_connections c(journal);
    {
      cpm::transaction tx(c.db, cpm::tx_mode::deferred);
      CHECK(c.db.in_transaction());
      CHECK(c.other_can_write());
      c.other.exec("INSERT INTO t VALUES (1)");  // and really writes
      CHECK(count(c.db) == 1);                   // the first read takes its snapshot now
      c.db.exec("INSERT INTO t VALUES (2)");     // the first write takes the write lock
      CHECK_FALSE(c.other_can_write());
      tx.commit();
    }
    CHECK(count(c.other) == 2);
    cpm::with_transaction(c.db, [&] { CHECK(c.other_can_write()); }, cpm::tx_mode::deferred);
  }
}

TEST_CASE("an exclusive transaction shuts out readers of a rollback-journal database", "[transaction][modes]") {
  two_connections c(cpm::journal_mode::rollback);
  c.db.exec("INSERT INTO t VALUES (1)");
  REQUIRE(c.other_can_read());
  {
    cpm::transaction tx(c.db, cpm::tx_mode::immediate);  // control: immediate lets readers in
    CHECK(c.other_can_read());
    CHECK_FALSE(c.other_can_write());
  }
  {
    cpm::transaction tx(c.db, cpm::tx_mode::exclusive);
    CHECK_FALSE(c.other_can_read());
    CHECK_FALSE(c.other_can_write());
    tx.commit();
  }
  CHECK(c.other_can_read());
  CHECK(c.other_can_write());
}

TEST_CASE("a read snapshot sees one state of the database while another connection writes", "[transaction][snapshot]") {
  cpm_test::temp_dir dir;
  auto reader = cpm::connection::open(dir / "snap.db");
  reader.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  auto writer = cpm::connection::open(dir / "snap.db");
  {
    cpm::read_snapshot snapshot(reader);
    CHECK(count(reader) == 1);
    writer.exec("INSERT INTO t VALUES (2)");
    CHECK(count(reader) == 1);
  }
  CHECK_FALSE(reader.in_transaction());
  CHECK(count(reader) == 2);
}

TEST_CASE("a read snapshot inside a transaction does nothing", "[transaction][snapshot]") {
  auto db = counter_db();
  cpm::transaction tx(db);
  db.exec("INSERT INTO t VALUES (1)");
  {
    cpm::read_snapshot snapshot(db);
  }
  CHECK(db.in_transaction());
  tx.commit();
  CHECK(count(db) == 1);
}

namespace {

// Counts the statements SQLite compiles that open, release or roll back a savepoint (the
// authorizer is asked once per compilation, never when a prepared statement runs again).
int savepoint_compilations = 0;
int count_savepoint_compilations(void*, int action, const char*, const char*, const char*, const char*) {
  if (action == SQLITE_SAVEPOINT) ++savepoint_compilations;
  return SQLITE_OK;
}

}  // namespace

TEST_CASE("savepoint statements are compiled once per depth, not once per nested transaction",
          "[transaction][savepoint]") {
  auto db = counter_db();
  savepoint_compilations = 0;
  sqlite3_set_authorizer(db.native(), &count_savepoint_compilations, nullptr);
  auto nested_round = [&](bool commit_inner) {
    cpm::transaction outer(db);
    {
      cpm::transaction inner(db);
      cpm::transaction innermost(db);
      db.exec("INSERT INTO t VALUES (1)");
      innermost.commit();
      if (commit_inner) inner.commit();  // otherwise rolled back: ROLLBACK TO + RELEASE
    }
    outer.commit();
  };
  nested_round(true);
  nested_round(false);
  const int warm = savepoint_compilations;  // SAVEPOINT, RELEASE, ROLLBACK TO for depths 1 and 2
  CHECK(warm > 0);
  for (int i = 0; i < 50; ++i) nested_round(i % 2 == 0);
  sqlite3_set_authorizer(db.native(), nullptr, nullptr);
  CHECK(savepoint_compilations == warm);
  CHECK(count(db) == 1 + 25);  // the rounds whose inner savepoint committed
}

TEST_CASE("a savepoint depth is free again once its savepoint ends, in any order of ending",
          "[transaction][savepoint]") {
  auto db = counter_db();
  cpm::transaction outer(db);
  {
    std::optional<cpm::transaction> a(std::in_place, db);
    std::optional<cpm::transaction> b(std::in_place, db);  // inside a
    db.exec("INSERT INTO t VALUES (1)");
    a->rollback();  // ends b's savepoint too: SQLite's ROLLBACK TO + RELEASE of the outer one
    CHECK_THROWS_AS(b->commit(), cpm::sqlite_error);  // its savepoint is gone
    b.reset();
    cpm::transaction c(db);  // takes a's depth again, and works
    db.exec("INSERT INTO t VALUES (2)");
    c.commit();
  }
  outer.commit();
  CHECK(count(db) == 1);
}
