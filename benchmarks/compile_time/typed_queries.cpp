// Compile time (issue 16): ten typed queries (cpm::from, cpm::col), against the same ten written
// as SQL through cpm::query<Row> and cpm::execute in raw_queries.cpp. scripts/compile-time.sh.
#include <cpm/query.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct item {
  std::int64_t id = 0;
  std::int64_t owner = 0;
  std::int32_t rank = 0;
  std::string name;
  std::optional<std::string> note;
};

using cpm::col;

std::int64_t run(cpm::connection& db, std::int64_t owner, const std::vector<std::int64_t>& ids) {
  constexpr auto items = cpm::from<item>;
  std::int64_t n = 0;
  for (const item& i : items.where(col<&item::owner> == owner).rows(db)) n += i.rank;
  for (const item& i : items.where(col<&item::owner> == owner && col<&item::rank> > 10).rows(db)) n += i.rank;
  for (const item& i : items.where(col<&item::name>.like("a%") || col<&item::note>.is_null()).rows(db)) n += i.rank;
  for (const item& i : items.where(col<&item::id>.in(ids)).rows(db)) n += i.rank;
  for (const item& i : items.where(col<&item::rank>.between(1, 5)).order_by(cpm::desc<&item::rank>).limit(10).rows(db))
    n += i.rank;
  n += items.where(col<&item::owner> != owner).count(db);
  n += items.where(col<&item::name> == "x").exists(db) ? 1 : 0;
  n += items.where(col<&item::owner> == owner).update(db, cpm::set<&item::rank>(0));
  n += items.where(col<&item::note> == std::nullopt).remove(db);
  for (const item& i : items.where(col<&item::rank> >= 3).order_by(cpm::asc<&item::name>).limit(5).offset(5).rows(db))
    n += i.rank;
  return n;
}
