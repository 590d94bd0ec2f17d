// expect: cpm: a model cannot have C array fields|decomposes into
// A model with a C array member (clang++ 14 has no paren-init of aggregates, so there
// Boost.PFR's own error reports it: "type ... decomposes into 2 elements, but 9 names were provided").
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct account {
  std::int64_t id = 0;
#ifndef CPM_COMPILE_FAIL_CONTROL
  char name[8];
#else
  std::string name;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::get<account>(db, 1) ? 1 : 0;
}
