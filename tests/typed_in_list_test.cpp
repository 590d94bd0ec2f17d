// IN lists of typed queries (issue 16): a list of 1 to 8 values is sent with exactly its size,
// 9 to 4096 values with 64, 512 or 4096 parameters, and a longer one as one JSON array
// ("column" IN (SELECT +value FROM json_each(?))): the result is IN's over the whole list,
// in one statement, under NOT, OR, ORDER BY with LIMIT, count, exists, UPDATE and DELETE.
#include <cpm/query.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

struct row {
  std::int64_t id = 0;
  std::int64_t owner = 0;
  std::int64_t rank = 0;
  std::string name;
};

using cpm::col;
using id_list = std::vector<std::int64_t>;

constexpr std::int64_t row_count = 10000;

// Rows 1..10000: owner = id % 7, rank = id % 100, name = "n<id>".
cpm::connection make_rows() {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE row(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, rank INTEGER NOT NULL, "
          "name TEXT NOT NULL);"
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) "
          "INSERT INTO row SELECT i, i % 7, i % 100, 'n' || i FROM n");
  return db;
}

constexpr auto rows_of = cpm::from<row>;

template <class Query>
id_list ids(cpm::connection& db, const Query& q) {
  id_list out;
  for (const row& r : q.rows(db)) out.push_back(r.id);
  return out;
}

// `size` distinct values, shuffled, with a duplicate of each tenth one: multiples of 3 up to
// the table's last id (hits), then values no row has (misses: negative, and above 10000).
id_list mixed_list(std::size_t size) {
  id_list out;
  for (std::int64_t i = 3; i <= row_count && out.size() < size / 2; i += 3) out.push_back(i);
  for (std::int64_t i = 1; out.size() < size; ++i) out.push_back(i % 2 ? -i : row_count + i);
  for (std::size_t i = 0; i < size; i += 10) out.push_back(out[i]);
  std::reverse(out.begin(), out.end());
  std::rotate(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out.size() / 3), out.end());
  return out;
}

// The ids among 1..10000 for which `keep` holds, in order.
template <class Keep>
id_list expected(Keep keep) {
  id_list out;
  for (std::int64_t id = 1; id <= row_count; ++id)
    if (keep(id)) out.push_back(id);
  return out;
}

}  // namespace

TEST_CASE("in: a list of 1 to 8 values is sent with exactly its size, one statement per size", "[typed][in]") {
  using Q = decltype(rows_of.where(col<&row::id>.in({1})));
  // Class 0 is 8 parameters (the SQL ::sql shows); classes 1 to 7 are 1 to 7 parameters.
  CHECK(Q::sql == R"(SELECT "id", "owner", "rank", "name" FROM "row" WHERE "id" IN (?, ?, ?, ?, ?, ?, ?, ?) ORDER BY "id")");
  CHECK(cpm::detail::select_text<Q, 1>.view() ==
        R"(SELECT "id", "owner", "rank", "name" FROM "row" WHERE "id" IN (?) ORDER BY "id")");
  CHECK(cpm::detail::select_text<Q, 3>.view() ==
        R"(SELECT "id", "owner", "rank", "name" FROM "row" WHERE "id" IN (?, ?, ?) ORDER BY "id")");
  auto db = make_rows();
  std::size_t prepares = db.prepare_count();
  for (std::size_t size = 1; size <= 8; ++size) {
    id_list list;
    for (std::size_t i = 0; i < size; ++i) list.push_back(static_cast<std::int64_t>(i) * 10 + 5);
    CHECK(ids(db, rows_of.where(col<&row::id>.in(list))) == list);
    CHECK(db.prepare_count() == prepares + 1);  // a statement of its own size
    prepares = db.prepare_count();
    for (auto& v : list) v += 1;  // another list of the same size: the same statement
    CHECK(ids(db, rows_of.where(col<&row::id>.in(list))) == list);
    CHECK(db.prepare_count() == prepares);
  }
  // Duplicates are removed first: twenty 7s are a list of one.
  CHECK(ids(db, rows_of.where(col<&row::id>.in(id_list(20, 7)))) == id_list{7});
  CHECK(db.prepare_count() == prepares);
  // 9 to 64 values share one statement.
  CHECK(rows_of.where(col<&row::id>.in(mixed_list(9))).count(db) == 4);
  prepares = db.prepare_count();
  CHECK(rows_of.where(col<&row::id>.in(mixed_list(64))).count(db) == 32);
  CHECK(db.prepare_count() == prepares);
}

TEST_CASE("in: a list above 4096 values means IN over the whole list, in one statement", "[typed][in]") {
  auto db = make_rows();
  for (std::size_t size : {4097u, 5000u, 40000u}) {  // 40000: beyond SQLite's 32766 parameters
    INFO("list of " << size << " values");
    const id_list list = mixed_list(size);
    const std::set<std::int64_t> in(list.begin(), list.end());
    auto has = [&](std::int64_t id) { return in.count(id) != 0; };
    const id_list hits = expected(has);
    REQUIRE(!hits.empty());
    REQUIRE(hits.size() < in.size());  // and misses

    CHECK(ids(db, rows_of.where(col<&row::id>.in(list))) == hits);
    CHECK(rows_of.where(col<&row::id>.in(list)).count(db) == static_cast<std::int64_t>(hits.size()));
    CHECK(rows_of.where(col<&row::id>.in(list)).exists(db));
    CHECK(ids(db, rows_of.where(!col<&row::id>.in(list))) == expected([&](std::int64_t id) { return !has(id); }));
    CHECK(ids(db, rows_of.where(col<&row::id>.in(list) || col<&row::owner> == 3)) ==
          expected([&](std::int64_t id) { return has(id) || id % 7 == 3; }));
    CHECK(ids(db, rows_of.where(!(col<&row::id>.in(list) || col<&row::owner> == 3))) ==
          expected([&](std::int64_t id) { return !(has(id) || id % 7 == 3); }));
    CHECK(ids(db, rows_of.where(col<&row::owner> == 2 && !col<&row::id>.in(list))) ==
          expected([&](std::int64_t id) { return id % 7 == 2 && !has(id); }));
    // ORDER BY, LIMIT and OFFSET apply to the whole result, not per chunk.
    CHECK(ids(db, rows_of.where(col<&row::id>.in(list)).order_by(cpm::desc<&row::id>).limit(4)) ==
          id_list(hits.rbegin(), hits.rbegin() + 4));
    CHECK(ids(db, rows_of.where(col<&row::id>.in(list)).order_by(cpm::desc<&row::id>).limit(3).offset(2)) ==
          id_list(hits.rbegin() + 2, hits.rbegin() + 5));
    // Two lists: a long one and a short one, two long ones.
    CHECK(rows_of.where(col<&row::id>.in(list) && col<&row::owner>.in({1, 2})).count(db) ==
          static_cast<std::int64_t>(expected([&](std::int64_t id) { return has(id) && (id % 7 == 1 || id % 7 == 2); }).size()));
    id_list evens;
    for (std::int64_t i = 2; i <= 2 * static_cast<std::int64_t>(size); i += 2) evens.push_back(i);
    CHECK(rows_of.where(col<&row::id>.in(list) && !col<&row::rank>.in(evens)).count(db) ==
          static_cast<std::int64_t>(expected([&](std::int64_t id) { return has(id) && !(id % 100 % 2 == 0 && id % 100 >= 2); }).size()));
    CHECK(ids(db, rows_of.where(col<&row::id>.in(list) || col<&row::id>.in(evens))) ==
          expected([&](std::int64_t id) { return has(id) || (id % 2 == 0 && id <= 2 * static_cast<std::int64_t>(size)); }));
  }
  // One statement for every list above 4096 values.
  (void)rows_of.where(col<&row::id>.in(mixed_list(5000))).count(db);
  const std::size_t prepares = db.prepare_count();
  (void)rows_of.where(col<&row::id>.in(mixed_list(40000))).count(db);
  (void)rows_of.where(col<&row::id>.in(mixed_list(4097))).count(db);
  CHECK(db.prepare_count() == prepares);
}

TEST_CASE("in: update and remove with a list above 4096 values change exactly its rows", "[typed][in]") {
  auto db = make_rows();
  const id_list list = mixed_list(40000);
  const std::set<std::int64_t> in(list.begin(), list.end());
  const id_list hits = expected([&](std::int64_t id) { return in.count(id) != 0; });
  CHECK(rows_of.where(col<&row::id>.in(list)).update(db, cpm::set<&row::rank>(-1)) ==
        static_cast<std::int64_t>(hits.size()));
  CHECK(ids(db, rows_of.where(col<&row::rank> == -1)) == hits);
  CHECK(rows_of.where(!col<&row::id>.in(list)).update(db, cpm::set<&row::owner>(-2)) ==
        row_count - static_cast<std::int64_t>(hits.size()));
  CHECK(rows_of.where(col<&row::owner> == -2).count(db) == row_count - static_cast<std::int64_t>(hits.size()));
  const id_list small = mixed_list(5000);
  const std::set<std::int64_t> small_in(small.begin(), small.end());
  const id_list small_hits = expected([&](std::int64_t id) { return small_in.count(id) != 0; });
  CHECK(rows_of.where(col<&row::id>.in(small)).remove(db) == static_cast<std::int64_t>(small_hits.size()));
  CHECK(rows_of.count(db) == row_count - static_cast<std::int64_t>(small_hits.size()));
  CHECK(rows_of.where(col<&row::id>.in(small)).count(db) == 0);
  CHECK(rows_of.where(col<&row::id>.in(list)).remove(db) ==
        static_cast<std::int64_t>(hits.size() - small_hits.size()));
  CHECK(ids(db, rows_of) == expected([&](std::int64_t id) { return in.count(id) == 0; }));
}

TEST_CASE("in: text values above 4096 match exactly, whatever characters they hold", "[typed][in]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE row(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, rank INTEGER NOT NULL, name TEXT NOT NULL)");
  const std::vector<std::string> odd = {
      "quote\"d",       "single'quote",     "back\\slash",    "\\\"",         "\\u0041",  "new\nline",
      "tab\tand\rcr",   std::string("\x01\x1f\x7f"), "caf\xc3\xa9", "\xf0\x9f\x98\x80 emoji", "",  " ",
      "[1,2]",          "null",             "1",              "{\"a\":1}",    "\xe2\x80\xa8 line separator"};
  // Near misses: the same texts as JSON would spell them, and changed by one character.
  const std::vector<std::string> near = {"quote\\\"d", "back\\\\slash", "A", "new\\nline", "caf\\u00e9",
                                         "cafe",       "Quote\"d",      "1.0", "\x01\x1f", "  "};
  std::int64_t id = 0;
  for (const auto& s : odd) (void)cpm::insert(db, row{++id, 0, 0, s});
  for (const auto& s : near) (void)cpm::insert(db, row{++id, 0, 0, s});
  (void)cpm::insert(db, row{++id, 0, 0, "n7"});
  std::vector<std::string> list = odd;
  for (int i = 0; i < 6000; ++i) list.push_back("filler " + std::to_string(i));
  list.push_back("n7");
  id_list want;
  for (std::int64_t i = 1; i <= static_cast<std::int64_t>(odd.size()); ++i) want.push_back(i);
  want.push_back(id);
  CHECK(ids(db, rows_of.where(col<&row::name>.in(list))) == want);
  CHECK(rows_of.where(!col<&row::name>.in(list)).count(db) == static_cast<std::int64_t>(near.size()));
  // Each odd text alone among the filler finds its row and only it.
  for (std::size_t k = 0; k < odd.size(); ++k) {
    std::vector<std::string> one(list.begin() + static_cast<std::ptrdiff_t>(odd.size()), list.end() - 1);
    one.push_back(odd[k]);
    INFO("text " << k);
    CHECK(ids(db, rows_of.where(col<&row::name>.in(one))) == id_list{static_cast<std::int64_t>(k) + 1});
  }
  // A NUL inside a text cannot be sent as JSON: refused, not cut.
  list.push_back(std::string("a\0b", 3));
  CHECK_THROWS_AS(rows_of.where(col<&row::name>.in(list)).count(db), cpm::usage_error);
}

namespace {

enum class tint { red, green, blue };
enum class level : std::int64_t { low = 1, high = 2 };

}  // namespace

template <>
struct cpm::enum_names<tint> {
  static constexpr std::array values{std::pair{tint::red, std::string_view{"red"}},
                                     std::pair{tint::green, std::string_view{"green"}},
                                     std::pair{tint::blue, std::string_view{"blue"}}};
};

namespace {

struct thing {
  std::int64_t id = 0;
  tint colour = tint::red;
  level grade = level::low;
  bool on = false;
  std::chrono::sys_seconds at{};
  double weight = 0;
  std::uint64_t big = 0;
};

}  // namespace

TEST_CASE("in: enums, bool and time points above 4096 values compare as they are stored", "[typed][in]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE thing(id INTEGER PRIMARY KEY, colour TEXT NOT NULL, grade INTEGER NOT NULL, "
          "\"on\" INTEGER NOT NULL, at TEXT NOT NULL, weight REAL NOT NULL, big INTEGER NOT NULL)");
  using namespace std::chrono;
  const sys_seconds t0 = sys_days{year{2024} / 2 / 29} + hours{23} + minutes{59} + seconds{58};
  for (std::int64_t i = 1; i <= 6; ++i)
    (void)cpm::insert(db, thing{0, static_cast<tint>(i % 3), i % 2 ? level::low : level::high, i % 2 == 0,
                                t0 + seconds{i}, 0.5 * static_cast<double>(i), static_cast<std::uint64_t>(i)});
  const auto things = cpm::from<thing>;
  auto thing_ids = [&](const auto& q) {
    id_list out;
    for (const thing& t : q.rows(db)) out.push_back(t.id);
    return out;
  };
  std::vector<sys_seconds> times;
  for (int i = 0; i < 5000; ++i) times.push_back(t0 + seconds{10 + i});
  times.push_back(t0 + seconds{2});
  times.push_back(t0 + seconds{5});
  CHECK(thing_ids(things.where(col<&thing::at>.in(times))) == id_list{2, 5});
  std::vector<std::uint64_t> bigs;
  for (std::uint64_t i = 4; i < 6000; ++i) bigs.push_back(i);
  CHECK(thing_ids(things.where(col<&thing::big>.in(bigs))) == id_list{4, 5, 6});
  bigs.push_back(~std::uint64_t{0});  // as a bind would: out of SQLite's range
  CHECK_THROWS_AS(things.where(col<&thing::big>.in(bigs)).count(db), cpm::value_error);
  // Above 4096 distinct values (after removing duplicates) only the types JSON can carry.
  std::vector<tint> colours;
  std::vector<level> grades;
  std::vector<bool> ons;
  for (int i = 0; i < 5000; ++i) {
    colours.push_back(tint::green);
    grades.push_back(level::high);
    ons.push_back(true);
  }
  CHECK(thing_ids(things.where(col<&thing::colour>.in(colours))) == id_list{1, 4});
  CHECK(thing_ids(things.where(col<&thing::grade>.in(grades))) == id_list{2, 4, 6});
  CHECK(thing_ids(things.where(col<&thing::on>.in(ons))) == id_list{2, 4, 6});
  // A double cannot be carried exactly in SQLite's JSON: above 4096 values it is refused.
  std::vector<double> weights;
  for (int i = 0; i < 4095; ++i) weights.push_back(1000.25 + i);
  weights.push_back(1.5);
  CHECK(thing_ids(things.where(col<&thing::weight>.in(weights))) == id_list{3});
  weights.push_back(2.5);
  CHECK_THROWS_AS(things.where(col<&thing::weight>.in(weights)).count(db), cpm::usage_error);
}

TEST_CASE("in: a long list of text on a NOCASE column matches as a short one does", "[typed][in]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE row(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, rank INTEGER NOT NULL, "
          "name TEXT COLLATE NOCASE NOT NULL)");
  (void)cpm::insert(db, row{1, 0, 0, "Apple"});
  (void)cpm::insert(db, row{2, 0, 0, "pear"});
  (void)cpm::insert(db, row{3, 0, 0, "5"});
  std::vector<std::string> list{"APPLE", "5"};
  CHECK(ids(db, rows_of.where(col<&row::name>.in(list))) == id_list{1, 3});
  for (int i = 0; i < 5000; ++i) list.push_back(std::to_string(i).insert(0, 1, 'x'));  // (g++ 12 -O3: no "x" + string)
  CHECK(ids(db, rows_of.where(col<&row::name>.in(list))) == id_list{1, 3});
}

namespace {

enum class grade { low = 1, high = 2 };  // stored as 'L' and 'H' by a value_traits of its own

}  // namespace

template <>
struct cpm::value_traits<grade> {
  static void bind(const cpm::parameter& p, grade g) { p.text(g == grade::low ? "L" : "H"); }
  static void read(const cpm::field& f, grade& g) { g = f.text() == "L" ? grade::low : grade::high; }
};

namespace {

struct graded {
  std::int64_t id = 0;
  grade g = grade::low;
};

}  // namespace

TEST_CASE("in: a type bound by a value_traits of your own is never sent as JSON, which would bind it otherwise",
          "[typed][in]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE graded(id INTEGER PRIMARY KEY, g TEXT NOT NULL)");
  (void)cpm::insert(db, graded{1, grade::high});
  (void)cpm::insert(db, graded{2, grade::low});
  const auto all = cpm::from<graded>;
  CHECK(all.where(col<&graded::g>.in({grade::high})).count(db) == 1);
  // Above 4096 distinct values: refused, not matched against the enum's integers.
  std::vector<grade> many;
  for (int i = 0; i < 5000; ++i) many.push_back(static_cast<grade>(i + 1));
  CHECK_THROWS_AS(all.where(col<&graded::g>.in(many)).count(db), cpm::usage_error);
}
