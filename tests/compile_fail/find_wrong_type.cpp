// expect: value_for|constraints not satisfied|no matching function
// find<&user::username>(db, 42): an int does not stand for a std::string column.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct user {
  std::int64_t id = 0;
  std::string username;
};

int main() {
  auto db = cpm::connection::open_memory();
#ifndef CPM_COMPILE_FAIL_CONTROL
  return static_cast<int>(cpm::find<&user::username>(db, 42).to_vector().size());
#else
  return static_cast<int>(cpm::find<&user::username>(db, "42").to_vector().size());
#endif
}
