// Each statement is prepared once per connection, as a named server-side statement, and
// reused; prepare_count() counts the prepares.
#include "pg_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <tuple>

TEST_CASE("a statement is prepared once per connection and reused", "[pg][prepare]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)");
  CHECK(db.prepare_count() == 0);  // exec() prepares nothing
  for (std::int64_t i = 0; i < 200; ++i)
    db.execute("INSERT INTO kv (k, v) VALUES ($1, $2)", "key " + std::to_string(i), i);
  CHECK(db.prepare_count() == 1);
  for (std::int64_t i = 0; i < 200; ++i)
    CHECK(db.query_one<std::int64_t>("SELECT v FROM kv WHERE k = $1", "key " + std::to_string(i)) == i);
  CHECK(db.prepare_count() == 2);
  // The server holds exactly these, named by cpm.
  auto names = db.query<std::string>("SELECT name FROM pg_prepared_statements ORDER BY name");
  CHECK(names == std::vector<std::string>{"cpm_1", "cpm_2", "cpm_3"});  // cpm_3 is this query itself
  CHECK(db.prepare_count() == 3);
  CHECK(db.statement_count() == 3);
  // Other parameter types make another statement (the types are part of it).
  CHECK(db.query_one<std::int64_t>("SELECT $1::int8 + 1", 1) == 2);
  CHECK(db.query_one<std::int64_t>("SELECT $1::int8 + 1", std::int64_t{1}) == 2);
  CHECK(db.prepare_count() == 5);
  CHECK(db.query_one<std::int64_t>("SELECT $1::int8 + 1", 2) == 3);
  CHECK(db.prepare_count() == 5);
  // A NULL keeps its C++ type's parameter type: the same statement.
  CHECK_FALSE(db.query_one<std::optional<std::int64_t>>("SELECT $1::int8 + 1", std::optional<std::int64_t>{}));
  CHECK(db.prepare_count() == 5);
  // Another connection prepares its own.
  auto other = s.open();
  CHECK(other.query_one<std::int64_t>("SELECT v FROM kv WHERE k = $1", std::string("key 7")) == 7);
  CHECK(other.prepare_count() == 1);
  CHECK(other.query_one<std::int64_t>("SELECT count(*) FROM pg_prepared_statements") == 2);
}

TEST_CASE("SQL text at an address that held another text runs as its own statement", "[pg][prepare]") {
  pg_test::scratch s;
  auto db = s.open();
  // One buffer, rewritten in place: the same address and length, another statement.
  std::string sql = "SELECT 1::int8 AS v";
  const char* at = sql.data();
  CHECK(db.query_one<std::int64_t>(sql) == 1);
  sql[7] = '2';
  REQUIRE(sql.data() == at);
  CHECK(db.query_one<std::int64_t>(sql) == 2);
  CHECK(db.prepare_count() == 2);
  sql[7] = '1';
  CHECK(db.query_one<std::int64_t>(sql) == 1);  // the first statement again, not prepared again
  CHECK(db.prepare_count() == 2);
}

TEST_CASE("a statement that fails to prepare is not kept - a rolled-back transaction keeps the rest",
          "[pg][prepare]") {
  pg_test::scratch s;
  auto db = s.open();
  CHECK_THROWS_AS(db.query_one<int>("SELECT nope FROM nowhere"), cpm::pg::error);
  CHECK(db.prepare_count() == 0);
  CHECK(db.statement_count() == 0);
  CHECK(db.query_one<int>("SELECT $1::int * 2", 21) == 42);
  {
    cpm::pg::transaction tx(db);
    CHECK(db.query_one<int>("SELECT $1::int * 2", 2) == 4);
  }  // rolled back: prepared statements are not transactional
  CHECK(db.query_one<int>("SELECT $1::int * 2", 3) == 6);
  CHECK(db.prepare_count() == 1);
}

TEST_CASE("a statement prepared before a column it reads changed type is prepared again, not failed for good",
          "[pg][prepare]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE item(id BIGINT PRIMARY KEY, qty INTEGER NOT NULL); INSERT INTO item VALUES (1, 5)");
  const char* sql = "SELECT id, qty FROM item WHERE id = $1";
  using row = std::tuple<std::int64_t, std::int64_t>;
  CHECK(db.query_one<row>(sql, std::int64_t{1}) == row{1, 5});
  db.exec("ALTER TABLE item ALTER COLUMN qty TYPE BIGINT");
  // Outside a transaction: prepared again and run at once.
  CHECK(db.query_one<row>(sql, std::int64_t{1}) == row{1, 5});
  CHECK(db.prepare_count() == 2);
  // Inside one, the failure aborts it: the error is the caller's, the statement is forgotten,
  // and its next use works.
  db.exec("ALTER TABLE item ALTER COLUMN qty TYPE INTEGER");
  {
    cpm::pg::transaction tx(db);
    CHECK_THROWS_AS(db.query_one<row>(sql, std::int64_t{1}), cpm::pg::error);
  }
  CHECK(db.query_one<row>(sql, std::int64_t{1}) == row{1, 5});
  // A stream reports the failure once; the next one prepares the statement again.
  db.exec("ALTER TABLE item ALTER COLUMN qty TYPE BIGINT");
  auto read = [&] {
    std::int64_t total = 0;
    for (const row& r : db.stream<row>(sql, std::int64_t{1})) total += std::get<1>(r);
    return total;
  };
  CHECK_THROWS_AS(read(), cpm::pg::error);
  CHECK(read() == 5);
  // New statements after all this get names of their own (none is given twice).
  CHECK(db.query_one<int>("SELECT $1::int + 1", 1) == 2);
  CHECK(db.query_one<int>("SELECT $1::int + 2", 1) == 3);
}
