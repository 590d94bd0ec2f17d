// Typed queries (issue 16), instructions per call: a typed query against the same SQL through
// cpm::query<Row> (a sql_constant, so both are cached by slot) and against raw sqlite3.
// Count them with callgrind, the difference between N calls and 0 calls divided by N:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null bench_typed MODE N
// MODE: raw, query, typed (two-condition SELECT of ~10 rows); query_count, typed_count;
// query_in, typed_in (an IN list of three ids; the typed one is sent with 3 parameters, as
// every list of 1 to 8 values is sent with exactly its size).
#include <cpm/query.hpp>
#include <sqlite3.h>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>

struct item {
  std::int64_t id = 0;
  std::int64_t owner = 0;
  std::int32_t rank = 0;
  std::string name;
};
using cpm::col;
static constexpr std::string_view by_owner_rank =
    R"(SELECT "id", "owner", "rank", "name" FROM "item" WHERE "owner" = ? AND "rank" > ? ORDER BY "id")";

static constexpr std::string_view count_sql = R"(SELECT count(*) FROM "item" WHERE "owner" = ? AND "rank" > ?)";
static constexpr std::string_view in_sql = R"(SELECT "id", "owner", "rank", "name" FROM "item" WHERE "id" IN (?, ?, ?) ORDER BY "id")";
int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_typed MODE [N]\n");
    return 2;
  }
  const char* mode = argv[1];
  const long n = argc > 2 ? std::atol(argv[2]) : 100000;
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, rank INTEGER NOT NULL, name TEXT NOT NULL);"
          "CREATE INDEX item_owner ON item(owner)");
  for (int i = 0; i < 1000; ++i) (void)cpm::insert(db, item{0, i % 100, i % 7, "name" + std::to_string(i)});
  static_assert(decltype(cpm::from<item>.where(col<&item::owner> == 1 && col<&item::rank> > 3))::sql == by_owner_rank);
  std::int64_t sum = 0;
  if (!std::strcmp(mode, "typed")) {
    for (long i = 0; i < n; ++i)
      for (const item& it : cpm::from<item>.where(col<&item::owner> == i % 100 && col<&item::rank> > 3).rows(db)) sum += it.rank;
  } else if (!std::strcmp(mode, "query")) {
    for (long i = 0; i < n; ++i)
      for (const item& it : cpm::query<item>(db, cpm::sql_constant<by_owner_rank>{}, i % 100, 3)) sum += it.rank;
  } else if (!std::strcmp(mode, "typed_count")) {
    for (long i = 0; i < n; ++i) sum += cpm::from<item>.where(col<&item::owner> == i % 100 && col<&item::rank> > 3).count(db);
  } else if (!std::strcmp(mode, "query_count")) {
    for (long i = 0; i < n; ++i) sum += cpm::query<std::int64_t>(db, cpm::sql_constant<count_sql>{}, i % 100, 3).one();
  } else if (!std::strcmp(mode, "typed_in")) {
    for (long i = 0; i < n; ++i)
      for (const item& it : cpm::from<item>.where(col<&item::id>.in({i % 900 + 1, i % 900 + 2, i % 900 + 3})).rows(db)) sum += it.rank;
  } else if (!std::strcmp(mode, "query_in")) {
    for (long i = 0; i < n; ++i)
      for (const item& it : cpm::query<item>(db, cpm::sql_constant<in_sql>{}, i % 900 + 1, i % 900 + 2, i % 900 + 3)) sum += it.rank;
  } else if (!std::strcmp(mode, "raw")) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v3(db.native(), by_owner_rank.data(), static_cast<int>(by_owner_rank.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    item it;
    for (long i = 0; i < n; ++i) {
      sqlite3_bind_int64(s, 1, i % 100);
      sqlite3_bind_int(s, 2, 3);
      while (sqlite3_step(s) == SQLITE_ROW) {
        it.id = sqlite3_column_int64(s, 0);
        it.owner = sqlite3_column_int64(s, 1);
        it.rank = sqlite3_column_int(s, 2);
        it.name.assign(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)), static_cast<std::size_t>(sqlite3_column_bytes(s, 3)));
        sum += it.rank;
      }
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
  }
  std::printf("%s %lld\n", mode, static_cast<long long>(sum));
}
