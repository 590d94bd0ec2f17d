// expect: cpm: the two fields a join is on must have the same type
// join<&repo::name, &org::id>: a text field joined with an integer key.
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

int main() {
  auto db = cpm::connection::open_memory();
#ifndef CPM_COMPILE_FAIL_CONTROL
  return static_cast<int>(cpm::join<&repo::name, &org::id>.count(db));
#else
  return static_cast<int>(cpm::join<&repo::org_id, &org::id>.count(db));
#endif
}
