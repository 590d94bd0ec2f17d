// Transactions commit or roll back as a whole, nest as savepoints, take an isolation level,
// and a read snapshot sees one state of the database.
#include "pg_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

std::int64_t count(cpm::pg::connection& db) { return db.query_one<std::int64_t>("SELECT count(*) FROM items"); }

void insert(cpm::pg::connection& db, const std::string& name) {
  db.execute("INSERT INTO items (name) VALUES ($1)", name);
}

}  // namespace

TEST_CASE("commit keeps the work, rollback and the destructor undo it", "[pg][transactions]") {
  pg_test::scratch s;
  auto db = s.open();
  auto other = s.open();
  db.exec("CREATE TABLE items (name TEXT PRIMARY KEY)");
  {
    cpm::pg::transaction tx(db);
    CHECK(db.in_transaction());
    CHECK_FALSE(tx.is_savepoint());
    insert(db, "a");
    CHECK(count(other) == 0);  // not visible before the commit
    tx.commit();
    CHECK_FALSE(tx.is_active());
  }
  CHECK(count(other) == 1);
  {
    cpm::pg::transaction tx(db);
    insert(db, "b");
    tx.rollback();
  }
  {
    cpm::pg::transaction tx(db);
    insert(db, "c");
  }  // destroyed without commit
  CHECK(count(other) == 1);
  CHECK_FALSE(db.in_transaction());
  CHECK_THROWS_AS(
      [&] {
        cpm::pg::transaction tx(db);
        tx.commit();
        tx.commit();
      }(),
      cpm::usage_error);
  // with_transaction: commits on return, rolls back on an exception.
  cpm::pg::with_transaction(db, [](cpm::pg::connection& c) { insert(c, "d"); });
  CHECK_THROWS_AS(cpm::pg::with_transaction(db,
                                            [](cpm::pg::connection& c) {
                                              insert(c, "e");
                                              throw std::runtime_error("changed my mind");
                                            }),
                  std::runtime_error);
  CHECK(count(other) == 2);
  CHECK(other.query_one<std::int64_t>("SELECT count(*) FROM items WHERE name = 'e'") == 0);
}

TEST_CASE("nested transactions are savepoints: an inner failure leaves the outer one going", "[pg][transactions]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE items (name TEXT PRIMARY KEY)");
  {
    cpm::pg::transaction outer(db);
    insert(db, "kept");
    {
      cpm::pg::transaction inner(db);
      CHECK(inner.is_savepoint());
      insert(db, "inner-kept");
      inner.commit();
    }
    {
      cpm::pg::transaction inner(db);
      insert(db, "inner-undone");
      // A statement fails inside the savepoint: only the savepoint is lost.
      CHECK_THROWS_AS(insert(db, "kept"), cpm::unique_violation);
    }
    {
      cpm::pg::transaction inner(db);
      insert(db, "rolled-back");
      inner.rollback();
    }
    insert(db, "after");
    CHECK_THROWS_AS(cpm::pg::transaction(db, cpm::pg::isolation::serializable), cpm::usage_error);
    outer.commit();
  }
  auto names = db.query<std::string>("SELECT name FROM items ORDER BY name");
  CHECK(names == std::vector<std::string>{"after", "inner-kept", "kept"});
}

TEST_CASE("commit after a failed statement does not pretend: it rolls back and says so", "[pg][transactions]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE items (name TEXT PRIMARY KEY)");
  insert(db, "x");
  {
    cpm::pg::transaction tx(db);
    insert(db, "written-before-the-failure");
    CHECK_THROWS_AS(insert(db, "x"), cpm::unique_violation);
    // The server refuses everything until the rollback.
    CHECK_THROWS_AS(count(db), cpm::pg::error);
    CHECK_THROWS_AS(tx.commit(), cpm::usage_error);
    CHECK_FALSE(tx.is_active());
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(count(db) == 1);
}

TEST_CASE("the isolation level is the one asked for", "[pg][transactions]") {
  pg_test::scratch s;
  auto db = s.open();
  auto level = [&] { return db.query_one<std::string>("SELECT current_setting('transaction_isolation')"); };
  {
    cpm::pg::transaction tx(db);
    CHECK(level() == "read committed");
  }
  {
    cpm::pg::transaction tx(db, cpm::pg::isolation::repeatable_read);
    CHECK(level() == "repeatable read");
  }
  {
    cpm::pg::transaction tx(db, cpm::pg::isolation::serializable);
    CHECK(level() == "serializable");
    cpm::pg::transaction inner(db);  // a savepoint keeps it
    CHECK(level() == "serializable");
  }
}

TEST_CASE("a read snapshot sees one state - repeatable read too, read committed does not", "[pg][transactions]") {
  pg_test::scratch s;
  auto db = s.open();
  auto writer = s.open();
  db.exec("CREATE TABLE items (name TEXT PRIMARY KEY)");
  insert(db, "one");
  {
    cpm::pg::read_snapshot snap(db);
    CHECK(db.query_one<std::string>("SELECT current_setting('transaction_read_only')") == "on");
    CHECK(db.query_one<std::string>("SELECT current_setting('transaction_isolation')") == "repeatable read");
    CHECK(count(db) == 1);
    insert(writer, "two");
    CHECK(count(db) == 1);
    // Inside it, another snapshot (or transaction) does nothing of its own.
    cpm::pg::read_snapshot nested(db);
    CHECK_FALSE(nested.is_active());
  }
  CHECK(count(db) == 2);
  {
    cpm::pg::transaction tx(db);  // read committed: each statement sees the latest commits
    CHECK(count(db) == 2);
    insert(writer, "three");
    CHECK(count(db) == 3);
  }
}

TEST_CASE("retry_transaction runs a serialization failure's transaction again", "[pg][transactions]") {
  pg_test::scratch s;
  auto db = s.open();
  auto rival = s.open();
  db.exec("CREATE TABLE doctors (name TEXT PRIMARY KEY, on_call BOOLEAN NOT NULL);"
          "INSERT INTO doctors VALUES ('alice', true), ('bob', true)");
  int runs = 0;
  cpm::pg::retry_transaction(db, [&](cpm::pg::connection& c) {
    ++runs;
    auto on_call = c.query_one<std::int64_t>("SELECT count(*) FROM doctors WHERE on_call");
    if (runs == 1) {
      // A rival takes bob off call meanwhile, having read the same state.
      cpm::pg::transaction rt(rival, cpm::pg::isolation::serializable);
      CHECK(rival.query_one<std::int64_t>("SELECT count(*) FROM doctors WHERE on_call") == 2);
      rival.execute("UPDATE doctors SET on_call = false WHERE name = $1", std::string("bob"));
      rt.commit();
    }
    if (on_call >= 2) c.execute("UPDATE doctors SET on_call = false WHERE name = $1", std::string("alice"));
  });
  CHECK(runs == 2);  // the first run's write could not be serialized; the second saw bob off call
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM doctors WHERE on_call") == 1);
}
