// expect: cpm: a typed query may hold at most two IN lists
// Three IN lists in one query: each multiplies the statements of its shape by five.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct user {
  std::int64_t id = 0;
  std::int64_t org = 0;
  std::string username;
};

int main() {
  auto db = cpm::connection::open_memory();
  using cpm::col;
#ifndef CPM_COMPILE_FAIL_CONTROL
  return static_cast<int>(cpm::from<user>
                              .where(col<&user::id>.in({1, 2}) && col<&user::org>.in({3}) &&
                                     col<&user::username>.in({"a"}))
                              .count(db));
#else
  return static_cast<int>(cpm::from<user>.where(col<&user::id>.in({1, 2}) && col<&user::org>.in({3})).count(db));
#endif
}
