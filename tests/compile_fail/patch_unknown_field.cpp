// expect: cpm: a patch field names no field of the model
// A patch field must be named like a field of the model (here: `mail` for `email`).
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
  std::optional<std::string> mail;
#else
  std::optional<std::string> email;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::patch<user>(db, 1, user_patch{}) ? 1 : 0;
}
