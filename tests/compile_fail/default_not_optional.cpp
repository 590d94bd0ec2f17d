// expect: cpm: model_traits<T>::defaults may only list std::optional fields
// A database-filled default must be a std::optional field: empty is how the model leaves it unset.
#include <cpm/query.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

struct note {
  std::int64_t id = 0;
  std::string created_at;
  std::optional<std::string> updated_at;
};

template <>
struct cpm::model_traits<note> {
#ifndef CPM_COMPILE_FAIL_CONTROL
  static constexpr auto defaults = std::tuple{&note::created_at};
#else
  static constexpr auto defaults = std::tuple{&note::updated_at};
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::insert(db, note{}).id > 0 ? 0 : 1;
}
