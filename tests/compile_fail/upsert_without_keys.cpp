// expect: cpm: upsert needs the unique key's member pointers
// upsert must be told which unique key decides between insert and update.
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
  return cpm::upsert(db, user{}).id > 0 ? 0 : 1;
#else
  return cpm::upsert<&user::username>(db, user{}).id > 0 ? 0 : 1;
#endif
}
