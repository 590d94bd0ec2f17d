// The lazy rows range: a single-pass input view for std::ranges and range-v3 alike, that gives
// its statement (and the read transaction it holds) back as soon as it is done or destroyed.
#include <cpm/query.hpp>
#include <cpm/ranges_v3.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>
#include <range/v3/range/concepts.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/take.hpp>
#include <range/v3/view/transform.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <iterator>
#include <optional>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

namespace {

struct row {
  std::int64_t id = 0;
  std::string name;
  std::int32_t score = 0;
};

using row_range = cpm::rows<row>;

static_assert(std::ranges::input_range<row_range>);
static_assert(std::ranges::view<row_range>);
static_assert(!std::ranges::forward_range<row_range>, "single pass");
static_assert(std::same_as<std::ranges::range_reference_t<row_range>, row&>);
static_assert(std::same_as<std::ranges::sentinel_t<row_range>, std::default_sentinel_t>);
static_assert(ranges::input_range<row_range>);
static_assert(ranges::view_<row_range>);
static_assert(!ranges::forward_range<row_range>);
static_assert(std::ranges::input_range<cpm::rows<std::int64_t>> && ranges::input_range<cpm::rows<std::string>>);

void fill(cpm::connection& db, int count) {
  db.exec("CREATE TABLE row(id INTEGER PRIMARY KEY, name TEXT, score INTEGER NOT NULL)");
  for (int i = 1; i <= count; ++i) (void)cpm::insert(db, row{0, fmt::format("r{}", i), i * 10});
}

cpm::connection memory_db(int count = 5) {
  auto db = cpm::connection::open_memory();
  fill(db, count);
  return db;
}

// The connection's cached statement for all<row>, borrowed: is_cached() is false while
// something else still holds it.
cpm::statement_lease select_all_statement(cpm::connection& db) {
  return cpm::detail::lease<cpm::detail::select_all_sql<row>>(db);
}

// The "busy" column of PRAGMA wal_checkpoint(TRUNCATE) run on `other`: 1 when a reader on
// another connection still holds a read transaction, 0 when the checkpoint ran through.
int checkpoint_busy(cpm::connection& other) {
  auto stmt = other.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  REQUIRE(stmt.step());
  return stmt.column<int>(0);
}

// A WAL database with rows written, and a second connection that does not wait on locks.
struct wal_pair {
  cpm_test::temp_dir dir;
  cpm::connection reader = cpm::connection::open((dir / "rows.db").string());
  cpm::connection checkpointer = cpm::connection::open((dir / "rows.db").string(), no_wait());

  static cpm::open_options no_wait() {
    cpm::open_options options;
    options.busy_timeout = std::chrono::milliseconds{0};
    return options;
  }

  wal_pair() { fill(reader, 5); }
  // Writes a frame to the WAL so that a reader starting now has a snapshot to hold.
  void touch() { cpm::execute(checkpointer, "UPDATE row SET score = score + 1 WHERE id = 1"); }
};

std::vector<std::int64_t> ids(row_range r) {
  std::vector<std::int64_t> out;
  for (const row& x : r) out.push_back(x.id);
  return out;
}

}  // namespace

// clang++ 14 cannot instantiate libstdc++ 12's view adaptors at all (std::views::filter over a
// std::vector fails too: view_interface's constraints), so this case needs g++ or a newer clang.
#if !(defined(__clang__) && __clang_major__ < 15 && defined(__GLIBCXX__))
TEST_CASE("rows composes with std::views filter, transform and take", "[rows][ranges]") {
  auto db = memory_db(10);
  auto names = cpm::all<row>(db) | std::views::filter([](const row& r) { return r.score % 20 == 0; }) |
               std::views::transform(&row::name) | std::views::take(3);
  std::vector<std::string> out;
  for (const std::string& name : names) out.push_back(name);
  CHECK(out == std::vector<std::string>{"r2", "r4", "r6"});

  auto scores = cpm::find<&row::name>(db, "r7") | std::views::transform([](const row& r) { return r.score; });
  std::vector<std::int32_t> got;
  for (std::int32_t score : scores) got.push_back(score);
  CHECK(got == std::vector<std::int32_t>{70});
}
#endif

TEST_CASE("rows composes with range-v3 filter, transform, take and to", "[rows][ranges]") {
  auto db = memory_db(10);
  auto names = cpm::all<row>(db) | ranges::views::filter([](const row& r) { return r.score > 30; }) |
               ranges::views::transform([](const row& r) { return r.name; }) | ranges::views::take(2) |
               ranges::to<std::vector>();
  CHECK(names == std::vector<std::string>{"r4", "r5"});

  auto all_ids = cpm::all<row>(db) | ranges::views::transform(&row::id) | ranges::to<std::vector>();
  CHECK(all_ids == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}

TEST_CASE("rows is single pass: a second loop goes on where the first stopped", "[rows]") {
  auto db = memory_db(4);
  auto r = cpm::all<row>(db);
  for (const row& x : r) {
    CHECK(x.id == 1);
    break;
  }
  std::vector<std::int64_t> rest;
  for (const row& x : r) rest.push_back(x.id);
  CHECK(rest == std::vector<std::int64_t>{1, 2, 3, 4});  // the row the first loop stood on, then on
  CHECK(ids(r).empty());
  CHECK(r.to_vector().empty());
}

TEST_CASE("copies of a rows share one cursor", "[rows]") {
  auto db = memory_db(4);
  auto a = cpm::all<row>(db);
  auto b = a;
  auto ia = a.begin();
  CHECK(ia->id == 1);
  ++ia;
  auto ib = b.begin();
  CHECK(ib->id == 2);  // advancing one copy advanced the other
  a = {};               // the remaining copy keeps the statement
  ++ib;
  CHECK(ib->id == 3);
  CHECK_FALSE(select_all_statement(db).is_cached());
}

TEST_CASE("two ranges over the same query alive at once are both correct", "[rows]") {
  auto db = memory_db(5);
  auto first = cpm::all<row>(db);
  auto second = cpm::all<row>(db);
  auto i1 = first.begin();
  auto i2 = second.begin();
  std::vector<std::int64_t> a, b;
  // Interleaved: first steps twice for each step of second.
  while (i1 != first.end() || i2 != second.end()) {
    for (int k = 0; k < 2 && i1 != first.end(); ++k, ++i1) a.push_back(i1->id);
    if (i2 != second.end()) {
      b.push_back(i2->id);
      ++i2;
    }
  }
  CHECK(a == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  CHECK(b == std::vector<std::int64_t>{1, 2, 3, 4, 5});

  // find over the same column with different values, alive at once.
  auto r3 = cpm::find<&row::name>(db, "r3");
  auto r4 = cpm::find<&row::name>(db, std::string("r4"));  // the temporary string dies here
  auto i3 = r3.begin();
  auto i4 = r4.begin();
  REQUIRE(i3 != r3.end());
  REQUIRE(i4 != r4.end());
  CHECK(i3->id == 3);
  CHECK(i4->id == 4);
}

TEST_CASE("a range moved to another thread is read and destroyed there, its cursor freed with that thread",
          "[rows][threads]") {
  auto db = memory_db(3);
  CHECK(ids(cpm::all<row>(db)) == std::vector<std::int64_t>{1, 2, 3});  // leaves this thread a spare block
  auto r = cpm::all<row>(db);                                             // and takes it
  std::vector<std::int64_t> seen;
  std::thread other([&seen, moved = std::move(r)]() mutable {
    for (const row& x : moved) seen.push_back(x.id);
    moved = {};  // the cursor's block becomes that thread's spare, freed when it ends
  });
  other.join();
  CHECK(seen == std::vector<std::int64_t>{1, 2, 3});
  CHECK(ids(cpm::all<row>(db)) == std::vector<std::int64_t>{1, 2, 3});
  CHECK(select_all_statement(db).is_cached());
}

TEST_CASE("breaking out of a loop early resets the statement", "[rows][reset]") {
  auto db = memory_db(5);
  {
    auto held = cpm::all<row>(db);
    REQUIRE(held.begin() != held.end());
    auto probe = select_all_statement(db);
    CHECK_FALSE(probe.is_cached());  // control: a live range holds the cached statement
  }
  for (const row& x : cpm::all<row>(db)) {
    if (x.id == 2) break;
  }
  auto probe = select_all_statement(db);
  CHECK(probe.is_cached());
  CHECK_FALSE(sqlite3_stmt_busy(probe.native()));
  probe = {};
  CHECK(ids(cpm::all<row>(db)) == std::vector<std::int64_t>{1, 2, 3, 4, 5});  // the next use starts over
}

TEST_CASE("leaving a loop early ends the read transaction: a checkpoint is not blocked", "[rows][reset][wal]") {
  wal_pair p;
  p.touch();
  {
    auto held = cpm::all<row>(p.reader);
    REQUIRE(held.begin() != held.end());
    CHECK(checkpoint_busy(p.checkpointer) == 1);  // control: a live cursor blocks TRUNCATE
  }
  p.touch();
  for (const row& x : cpm::all<row>(p.reader)) {
    if (x.id == 3) break;
  }
  CHECK(checkpoint_busy(p.checkpointer) == 0);
}

TEST_CASE("destroying a range mid-iteration ends its read transaction", "[rows][reset][wal]") {
  wal_pair p;
  p.touch();
  auto range = std::make_optional(cpm::find<&row::score>(p.reader, 30));
  auto it = range->begin();
  REQUIRE(it != range->end());
  CHECK(it->id == 3);
  CHECK(checkpoint_busy(p.checkpointer) == 1);
  range.reset();
  CHECK(checkpoint_busy(p.checkpointer) == 0);
  CHECK(cpm::find_one<&row::score>(p.reader, 30)->name == "r3");
}

TEST_CASE("a range read to its end gives its statement back while still alive", "[rows][reset][wal]") {
  wal_pair p;
  p.touch();
  auto range = cpm::all<row>(p.reader);
  std::size_t n = 0;
  for (const row& x : range) n += x.name.empty() ? 0 : 1;
  CHECK(n == 5);
  CHECK(checkpoint_busy(p.checkpointer) == 0);
  CHECK(select_all_statement(p.reader).is_cached());
}

TEST_CASE("an error while reading a row ends the range and gives the statement back", "[rows][errors]") {
  auto db = memory_db(3);
  db.exec("UPDATE row SET name = NULL WHERE id = 2");  // NULL into a std::string: a value_error
  auto range = cpm::all<row>(db);
  auto it = range.begin();
  REQUIRE(it != range.end());
  CHECK(it->id == 1);
  CHECK_THROWS_AS(++it, cpm::value_error);
  CHECK(it == range.end());
  CHECK(select_all_statement(db).is_cached());
}

TEST_CASE("to_vector, first and one", "[rows]") {
  auto db = memory_db(3);
  auto all = cpm::all<row>(db).to_vector();
  REQUIRE(all.size() == 3);
  CHECK(all[2].name == "r3");

  auto first = cpm::all<row>(db).first();
  REQUIRE(first);
  CHECK(first->id == 1);
  CHECK(select_all_statement(db).is_cached());  // first() gives the statement back at once
  CHECK_FALSE(cpm::find<&row::score>(db, 999).first());

  CHECK(cpm::find<&row::score>(db, 20).one().name == "r2");
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM row").one() == 3);
}

TEST_CASE("one throws not_found on no row and usage_error on more than one, naming the SQL", "[rows][errors]") {
  auto db = memory_db(3);
  try {
    (void)cpm::find<&row::score>(db, 999).one();
    FAIL("must throw");
  } catch (const cpm::not_found& e) {
    CHECK_THAT(e.what(), Catch::Contains(R"(WHERE "score" = ?)"));
  }
  try {
    (void)cpm::all<row>(db).one();
    FAIL("must throw");
  } catch (const cpm::usage_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("more than one row") && Catch::Contains(R"(FROM "row")"));
  }
  CHECK(select_all_statement(db).is_cached());
  CHECK_THROWS_AS(cpm::rows<row>().one(), cpm::not_found);
}

TEST_CASE("a default-constructed rows is empty", "[rows]") {
  cpm::rows<row> empty;
  CHECK(empty.begin() == empty.end());
  CHECK(empty.to_vector().empty());
  CHECK_FALSE(empty.first());
}

TEST_CASE("values bound to a lazy range are copied, so temporaries may die first", "[rows]") {
  auto db = memory_db(3);
  auto by_name = cpm::find<&row::name>(db, std::string("r2") + "");
  auto raw = cpm::query<row>(db, "SELECT id, name, score FROM row WHERE name = ? OR name = ?", std::string("r1"),
                             std::string(40, 'x'));
  auto in_list = cpm::find_in<&row::name>(db, std::vector<std::string>{"r3", "r1"});
  CHECK(ids(by_name) == std::vector<std::int64_t>{2});
  CHECK(ids(raw) == std::vector<std::int64_t>{1});
  CHECK(ids(in_list) == std::vector<std::int64_t>{1, 3});
}

// The late-reset check: the statement must be reset when the range lets it go, not when
// something next leases it. Nothing is leased between the end of the range and the check:
// cpm_test::busy_statements walks the connection's statements with sqlite3_next_stmt.
TEST_CASE("a range left early resets its statement at once, before anything is leased again", "[rows][reset]") {
  auto db = memory_db(5);
  SECTION("a loop left with break") {
    std::int64_t last = 0;
    for (const row& x : cpm::all<row>(db)) {
      CHECK(cpm_test::busy_statements(db.native()) == 1);  // control: mid-loop the statement runs
      last = x.id;
      if (x.id == 2) break;
    }
    CHECK(last == 2);
    CHECK(cpm_test::busy_statements(db.native()) == 0);
  }
  SECTION("a range destroyed mid-iteration") {
    auto range = std::make_optional(cpm::find<&row::score>(db, 30));
    REQUIRE(range->begin() != range->end());
    CHECK(cpm_test::busy_statements(db.native()) == 1);
    range.reset();
    CHECK(cpm_test::busy_statements(db.native()) == 0);
  }
  SECTION("an IN list left mid-chunk") {
    auto range = std::make_optional(cpm::find_in<&row::id>(db, std::vector<std::int64_t>{1, 2, 3}));
    REQUIRE(range->begin() != range->end());
    CHECK(cpm_test::busy_statements(db.native()) == 1);
    range.reset();
    CHECK(cpm_test::busy_statements(db.native()) == 0);
  }
  SECTION("the last copy of a range let go") {
    auto a = cpm::all<row>(db);
    auto b = a;
    REQUIRE(a.begin() != a.end());
    a = {};
    CHECK(cpm_test::busy_statements(db.native()) == 1);  // b still holds it
    b = {};
    CHECK(cpm_test::busy_statements(db.native()) == 0);
  }
  SECTION("one-shot reads that stop on a row: first, find_one, get") {
    CHECK(cpm::all<row>(db).first()->id == 1);
    CHECK(cpm_test::busy_statements(db.native()) == 0);
    CHECK(cpm::find_one<&row::score>(db, 20)->id == 2);
    CHECK(cpm_test::busy_statements(db.native()) == 0);
    CHECK(cpm::get<row>(db, 3)->name == "r3");
    CHECK(cpm_test::busy_statements(db.native()) == 0);
    CHECK(cpm::query<std::int64_t>(db, "SELECT id FROM row ORDER BY id").first() == 1);
    CHECK(cpm_test::busy_statements(db.native()) == 0);
  }
}

TEST_CASE("a one-shot read that stops on a row (find_one, get, first) ends its read transaction at once",
          "[rows][reset][wal]") {
  wal_pair p;
  p.touch();
  CHECK(cpm::find_one<&row::score>(p.reader, 30)->id == 3);  // the statement stops on a row, not at its end
  CHECK(checkpoint_busy(p.checkpointer) == 0);
  p.touch();
  CHECK(cpm::get<row>(p.reader, 4)->name == "r4");
  CHECK(checkpoint_busy(p.checkpointer) == 0);
  p.touch();
  CHECK(cpm::all<row>(p.reader).first()->id == 1);
  CHECK(checkpoint_busy(p.checkpointer) == 0);
}
