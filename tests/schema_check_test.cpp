// check_schema: the models against the tables as they exist. Each kind of difference on its own,
// what is deliberately not a difference (compatible affinities, columns the database fills in),
// every difference at once, and cpm's own store models against the store's schema.
#include <cpm/schema.hpp>
#include <cpm/store.hpp>
#include <cpm/store/schema_check.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

using kind = cpm::schema_difference::kind;

struct gadget {
  std::int64_t id = 0;
  std::string name{};
  std::optional<std::string> note{};
  std::int64_t count = 0;
  bool active = false;
  double price = 0;
  std::chrono::sys_seconds made{};
  std::optional<std::chrono::sys_seconds> created_at{};
};

// The table create_table_sql would make, spelled out, with one line replaced per test.
std::string gadget_table(std::string_view replace = {}, std::string_view with = {}) {
  std::string columns = R"(
      "id" INTEGER PRIMARY KEY,
      "name" TEXT NOT NULL,
      "note" TEXT,
      "count" INTEGER NOT NULL,
      "active" INTEGER NOT NULL,
      "price" REAL NOT NULL,
      "made" TEXT NOT NULL,
      "created_at" TEXT DEFAULT CURRENT_TIMESTAMP)";
  if (!replace.empty()) {
    auto at = columns.find(replace);
    REQUIRE(at != std::string::npos);
    columns.replace(at, replace.size(), with);
  }
  return "CREATE TABLE gadgets (" + columns + ")";
}

std::vector<cpm::schema_difference> differences(const std::string& ddl) {
  auto db = cpm::connection::open_memory();
  db.exec(ddl);
  return cpm::schema_differences<gadget>(db);
}

// The one difference `ddl` has, of `k`, on `column`.
cpm::schema_difference only(const std::string& ddl, kind k, std::string_view column) {
  auto found = differences(ddl);
  std::string messages;
  for (const auto& d : found) messages += d.message() + "\n";
  INFO(ddl);
  INFO(messages);
  REQUIRE(found.size() == 1);
  CHECK(found[0].what == k);
  CHECK(found[0].table == "gadgets");
  CHECK(found[0].column == column);
  CHECK(found[0].model == "gadget");
  return found[0];
}

}  // namespace

template <>
struct cpm::model_traits<gadget> {
  static constexpr std::string_view table = "gadgets";
  static constexpr auto defaults = std::tuple{&gadget::created_at};
  static constexpr auto default_values = std::tuple{cpm::sql_default<&gadget::created_at>{"CURRENT_TIMESTAMP"}};
};

TEST_CASE("a table as create_table_sql makes it matches its model", "[schema_check]") {
  CHECK(differences(gadget_table()).empty());
  CHECK(differences(std::string(cpm::create_table_sql<gadget>)).empty());
  auto db = cpm::connection::open_memory();
  db.exec(gadget_table());
  CHECK_NOTHROW(cpm::check_schema<gadget>(db));
}

TEST_CASE("a missing table is reported", "[schema_check]") {
  auto db = cpm::connection::open_memory();
  auto found = cpm::schema_differences<gadget>(db);
  REQUIRE(found.size() == 1);
  CHECK(found[0].what == kind::missing_table);
  CHECK(found[0].table == "gadgets");
  CHECK(found[0].column.empty());
  CHECK_THAT(found[0].message(), Catch::Contains(R"(table "gadgets" does not exist)"));
}

TEST_CASE("a field without a column is reported", "[schema_check]") {
  auto d = only(gadget_table(R"("price" REAL NOT NULL,)", ""), kind::missing_column, "price");
  CHECK(d.field == "price");
  CHECK_THAT(d.message(), Catch::Contains(R"(table "gadgets", column "price": no such column (field gadget::price))"));
}

TEST_CASE("a column the model lacks is reported only when inserts would fail", "[schema_check]") {
  auto d = only(gadget_table(R"("note" TEXT,)", R"("note" TEXT, "serial" TEXT NOT NULL,)"), kind::extra_column,
                "serial");
  CHECK(d.field.empty());
  CHECK_THAT(d.message(), Catch::Contains("NOT NULL without a DEFAULT") && Catch::Contains("inserts would fail"));
  // Nullable, or with a default, or generated: the database fills it in.
  CHECK(differences(gadget_table(R"("note" TEXT,)", R"("note" TEXT, "serial" TEXT,)")).empty());
  CHECK(differences(gadget_table(R"("note" TEXT,)", R"("note" TEXT, "serial" TEXT NOT NULL DEFAULT 'x',)")).empty());
  CHECK(differences(gadget_table(R"("note" TEXT,)",
                                 R"("note" TEXT, "twice" INTEGER NOT NULL GENERATED ALWAYS AS ("count" * 2),)"))
            .empty());
}

TEST_CASE("a declared type whose affinity does not keep the field's values is reported", "[schema_check]") {
  auto d = only(gadget_table(R"("count" INTEGER NOT NULL)", R"("count" TEXT NOT NULL)"), kind::affinity_mismatch,
                "count");
  CHECK(d.expected == "INTEGER");
  CHECK(d.actual == "TEXT");
  CHECK_THAT(d.message(), Catch::Contains(R"(column "count": declared 'TEXT' (TEXT affinity), but field gadget::count )"
                                          "is stored as INTEGER"));
  // Text into a NUMERIC column would turn "007" into 7.
  only(gadget_table(R"("name" TEXT NOT NULL)", R"("name" NUMERIC NOT NULL)"), kind::affinity_mismatch, "name");
  // SQLite's rules, in their order: "INT" anywhere is INTEGER (even in FLOATING POINT).
  only(gadget_table(R"("price" REAL NOT NULL)", R"("price" FLOATING POINT NOT NULL)"), kind::affinity_mismatch, "price");
  only(gadget_table(R"("made" TEXT NOT NULL)", R"("made" BLOB NOT NULL)"), kind::affinity_mismatch, "made");
  only(gadget_table(R"("made" TEXT NOT NULL)", R"("made" INTEGER NOT NULL)"), kind::affinity_mismatch, "made");
}

TEST_CASE("compatible affinities are not differences", "[schema_check]") {
  // Legacy spellings: BOOLEAN, DATETIME and DECIMAL are NUMERIC, which keeps integers, reals
  // and cpm's timestamp text as they were bound.
  CHECK(differences(gadget_table(R"("active" INTEGER NOT NULL)", R"("active" BOOLEAN NOT NULL)")).empty());
  CHECK(differences(gadget_table(R"("made" TEXT NOT NULL)", R"("made" DATETIME NOT NULL)")).empty());
  CHECK(differences(gadget_table(R"("created_at" TEXT DEFAULT)", R"("created_at" DATETIME DEFAULT)")).empty());
  CHECK(differences(gadget_table(R"("price" REAL NOT NULL)", R"("price" DECIMAL(10,2) NOT NULL)")).empty());
  // Other spellings of the same affinity.
  CHECK(differences(gadget_table(R"("name" TEXT NOT NULL)", R"("name" VARCHAR(40) NOT NULL)")).empty());
  CHECK(differences(gadget_table(R"("count" INTEGER NOT NULL)", R"("count" BIGINT NOT NULL)")).empty());
  CHECK(differences(gadget_table(R"("price" REAL NOT NULL)", R"("price" DOUBLE PRECISION NOT NULL)")).empty());
  // No declared type keeps every value as it was bound.
  CHECK(differences(gadget_table(R"("name" TEXT NOT NULL)", R"("name" NOT NULL)")).empty());
  // Names compare ignoring case, as SQLite compares them.
  CHECK(differences(gadget_table(R"("price" REAL NOT NULL)", R"("PRICE" real NOT NULL)")).empty());
}

TEST_CASE("a field that is not optional over a column that allows NULL is reported", "[schema_check]") {
  auto d = only(gadget_table(R"("name" TEXT NOT NULL)", R"("name" TEXT)"), kind::nullable_column, "name");
  CHECK_THAT(d.message(), Catch::Contains(R"(column "name": allows NULL, but field gadget::name is not std::optional)"));
}

TEST_CASE("an optional field over a NOT NULL column is reported, unless the database fills it in", "[schema_check]") {
  auto d = only(gadget_table(R"("note" TEXT)", R"("note" TEXT NOT NULL)"), kind::not_null_column, "note");
  CHECK_THAT(d.message(), Catch::Contains(R"(column "note": NOT NULL, but field gadget::note is std::optional)"));
  // created_at is one of the model's defaults: an empty one is left out of the insert.
  CHECK(differences(gadget_table(R"("created_at" TEXT DEFAULT)", R"("created_at" TEXT NOT NULL DEFAULT)")).empty());
  // Without the DEFAULT it is both.
  auto found = differences(gadget_table(R"("created_at" TEXT DEFAULT CURRENT_TIMESTAMP)", R"("created_at" TEXT NOT NULL)"));
  REQUIRE(found.size() == 2);
  CHECK(found[0].what == kind::not_null_column);
  CHECK(found[1].what == kind::missing_default);
}

TEST_CASE("a field the model says the database fills in over a column without a DEFAULT is reported",
          "[schema_check]") {
  auto d = only(gadget_table(R"("created_at" TEXT DEFAULT CURRENT_TIMESTAMP)", R"("created_at" TEXT)"),
                kind::missing_default, "created_at");
  CHECK_THAT(d.message(), Catch::Contains("no DEFAULT"));
}

TEST_CASE("a key that is not the table's primary key, or not the rowid, is reported", "[schema_check]") {
  // INT PRIMARY KEY is no rowid alias: an id of 0, inserted as NULL, would stay NULL.
  auto d = only(gadget_table(R"("id" INTEGER PRIMARY KEY)", R"("id" INT PRIMARY KEY NOT NULL)"), kind::primary_key,
                "id");
  CHECK_THAT(d.message(), Catch::Contains("not INTEGER PRIMARY KEY"));
  only(gadget_table(R"("id" INTEGER PRIMARY KEY)", R"("id" INTEGER NOT NULL UNIQUE)"), kind::primary_key, "id");
  // Part of a composite key only.
  std::string composite = gadget_table(R"("id" INTEGER PRIMARY KEY)", R"("id" INTEGER NOT NULL)");
  composite.insert(composite.size() - 1, R"(, PRIMARY KEY ("id", "name"))");
  only(composite, kind::primary_key, "id");
  // WITHOUT ROWID has no rowid to alias.
  auto found = differences(gadget_table() + " WITHOUT ROWID");
  REQUIRE(found.size() == 1);
  CHECK(found[0].what == kind::primary_key);
  // The rowid alias may be spelled in lower case, and AUTOINCREMENT changes nothing.
  CHECK(differences(gadget_table(R"("id" INTEGER PRIMARY KEY)", R"("id" integer primary key autoincrement)")).empty());
}

namespace {

struct widget {
  std::int64_t id = 0;
  std::string label{};
};

struct gizmo {
  std::int64_t id = 0;
};

}  // namespace

TEST_CASE("every difference of every table is reported at once", "[schema_check]") {
  auto db = cpm::connection::open_memory();
  db.exec(R"(CREATE TABLE gadgets ("id" INTEGER PRIMARY KEY, "name" TEXT, "note" TEXT NOT NULL, "count" BLOB NOT NULL,
                                    "active" INTEGER NOT NULL, "made" TEXT NOT NULL,
                                    "created_at" TEXT DEFAULT CURRENT_TIMESTAMP, "serial" TEXT NOT NULL))");
  db.exec(R"(CREATE TABLE widget ("id" INTEGER PRIMARY KEY, "label" INTEGER NOT NULL))");
  try {
    cpm::check_schema<gadget, widget, gizmo>(db);
    FAIL("must throw");
  } catch (const cpm::schema_mismatch& e) {
    const auto& found = e.differences();
    REQUIRE(found.size() == 7);
    using row = std::tuple<kind, std::string, std::string>;
    std::vector<row> got;
    for (const auto& d : found) got.emplace_back(d.what, d.table, d.column);
    CHECK(got == std::vector<row>{{kind::nullable_column, "gadgets", "name"},
                                  {kind::not_null_column, "gadgets", "note"},
                                  {kind::affinity_mismatch, "gadgets", "count"},
                                  {kind::missing_column, "gadgets", "price"},
                                  {kind::extra_column, "gadgets", "serial"},
                                  {kind::affinity_mismatch, "widget", "label"},
                                  {kind::missing_table, "gizmo", ""}});
    const std::string what = e.what();
    CHECK_THAT(what, Catch::StartsWith("cpm: the database does not match the models (7 differences):"));
    for (const auto& d : found) CHECK_THAT(what, Catch::Contains("\n  - " + d.message()));
    CHECK_THAT(what, Catch::Contains(R"(table "gadgets", column "serial")") &&
                         Catch::Contains(R"(table "widget", column "label")") &&
                         Catch::Contains(R"(table "gizmo" does not exist)"));
  }
  // It is a cpm::error.
  CHECK_THROWS_AS(cpm::check_schema<gizmo>(db), cpm::error);
}

TEST_CASE("cpm's store models match the store's schema", "[schema_check][store]") {
  auto store = cpm::store::open_memory();
  auto found = cpm::store_schema_differences(store.db());
  std::string messages;
  for (const auto& d : found) messages += d.message() + "\n";
  INFO(messages);
  CHECK(found.empty());
  CHECK_NOTHROW(cpm::check_store_schema(store.db()));
  // And it would notice a change: a NOT NULL column only the database knows of.
  store.db().exec("ALTER TABLE users ADD COLUMN nickname TEXT NOT NULL DEFAULT ''");
  CHECK_NOTHROW(cpm::check_store_schema(store.db()));
  store.db().exec("DROP TABLE repo_access");
  try {
    cpm::check_store_schema(store.db());
    FAIL("must throw");
  } catch (const cpm::schema_mismatch& e) {
    REQUIRE(e.differences().size() == 1);
    CHECK(e.differences()[0].what == kind::missing_table);
    CHECK(e.differences()[0].table == "repo_access");
  }
}
