// Typed queries, instructions per call: each typed shape against the same SQL through
// cpm::query<Row> / cpm::execute (a sql_constant, so both are cached by slot) and against raw
// sqlite3 (prepared once, columns read without a storage-class check).
// Count them with callgrind, the difference between N calls and 0 calls divided by N:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null bench_typed SHAPE/IMPL N
// or all of them, as a table: benchmarks/typed_profile.sh.
// IMPL: typed, query, raw. SHAPE:
//   select      where(owner == ? && rank > ?), about 4 rows of 4 columns
//   count       count() of the same predicate
//   exists      exists() of where(owner == ? && rank > 5)
//   in          where(id in {a, b, c}): 3 rows (a list of 1 to 8 values is sent with its size)
//   page        where(owner == ?).order_by(desc rank, asc id).limit(3): 3 rows
//   projection  where(owner == ?).select<item_name>(): 10 rows of one column
//   join        join<&item::owner, &person::id>.where(person id == ?): 10 rows of 6 columns
//   update      where(id == ?).update(set rank): one row changed (to the value it holds)
//   remove      where(id == ?).remove(): one row deleted per call (of 2,000 rows added for
//               it, in every run of remove: N at most 2,000)
#include <cpm/query.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

struct item {
  std::int64_t id = 0;
  std::int64_t owner = 0;
  std::int32_t rank = 0;
  std::string name;
};
struct person {
  std::int64_t id = 0;
  std::string name;
};
struct item_name {
  std::string name;
};
// A join's row as hand-written code spells it: flat, read by position.
struct item_person {
  std::int64_t id = 0;
  std::int64_t owner = 0;
  std::int32_t rank = 0;
  std::string name;
  std::int64_t person_id = 0;
  std::string person_name;
};

namespace {

using cpm::col;

// The typed queries, as functions of the call number; their SQL is the other two's.
auto select_q(long i) { return cpm::from<item>.where(col<&item::owner> == i % 100 && col<&item::rank> > 3); }
auto exists_q(long i) { return cpm::from<item>.where(col<&item::owner> == i % 100 && col<&item::rank> > 5); }
auto in_q(long i) { return cpm::from<item>.where(col<&item::id>.in({i % 900 + 1, i % 900 + 2, i % 900 + 3})); }
auto page_q(long i) {
  return cpm::from<item>.where(col<&item::owner> == i % 100).order_by(cpm::desc<&item::rank>, cpm::asc<&item::id>).limit(3);
}
auto projection_q(long i) { return cpm::from<item>.where(col<&item::owner> == i % 100).select<item_name>(); }
auto join_q(long i) { return cpm::join<&item::owner, &person::id>.where(col<&person::id> == i % 100); }
auto update_q(long i) { return cpm::from<item>.where(col<&item::id> == i % 1000 + 1); }
constexpr long removable = 2000;  // rows added for remove, ids from removable_from
constexpr std::int64_t removable_from = 100'001;
auto remove_q(long i) { return cpm::from<item>.where(col<&item::id> == removable_from + i); }

using select_t = decltype(select_q(0));
using exists_t = decltype(exists_q(0));
using in_t = decltype(in_q(0));
using page_t = decltype(page_q(0));
using projection_t = decltype(projection_q(0));
using join_t = decltype(join_q(0));
using update_t = decltype(update_q(0));
using remove_t = decltype(remove_q(0));

// The IN list's statement of exactly 3 parameters, and the update's text, as constants.
constexpr std::string_view in3_sql = R"(SELECT "id", "owner", "rank", "name" FROM "item" WHERE "id" IN (?, ?, ?) ORDER BY "id")";
constexpr std::string_view update_sql = update_t::update_sql<&item::rank>;
static_assert(update_sql == R"(UPDATE "item" SET "rank" = ? WHERE "id" = ?)");

// The rank row id holds: updates set it again, so every run sees the same data.
std::int32_t rank_of(std::int64_t id) { return static_cast<std::int32_t>((id - 1) % 7); }

// Raw sqlite3: one statement prepared once, bound by position.
class raw {
 public:
  raw(cpm::connection& db, std::string_view sql) {
    sqlite3_prepare_v3(db.native(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
    if (s_ == nullptr) std::abort();
  }
  ~raw() { sqlite3_finalize(s_); }
  raw(const raw&) = delete;
  raw& operator=(const raw&) = delete;
  sqlite3_stmt* bind(std::int64_t a) {
    sqlite3_bind_int64(s_, 1, a);
    return s_;
  }
  sqlite3_stmt* bind(std::int64_t a, std::int64_t b) {
    sqlite3_bind_int64(s_, 1, a);
    sqlite3_bind_int64(s_, 2, b);
    return s_;
  }
  sqlite3_stmt* bind(std::int64_t a, std::int64_t b, std::int64_t c) {
    sqlite3_bind_int64(s_, 1, a);
    sqlite3_bind_int64(s_, 2, b);
    sqlite3_bind_int64(s_, 3, c);
    return s_;
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// What raw code that trusts the column types does: no storage-class check.
[[gnu::always_inline]] inline std::string& text(sqlite3_stmt* s, int i, std::string& out) {
  out.assign(reinterpret_cast<const char*>(sqlite3_column_text(s, i)), static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
  return out;
}
[[gnu::always_inline]] inline const item& read_item(sqlite3_stmt* s, item& it, int at = 0) {
  it.id = sqlite3_column_int64(s, at);
  it.owner = sqlite3_column_int64(s, at + 1);
  it.rank = sqlite3_column_int(s, at + 2);
  text(s, at + 3, it.name);
  return it;
}
// Steps `s` to its end, adding `row(s)` for each row; resets it.
template <class Row>
std::int64_t each(sqlite3_stmt* s, Row row) {
  std::int64_t sum = 0;
  while (sqlite3_step(s) == SQLITE_ROW) sum += row(s);
  sqlite3_reset(s);
  return sum;
}
std::int64_t one_value(sqlite3_stmt* s) {
  std::int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_reset(s);
  return v;
}
std::int64_t changes(cpm::connection& db, sqlite3_stmt* s) {
  sqlite3_step(s);
  sqlite3_reset(s);
  return sqlite3_changes64(db.native());
}

template <class Rows>
std::int64_t sum_ranks(Rows&& rows) {
  std::int64_t sum = 0;
  for (const item& it : rows) sum += it.rank;
  return sum;
}
template <class Rows>
std::int64_t sum_sizes(Rows&& rows) {
  std::int64_t sum = 0;
  for (const item_name& it : rows) sum += static_cast<std::int64_t>(it.name.size());
  return sum;
}
template <class Rows>
std::int64_t sum_joined(Rows&& rows) {
  std::int64_t sum = 0;
  for (const auto& [it, who] : rows) sum += it.rank + static_cast<std::int64_t>(who.name.size());
  return sum;
}

// Runs shape/impl n times; false for an unknown one.
bool run(cpm::connection& db, std::string_view mode, long n, std::int64_t& sum) {
  auto is = [&](std::string_view m) { return mode == m; };
  item it;
  person who;
  item_name nm;
  // The query<Row> forms take the typed shape's own SQL constant.
  if (is("select/typed")) {
    for (long i = 0; i < n; ++i) sum += sum_ranks(select_q(i).rows(db));
  } else if (is("select/query")) {
    for (long i = 0; i < n; ++i) sum += sum_ranks(cpm::query<item>(db, cpm::sql_constant<select_t::sql>{}, i % 100, 3));
  } else if (is("select/raw")) {
    raw r(db, select_t::sql);
    for (long i = 0; i < n; ++i) sum += each(r.bind(i % 100, 3), [&](sqlite3_stmt* s) { return read_item(s, it).rank; });
  } else if (is("count/typed")) {
    for (long i = 0; i < n; ++i) sum += select_q(i).count(db);
  } else if (is("count/query")) {
    for (long i = 0; i < n; ++i) sum += cpm::query<std::int64_t>(db, cpm::sql_constant<select_t::count_sql>{}, i % 100, 3).one();
  } else if (is("count/raw")) {
    raw r(db, select_t::count_sql);
    for (long i = 0; i < n; ++i) sum += one_value(r.bind(i % 100, 3));
  } else if (is("exists/typed")) {
    for (long i = 0; i < n; ++i) sum += exists_q(i).exists(db) ? 1 : 0;
  } else if (is("exists/query")) {
    for (long i = 0; i < n; ++i)
      sum += cpm::query<std::int64_t>(db, cpm::sql_constant<exists_t::exists_sql>{}, i % 100, 5).one() != 0 ? 1 : 0;
  } else if (is("exists/raw")) {
    raw r(db, exists_t::exists_sql);
    for (long i = 0; i < n; ++i) sum += one_value(r.bind(i % 100, 5)) != 0 ? 1 : 0;
  } else if (is("in/typed")) {
    for (long i = 0; i < n; ++i) sum += sum_ranks(in_q(i).rows(db));
  } else if (is("in/query")) {
    for (long i = 0; i < n; ++i)
      sum += sum_ranks(cpm::query<item>(db, cpm::sql_constant<in3_sql>{}, i % 900 + 1, i % 900 + 2, i % 900 + 3));
  } else if (is("in/raw")) {
    raw r(db, in3_sql);
    for (long i = 0; i < n; ++i)
      sum += each(r.bind(i % 900 + 1, i % 900 + 2, i % 900 + 3), [&](sqlite3_stmt* s) { return read_item(s, it).rank; });
  } else if (is("page/typed")) {
    for (long i = 0; i < n; ++i) sum += sum_ranks(page_q(i).rows(db));
  } else if (is("page/query")) {
    for (long i = 0; i < n; ++i) sum += sum_ranks(cpm::query<item>(db, cpm::sql_constant<page_t::sql>{}, i % 100, 3));
  } else if (is("page/raw")) {
    raw r(db, page_t::sql);
    for (long i = 0; i < n; ++i) sum += each(r.bind(i % 100, 3), [&](sqlite3_stmt* s) { return read_item(s, it).rank; });
  } else if (is("projection/typed")) {
    for (long i = 0; i < n; ++i) sum += sum_sizes(projection_q(i).rows(db));
  } else if (is("projection/query")) {
    for (long i = 0; i < n; ++i) sum += sum_sizes(cpm::query<item_name>(db, cpm::sql_constant<projection_t::sql>{}, i % 100));
  } else if (is("projection/raw")) {
    raw r(db, projection_t::sql);
    for (long i = 0; i < n; ++i)
      sum += each(r.bind(i % 100), [&](sqlite3_stmt* s) { return static_cast<std::int64_t>(text(s, 0, nm.name).size()); });
  } else if (is("join/typed")) {
    for (long i = 0; i < n; ++i) sum += sum_joined(join_q(i).rows(db));
  } else if (is("join/query")) {
    for (long i = 0; i < n; ++i)
      for (const item_person& r : cpm::query<item_person>(db, cpm::by_position, cpm::sql_constant<join_t::sql>{}, i % 100))
        sum += r.rank + static_cast<std::int64_t>(r.person_name.size());
  } else if (is("join/raw")) {
    raw r(db, join_t::sql);
    for (long i = 0; i < n; ++i)
      sum += each(r.bind(i % 100), [&](sqlite3_stmt* s) {
        read_item(s, it);
        who.id = sqlite3_column_int64(s, 4);
        return it.rank + static_cast<std::int64_t>(text(s, 5, who.name).size());
      });
  } else if (is("update/typed")) {
    for (long i = 0; i < n; ++i) sum += update_q(i).update(db, cpm::set<&item::rank>(rank_of(i % 1000 + 1)));
  } else if (is("update/query")) {
    for (long i = 0; i < n; ++i) sum += cpm::execute(db, cpm::sql_constant<update_sql>{}, rank_of(i % 1000 + 1), i % 1000 + 1);
  } else if (is("update/raw")) {
    raw r(db, update_sql);
    for (long i = 0; i < n; ++i) sum += changes(db, r.bind(rank_of(i % 1000 + 1), i % 1000 + 1));
  } else if (is("remove/typed")) {
    for (long i = 0; i < n; ++i) sum += remove_q(i).remove(db);
  } else if (is("remove/query")) {
    for (long i = 0; i < n; ++i) sum += cpm::execute(db, cpm::sql_constant<remove_t::remove_sql>{}, removable_from + i);
  } else if (is("remove/raw")) {
    raw r(db, remove_t::remove_sql);
    for (long i = 0; i < n; ++i) sum += changes(db, r.bind(removable_from + i));
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_typed SHAPE/IMPL [N]   (see the top of bench_typed.cpp)\n");
    return 2;
  }
  const long n = argc > 2 ? std::atol(argv[2]) : 100000;
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, rank INTEGER NOT NULL, name TEXT NOT NULL);"
          "CREATE INDEX item_owner ON item(owner);"
          "CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  for (int i = 0; i < 1000; ++i) (void)cpm::insert(db, item{0, i % 100, rank_of(i + 1), "name" + std::to_string(i)});
  db.exec("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99) "
          "INSERT INTO person SELECT i, 'person' || i FROM n");  // ids 0..99, as the owners
  if (std::string_view(argv[1]).starts_with("remove/")) {
    if (n > removable) {
      std::fprintf(stderr, "bench_typed: remove runs at most %ld calls\n", removable);
      return 2;
    }
    for (long i = 0; i < removable; ++i) (void)cpm::insert(db, item{removable_from + i, 1000 + i % 100, rank_of(i + 1), "gone"});
  }
  std::int64_t sum = 0;
  if (!run(db, argv[1], n, sum)) {
    std::fprintf(stderr, "bench_typed: unknown mode %s\n", argv[1]);
    return 2;
  }
  std::printf("%s %lld\n", argv[1], static_cast<long long>(sum));
}
