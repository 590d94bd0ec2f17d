// What outlives what: ranges, leases and transactions keep their connection's database handle
// alive (they stay valid when the connection is moved or destroyed first); a moved-from
// connection says it is not open and refuses every use with cpm::usage_error; migration steps
// own their text. Run under ASan in CI: each case here read or wrote freed memory once.
#include <cpm/query.hpp>
#include <cpm/schema/migration.hpp>
#include <cpm/sqlite/transaction.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

struct item {
  std::int64_t id = 0;
  std::string name;
};

cpm::connection items_db(int count) {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  for (int i = 1; i <= count; ++i) (void)cpm::insert(db, item{0, "item " + std::to_string(i)});
  return db;
}

std::int64_t count_items(cpm::connection& db) { return cpm::count<item>(db); }

}  // namespace

TEST_CASE("a range that outlives its connection is still read and destroyed safely", "[lifetime]") {
  std::optional<cpm::rows<item>> range;
  {
    auto db = items_db(3);
    range.emplace(cpm::all<item>(db));
  }  // the connection is gone; the range holds the database open
  std::vector<std::string> names;
  for (const item& i : *range) names.push_back(i.name);
  CHECK(names == std::vector<std::string>{"item 1", "item 2", "item 3"});
  range.reset();  // finalizes the statement and closes the handle
}

TEST_CASE("a range destroyed after its connection, while stepping, frees nothing twice", "[lifetime]") {
  auto db = std::make_unique<cpm::connection>(items_db(5));
  auto range = cpm::all<item>(*db);
  auto it = range.begin();
  REQUIRE(it != range.end());
  db.reset();
  ++it;
  CHECK(it->name == "item 2");
}

TEST_CASE("a find_in range keeps working when its connection is moved while it is alive", "[lifetime]") {
  auto db = items_db(700);
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 1; i <= 600; ++i) ids.push_back(i);  // two chunks: 512 and 88
  auto range = cpm::find_in<&item::id>(db, ids);
  auto it = range.begin();
  REQUIRE(it != range.end());
  cpm::connection moved = std::move(db);
  std::size_t seen = 1;
  for (++it; it != range.end(); ++it) ++seen;
  CHECK(seen == 600);
  CHECK(count_items(moved) == 700);
}

TEST_CASE("a transaction commits when its connection was moved while it was open", "[lifetime]") {
  auto db = items_db(0);
  cpm::transaction tx(db);
  (void)cpm::insert(db, item{0, "kept"});
  cpm::connection moved = std::move(db);
  tx.commit();
  CHECK(count_items(moved) == 1);
  CHECK_FALSE(moved.in_transaction());
}

TEST_CASE("a transaction rolls back when its connection was moved and it is not committed", "[lifetime]") {
  auto db = items_db(0);
  std::optional<cpm::connection> moved;
  {
    cpm::transaction tx(db);
    (void)cpm::insert(db, item{0, "dropped"});
    moved.emplace(std::move(db));
  }
  CHECK(count_items(*moved) == 0);
}

TEST_CASE("a read snapshot ends cleanly when its connection was moved while it was open", "[lifetime]") {
  auto db = items_db(2);
  std::optional<cpm::connection> moved;
  {
    cpm::read_snapshot snapshot(db);
    CHECK(count_items(db) == 2);
    moved.emplace(std::move(db));
    CHECK(moved->in_snapshot());
  }
  CHECK_FALSE(moved->in_transaction());
  CHECK_FALSE(moved->in_snapshot());
  (void)cpm::insert(*moved, item{0, "after"});  // query_only was switched off again
  CHECK(count_items(*moved) == 3);
}

TEST_CASE("a moved-from connection is not open and every use is a usage_error", "[lifetime]") {
  auto db = items_db(1);
  cpm::connection other = std::move(db);
  CHECK(other.is_open());
  CHECK_FALSE(db.is_open());  // NOLINT(bugprone-use-after-move): the point of the test
  CHECK_THROWS_WITH(db.exec("SELECT 1"), Catch::Contains("not open"));
  CHECK_THROWS_AS(db.exec("SELECT 1"), cpm::usage_error);
  CHECK_THROWS_AS(db.prepare("SELECT 1"), cpm::usage_error);
  CHECK_THROWS_AS(db.cached("SELECT 1"), cpm::usage_error);
  CHECK_THROWS_AS(db.cached(cpm::sql<"SELECT 1">), cpm::usage_error);
  CHECK_THROWS_AS(db.in_transaction(), cpm::usage_error);
  CHECK_THROWS_AS(db.changes(), cpm::usage_error);
  CHECK_THROWS_AS(db.path(), cpm::usage_error);
  CHECK_THROWS_AS(db.native(), cpm::usage_error);
  CHECK_THROWS_AS(db.clear_cache(), cpm::usage_error);
  CHECK_THROWS_AS(cpm::get<item>(db, 1), cpm::usage_error);
  CHECK_THROWS_AS(cpm::insert(db, item{0, "x"}), cpm::usage_error);
  CHECK_THROWS_AS(cpm::all<item>(db), cpm::usage_error);
  CHECK_THROWS_AS(cpm::transaction(db), cpm::usage_error);
  CHECK_THROWS_AS(cpm::read_snapshot(db), cpm::usage_error);
  CHECK(count_items(other) == 1);

  cpm::connection never_opened;
  CHECK_FALSE(never_opened.is_open());
  CHECK_THROWS_AS(never_opened.exec("SELECT 1"), cpm::usage_error);
  other.close();
  CHECK_FALSE(other.is_open());
  CHECK_THROWS_AS(other.exec("SELECT 1"), cpm::usage_error);
}

TEST_CASE("a lease outlives its connection's move and close", "[lifetime]") {
  auto db = items_db(1);
  auto lease = db.cached("SELECT name FROM item");
  db.close();
  REQUIRE(lease.step());
  CHECK(lease.column<std::string>(0) == "item 1");
}

TEST_CASE("migration steps built from temporary strings own their text", "[lifetime][migration]") {
  auto db = cpm::connection::open_memory();
  std::vector<cpm::migration> steps;
  for (int v = 1; v <= 3; ++v) {
    std::string table = "t" + std::to_string(v);
    steps.push_back({v, "create " + table, "CREATE TABLE " + table + "(x INTEGER)", {}});
  }  // every std::string above is gone
  auto report = cpm::migrate(db, "app", steps);
  CHECK(report.applied == std::vector<int>{1, 2, 3});
  CHECK_NOTHROW(db.exec("INSERT INTO t3 VALUES (1)"));
}
