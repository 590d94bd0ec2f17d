// Each generated statement is prepared once per connection and reused: proved by counting
// prepares (connection::prepare_count) around repeated calls.
#include <cpm/query.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

namespace {

struct note {
  std::int64_t id = 0;
  std::string title;
  std::optional<std::string> body;
  std::optional<std::string> created_at;
};

struct note_patch {
  std::optional<std::string> title;
};

}  // namespace

template <>
struct cpm::model_traits<note> {
  static constexpr auto defaults = std::tuple{&note::created_at};
};

namespace {

cpm::connection make_db() {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE note(id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, body TEXT, "
          "created_at TEXT DEFAULT CURRENT_TIMESTAMP)");
  return db;
}

// How many statements `work` prepared on `db`.
template <class Work>
std::size_t prepares(cpm::connection& db, Work&& work) {
  std::size_t before = db.prepare_count();
  work();
  return db.prepare_count() - before;
}

note titled(std::string title) { return note{0, std::move(title), std::nullopt, std::nullopt}; }

}  // namespace

TEST_CASE("insert is prepared once per variant of omitted defaults", "[cache]") {
  auto db = make_db();
  // Outside a transaction an insert runs in one of its own: BEGIN and COMMIT are prepared too.
  CHECK(prepares(db, [&] { (void)cpm::insert(db, titled("a")); }) == 3);
  CHECK(prepares(db, [&] {
          for (int i = 0; i < 5; ++i) (void)cpm::insert(db, titled(fmt::format("b{}", i)));
        }) == 0);
  // created_at set: another statement (the column is written), prepared once too.
  auto dated = titled("dated");
  dated.created_at = "2020-01-01 00:00:00";
  CHECK(prepares(db, [&] { (void)cpm::insert(db, dated); }) == 1);
  dated.title = "dated again";
  CHECK(prepares(db, [&] { (void)cpm::insert(db, dated); }) == 0);
}

TEST_CASE("get, update, remove, count and upsert are each prepared once", "[cache]") {
  auto db = make_db();
  auto stored = cpm::insert(db, titled("x"));
  CHECK(prepares(db, [&] { (void)cpm::get<note>(db, stored.id); }) == 1);
  CHECK(prepares(db, [&] {
          for (int i = 0; i < 5; ++i) CHECK(cpm::get<note>(db, stored.id));
        }) == 0);

  CHECK(prepares(db, [&] { CHECK(cpm::update(db, stored)); }) == 1);
  CHECK(prepares(db, [&] {
          for (int i = 0; i < 5; ++i) {
            stored.body = std::to_string(i);
            CHECK(cpm::update(db, stored));
          }
        }) == 0);
  CHECK(cpm::get<note>(db, stored.id)->body == "4");

  CHECK(prepares(db, [&] { (void)cpm::count<note>(db); }) == 1);
  CHECK(prepares(db, [&] { CHECK(cpm::count<note>(db) == 1); }) == 0);

  CHECK(prepares(db, [&] { (void)cpm::upsert<&note::title>(db, titled("x")); }) == 1);
  CHECK(prepares(db, [&] { (void)cpm::upsert<&note::title>(db, titled("y")); }) == 0);

  CHECK(prepares(db, [&] { (void)cpm::remove<note>(db, 100); }) == 1);
  CHECK(prepares(db, [&] { CHECK(cpm::remove<note>(db, stored.id)); }) == 0);

  CHECK(prepares(db, [&] { (void)cpm::patch<note>(db, 1, note_patch{.title = "p"}); }) == 1);
  CHECK(prepares(db, [&] { (void)cpm::patch<note>(db, 1, note_patch{.title = "q"}); }) == 0);
}

TEST_CASE("all, page, find and find_one reuse their statements once each range is done", "[cache]") {
  auto db = make_db();
  for (int i = 0; i < 4; ++i) (void)cpm::insert(db, titled(fmt::format("t{}", i)));

  CHECK(prepares(db, [&] { CHECK(cpm::all<note>(db).to_vector().size() == 4); }) == 1);
  CHECK(prepares(db, [&] {
          for (int i = 0; i < 3; ++i) CHECK(cpm::all<note>(db).to_vector().size() == 4);
          for (int i = 0; i < 3; ++i) {
            for (const note& n : cpm::all<note>(db)) {  // left early: the statement comes back too
              CHECK(n.id == 1);
              break;
            }
          }
        }) == 0);

  CHECK(prepares(db, [&] { CHECK(cpm::page<note>(db, 0, 2).to_vector().size() == 2); }) == 1);
  CHECK(prepares(db, [&] { CHECK(cpm::page<note>(db, 2, 2).to_vector().size() == 2); }) == 0);

  // find and find_one run the same SQL: one statement for both.
  CHECK(prepares(db, [&] { CHECK(cpm::find<&note::title>(db, "t1").to_vector().size() == 1); }) == 1);
  CHECK(prepares(db, [&] {
          CHECK(cpm::find_one<&note::title>(db, "t2"));
          CHECK(cpm::find<&note::title>(db, "t3").to_vector().size() == 1);
        }) == 0);
  // Another column is another statement.
  CHECK(prepares(db, [&] { CHECK(cpm::find<&note::body>(db, std::nullopt).to_vector().size() == 4); }) == 1);
}

TEST_CASE("find_in prepares one statement per chunk size, then reuses it", "[cache]") {
  auto db = make_db();
  for (int i = 0; i < 100; ++i) (void)cpm::insert(db, titled(fmt::format("t{}", i)));
  std::vector<std::int64_t> few{1, 2, 3};
  std::vector<std::int64_t> many;
  for (std::int64_t i = 1; i <= 100; ++i) many.push_back(i);

  CHECK(prepares(db, [&] { CHECK(cpm::find_in<&note::id>(db, few).to_vector().size() == 3); }) == 1);
  CHECK(prepares(db, [&] { CHECK(cpm::find_in<&note::id>(db, few).to_vector().size() == 3); }) == 0);
  // 100 values: a chunk of 64, then a chunk of 64 holding the last 36.
  CHECK(prepares(db, [&] { CHECK(cpm::find_in<&note::id>(db, many).to_vector().size() == 100); }) == 1);
  CHECK(prepares(db, [&] { CHECK(cpm::find_in<&note::id>(db, many).to_vector().size() == 100); }) == 0);
}

TEST_CASE("a second connection prepares its own statements", "[cache]") {
  auto first = make_db();
  auto second = make_db();
  (void)cpm::insert(first, titled("one"));
  (void)cpm::insert(second, titled("two"));
  CHECK(prepares(first, [&] { (void)cpm::get<note>(first, 1); }) == 1);
  CHECK(prepares(second, [&] { CHECK(cpm::get<note>(second, 1)->title == "two"); }) == 1);
  CHECK(prepares(first, [&] { CHECK(cpm::get<note>(first, 1)->title == "one"); }) == 0);
  CHECK(prepares(second, [&] { (void)cpm::get<note>(second, 1); }) == 0);
}

TEST_CASE("a range alive while the same query runs again makes the second use its own statement", "[cache]") {
  auto db = make_db();
  for (int i = 0; i < 3; ++i) (void)cpm::insert(db, titled(fmt::format("t{}", i)));
  (void)cpm::all<note>(db).to_vector();  // the cached statement exists

  auto outer = cpm::all<note>(db);
  auto it = outer.begin();  // the outer range holds the cached statement
  REQUIRE(it != outer.end());
  CHECK(prepares(db, [&] { CHECK(cpm::all<note>(db).to_vector().size() == 3); }) == 1);
  CHECK(prepares(db, [&] { CHECK(cpm::all<note>(db).to_vector().size() == 3); }) == 1);
  outer = {};  // given back
  CHECK(prepares(db, [&] { CHECK(cpm::all<note>(db).to_vector().size() == 3); }) == 0);
}

TEST_CASE("raw queries are cached by their SQL", "[cache]") {
  auto db = make_db();
  (void)cpm::insert(db, titled("raw"));
  CHECK(prepares(db, [&] { (void)cpm::query<std::string>(db, cpm::sql<"SELECT title FROM note">).one(); }) == 1);
  CHECK(prepares(db, [&] { CHECK(cpm::query<std::string>(db, cpm::sql<"SELECT title FROM note">).one() == "raw"); }) ==
        0);
  CHECK(prepares(db, [&] { (void)cpm::query<std::int64_t>(db, "SELECT id FROM note WHERE title = ?", "raw").one(); }) ==
        1);
  CHECK(prepares(db, [&] {
          CHECK(cpm::query<std::int64_t>(db, std::string("SELECT id FROM note WHERE title = ?"), "raw").one() == 1);
        }) == 0);
}

namespace {

// Resident memory of this process, in bytes (Linux).
std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages = 0, resident = 0;
  int got = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace

TEST_CASE("the run-time text cache keeps its capacity: memory stays flat over 1,000,000 distinct queries",
          "[cache][bounded]") {
  cpm::open_options options;
  options.statement_cache_capacity = 64;
  auto db = cpm::connection::open_memory(options);
  // A compile-time statement leased first must survive every eviction.
  auto pinned = [&] { return prepares(db, [&] { (void)cpm::query<int>(db, cpm::sql<"SELECT 42">).one(); }); };
  CHECK(pinned() == 1);
  [[maybe_unused]] std::size_t after_warm_up = 0;  // (ASan keeps freed memory in quarantine: no RSS check there)
  for (int i = 0; i < 1'000'000; ++i) {
    auto value = cpm::query<std::int64_t>(db, fmt::format("SELECT {} AS value", i)).one();
    if (value != i) FAIL("query " << i << " returned " << value);
    if (db.text_cache_size() > 64) FAIL("the cache holds " << db.text_cache_size() << " statements");
    if (i == 100'000) after_warm_up = resident_bytes();
  }
  CHECK(db.text_cache_size() == 64);
  CHECK(pinned() == 0);
#if !defined(__SANITIZE_ADDRESS__)
  // Unbounded, the cache grew by about 1.9 kB per query (190 MB per 100,000).
  const std::size_t growth = resident_bytes() - std::min(resident_bytes(), after_warm_up);
  CHECK(growth < 8u * 1024 * 1024);
#endif
  // The most recent ones are still cached: reused without a prepare.
  CHECK(prepares(db, [&] { (void)cpm::query<std::int64_t>(db, "SELECT 999999 AS value").one(); }) == 0);
  // The least recent were evicted.
  CHECK(prepares(db, [&] { (void)cpm::query<std::int64_t>(db, "SELECT 0 AS value").one(); }) == 1);
}

TEST_CASE("statement cache capacity 0 prepares run-time text on each use, a smaller capacity evicts at once",
          "[cache][bounded]") {
  auto db = make_db();
  for (int i = 0; i < 10; ++i) (void)cpm::query<std::int64_t>(db, fmt::format("SELECT {}", i)).one();
  CHECK(db.text_cache_size() == 10);
  CHECK(db.statement_cache_capacity() == 128);
  db.set_statement_cache_capacity(3);
  CHECK(db.text_cache_size() == 3);
  db.set_statement_cache_capacity(0);
  CHECK(db.text_cache_size() == 0);
  CHECK(prepares(db, [&] { (void)cpm::query<std::int64_t>(db, "SELECT 1").one(); }) == 1);
  CHECK(prepares(db, [&] { (void)cpm::query<std::int64_t>(db, "SELECT 1").one(); }) == 1);
  CHECK(db.text_cache_size() == 0);
}

TEST_CASE("a leased run-time statement is never evicted while in use", "[cache][bounded]") {
  cpm::open_options options;
  options.statement_cache_capacity = 2;
  auto db = cpm::connection::open_memory(options);
  db.exec("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3);");
  auto range = cpm::query<std::int64_t>(db, "SELECT x FROM t ORDER BY x");
  auto it = range.begin();
  REQUIRE(*it == 1);
  for (int i = 0; i < 10; ++i) (void)cpm::query<std::int64_t>(db, fmt::format("SELECT {}", i)).one();
  ++it;
  CHECK(*it == 2);
  ++it;
  CHECK(*it == 3);
}

TEST_CASE("clear_cache while statements are leased leaves them working, and the cache works after", "[cache][clear]") {
  auto db = make_db();
  for (int i = 0; i < 5; ++i) (void)cpm::insert(db, titled(fmt::format("t{}", i)));
  (void)cpm::count<note>(db);  // an idle cached statement, which clear_cache does finalize

  auto by_key = db.cached(cpm::sql<"SELECT title FROM note ORDER BY id">);
  auto by_text = db.cached("SELECT id FROM note WHERE id >= ? ORDER BY id");
  REQUIRE(by_key.is_cached());
  REQUIRE(by_text.is_cached());
  by_text.bind(2);
  REQUIRE(by_key.step());
  REQUIRE(by_text.step());
  sqlite3_stmt* const key_native = by_key.native();
  sqlite3_stmt* const text_native = by_text.native();

  db.clear_cache();
  // Both leased statements are still prepared on the connection (not finalized under their
  // leases); required before anything reads through them.
  REQUIRE(cpm_test::is_prepared_on(db.native(), key_native));
  REQUIRE(cpm_test::is_prepared_on(db.native(), text_native));

  // The leases go on where they were.
  std::vector<std::string> titles{by_key.column<std::string>(0)};
  while (by_key.step()) titles.push_back(by_key.column<std::string>(0));
  CHECK(titles == std::vector<std::string>{"t0", "t1", "t2", "t3", "t4"});
  std::vector<std::int64_t> ids{by_text.column<std::int64_t>(0)};
  while (by_text.step()) ids.push_back(by_text.column<std::int64_t>(0));
  CHECK(ids == std::vector<std::int64_t>{2, 3, 4, 5});
  by_key = {};
  by_text = {};
  CHECK(cpm_test::busy_statements(db.native()) == 0);

  // The cache works after: each statement comes back (prepared again at most once), and from
  // then on is reused without preparing.
  auto lease_titles = [&] {
    auto again = db.cached(cpm::sql<"SELECT title FROM note ORDER BY id">);
    CHECK(again.is_cached());
    REQUIRE(again.step());
    CHECK(again.column<std::string>(0) == "t0");
  };
  CHECK(prepares(db, lease_titles) <= 1);
  CHECK(prepares(db, lease_titles) == 0);
  CHECK(prepares(db, [&] { CHECK(cpm::count<note>(db) == 5); }) == 1);  // the idle one was finalized
  CHECK(prepares(db, [&] { CHECK(cpm::count<note>(db) == 5); }) == 0);
}

TEST_CASE("clear_cache in the middle of a loop over a range does not disturb the loop", "[cache][clear]") {
  auto db = make_db();
  for (int i = 0; i < 5; ++i) (void)cpm::insert(db, titled(fmt::format("t{}", i)));
  std::vector<std::string> seen;
  for (const note& n : cpm::all<note>(db)) {
    if (seen.size() == 1 || seen.size() == 4) {
      db.clear_cache();
      // The loop's statement is still prepared (and mid-run), before the loop reads through it.
      REQUIRE(cpm_test::busy_statements(db.native()) == 1);
    }
    seen.push_back(n.title);
    if (seen.size() == 3) (void)cpm::get<note>(db, n.id);  // other statements come and go meanwhile
  }
  CHECK(seen == std::vector<std::string>{"t0", "t1", "t2", "t3", "t4"});
  CHECK(cpm_test::busy_statements(db.native()) == 0);
  // The cache works after: each statement is prepared at most once more, then reused.
  CHECK(cpm::all<note>(db).to_vector().size() == 5);
  CHECK(prepares(db, [&] {
          CHECK(cpm::all<note>(db).to_vector().size() == 5);
          CHECK(cpm::get<note>(db, 1)->title == "t0");
          CHECK(cpm::get<note>(db, 1)->title == "t0");
        }) <= 1);
  CHECK(prepares(db, [&] {
          CHECK(cpm::all<note>(db).to_vector().size() == 5);
          CHECK(cpm::get<note>(db, 2)->title == "t1");
        }) == 0);
}
