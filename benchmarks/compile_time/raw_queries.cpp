// Compile time (issue 16): the ten queries of typed_queries.cpp written as SQL through
// cpm::query<Row> and cpm::execute. scripts/compile-time.sh.
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

std::int64_t run(cpm::connection& db, std::int64_t owner, const std::vector<std::int64_t>& ids) {
  std::int64_t n = 0;
  for (const item& i : cpm::query<item>(db, "SELECT id, owner, rank, name, note FROM item WHERE owner = ? ORDER BY id", owner))
    n += i.rank;
  for (const item& i : cpm::query<item>(db, "SELECT id, owner, rank, name, note FROM item WHERE owner = ? AND rank > ? ORDER BY id",
                                        owner, 10))
    n += i.rank;
  for (const item& i : cpm::query<item>(db, "SELECT id, owner, rank, name, note FROM item WHERE name LIKE ? OR note IS NULL ORDER BY id",
                                        "a%"))
    n += i.rank;
  for (const item& i : cpm::query<item>(db, "SELECT id, owner, rank, name, note FROM item WHERE id IN (?, ?, ?) ORDER BY id",
                                        ids.at(0), ids.at(1), ids.at(2)))
    n += i.rank;
  for (const item& i : cpm::query<item>(db, "SELECT id, owner, rank, name, note FROM item WHERE rank BETWEEN ? AND ? "
                                            "ORDER BY rank DESC LIMIT ?", 1, 5, 10))
    n += i.rank;
  n += cpm::query<std::int64_t>(db, "SELECT count(*) FROM item WHERE owner <> ?", owner).one();
  n += cpm::query<std::int64_t>(db, "SELECT EXISTS (SELECT 1 FROM item WHERE name = ?)", "x").one();
  n += cpm::execute(db, "UPDATE item SET rank = ? WHERE owner = ?", 0, owner);
  n += cpm::execute(db, "DELETE FROM item WHERE note IS NULL");
  for (const item& i : cpm::query<item>(db, "SELECT id, owner, rank, name, note FROM item WHERE rank >= ? ORDER BY name "
                                            "LIMIT ? OFFSET ?", 3, 5, 5))
    n += i.rank;
  return n;
}
