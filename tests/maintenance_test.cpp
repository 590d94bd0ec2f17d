// cpm's maintenance functions: backup_to_directory (named by UTC time, never replacing a
// file), check (integrity_check + foreign_key_check) and restore (refuses unsound, foreign,
// newer or in-use; keeps the replaced database; installs atomically with mode 0600).
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <sys/stat.h>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

constexpr sys_seconds jan15 = sys_days{2024y / 1 / 15} + 10h + 30min + 5s;

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A cpm database at `file` with the users named, closed again.
void make_database(const fs::path& file, std::initializer_list<const char*> users) {
  auto s = cpm::store::open(file.string());
  for (const char* name : users) s.create_user({.username = name, .email = std::string(name) + "@example.org"});
}

std::vector<std::string> usernames(const fs::path& file) {
  auto s = cpm::store::open(file.string());
  std::vector<std::string> names;
  for (const cpm::user& u : s.list_users()) names.push_back(u.username);
  return names;
}

void scribble_pages(const fs::path& file, int first, int last) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  std::string garbage(4096, '\x5A');
  for (int page = first; page <= last; ++page) {
    f.seekp(static_cast<std::streamoff>(page - 1) * 4096);
    f.write(garbage.data(), 4096);
  }
}

// A cpm database with enough rows (users and their organizations) to span many pages.
void make_large_database(const fs::path& file, int users) {
  auto s = cpm::store::open(file.string());
  cpm::transaction tx(s.db());
  for (int i = 0; i < users; ++i) {
    auto u = s.create_user({.username = fmt::format("user{}", i), .email = fmt::format("user{}@example.org", i)});
    s.create_organization({.name = fmt::format("org{}", i), .description = std::string(100, 'd')}, u.id);
  }
  tx.commit();
}

// Backs `db` up into `dir` as of jan15, and closes it again.
cpm::backup_result backup_of(const fs::path& db, const fs::path& dir) {
  auto s = cpm::store::open(db.string());
  return cpm::backup_to_directory(s, dir.string(), {}, {}, jan15);
}

cpm::restore_refused::reason refusal(const fs::path& target, const fs::path& file) {
  try {
    (void)cpm::restore(target.string(), file.string());
  } catch (const cpm::restore_refused& e) {
    CHECK(e.path() == file.string());
    return e.why();
  }
  FAIL("restore was not refused");
  return {};
}

}  // namespace

TEST_CASE("maintenance: backup_file_name is cpm-YYYYMMDD-HHMMSS.db in UTC", "[maintenance]") {
  CHECK(cpm::backup_file_name(jan15) == "cpm-20240115-103005.db");
  CHECK(cpm::backup_file_name(sys_days{1999y / 12 / 31} + 23h + 59min + 59s) == "cpm-19991231-235959.db");
}

TEST_CASE("maintenance: backup_to_directory writes the named backup, making the directory 0700", "[maintenance]") {
  cpm_test::temp_dir dir;
  make_database(dir / "cpm.db", {"alice", "bob"});
  auto s = cpm::store::open((dir / "cpm.db").string());
  auto r = cpm::backup_to_directory(s, (dir / "backups" / "daily").string(), {}, {}, jan15);
  CHECK(r.path == (dir / "backups" / "daily" / "cpm-20240115-103005.db").string());
  CHECK(usernames(r.path) == std::vector<std::string>{"alice", "bob"});
  struct stat st{};
  REQUIRE(::stat((dir / "backups").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("maintenance: backup_to_directory never overwrites a backup of the same second", "[maintenance]") {
  cpm_test::temp_dir dir;
  make_database(dir / "cpm.db", {"alice"});
  auto s = cpm::store::open((dir / "cpm.db").string());
  (void)cpm::backup_to_directory(s, dir.path().string(), {}, {}, jan15);
  s.create_user({.username = "carol", .email = "carol@example.org"});
  const auto first = read_bytes(dir / "cpm-20240115-103005.db");
  CHECK_THROWS_AS(cpm::backup_to_directory(s, dir.path().string(), {}, {}, jan15), cpm::destination_exists);
  CHECK((read_bytes(dir / "cpm-20240115-103005.db") == first));
  CHECK(usernames(dir / "cpm-20240115-103005.db") == std::vector<std::string>{"alice"});
}

TEST_CASE("maintenance: check finds nothing wrong with a sound database", "[maintenance]") {
  auto s = cpm::store::open_memory();
  auto alice = s.create_user({.username = "alice", .email = "alice@example.org"});
  (void)s.create_organization({.name = "acme"}, alice.id);
  auto r = cpm::check(s);
  CHECK(r.ok());
  CHECK(r.problem_count() == 0);
  CHECK(r.findings().empty());
  CHECK(r.schema_version == cpm::store::target_version());
  CHECK(r.code_version == cpm::store::target_version());
}

TEST_CASE("maintenance: check reports a dangling foreign key made with foreign keys off", "[maintenance]") {
  auto s = cpm::store::open_memory();
  auto alice = s.create_user({.username = "alice", .email = "alice@example.org"});
  auto acme = s.create_organization({.name = "acme"}, alice.id);
  s.db().exec("PRAGMA foreign_keys=OFF");
  s.db().exec(fmt::format("INSERT INTO org_members(org_id, user_id, role) VALUES ({}, 999, 'member')", acme.id));
  s.db().exec("PRAGMA foreign_keys=ON");
  auto r = cpm::check(s);
  CHECK_FALSE(r.ok());
  CHECK(r.integrity_problems.empty());
  REQUIRE(r.foreign_key_violations.size() == 1);
  CHECK(r.foreign_key_violations[0].table == "org_members");
  CHECK(r.foreign_key_violations[0].parent == "users");
  REQUIRE(r.findings().size() == 1);
  CHECK_THAT(r.findings()[0], Catch::StartsWith("foreign_key_check: org_members row 2 refers to a row of users"));
}

TEST_CASE("maintenance: check reports the problems of a damaged file", "[maintenance]") {
  cpm_test::temp_dir dir;
  make_large_database(dir / "cpm.db", 1500);
  scribble_pages(dir / "cpm.db", 30, 33);
  auto db = cpm::connection::open((dir / "cpm.db").string(), {.create = false, .journal = cpm::journal_mode::keep});
  auto r = cpm::check(db);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.integrity_problems.empty());
  CHECK_THAT(r.findings().front(), Catch::StartsWith("integrity_check: "));
}

TEST_CASE("maintenance: restore replaces the database, keeping the replaced one beside it", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_database(dir / "old.db", {"alice", "bob"});
  auto backup = backup_of(dir / "old.db", (dir / "b"));
  make_database(dir / "cpm.db", {"mallory"});

  auto r = cpm::restore((dir / "cpm.db").string(), backup.path, {.now = jan15 + 1h});
  CHECK(r.target == (dir / "cpm.db").string());
  CHECK(r.source == backup.path);
  CHECK(r.schema_version == cpm::store::target_version());
  CHECK(r.replaced_was_locked);
  REQUIRE(r.replaced);
  CHECK(*r.replaced == (dir / "cpm.db.replaced-20240115-113005").string());
  CHECK(names_in(dir.path()) == std::vector<std::string>{"b", "cpm.db", "cpm.db.replaced-20240115-113005", "old.db"});
  struct stat st{};
  REQUIRE(::stat((dir / "cpm.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(usernames(dir / "cpm.db") == std::vector<std::string>{"alice", "bob"});
  CHECK(usernames(*r.replaced) == std::vector<std::string>{"mallory"});
}

TEST_CASE("maintenance: restore twice in the same second keeps both replaced databases", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_database(dir / "src.db", {"alice"});
  auto backup = backup_of(dir / "src.db", dir.path());
  make_database(dir / "cpm.db", {"first"});
  auto one = cpm::restore((dir / "cpm.db").string(), backup.path, {.now = jan15});
  auto two = cpm::restore((dir / "cpm.db").string(), backup.path, {.now = jan15});
  REQUIRE(one.replaced);
  REQUIRE(two.replaced);
  CHECK(*two.replaced == *one.replaced + "-2");
  CHECK(usernames(*one.replaced) == std::vector<std::string>{"first"});
  CHECK(usernames(*two.replaced) == std::vector<std::string>{"alice"});
}

TEST_CASE("maintenance: restore keeps in the side copy what the replaced database's write-ahead log held",
          "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_database(dir / "src.db", {"alice"});
  auto backup = backup_of(dir / "src.db", dir.path());
  {
    // A database whose last commits are only in its -wal, as after a crash: copy the pair
    // while a connection that never checkpoints holds them.
    auto live = cpm::store::open((dir / "live.db").string());
    live.db().exec("PRAGMA wal_autocheckpoint=0");
    live.create_user({.username = "walonly", .email = "w@example.org"});
    fs::copy_file(dir / "live.db", dir / "cpm.db");
    fs::copy_file(dir / "live.db-wal", dir / "cpm.db-wal");
  }
  REQUIRE(fs::file_size(dir / "cpm.db-wal") > 0);
  auto r = cpm::restore((dir / "cpm.db").string(), backup.path, {.now = jan15});
  REQUIRE(r.replaced);
  CHECK_FALSE(fs::exists(dir / "cpm.db-wal"));
  CHECK_FALSE(fs::exists(*r.replaced + "-wal"));  // checkpointed into the side copy itself
  CHECK(usernames(*r.replaced) == std::vector<std::string>{"walonly"});
  CHECK(usernames(dir / "cpm.db") == std::vector<std::string>{"alice"});
}

TEST_CASE("maintenance: restore into a path with no database yet makes no side copy", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_database(dir / "src.db", {"alice"});
  auto backup = backup_of(dir / "src.db", dir.path());
  auto r = cpm::restore((dir / "new" / "cpm.db").string(), backup.path);
  CHECK_FALSE(r.replaced);
  CHECK(usernames(dir / "new" / "cpm.db") == std::vector<std::string>{"alice"});
}

TEST_CASE("maintenance: restore refuses a file with damaged pages and changes nothing", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_large_database(dir / "src.db", 1500);
  auto backup = backup_of(dir / "src.db", (dir / "b"));
  scribble_pages(backup.path, 30, 33);
  make_database(dir / "cpm.db", {"keep"});
  const auto before = read_bytes(dir / "cpm.db");
  const auto names_before = names_in(dir.path());
  try {
    (void)cpm::restore((dir / "cpm.db").string(), backup.path);
    FAIL("restore was not refused");
  } catch (const cpm::restore_refused& e) {
    CHECK(e.why() == cpm::restore_refused::reason::damaged);
    CHECK_FALSE(e.problems().empty());
    CHECK_THAT(e.what(), Catch::Contains("integrity_check"));
  }
  CHECK((read_bytes(dir / "cpm.db") == before));
  CHECK(names_in(dir.path()) == names_before);  // no temporary file, no side copy
}

TEST_CASE("maintenance: restore refuses a file that is not a database", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  { std::ofstream(dir / "notes.txt") << std::string(10000, 'n'); }
  CHECK(refusal(dir / "cpm.db", dir / "notes.txt") == cpm::restore_refused::reason::not_a_database);
  CHECK(refusal(dir / "cpm.db", dir / "missing.db") == cpm::restore_refused::reason::not_a_file);
  CHECK(refusal(dir / "cpm.db", dir.path()) == cpm::restore_refused::reason::not_a_file);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"notes.txt"});
}

TEST_CASE("maintenance: restore refuses a database that is not cpm's", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  {
    auto db = cpm::connection::open((dir / "other.db").string());
    db.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT)");
  }
  CHECK(refusal(dir / "cpm.db", dir / "other.db") == cpm::restore_refused::reason::not_cpm);
}

TEST_CASE("maintenance: restore refuses a backup with a dangling foreign key", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_database(dir / "src.db", {"alice"});
  {
    auto db = cpm::connection::open((dir / "src.db").string());
    db.exec("PRAGMA foreign_keys=OFF");
    db.exec("INSERT INTO organizations(name) VALUES ('acme')");
    db.exec("INSERT INTO repositories(name, org_id, path) VALUES ('tools', 42, '/srv/git/tools.git')");
  }
  CHECK(refusal(dir / "cpm.db", dir / "src.db") == cpm::restore_refused::reason::foreign_keys);
}

TEST_CASE("maintenance: restore refuses a database newer than the code", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_database(dir / "src.db", {"alice"});
  {
    auto db = cpm::connection::open((dir / "src.db").string());
    db.exec(fmt::format("INSERT INTO cpm_schema_history(component, version, name, checksum) "
                        "VALUES ('cpm.store', {}, 'from newer code', '')",
                        cpm::store::target_version() + 1));
  }
  make_database(dir / "cpm.db", {"keep"});
  try {
    (void)cpm::restore((dir / "cpm.db").string(), (dir / "src.db").string());
    FAIL("restore was not refused");
  } catch (const cpm::schema_too_new& e) {
    CHECK(e.database_version() == cpm::store::target_version() + 1);
  }
  CHECK(usernames(dir / "cpm.db") == std::vector<std::string>{"keep"});
}

TEST_CASE("maintenance: restore refuses a file with a write-ahead log beside it", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  auto live = cpm::store::open((dir / "src.db").string());
  live.db().exec("PRAGMA wal_autocheckpoint=0");
  live.create_user({.username = "alice", .email = "alice@example.org"});
  CHECK(refusal(dir / "cpm.db", dir / "src.db") == cpm::restore_refused::reason::unfinished);
}

TEST_CASE("maintenance: restore refuses the database itself as its backup", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_database(dir / "cpm.db", {"alice"});
  CHECK(refusal(dir / "cpm.db", dir / "cpm.db") == cpm::restore_refused::reason::same_file);
}

TEST_CASE("maintenance: restore refuses while another connection has the database open", "[maintenance][restore]") {
  cpm_test::temp_dir dir;
  make_database(dir / "src.db", {"alice"});
  auto backup = backup_of(dir / "src.db", dir.path());
  make_database(dir / "cpm.db", {"inuse"});
  auto user = cpm::store::open((dir / "cpm.db").string());
  CHECK(user.list_users().to_vector().size() == 1);
  try {
    (void)cpm::restore((dir / "cpm.db").string(), backup.path, {.busy_timeout = 50ms});
    FAIL("restore was not refused");
  } catch (const cpm::database_in_use& e) {
    CHECK(e.path() == (dir / "cpm.db").string());
  }
  user.create_user({.username = "still", .email = "still@example.org"});  // the holder goes on
  CHECK(user.list_users().to_vector().size() == 2);
  const auto names = names_in(dir.path());
  CHECK(std::none_of(names.begin(), names.end(), [](const std::string& n) { return n.find("replaced") != std::string::npos; }));
}
