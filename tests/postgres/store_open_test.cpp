// cpm::pg::store: what only PostgreSQL can bring about (the store's behaviour on both backends
// is the store suite, tests/store_*_test.cpp).
#include "pg_support.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

std::string conninfo_for(const pg_test::scratch& s) {
  return pg_test::conninfo() + " options='-c search_path=" + s.schema() + "'";
}

}  // namespace

TEST_CASE("pg store: a schema newer than the code is refused on open, migrating or not, and left as it is",
          "[pg][store]") {
  pg_test::scratch s;
  {
    auto store = cpm::pg::store::open(conninfo_for(s));
    CHECK(store.schema_version() == cpm::pg::store::target_version());
  }
  auto db = s.open();
  db.execute("INSERT INTO cpm_schema_history (component, version, name, checksum) VALUES ('cpm.store', $1, 'from the future', '')",
             cpm::pg::store::target_version() + 1);
  CHECK_THROWS_AS(cpm::pg::store::open(conninfo_for(s), {.migrate = false}), cpm::schema_too_new);
  CHECK_THROWS_AS(cpm::pg::store::open(conninfo_for(s)), cpm::schema_too_new);
  CHECK(cpm::pg::store_schema_version(db) == cpm::pg::store::target_version() + 1);
}

TEST_CASE("pg store: a clash on the id the database chose is not reported as a taken name", "[pg][store]") {
  pg_test::scratch s;
  auto store = cpm::pg::store::open(conninfo_for(s));
  // Ids inserted as given, the sequence not moved past them (what a copy must not forget).
  store.db().exec("INSERT INTO users (id, username, email, public_key) VALUES (1, 'ada', 'ada@example.org', '')");
  try {
    (void)store.create_user({.username = "dave", .email = "dave@example.org"});
    FAIL("no error");
  } catch (const cpm::already_exists& e) {
    FAIL("reported as a taken " << e.field() << ": " << e.what());
  } catch (const cpm::unique_violation& e) {
    CHECK(e.columns() == std::vector<std::string>{"id"});
  }
  CHECK_FALSE(store.user_by_name("dave"));
  // A taken name is still named.
  CHECK_THROWS_AS(store.create_user({.username = "ADA", .email = "x@example.org"}), cpm::already_exists);
}
