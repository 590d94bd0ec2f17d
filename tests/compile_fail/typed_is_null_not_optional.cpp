// expect: cpm: is_null\(\) is for std::optional fields
// IS NULL on a field that cannot hold NULL.
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
  return static_cast<int>(cpm::from<user>.where(col<&user::username>.is_null()).count(db));
#else
  return static_cast<int>(cpm::from<user>.where(col<&user::username> == "").count(db));
#endif
}
