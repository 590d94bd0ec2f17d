// expect: cpm: model_traits<T>::columns must name every field of the model, in order
// A column list that leaves out a field.
#include <cpm/query.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct note {
  std::int64_t id = 0;
  std::string title;
  std::string body;
};

template <>
struct cpm::model_traits<note> {
#ifndef CPM_COMPILE_FAIL_CONTROL
  static constexpr std::array<std::string_view, 2> columns{"note_id", "title"};
#else
  static constexpr std::array<std::string_view, 3> columns{"note_id", "title", "body"};
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::get<note>(db, 1) ? 1 : 0;
}
