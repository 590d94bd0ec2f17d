// expect: cpm: a model needs at least one field
// A model without fields maps to no table.
#include <cpm/query.hpp>

#include <cstdint>

struct nothing {
#ifdef CPM_COMPILE_FAIL_CONTROL
  std::int64_t id = 0;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return static_cast<int>(cpm::count<nothing>(db));
}
