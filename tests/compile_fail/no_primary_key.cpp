// expect: cpm: this operation needs a primary key
// get, update, remove, page and patch need a key: a field named id, or model_traits::primary_key.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct event {
#ifdef CPM_COMPILE_FAIL_CONTROL
  std::int64_t id = 0;
#endif
  std::string name;
  std::int64_t at = 0;
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::remove<event>(db, 1) ? 1 : 0;
}
