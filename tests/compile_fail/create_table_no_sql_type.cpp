// expect: cpm: a field of this model has no SQL column type
// A field whose value_traits bind and read it but say nothing of its column type: CREATE TABLE
// cannot be generated for its model (the queries still work).
#include <cpm/schema.hpp>

#include <cstdint>
#include <string_view>

struct rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

template <>
struct cpm::value_traits<rgb> {
#ifdef CPM_COMPILE_FAIL_CONTROL
  static constexpr std::string_view sql_type = "INTEGER";
#endif
  static void bind(const cpm::parameter& p, const rgb& c) { p.integer(c.r << 16 | c.g << 8 | c.b); }
  static void read(const cpm::field& f, rgb& out) {
    auto v = f.integer();
    out = rgb{static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  }
};

struct swatch {
  std::int64_t id = 0;
  rgb color{};
};

int main() { return cpm::create_table_sql<swatch>.empty() ? 1 : 0; }
