// expect: cpm: a model cannot have base classes
// A model deriving from another struct (an aggregate since C++17, but Boost.PFR cannot see the
// base's fields).
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct with_id {
  std::int64_t id = 0;
};

#ifndef CPM_COMPILE_FAIL_CONTROL
struct account : with_id {
  std::string name;
};
#else
struct account {
  std::int64_t id = 0;
  std::string name;
};
#endif

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::insert(db, account{}).id > 0 ? 0 : 1;
}
