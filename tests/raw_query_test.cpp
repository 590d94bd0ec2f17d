// The escape hatch: hand-written SQL mapped to any aggregate (columns named like its fields,
// or by position on request) or to one value, the typed errors when the columns do not match,
// and execute.
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

// Field names that match no column: rows map by position only (cpm::by_position).
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

TEST_CASE("query maps each row to an aggregate by column position with cpm::by_position", "[raw]") {
  auto db = make_db();
  auto members = cpm::query<member_row>(db, cpm::by_position,
                                        "SELECT name, role, city FROM people WHERE role = ? ORDER BY id", role::member)
                     .to_vector();
  REQUIRE(members.size() == 2);
  CHECK(members[0].who == "bob");
  CHECK(members[0].as == role::member);
  CHECK_FALSE(members[0].where);
  CHECK(members[1].who == "cid");
  CHECK(members[1].where == "Oslo");

  auto totals = cpm::query<total>(db, cpm::by_position,
                                  cpm::sql<"SELECT role, count(*), avg(id) FROM people GROUP BY role ORDER BY role">)
                    .to_vector();
  REQUIRE(totals.size() == 2);
  CHECK(totals[0].key == "admin");
  CHECK(totals[0].how_many == 2);
  CHECK(totals[0].average == 2.5);
  CHECK(totals[1].key == "member");
  CHECK(totals[1].how_many == 2);
}

TEST_CASE("query maps columns named like the row's fields, aliases included", "[raw][names]") {
  auto db = make_db();
  auto totals = cpm::query<total>(db, R"(SELECT role AS "key", count(*) AS how_many, avg(id) AS average
                                         FROM people GROUP BY role ORDER BY role)")
                    .to_vector();
  REQUIRE(totals.size() == 2);
  CHECK(totals[0].key == "admin");
  CHECK(totals[0].how_many == 2);
  CHECK(totals[0].average == 2.5);
  // A column reference is named after the table's column, whatever qualifies it.
  struct person {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::string> city;
  };
  auto people = cpm::query<person>(db, "SELECT p.id, p.name, \"city\" FROM people AS p ORDER BY p.id").to_vector();
  REQUIRE(people.size() == 4);
  CHECK(people[3].name == "dee");
  CHECK(people[3].city == "Rome");
  // Names compare as SQLite compares identifiers: ignoring ASCII case.
  CHECK(cpm::query<person>(db, "SELECT ID, Name, CITY FROM people WHERE name = 'ann'").one().city == "Oslo");
}

namespace {
struct ab {
  std::int64_t a = 0;
  std::int64_t b = 0;
};
}  // namespace

TEST_CASE("columns named otherwise than the fields throw column_name_mismatch instead of being swapped",
          "[raw][names][errors]") {
  auto db = make_db();
  const std::string sql = "SELECT 10 AS b, 20 AS a";
  try {
    (void)cpm::query<ab>(db, sql);
    FAIL("must throw");
  } catch (const cpm::column_name_mismatch& e) {
    CHECK(e.index() == 0);
    CHECK(e.expected() == "a");
    CHECK(e.actual() == "b");
    CHECK(e.sql() == sql);
    CHECK_THAT(e.what(), Catch::Contains("column 0") && Catch::Contains("\"b\"") && Catch::Contains("\"a\"") &&
                             Catch::Contains("cpm::by_position") && Catch::Contains(sql));
  }
  // The first mismatch is the one named; it is a usage_error.
  try {
    (void)cpm::query<ab>(db, cpm::sql<"SELECT 1 AS a, count(*) FROM people">);
    FAIL("must throw");
  } catch (const cpm::column_name_mismatch& e) {
    CHECK(e.index() == 1);
    CHECK(e.expected() == "b");
    CHECK(e.actual() == "count(*)");
  }
  CHECK_THROWS_AS(cpm::query<ab>(db, sql), cpm::usage_error);
  // The statement is not left busy, and the verdict is per row type: the same SQL maps by
  // position, and a row type whose names match takes it.
  auto swapped = cpm::query<ab>(db, cpm::by_position, sql).one();
  CHECK(swapped.a == 10);
  CHECK(swapped.b == 20);
  struct ba {
    std::int64_t b = 0;
    std::int64_t a = 0;
  };
  auto named = cpm::query<ba>(db, sql).one();
  CHECK(named.b == 10);
  CHECK(named.a == 20);
  CHECK_THROWS_AS(cpm::query<ab>(db, sql), cpm::column_name_mismatch);
  auto right = cpm::query<ab>(db, "SELECT 20 AS a, 10 AS b").one();
  CHECK(right.a == 20);
  CHECK(right.b == 10);
}

namespace {
struct renamed {
  std::int64_t key = 0;
  std::string label;
};
}  // namespace

template <>
struct cpm::model_traits<renamed> {
  static constexpr std::array<std::string_view, 2> columns{"id", "name"};
};

TEST_CASE("a row with model_traits columns answers to its column names and to its field names", "[raw][names]") {
  auto db = make_db();
  CHECK(cpm::query<renamed>(db, "SELECT id, name FROM people WHERE id = 1").one().label == "ann");
  CHECK(cpm::query<renamed>(db, "SELECT id AS key, name AS label FROM people WHERE id = 2").one().label == "bob");
  try {
    (void)cpm::query<renamed>(db, "SELECT id, city FROM people");
    FAIL("must throw");
  } catch (const cpm::column_name_mismatch& e) {
    CHECK(e.index() == 1);
    CHECK(e.expected() == "name");  // the column name the model gives
    CHECK(e.actual() == "city");
  }
}

TEST_CASE("a single-value row is not name-checked", "[raw][names]") {
  auto db = make_db();
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM people").one() == 4);
  CHECK(cpm::query<std::string>(db, "SELECT name AS anything FROM people WHERE id = 1").one() == "ann");
}

TEST_CASE("with a verdict slot the names are checked once per statement and row type", "[raw][names]") {
  auto db = make_db();
  auto stmt = db.cached("SELECT 10 AS b, 20 AS a");
  const void*& verdict = *stmt.row_check_slot();  // the cached statement's slot
  CHECK_THROWS_AS(cpm::detail::check_row_names<ab>(stmt), cpm::column_name_mismatch);
  CHECK(verdict == nullptr);  // a failed check is not remembered
  struct ba {
    std::int64_t b = 0;
    std::int64_t a = 0;
  };
  cpm::detail::check_row_names<ba>(stmt);
  CHECK(verdict == &cpm::detail::row_check_tag<ba>);
  // Remembered: the check is not run again for this row type...
  cpm::detail::check_row_names<ba>(stmt);
  const void* remembered = verdict;
  verdict = &cpm::detail::row_check_tag<ab>;  // (a verdict that says ab fits is believed)
  CHECK_NOTHROW(cpm::detail::check_row_names<ab>(stmt));
  verdict = remembered;
  // ...but another row type is checked (and refused) afresh.
  CHECK_THROWS_AS(cpm::detail::check_row_names<ab>(stmt), cpm::column_name_mismatch);
  CHECK(verdict == &cpm::detail::row_check_tag<ba>);
  // A private statement (the cached one is leased) has no slot: checked on every call.
  auto plain = db.cached("SELECT 10 AS b, 20 AS a");
  REQUIRE_FALSE(plain.is_cached());
  CHECK(plain.row_check_slot() == nullptr);
  CHECK_THROWS_AS(cpm::detail::check_row_names<ab>(plain), cpm::column_name_mismatch);
  CHECK_NOTHROW(cpm::detail::check_row_names<ba>(plain));
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

// A named constant: its text stays out of symbol names (cpm.symbols.length), and it is cached
// in a slot of its own like cpm::sql<"...">.
constexpr std::string_view names_descending = "SELECT name FROM people ORDER BY name DESC";
static_assert(cpm::sql_constant<names_descending>::text == "SELECT name FROM people ORDER BY name DESC");

TEST_CASE("sql_constant of a named string_view gives the same rows, prepared once", "[raw]") {
  auto db = make_db();
  const auto prepared = db.prepare_count();
  for (int i = 0; i < 3; ++i) {
    auto names = cpm::query<std::string>(db, cpm::sql_constant<names_descending>{}).to_vector();
    CHECK(names == std::vector<std::string>{"dee", "cid", "bob", "ann"});
  }
  CHECK(db.prepare_count() == prepared + 1);
  CHECK(db.text_cache_size() == 0);  // a slot, not the run-time text cache
  static constexpr std::string_view count_in = "SELECT count(*) FROM people WHERE city = ?";
  CHECK(cpm::query<std::int64_t>(db, cpm::sql_constant<count_in>{}, "Oslo").one() == 2);
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
