// expect: cpm: a join's predicate or order names a field of neither joined model
// A join of repo and org filtered by a field of user.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct org {
  std::int64_t id = 0;
  std::string name;
};

struct repo {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
};

struct user {
  std::int64_t id = 0;
  std::string username;
};

int main() {
  auto db = cpm::connection::open_memory();
  using cpm::col;
#ifndef CPM_COMPILE_FAIL_CONTROL
  return static_cast<int>(cpm::join<&repo::org_id, &org::id>.where(col<&user::id> == 1).count(db));
#else
  return static_cast<int>(cpm::join<&repo::org_id, &org::id>.where(col<&org::id> == 1).count(db));
#endif
}
