// expect: cpm: a patch cannot change the primary key
// The key names the row a patch applies to; it cannot be part of the patch.
#include <cpm/query.hpp>

#include <cstdint>
#include <optional>
#include <string>

struct user {
  std::int64_t id = 0;
  std::string email;
};

struct user_patch {
#ifndef CPM_COMPILE_FAIL_CONTROL
  std::optional<std::int64_t> id;
#endif
  std::optional<std::string> email;
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::patch<user>(db, 1, user_patch{}) ? 1 : 0;
}
