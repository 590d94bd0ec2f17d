// expect: cpm: a model may list at most 4 defaults
// Every combination of empty defaults is a statement of its own: at most 4 (16 statements).
#include <cpm/query.hpp>

#include <cstdint>
#include <optional>
#include <tuple>

struct wide {
  std::int64_t id = 0;
  std::optional<std::int64_t> a, b, c, d, e;
};

template <>
struct cpm::model_traits<wide> {
#ifndef CPM_COMPILE_FAIL_CONTROL
  static constexpr auto defaults = std::tuple{&wide::a, &wide::b, &wide::c, &wide::d, &wide::e};
#else
  static constexpr auto defaults = std::tuple{&wide::a, &wide::b, &wide::c, &wide::d};
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::insert(db, wide{}).id > 0 ? 0 : 1;
}
