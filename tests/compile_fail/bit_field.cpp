// expect: (<permissions>|T = permissions).*cpm: a model cannot have bit-fields
// Boost.PFR cannot bind a reference to a bit-field, so a model cannot have one.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct permissions {
  std::int64_t id = 0;
  std::string name;
#ifndef CPM_COMPILE_FAIL_CONTROL
  std::uint32_t flags : 4 = 0;
#else
  std::uint32_t flags = 0;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return static_cast<int>(cpm::insert(db, permissions{}).id);
}
