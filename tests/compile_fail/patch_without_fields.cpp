// expect: cpm: a patch needs at least one field
// A patch with no field would update nothing (and its SQL would not parse).
#include <cpm/query.hpp>

#include <cstdint>
#include <optional>
#include <string>

struct user {
  std::int64_t id = 0;
  std::string email;
};

struct user_patch {
#ifdef CPM_COMPILE_FAIL_CONTROL
  std::optional<std::string> email;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::patch<user>(db, 1, user_patch{}) ? 1 : 0;
}
