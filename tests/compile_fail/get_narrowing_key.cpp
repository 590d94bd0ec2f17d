// expect: (<account, long, double>|Model = account. Key = long int. Argument = double).*cpm: the key argument must convert to the model's primary key type without narrowing
// A key argument converts to the primary key's type without narrowing, as find's arguments do:
// get<account>(db, 1.9) would look up id 1.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct account {
  std::int64_t id = 0;
  std::string username;
};

int main() {
  auto db = cpm::connection::open_memory();
#ifndef CPM_COMPILE_FAIL_CONTROL
  return cpm::get<account>(db, 1.9) ? 1 : 0;
#else
  return cpm::get<account>(db, 1) ? 1 : 0;
#endif
}
