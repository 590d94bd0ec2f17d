// Every typed error comes from a real violation on the server, and is-a the error the SQLite
// layer throws for the same thing: one catch clause serves both backends.
#include "pg_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <thread>

using Catch::Matchers::Contains;

namespace {

void make_tables(cpm::pg::connection& db) {
  db.exec(R"(
    CREATE TABLE users (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        login TEXT NOT NULL UNIQUE,
                        age INTEGER CONSTRAINT age_is_sane CHECK (age BETWEEN 0 AND 150));
    CREATE TABLE repos (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        owner_id BIGINT NOT NULL REFERENCES users (id),
                        name TEXT NOT NULL,
                        UNIQUE (owner_id, name));
  )");
}

}  // namespace

TEST_CASE("23505 is cpm::unique_violation, naming the table, columns and the value", "[pg][errors]") {
  pg_test::scratch s;
  auto db = s.open();
  make_tables(db);
  auto id = db.query_one<std::int64_t>("INSERT INTO users (login) VALUES ($1) RETURNING id", std::string("alice"));
  try {
    db.execute("INSERT INTO users (login) VALUES ($1)", std::string("alice"));
    FAIL("no error");
  } catch (const cpm::unique_violation& e) {
    CHECK(e.table() == "users");
    CHECK(e.columns() == std::vector<std::string>{"login"});
    CHECK_THAT(e.what(), Contains("(login)=(alice) already exists") && Contains("SQLSTATE 23505") &&
                             Contains("INSERT INTO users"));
    auto* d = dynamic_cast<const cpm::pg::diagnostics*>(&e);
    REQUIRE(d != nullptr);
    CHECK(d->sqlstate() == "23505");
    CHECK(d->constraint_name() == "users_login_key");
    CHECK_FALSE(d->retryable());
  }
  db.execute("INSERT INTO repos (owner_id, name) VALUES ($1, $2)", id, std::string("cpm"));
  try {
    db.execute("INSERT INTO repos (owner_id, name) VALUES ($1, $2)", id, std::string("cpm"));
    FAIL("no error");
  } catch (const cpm::unique_violation& e) {
    CHECK(e.table() == "repos");
    CHECK(e.columns() == std::vector<std::string>{"owner_id", "name"});
    CHECK_THAT(e.what(), Contains("=(" + std::to_string(id) + ", cpm)"));
  }
  // The generic handlers catch it too.
  CHECK_THROWS_AS(db.execute("INSERT INTO users (login) VALUES ($1)", std::string("alice")), cpm::constraint_error);
  CHECK_THROWS_AS(db.execute("INSERT INTO users (login) VALUES ($1)", std::string("alice")), cpm::error);
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM users") == 1);
}

TEST_CASE("23503 is cpm::foreign_key_violation, 23514 cpm::check_violation, 23502 cpm::not_null_violation",
          "[pg][errors]") {
  pg_test::scratch s;
  auto db = s.open();
  make_tables(db);
  try {
    db.execute("INSERT INTO repos (owner_id, name) VALUES ($1, $2)", std::int64_t{42}, std::string("ghost"));
    FAIL("no error");
  } catch (const cpm::foreign_key_violation& e) {
    CHECK_THAT(e.what(), Contains("(owner_id)=(42) is not present in table \"users\"") && Contains("SQLSTATE 23503"));
  }
  try {
    db.execute("INSERT INTO users (login, age) VALUES ($1, $2)", std::string("old"), 200);
    FAIL("no error");
  } catch (const cpm::check_violation& e) {
    CHECK(e.constraint() == "age_is_sane");
    CHECK_THAT(e.what(), Contains("age_is_sane") && Contains("SQLSTATE 23514") && Contains("200"));
  }
  try {
    db.execute("INSERT INTO users (login) VALUES ($1)", std::optional<std::string>{});
    FAIL("no error");
  } catch (const cpm::not_null_violation& e) {
    CHECK(e.table() == "users");
    CHECK(e.column() == "login");
    CHECK_THAT(e.what(), Contains("\"login\"") && Contains("SQLSTATE 23502"));
  }
  // A parent with children cannot go either.
  auto id = db.query_one<std::int64_t>("INSERT INTO users (login) VALUES ($1) RETURNING id", std::string("bob"));
  db.execute("INSERT INTO repos (owner_id, name) VALUES ($1, $2)", id, std::string("r"));
  CHECK_THROWS_AS(db.execute("DELETE FROM users WHERE id = $1", id), cpm::foreign_key_violation);
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM users") == 1);
}

TEST_CASE("other server errors are cpm::pg::error with the SQLSTATE - a refused connection is connect_error",
          "[pg][errors]") {
  pg_test::scratch s;
  auto db = s.open();
  try {
    db.exec("SELEC 1");
    FAIL("no error");
  } catch (const cpm::pg::error& e) {
    CHECK(e.sqlstate() == "42601");
    CHECK_THAT(e.what(), Contains("syntax error") && Contains("SQLSTATE 42601") && Contains("SELEC 1"));
  }
  CHECK_THROWS_MATCHES(db.query<std::int64_t>("SELECT x FROM no_such_table"), cpm::pg::error,
                       Catch::Matchers::Predicate<cpm::pg::error>([](const cpm::pg::error& e) { return e.sqlstate() == "42P01"; }));
  // The connection goes on after an error outside a transaction.
  CHECK(db.query_one<int>("SELECT 1") == 1);
  CHECK_THROWS_AS(cpm::pg::connection::open("host=127.0.0.1 port=1 dbname=postgres connect_timeout=5"),
                  cpm::pg::connect_error);
  // Wrong parameter counts are refused by cpm, before the server sees a malformed message.
  CHECK_THROWS_AS(db.query_one<int>("SELECT $1::int + $2::int", 1), cpm::usage_error);
  CHECK_THROWS_AS(db.query_one<int>("SELECT $1::int + $2::int", 1), cpm::usage_error);
  CHECK(db.query_one<int>("SELECT $1::int + $2::int", 1, 2) == 3);
}

TEST_CASE("40001 is cpm::pg::serialization_failure: a retryable cpm::busy_error", "[pg][errors]") {
  pg_test::scratch s;
  auto a = s.open();
  auto b = s.open();
  a.exec("CREATE TABLE doctors (name TEXT PRIMARY KEY, on_call BOOLEAN NOT NULL);"
         "INSERT INTO doctors VALUES ('alice', true), ('bob', true)");
  // Write skew: each takes itself off call after seeing the other on call.
  cpm::pg::transaction ta(a, cpm::pg::isolation::serializable);
  cpm::pg::transaction tb(b, cpm::pg::isolation::serializable);
  CHECK(a.query_one<std::int64_t>("SELECT count(*) FROM doctors WHERE on_call") == 2);
  CHECK(b.query_one<std::int64_t>("SELECT count(*) FROM doctors WHERE on_call") == 2);
  a.execute("UPDATE doctors SET on_call = false WHERE name = $1", std::string("alice"));
  b.execute("UPDATE doctors SET on_call = false WHERE name = $1", std::string("bob"));
  ta.commit();
  try {
    tb.commit();
    FAIL("no error");
  } catch (const cpm::busy_error& e) {
    auto* d = dynamic_cast<const cpm::pg::diagnostics*>(&e);
    REQUIRE(d != nullptr);
    CHECK(d->sqlstate() == "40001");
    CHECK(d->retryable());
    CHECK(dynamic_cast<const cpm::pg::serialization_failure*>(&e) != nullptr);
    CHECK_THAT(e.what(), Contains("SQLSTATE 40001"));
  }
  CHECK(a.query_one<std::int64_t>("SELECT count(*) FROM doctors WHERE on_call") == 1);
  CHECK_FALSE(b.in_transaction());
}

TEST_CASE("40P01 is cpm::pg::deadlock: a retryable cpm::busy_error", "[pg][errors]") {
  pg_test::scratch s;
  auto a = s.open();
  auto b = s.open();
  a.exec("CREATE TABLE counters (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO counters VALUES (1, 0), (2, 0)");
  a.exec("SET deadlock_timeout = '50ms'");
  b.exec("SET deadlock_timeout = '50ms'");
  cpm::pg::transaction ta(a);
  cpm::pg::transaction tb(b);
  a.execute("UPDATE counters SET n = n + 1 WHERE id = $1", 1);
  b.execute("UPDATE counters SET n = n + 1 WHERE id = $1", 2);
  // a waits for b's row on another thread; b then waits for a's: one of them is chosen.
  std::exception_ptr a_error;
  std::thread other([&] {
    try {
      a.execute("UPDATE counters SET n = n + 1 WHERE id = $1", 2);
    } catch (...) {
      a_error = std::current_exception();
    }
  });
  std::exception_ptr b_error;
  // Give a time to block first (it is then b's statement that closes the cycle).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  try {
    b.execute("UPDATE counters SET n = n + 1 WHERE id = $1", 1);
  } catch (...) {
    b_error = std::current_exception();
  }
  if (!b_error) tb.rollback();  // b won: let a go on
  other.join();
  REQUIRE((a_error == nullptr) != (b_error == nullptr));
  try {
    std::rethrow_exception(a_error ? a_error : b_error);
  } catch (const cpm::busy_error& e) {
    auto* d = dynamic_cast<const cpm::pg::diagnostics*>(&e);
    REQUIRE(d != nullptr);
    CHECK(d->sqlstate() == "40P01");
    CHECK(d->retryable());
    CHECK(dynamic_cast<const cpm::pg::deadlock*>(&e) != nullptr);
    CHECK_THAT(e.what(), Contains("deadlock detected") && Contains("SQLSTATE 40P01"));
  }
}

TEST_CASE("a write inside a read snapshot is cpm::readonly_error (25006)", "[pg][errors]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE t (n INT)");
  {
    cpm::pg::read_snapshot snap(db);
    REQUIRE(snap.is_active());
    try {
      db.execute("INSERT INTO t VALUES ($1)", 1);
      FAIL("no error");
    } catch (const cpm::readonly_error& e) {
      CHECK_THAT(e.what(), Contains("SQLSTATE 25006"));
    }
  }
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM t") == 0);
  CHECK_FALSE(db.in_transaction());
}
