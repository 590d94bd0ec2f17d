// The code of docs/backup.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

// A private scratch directory, removed at exit.
struct scratch {
  std::string path;
  scratch() {
    char pattern[] = "/tmp/cpm-backup-example-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~scratch() { std::filesystem::remove_all(path); }
};

}  // namespace

int main() try {
  scratch dir;
  const std::string database = dir.path + "/cpm.db";
  const std::string backups = dir.path + "/backups";
  {
    auto store = cpm::store::open(database);
    store.create_user({.username = "alice", .email = "alice@example.org"});
  }

  // [snippet:backup]
  auto store = cpm::store::open(database);
  cpm::backup_result copy = cpm::backup_to_directory(store, backups, [](int remaining, int total) {
    fmt::print("backup: {}/{} pages copied\n", total - remaining, total);
  });
  fmt::print("wrote {} ({} pages, {} bytes), integrity_check ok\n", copy.path, copy.pages, copy.bytes);
  // [end:backup]
  CHECK(copy.path.rfind(backups + "/cpm-", 0) == 0);
  CHECK(copy.snapshot);

  // [snippet:options]
  cpm::backup_options gentle;
  gentle.pages_per_step = 64;                                   // copy 64 pages per step ...
  gentle.pause_between_steps = std::chrono::milliseconds(5);    // ... and let the disk breathe between
  gentle.busy_timeout = std::chrono::seconds(60);               // wait up to a minute for a locked source
  cpm::backup(store.db(), dir.path + "/nightly.db", {}, gentle);  // any path; never replaces a file
  // [end:options]

  // [snippet:exists]
  try {
    cpm::backup(store.db(), dir.path + "/nightly.db");
  } catch (const cpm::destination_exists& e) {
    fmt::print("not replaced: {}\n", e.path());
  }
  // [end:exists]

  // [snippet:check]
  cpm::check_result found = cpm::check(store);
  if (!found.ok()) {
    for (const std::string& line : found.findings()) fmt::print("{}\n", line);
  }
  // [end:check]
  CHECK(found.ok());

  // Something goes wrong after the backup ...
  store.create_user({.username = "mallory", .email = "mallory@example.org"});
  store = cpm::store::open_memory();  // ... and the database is closed before restoring.

  // [snippet:restore]
  cpm::restore_result back = cpm::restore(database, copy.path);
  fmt::print("restored {} (schema version {})\n", back.target, back.schema_version);
  if (back.replaced) fmt::print("the replaced database is kept as {}\n", *back.replaced);
  // [end:restore]
  CHECK(back.replaced.has_value());
  {
    auto restored = cpm::store::open(database);
    CHECK(restored.user_by_name("alice").has_value());
    CHECK(!restored.user_by_name("mallory").has_value());
    auto replaced = cpm::store::open(*back.replaced);
    CHECK(replaced.user_by_name("mallory").has_value());
  }

  { std::ofstream(dir.path + "/garbage.db") << std::string(8192, 'x'); }
  // [snippet:refused]
  try {
    cpm::restore(database, dir.path + "/garbage.db");
  } catch (const cpm::restore_refused& e) {
    // e.why(): not_a_file, unfinished, not_a_database, damaged, foreign_keys, not_cpm, same_file
    fmt::print("{}\n", e.what());
  } catch (const cpm::schema_too_new& e) {
    fmt::print("the backup is at version {}, this program knows {}\n", e.database_version(), e.code_version());
  } catch (const cpm::database_in_use& e) {
    fmt::print("stop the service first: {}\n", e.what());
  }
  // [end:refused]
  CHECK(std::filesystem::exists(database));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "backup_example: %s\n", e.what());
  return 1;
}
