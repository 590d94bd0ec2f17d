// expect: cpm: a cpm::foreign_key with ON DELETE/UPDATE SET NULL needs a std::optional field
// ON DELETE SET NULL on a field that is not std::optional: its column is NOT NULL, so the delete
// it reacts to would fail.
#include <cpm/schema.hpp>

#include <cstdint>
#include <optional>
#include <tuple>

struct team {
  std::int64_t id = 0;
};

struct player {
  std::int64_t id = 0;
#ifndef CPM_COMPILE_FAIL_CONTROL
  std::int64_t team_id = 0;
#else
  std::optional<std::int64_t> team_id;
#endif
};

template <>
struct cpm::model_traits<player> {
  static constexpr auto foreign_keys =
      std::tuple{cpm::foreign_key<&player::team_id, &team::id>{.on_delete = cpm::fk_action::set_null}};
};

int main() { return cpm::create_table_sql<player>.empty() ? 1 : 0; }
