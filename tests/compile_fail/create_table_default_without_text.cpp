// expect: cpm: every field model_traits<T>::defaults lists needs the DEFAULT that fills it
// A field the database fills in on insert, with no DEFAULT to fill it: the table made would
// store NULL.
#include <cpm/schema.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <tuple>

struct note {
  std::int64_t id = 0;
  std::optional<std::chrono::sys_seconds> created_at;
};

template <>
struct cpm::model_traits<note> {
  static constexpr auto defaults = std::tuple{&note::created_at};
#ifdef CPM_COMPILE_FAIL_CONTROL
  static constexpr auto default_values = std::tuple{cpm::sql_default<&note::created_at>{"CURRENT_TIMESTAMP"}};
#endif
};

int main() { return cpm::create_table_sql<note>.empty() ? 1 : 0; }
