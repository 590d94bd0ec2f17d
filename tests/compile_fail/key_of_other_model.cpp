// expect: cpm: the member pointer belongs to another model
// model_traits<T>::primary_key naming a field of another struct.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct other {
  std::string code;
};

struct note {
  std::string code;
  std::string title;
};

template <>
struct cpm::model_traits<note> {
#ifndef CPM_COMPILE_FAIL_CONTROL
  static constexpr auto primary_key = &other::code;
#else
  static constexpr auto primary_key = &note::code;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::get<note>(db, "x") ? 1 : 0;
}
