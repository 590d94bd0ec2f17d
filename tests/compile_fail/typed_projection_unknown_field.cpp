// expect: cpm: a field of the projection row names no field of the model
// A projection row with a field named like no field of the model.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct user {
  std::int64_t id = 0;
  std::string username;
};

struct org {
  std::int64_t id = 0;
  std::string name;
};

struct login_row {
  std::string login;
};
struct name_row {
  std::string username;
};

int main() {
  auto db = cpm::connection::open_memory();
  using cpm::col;
#ifndef CPM_COMPILE_FAIL_CONTROL
  return static_cast<int>(cpm::from<user>.select<login_row>().rows(db).to_vector().size());
#else
  return static_cast<int>(cpm::from<user>.select<name_row>().rows(db).to_vector().size());
#endif
}
