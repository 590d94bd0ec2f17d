// The escape hatch: hand-written SQL mapped by position to any aggregate or to one value, the
// typed error when the columns do not match, and execute.
#include <cpm/query.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

enum class role { member, admin };

}  // namespace

template <>
struct cpm::enum_names<role> {
  static constexpr std::array values{std::pair{role::member, std::string_view{"member"}},
                                     std::pair{role::admin, std::string_view{"admin"}}};
};

namespace {

// Field names that match no column: rows map by position only.
struct member_row {
  std::string who;
  role as = role::member;
  std::optional<std::string> where;
};

struct total {
  std::string key;
  std::int64_t how_many = 0;
  double average = 0;
};

cpm::connection make_db() {
  auto db = cpm::connection::open_memory();
  db.exec(R"(
    CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, city TEXT);
    INSERT INTO people(name, role, city) VALUES
      ('ann', 'admin', 'Oslo'), ('bob', 'member', NULL), ('cid', 'member', 'Oslo'), ('dee', 'admin', 'Rome');
  )");
  return db;
}

}  // namespace

TEST_CASE("query maps each row to an aggregate by column position", "[raw]") {
  auto db = make_db();
  auto members = cpm::query<member_row>(db, "SELECT name, role, city FROM people WHERE role = ? ORDER BY id",
                                        role::member)
                     .to_vector();
  REQUIRE(members.size() == 2);
  CHECK(members[0].who == "bob");
  CHECK(members[0].as == role::member);
  CHECK_FALSE(members[0].where);
  CHECK(members[1].who == "cid");
  CHECK(members[1].where == "Oslo");

  auto totals = cpm::query<total>(db, cpm::sql<"SELECT role, count(*), avg(id) FROM people GROUP BY role ORDER BY role">)
                    .to_vector();
  REQUIRE(totals.size() == 2);
  CHECK(totals[0].key == "admin");
  CHECK(totals[0].how_many == 2);
  CHECK(totals[0].average == 2.5);
  CHECK(totals[1].key == "member");
  CHECK(totals[1].how_many == 2);
}

TEST_CASE("query maps a one-column result to a single value", "[raw]") {
  auto db = make_db();
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM people").one() == 4);
  std::vector<std::string> names;
  for (const std::string& n : cpm::query<std::string>(db, "SELECT name FROM people WHERE city IS ? ORDER BY id", "Oslo"))
    names.push_back(n);
  CHECK(names == std::vector<std::string>{"ann", "cid"});
  auto cities = cpm::query<std::optional<std::string>>(db, "SELECT city FROM people ORDER BY id").to_vector();
  CHECK(cities == std::vector<std::optional<std::string>>{"Oslo", std::nullopt, "Oslo", "Rome"});
  CHECK(cpm::query<role>(db, "SELECT role FROM people WHERE name = ?", std::string_view("dee")).one() == role::admin);
  using namespace std::chrono;
  CHECK(cpm::query<sys_seconds>(db, "SELECT '2024-05-06 07:08:09'").one() ==
        sys_days{2024y / May / 6} + 7h + 8min + 9s);
}

TEST_CASE("query binds every argument by position through the value mapping", "[raw]") {
  auto db = make_db();
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM people WHERE role = ? AND city IS ? AND id > ?", role::admin,
                                 std::nullopt, 0)
            .one() == 0);
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM people WHERE role = ? AND city = ? AND id > ?", "admin",
                                 std::optional<std::string>("Rome"), std::int16_t{1})
            .one() == 1);
  CHECK_THROWS_AS(cpm::query<std::int64_t>(db, "SELECT count(*) FROM people WHERE id > ?"), cpm::usage_error);
  CHECK_THROWS_AS(cpm::query<std::int64_t>(db, "SELECT count(*) FROM people WHERE id > ?", 1, 2), cpm::usage_error);
}

TEST_CASE("a column count mismatch throws column_count_mismatch naming both counts and the SQL", "[raw][errors]") {
  auto db = make_db();
  const std::string sql = "SELECT name, role FROM people";
  try {
    (void)cpm::query<member_row>(db, sql);
    FAIL("must throw");
  } catch (const cpm::column_count_mismatch& e) {
    CHECK(e.expected() == 3);
    CHECK(e.actual() == 2);
    CHECK(e.sql() == sql);
    CHECK_THAT(e.what(), Catch::Contains("3 fields") && Catch::Contains("2 columns") && Catch::Contains(sql));
  }
  try {
    (void)cpm::query<std::string>(db, cpm::sql<"SELECT name, city FROM people">);
    FAIL("must throw");
  } catch (const cpm::column_count_mismatch& e) {
    CHECK(e.expected() == 1);
    CHECK(e.actual() == 2);
    CHECK(e.sql() == "SELECT name, city FROM people");
  }
  // It is a usage_error: code that catches those catches it.
  CHECK_THROWS_AS(cpm::query<total>(db, "SELECT 1"), cpm::usage_error);
  // The statement is not left busy: the same SQL works with the right row type.
  CHECK(cpm::query<std::string>(db, "SELECT name FROM people ORDER BY id").first() == "ann");
}

TEST_CASE("a bad SQL text throws sqlite_error naming it", "[raw][errors]") {
  auto db = make_db();
  try {
    (void)cpm::query<std::string>(db, "SELECT nothing FROM people");
    FAIL("must throw");
  } catch (const cpm::sqlite_error& e) {
    CHECK(e.sql() == "SELECT nothing FROM people");
  }
}

TEST_CASE("the sql<> form and plain text give the same rows", "[raw]") {
  auto db = make_db();
  auto by_constant = cpm::query<std::string>(db, cpm::sql<"SELECT name FROM people ORDER BY name DESC">).to_vector();
  auto by_text = cpm::query<std::string>(db, "SELECT name FROM people ORDER BY name DESC").to_vector();
  CHECK(by_constant == std::vector<std::string>{"dee", "cid", "bob", "ann"});
  CHECK(by_text == by_constant);
}

TEST_CASE("execute runs a statement and returns the rows it changed", "[raw][execute]") {
  auto db = make_db();
  CHECK(cpm::execute(db, "UPDATE people SET city = ? WHERE city IS NULL", "Lima") == 1);
  CHECK(cpm::execute(db, cpm::sql<"UPDATE people SET role = ? WHERE city = ?">, role::admin, "Oslo") == 2);
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM people WHERE role = 'admin'").one() == 3);
  CHECK(cpm::execute(db, "DELETE FROM people WHERE id > ?", 100) == 0);
  CHECK(cpm::execute(db, "DELETE FROM people WHERE id > ?", 2) == 2);
  CHECK_THROWS_AS(cpm::execute(db, "INSERT INTO people(name, role) VALUES (?, ?)", "x"), cpm::usage_error);
  CHECK_THROWS_AS(cpm::execute(db, "INSERT INTO people(name, role) VALUES (NULL, 'member')"), cpm::not_null_violation);
}

TEST_CASE("execute of a statement that changes no rows returns 0", "[raw][execute]") {
  auto db = make_db();
  CHECK(cpm::execute(db, "UPDATE people SET city = 'x'") == 4);
  CHECK(cpm::execute(db, "CREATE TABLE other(x)") == 0);
  CHECK(cpm::execute(db, "SELECT count(*) FROM people") == 0);
}
