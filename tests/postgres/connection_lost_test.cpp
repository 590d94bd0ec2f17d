// A connection killed mid-transaction (pg_terminate_backend from a second connection): the
// typed error cpm::pg::connection_lost, nothing of the transaction written, and a new
// connection works.
#include "pg_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

TEST_CASE("a connection killed mid-transaction: connection_lost, nothing half-written, a new one works",
          "[pg][connection_lost]") {
  pg_test::scratch s;
  auto setup = s.open();
  setup.exec("CREATE TABLE ledger (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount BIGINT NOT NULL)");
  setup.execute("INSERT INTO ledger (amount) VALUES ($1)", std::int64_t{100});

  auto victim = s.open();
  const int pid = victim.backend_pid();
  {
    cpm::pg::transaction tx(victim);
    victim.execute("INSERT INTO ledger (amount) VALUES ($1)", std::int64_t{-40});
    victim.execute("INSERT INTO ledger (amount) VALUES ($1)", std::int64_t{-60});
    // Killed before the commit.
    CHECK(setup.query_one<bool>("SELECT pg_terminate_backend($1)", pid));
    try {
      victim.execute("INSERT INTO ledger (amount) VALUES ($1)", std::int64_t{-1});
      tx.commit();
      FAIL("no error");
    } catch (const cpm::pg::connection_lost& e) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains("terminat") || Catch::Matchers::Contains("closed"));
    }
    CHECK_FALSE(victim.is_healthy());
    // And on every later use; commit says so too, the destructor stays quiet.
    CHECK_THROWS_AS(victim.query_one<int>("SELECT 1"), cpm::pg::connection_lost);
    CHECK_THROWS_AS(tx.commit(), cpm::pg::connection_lost);
  }
  CHECK(setup.query_one<std::int64_t>("SELECT count(*) FROM ledger") == 1);
  CHECK(setup.query_one<std::int64_t>("SELECT sum(amount)::int8 FROM ledger") == 100);

  auto fresh = s.open();
  CHECK(fresh.is_healthy());
  CHECK(fresh.backend_pid() != pid);
  cpm::pg::with_transaction(fresh, [](cpm::pg::connection& c) {
    c.execute("INSERT INTO ledger (amount) VALUES ($1)", std::int64_t{-40});
  });
  CHECK(setup.query_one<std::int64_t>("SELECT sum(amount)::int8 FROM ledger") == 60);
}

TEST_CASE("a connection killed while streaming: connection_lost from the stream", "[pg][connection_lost]") {
  pg_test::scratch s;
  auto killer = s.open();
  auto victim = s.open();
  const int pid = victim.backend_pid();
  auto stream = victim.stream<std::int64_t>("SELECT g FROM generate_series(1, 5000000) AS g");
  auto it = stream.begin();
  CHECK(*it == 1);
  CHECK(killer.query_one<bool>("SELECT pg_terminate_backend($1)", pid));
  CHECK_THROWS_AS(
      [&] {
        for (; it != stream.end(); ++it) {
        }
      }(),
      cpm::pg::connection_lost);
  CHECK(stream.finished());
  CHECK_THROWS_AS(victim.query_one<int>("SELECT 1"), cpm::pg::connection_lost);
}
