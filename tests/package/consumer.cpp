// Links cpm::cpm from a separate project and uses it end to end.
#include <cpm/cpm.hpp>

#include <cstdio>

int main() {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (40), (2);");
  auto sum = db.cached(cpm::sql<"SELECT sum(x) FROM t">);
  if (!sum.step() || sum.column<int>(0) != 42) return 1;
  std::printf("cpm %s consumer ok\n", cpm::version.text.data());
  return 0;
}
