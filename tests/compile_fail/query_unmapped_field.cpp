// expect: member_row.*[."]roles["}].*std::vector<int.*cpm: a field of this query row type has a type with no cpm::value_traits mapping
// The row type of a hand-written query: every field needs a cpm::value_traits mapping.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>
#include <vector>

struct member_row {
  std::string username;
#ifndef CPM_COMPILE_FAIL_CONTROL
  std::vector<int> roles;
#else
  std::int64_t roles = 0;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return static_cast<int>(cpm::query<member_row>(db, "SELECT 'alice', 1").to_vector().size());
}
