// expect: cpm: a model must be default-constructible: no reference members
// A model with a reference member cannot be default-constructed (nor read into).
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct account {
  std::int64_t id = 0;
#ifndef CPM_COMPILE_FAIL_CONTROL
  std::string& name;
#else
  std::string name;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::get<account>(db, 1) ? 1 : 0;
}
