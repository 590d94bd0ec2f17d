// expect: (<tag>|T = tag).*cpm: update needs a field besides the primary key
// update writes every field but the key: a model with only a key would make
// UPDATE "tag" SET  WHERE "id" = ?, which SQLite refuses.
#include <cpm/query.hpp>

#include <cstdint>
#include <string>

struct tag {
  std::int64_t id = 0;
#ifdef CPM_COMPILE_FAIL_CONTROL
  std::string label;
#endif
};

int main() {
  auto db = cpm::connection::open_memory();
  return cpm::update(db, tag{}) ? 1 : 0;
}
