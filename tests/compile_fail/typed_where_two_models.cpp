// expect: cpm: a predicate combines fields of two different models
// A predicate over fields of user and of org: two unrelated models.
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
  return static_cast<int>(cpm::from<user>.where(col<&user::id> == 1 && col<&org::id> == 2).count(db));
#else
  return static_cast<int>(cpm::from<user>.where(col<&user::id> == 1 && col<&user::id> == 2).count(db));
#endif
}
