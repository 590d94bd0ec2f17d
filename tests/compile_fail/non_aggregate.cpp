// expect: cpm: a model must be an aggregate struct
// A model with a user-declared constructor is no aggregate.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct account {
#ifndef CPM_COMPILE_FAIL_CONTROL
  account() {}
#endif
  std::int64_t id = 0;
  std::string name;
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::get<account>(db, 1) ? 1 : 0;
}
