// expect: cpm: a typed query compares a field with a value its type cannot be made from without narrowing
// col<&user::username> == 42: an int does not stand for a std::string column.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct user {
  std::int64_t id = 0;
  std::string username;
};

struct org {
  std::int64_t id = 0;
  std::string name;
};

int main() {
  auto db = cpm::connection::open_memory();
  using cpm::col;
#ifndef CPM_COMPILE_FAIL_CONTROL
  return static_cast<int>(cpm::from<user>.where(col<&user::username> == 42).count(db));
#else
  return static_cast<int>(cpm::from<user>.where(col<&user::username> == "42").count(db));
#endif
}
