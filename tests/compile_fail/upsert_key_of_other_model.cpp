// expect: (<account, &repository::path>|Model = account. auto Key = &repository::path).*cpm: each upsert key must be a member pointer of the model upserted
// upsert's keys are member pointers of the model upserted: &repository::path, a field of
// another model, would name a column of `account` by its index in `repository`.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct account {
  std::int64_t id = 0;
  std::string username;
};

struct repository {
  std::int64_t id = 0;
  std::string path;
};

int main() {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE account(id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE)");
#ifndef CPM_COMPILE_FAIL_CONTROL
  return static_cast<int>(cpm::upsert<&repository::path>(db, account{.id = 0, .username = "alice"}).id);
#else
  return static_cast<int>(cpm::upsert<&account::username>(db, account{.id = 0, .username = "alice"}).id);
#endif
}
