// expect: tagged.*[."]tags["}].*std::vector<int.*cpm: a field of this model has a type with no cpm::value_traits mapping
// A model field whose type has no cpm::value_traits mapping (std::vector<int>).
#include <cpm/query.hpp>

#include <cstdint>
#include <vector>

struct tagged {
  std::int64_t id = 0;
#ifndef CPM_COMPILE_FAIL_CONTROL
  std::vector<int> tags;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return static_cast<int>(cpm::count<tagged>(db));
}
