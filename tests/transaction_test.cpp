// Transactions: commit, rollback on scope exit and on exceptions, nested savepoints, snapshots.
#include <cpm/sqlite.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

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

TEST_CASE("deferred and exclusive transactions begin in their mode", "[transaction]") {
  cpm_test::temp_dir dir;
  auto db = cpm::connection::open(dir / "modes.db");
  db.exec("CREATE TABLE t(x)");
  cpm::open_options quick;
  quick.busy_timeout = std::chrono::milliseconds(10);
  auto other = cpm::connection::open(dir / "modes.db", quick);
  {
    cpm::transaction tx(db, cpm::tx_mode::deferred);
    other.exec("INSERT INTO t VALUES (1)");  // a deferred transaction holds no lock yet
    tx.commit();
  }
  {
    cpm::transaction tx(db, cpm::tx_mode::exclusive);
    CHECK_THROWS_AS(other.exec("INSERT INTO t VALUES (2)"), cpm::busy_error);
    tx.commit();
  }
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
