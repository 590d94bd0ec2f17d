// expect: cpm: a cpm::foreign_key must reference the other model's primary key or a field it declares
// A foreign key to a field that is neither the other model's key nor unique: SQLite would refuse
// every write with "foreign key mismatch".
#include <cpm/schema.hpp>

#include <cstdint>
#include <string>
#include <tuple>

struct team {
  std::int64_t id = 0;
  std::string name;
};

struct player {
  std::int64_t id = 0;
  std::string team_name;
  std::int64_t team_id = 0;
};

template <>
struct cpm::model_traits<player> {
#ifndef CPM_COMPILE_FAIL_CONTROL
  static constexpr auto foreign_keys = std::tuple{cpm::foreign_key<&player::team_name, &team::name>{}};
#else
  static constexpr auto foreign_keys = std::tuple{cpm::foreign_key<&player::team_id, &team::id>{}};
#endif
};

int main() { return cpm::create_table_sql<player>.empty() ? 1 : 0; }
