// expect: cpm: a patch field must be std::optional<type of the model field it names>
// A patch field of another type than std::optional<the model field's type>.
#include <cpm/query.hpp>

#include <cstdint>
#include <optional>
#include <string>

struct user {
  std::int64_t id = 0;
  std::int32_t age = 0;
};

struct user_patch {
#ifndef CPM_COMPILE_FAIL_CONTROL
  std::optional<std::int64_t> age;
#else
  std::optional<std::int32_t> age;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::patch<user>(db, 1, user_patch{}) ? 1 : 0;
}
