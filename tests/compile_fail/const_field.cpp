// expect: document.*[."]revision["}].*const int.*cpm: a model field cannot be const
// A const field with an initializer leaves the model default-constructible, but a row cannot
// be read into it.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct document {
  std::int64_t id = 0;
#ifndef CPM_COMPILE_FAIL_CONTROL
  const std::int32_t revision = 1;
#else
  std::int32_t revision = 1;
#endif
  std::string title;
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::get<document>(db, 1) ? 1 : 0;
}
