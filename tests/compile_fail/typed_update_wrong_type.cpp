// expect: cpm: a typed query compares a field with a value its type cannot be made from without narrowing
// set<&user::username>(3): an int is no username.
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
  return static_cast<int>(cpm::from<user>.where(col<&user::id> == 1).update(db, cpm::set<&user::username>(3)));
#else
  return static_cast<int>(cpm::from<user>.where(col<&user::id> == 1).update(db, cpm::set<&user::username>("3")));
#endif
}
