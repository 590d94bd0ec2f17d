// Reading a row costs no heap allocation beyond the row's own strings and blobs.
//
// Counted with a replaced global operator new, which is why this is a program of its own and
// not part of cpm_tests: the replacement applies to the whole program. SQLite's own memory
// (sqlite3_malloc) is not counted; only what cpm and the standard library allocate for C++.
// Prints one line per check and exits non-zero when one fails.
#include <cpm/query.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

// The replaced operator new and delete below are a matched pair over malloc and free; g++ 12
// at -O2 does not see that once it inlines a std::string's destructor into cpm's code, and
// warns that free() gets a pointer from operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct row {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> note;
  std::vector<std::byte> payload;
  double score = 0;
};

int failures = 0;

void check(bool ok, const char* what, std::size_t counted) {
  std::printf("%s  %s (%zu allocations)\n", ok ? "ok  " : "FAIL", what, counted);
  if (!ok) ++failures;
}

// Allocations made by `work`.
template <class Work>
std::size_t count_allocations(Work&& work) {
  std::size_t before = allocations.load(std::memory_order_relaxed);
  work();
  return allocations.load(std::memory_order_relaxed) - before;
}

constexpr int row_count = 1000;

void fill(cpm::connection& db) {
  db.exec("CREATE TABLE row(id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT, payload BLOB NOT NULL, "
          "score REAL NOT NULL)");
  // Every row: a 40-character name and note (past any small-string buffer), a 64-byte blob;
  // rows 1001..1010 have short strings and an empty blob; rows 2001..2100 grow in length.
  db.exec(R"(
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
    INSERT INTO row SELECT i, printf('%040d', i), printf('note%036d', i), zeroblob(64), i / 2.0 FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1001 UNION ALL SELECT i + 1 FROM n WHERE i < 1010)
    INSERT INTO row SELECT i, 'r' || i, NULL, x'', 0 FROM n;
    WITH RECURSIVE n(i) AS (SELECT 2001 UNION ALL SELECT i + 1 FROM n WHERE i < 2100)
    INSERT INTO row SELECT i, printf('%0*d', (i - 2000) * 40, i), NULL, zeroblob((i - 2000) * 64), 0 FROM n;
  )");
}

}  // namespace

int main() try {
  auto db = cpm::connection::open_memory();
  fill(db);

  // Warm the statement cache so that preparing is not counted below.
  (void)cpm::page<row>(db, 0, 1).to_vector();
  (void)cpm::get<row>(db, 1);
  (void)cpm::count<row>(db);
  (void)cpm::find<&row::score>(db, 1.0).to_vector();
  (void)cpm::query<row>(db, cpm::sql<"SELECT id, name, note, payload, score FROM row WHERE id <= ?">, 1).to_vector();

  {
    // Rows 2..1000 of a page: the row read in place reuses the capacity of the first.
    auto range = cpm::page<row>(db, 0, row_count);
    auto it = range.begin();
    std::size_t seen = 0;
    double sum = 0;
    std::size_t counted = count_allocations([&] {
      for (++it; it != range.end(); ++it) {
        sum += it->score + static_cast<double>(it->name.size() + it->payload.size());
        ++seen;
      }
    });
    if (seen != row_count - 1 || sum <= 0) {
      std::printf("FAIL  read %zu rows instead of %d\n", seen, row_count - 1);
      ++failures;
    }
    check(counted == 0, "no allocation per row of a range once the first row is read", counted);
  }
  {
    // The same through a raw query.
    auto range = cpm::query<row>(db, cpm::sql<"SELECT id, name, note, payload, score FROM row WHERE id <= ?">, 1000);
    auto it = range.begin();
    std::size_t counted = count_allocations([&] {
      for (++it; it != range.end(); ++it) {
      }
    });
    check(counted == 0, "no allocation per row of a raw query once the first row is read", counted);
  }
  {
    // Control: rows whose strings and blobs grow must allocate, or the counter counts nothing.
    auto range = cpm::page<row>(db, 2000, 100);
    auto it = range.begin();
    std::size_t counted = count_allocations([&] {
      for (++it; it != range.end(); ++it) {
      }
    });
    check(counted >= 99, "control: growing strings and blobs allocate as they grow", counted);
  }
  {
    // A point lookup allocates only the strings of the row it returns.
    std::size_t small = count_allocations([&] {
      for (std::int64_t id = 1001; id <= 1010; ++id)
        if (!cpm::get<row>(db, id)) ++failures;
    });
    check(small == 0, "get of rows with short strings and no blob: no allocation", small);
    std::size_t large = count_allocations([&] {
      if (!cpm::get<row>(db, 7)) ++failures;
    });
    check(large == 3, "get of a row with a long name, a long note and a blob: 3 allocations", large);
    std::size_t counting = count_allocations([&] {
      if (cpm::count<row>(db) != row_count + 110) ++failures;
    });
    check(counting == 0, "count: no allocation", counting);
  }
  {
    // A thread running one query after another reuses the block of the range's cursor, and
    // that of a short IN list's values: once warm, such queries allocate nothing.
    auto by_range = [&] {
      int n = 0;
      for (const row& r : cpm::query<row>(db, cpm::sql<"SELECT id, name, note, payload, score FROM row WHERE id BETWEEN ? AND ?">,
                                          1001, 1003))
        n += r.id > 1000 ? 1 : 0;
      return n;
    };
    auto by_list = [&] {
      int n = 0;
      for (const row& r : cpm::from<row>.where(cpm::col<&row::id>.in({1003, 1001, 1002})).rows(db)) n += r.id > 1000 ? 1 : 0;
      return n;
    };
    (void)by_range();
    (void)by_list();
    std::size_t ranges = count_allocations([&] {
      for (int i = 0; i < 10; ++i)
        if (by_range() != 3) ++failures;
    });
    check(ranges == 0, "a range query run again: no allocation (its cursor's block is reused)", ranges);
    std::size_t lists = count_allocations([&] {
      for (int i = 0; i < 10; ++i)
        if (by_list() != 3) ++failures;
    });
    check(lists == 0, "a typed query with an IN list of three values run again: no allocation", lists);
  }

  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "row_allocations: %s\n", e.what());
  return 1;
}
