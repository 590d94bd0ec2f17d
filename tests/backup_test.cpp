// Online backup (cpm::backup) and cpm::integrity_check: consistent copies while others write,
// restarts and retries, never replacing a file, nothing left behind by a failed backup.
#include <cpm/sqlite.hpp>
#include <cpm/sqlite/backup.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::int64_t count_rows(cpm::connection& db, const char* table = "t") {
  auto stmt = db.prepare(std::string("SELECT count(*) FROM ") + table);
  REQUIRE(stmt.step());
  return stmt.column<std::int64_t>(0);
}

std::int64_t count_rows_in(const fs::path& file) {
  auto db = cpm::connection::open(file.string(), {.create = false, .journal = cpm::journal_mode::keep});
  return count_rows(db);
}

// A file database with `rows` rows of ~200 bytes (about rows/18 pages of 4 KiB).
cpm::connection filled(const fs::path& file, int rows, cpm::open_options options = {}) {
  auto db = cpm::connection::open(file.string(), options);
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE INDEX t_v ON t(v)");
  cpm::transaction tx(db);
  auto insert = db.prepare("INSERT INTO t(v) VALUES (printf('%.200c', char(65 + ? % 26)) || ?)");
  for (int i = 0; i < rows; ++i) {
    insert.bind(i, i);
    insert.run();
  }
  tx.commit();
  return db;
}

// Every name in `dir`.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string journal_mode_of(const fs::path& file) {
  auto db = cpm::connection::open(file.string(), {.create = false, .journal = cpm::journal_mode::keep});
  auto stmt = db.prepare("PRAGMA journal_mode");
  REQUIRE(stmt.step());
  return stmt.column<std::string>(0);
}

// Overwrites pages [first, last] of the file with a byte pattern, as a failing disk might.
void scribble_pages(const fs::path& file, int first, int last, int page_size = 4096) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  std::string garbage(static_cast<std::size_t>(page_size), '\xA5');
  for (int page = first; page <= last; ++page) {
    f.seekp(static_cast<std::streamoff>(page - 1) * page_size);
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
}

}  // namespace

TEST_CASE("backup copies every row into a new rollback-journal file and reports progress", "[backup]") {
  cpm_test::temp_dir dir;
  auto db = filled(dir / "src.db", 2000);
  std::vector<std::pair<int, int>> calls;
  auto r = cpm::backup(db, (dir / "copy.db").string(), [&](int remaining, int total) { calls.emplace_back(remaining, total); },
                       {.pages_per_step = 10});
  CHECK(r.path == (dir / "copy.db").string());
  CHECK(count_rows_in(dir / "copy.db") == 2000);
  CHECK(r.pages > 20);
  CHECK(r.page_size == 4096);
  CHECK(r.bytes == static_cast<std::uintmax_t>(r.pages) * 4096u);
  CHECK(r.snapshot);  // the source is in WAL mode
  CHECK(r.restarts == 0);
  REQUIRE(calls.size() == static_cast<std::size_t>(r.steps));
  CHECK(calls.size() >= static_cast<std::size_t>(r.pages / 10));
  CHECK(calls.front().first == calls.front().second - 10);
  CHECK(calls.back() == std::pair{0, r.pages});
  CHECK(journal_mode_of(dir / "copy.db") == "delete");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"copy.db", "src.db", "src.db-shm", "src.db-wal"});
}

TEST_CASE("a backup file has mode 0600 and passes integrity_check", "[backup]") {
  cpm_test::temp_dir dir;
  auto db = filled(dir / "src.db", 50);
  (void)cpm::backup(db, (dir / "copy.db").string());
  struct stat st{};
  REQUIRE(::stat((dir / "copy.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto copy = cpm::connection::open((dir / "copy.db").string(), {.create = false});
  CHECK(cpm::integrity_check(copy).empty());
}

TEST_CASE("backup refuses an existing destination and leaves it as it was", "[backup]") {
  cpm_test::temp_dir dir;
  auto db = filled(dir / "src.db", 10);
  { std::ofstream(dir / "copy.db") << "keep me"; }
  try {
    (void)cpm::backup(db, (dir / "copy.db").string());
    FAIL("no exception");
  } catch (const cpm::destination_exists& e) {
    CHECK(e.path() == (dir / "copy.db").string());
    CHECK_THAT(e.what(), Catch::Contains("already exists"));
  }
  std::ifstream in(dir / "copy.db");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "keep me");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"copy.db", "src.db", "src.db-shm", "src.db-wal"});
}

TEST_CASE("backup into a directory that does not exist fails naming it", "[backup]") {
  cpm_test::temp_dir dir;
  auto db = filled(dir / "src.db", 10);
  try {
    (void)cpm::backup(db, (dir / "missing" / "copy.db").string());
    FAIL("no exception");
  } catch (const cpm::file_error& e) {
    CHECK(e.path() == (dir / "missing").string());
    CHECK(e.error_number() == ENOENT);
  }
}

TEST_CASE("a WAL backup copies one snapshot while another connection writes between its steps", "[backup]") {
  cpm_test::temp_dir dir;
  auto db = filled(dir / "src.db", 3000);
  auto writer = cpm::connection::open((dir / "src.db").string());
  int written = 0;
  auto r = cpm::backup(
      db, (dir / "copy.db").string(),
      [&](int, int) {
        writer.exec("INSERT INTO t(v) VALUES (printf('%.300c', 'w'))");
        ++written;
      },
      {.pages_per_step = 5});
  CHECK(r.snapshot);
  CHECK(r.restarts == 0);
  CHECK(written == r.steps);
  CHECK(written > 20);
  CHECK(count_rows(db) == 3000 + written);
  CHECK(count_rows_in(dir / "copy.db") == 3000);  // as of the start, none of the later rows
}

TEST_CASE("a rollback-journal backup restarts when another connection writes, then finishes in one step",
          "[backup]") {
  cpm_test::temp_dir dir;
  cpm::open_options rollback{.journal = cpm::journal_mode::rollback};
  auto db = filled(dir / "src.db", 2000, rollback);
  auto writer = cpm::connection::open((dir / "src.db").string(), rollback);
  int written = 0;
  auto r = cpm::backup(
      db, (dir / "copy.db").string(),
      [&](int remaining, int) {
        if (remaining > 0) {
          writer.exec("INSERT INTO t(v) VALUES ('x')");
          ++written;
        }
      },
      {.pages_per_step = 5, .max_restarts = 2});
  CHECK_FALSE(r.snapshot);
  CHECK(r.restarts == 2);
  CHECK(r.steps == 4);  // first step, two restarted ones, then the rest at once
  CHECK(written == 3);
  // The last step copied the database as the third write left it.
  CHECK(count_rows_in(dir / "copy.db") == 2000 + written);
}

TEST_CASE("backup retries while the source is locked and completes when the lock goes", "[backup]") {
  cpm_test::temp_dir dir;
  cpm::open_options rollback{.busy_timeout = 0ms, .journal = cpm::journal_mode::rollback};
  auto db = filled(dir / "src.db", 200, rollback);
  std::atomic<bool> locked{false};
  std::thread holder([&] {
    auto other = cpm::connection::open((dir / "src.db").string(), rollback);
    other.exec("BEGIN EXCLUSIVE");
    other.exec("INSERT INTO t(v) VALUES ('late')");
    locked = true;
    std::this_thread::sleep_for(150ms);
    other.exec("COMMIT");
  });
  while (!locked) std::this_thread::sleep_for(1ms);
  auto r = cpm::backup(db, (dir / "copy.db").string(), {}, {.retry_sleep = 5ms, .busy_timeout = 5000ms});
  holder.join();
  CHECK(r.busy_retries > 0);
  CHECK(count_rows_in(dir / "copy.db") == 201);
}

TEST_CASE("backup gives up with busy_error when the source stays locked, leaving no file", "[backup]") {
  cpm_test::temp_dir dir;
  cpm::open_options rollback{.busy_timeout = 0ms, .journal = cpm::journal_mode::rollback};
  auto db = filled(dir / "src.db", 20, rollback);
  auto other = cpm::connection::open((dir / "src.db").string(), rollback);
  other.exec("BEGIN EXCLUSIVE");
  other.exec("INSERT INTO t(v) VALUES ('held')");
  CHECK_THROWS_AS(cpm::backup(db, (dir / "copy.db").string(), {}, {.retry_sleep = 5ms, .busy_timeout = 100ms}),
                  cpm::busy_error);
  other.exec("ROLLBACK");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"src.db"});
}

TEST_CASE("backup of a damaged database fails integrity_check and leaves nothing under the name", "[backup]") {
  cpm_test::temp_dir dir;
  {
    auto db = filled(dir / "src.db", 3000, {.journal = cpm::journal_mode::rollback});
  }
  scribble_pages(dir / "src.db", 10, 14);
  auto db = cpm::connection::open((dir / "src.db").string(), {.journal = cpm::journal_mode::keep});
  try {
    (void)cpm::backup(db, (dir / "copy.db").string());
    FAIL("no exception");
  } catch (const cpm::integrity_check_failed& e) {
    CHECK(e.path() == (dir / "copy.db").string());
    CHECK_FALSE(e.problems().empty());
  }
  CHECK(names_in(dir.path()) == std::vector<std::string>{"src.db"});
}

TEST_CASE("backup inside a write transaction of the source is a usage error", "[backup]") {
  cpm_test::temp_dir dir;
  auto db = filled(dir / "src.db", 5);
  cpm::transaction tx(db);
  db.exec("INSERT INTO t(v) VALUES ('pending')");
  CHECK_THROWS_AS(cpm::backup(db, (dir / "copy.db").string()), cpm::usage_error);
  CHECK_FALSE(fs::exists(dir / "copy.db"));
}

TEST_CASE("backup inside the caller's read snapshot copies that snapshot", "[backup]") {
  cpm_test::temp_dir dir;
  auto db = filled(dir / "src.db", 100);
  cpm::read_snapshot snap(db);
  CHECK(count_rows(db) == 100);  // the snapshot starts here
  auto writer = cpm::connection::open((dir / "src.db").string());
  writer.exec("INSERT INTO t(v) VALUES ('after')");
  auto r = cpm::backup(db, (dir / "copy.db").string());
  CHECK(r.snapshot);
  CHECK(count_rows_in(dir / "copy.db") == 100);
}

TEST_CASE("backup of an in-memory database writes a file", "[backup]") {
  cpm_test::temp_dir dir;
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE t(v); INSERT INTO t VALUES (1), (2), (3)");
  auto r = cpm::backup(db, (dir / "mem.db").string());
  CHECK_FALSE(r.snapshot);
  CHECK(count_rows_in(dir / "mem.db") == 3);
}

TEST_CASE("backup's integrity_check is empty for a sound database and lists the problems of a damaged one",
          "[backup][integrity]") {
  cpm_test::temp_dir dir;
  {
    auto db = filled(dir / "d.db", 3000, {.journal = cpm::journal_mode::rollback});
    CHECK(cpm::integrity_check(db).empty());
  }
  scribble_pages(dir / "d.db", 20, 22);
  auto db = cpm::connection::open((dir / "d.db").string(), {.journal = cpm::journal_mode::keep});
  auto problems = cpm::integrity_check(db);
  CHECK(problems.size() > 1);
  for (const auto& p : problems) {  // one problem per line, without SQLite's "*** in database main ***" heading
    CHECK(p.find('\n') == std::string::npos);
    CHECK(p.rfind("***", 0) == std::string::npos);
    CHECK_FALSE(p.empty());
  }
  CHECK(cpm::integrity_check(db, 1).size() == 1);
}
