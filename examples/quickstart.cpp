// quickstart: open the cpm database, write a few rows, read them back.
//   quickstart [PATH]      PATH defaults to $CPMDB_PATH, then ~/.cpm/cpm.db
#include <cpm/cpm.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

int main(int argc, char** argv) try {
  std::filesystem::path path;
  if (argc > 1) {
    path = argv[1];
  } else if (const char* env = std::getenv("CPMDB_PATH"); env && *env) {
    path = env;
  } else {
    const char* home = std::getenv("HOME");
    path = std::filesystem::path(home ? home : ".") / ".cpm" / "cpm.db";
  }
  std::filesystem::create_directories(path.parent_path());
  auto db = cpm::connection::open(path);
  std::printf("opened %s\n", path.c_str());
  db.exec("CREATE TABLE IF NOT EXISTS quickstart_notes(id INTEGER PRIMARY KEY, note TEXT NOT NULL, "
          "created_at DATETIME DEFAULT CURRENT_TIMESTAMP)");
  {
    cpm::transaction tx(db);
    auto insert = db.cached(cpm::sql<"INSERT INTO quickstart_notes(note) VALUES (?)">);
    insert.bind("hello from cpm");
    insert.run();
    tx.commit();
  }
  auto select = db.cached(cpm::sql<"SELECT id, note, created_at FROM quickstart_notes ORDER BY id DESC LIMIT 3">);
  while (select.step()) {
    std::printf("note %lld: %s (%s)\n", select.column<long long>(0), select.column<std::string>(1).c_str(),
                select.column<std::string>(2).c_str());
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "quickstart: %s\n", e.what());
  return 1;
}
