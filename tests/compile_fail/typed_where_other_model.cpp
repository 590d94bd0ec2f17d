// expect: cpm: a predicate combines fields of two different models
// from<user>.where() over a field of org.
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
  return static_cast<int>(cpm::from<user>.where(col<&org::id> == 1).count(db));
#else
  return static_cast<int>(cpm::from<org>.where(col<&org::id> == 1).count(db));
#endif
}
