// Files that are not cpm databases: a file that is not a database at all, a real cpm database
// cut short, and one whose schema is newer than this code. cpm::store::open refuses each with
// a typed error, and leaves the file byte for byte as it was, with no -wal, -shm or -journal
// file left beside it.
#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

// Every file of the directory with its bytes.
std::map<std::string, std::vector<char>> directory_state(const std::filesystem::path& dir) {
  std::map<std::string, std::vector<char>> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    files[entry.path().filename().string()] = cpm_test::file_bytes(entry.path());
  return files;
}

void write_file(const std::filesystem::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<char> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<char> bytes(n);
  for (auto& b : bytes) b = static_cast<char>(rng());
  return bytes;
}

// A real cpm database with some content, closed (so its WAL is checkpointed and removed).
std::vector<char> real_database(const std::filesystem::path& path, cpm::journal_mode journal = cpm::journal_mode::wal) {
  {
    cpm::store_options options;
    options.connection.journal = journal;
    auto store = cpm::store::open(path.string(), options);
    auto owner = store.create_user({.username = "owner", .email = "owner@example.org"});
    auto org = store.create_organization({.name = "acme", .description = std::string(3000, 'd')}, owner.id);
    for (int i = 0; i < 30; ++i) {
      auto u = store.create_user({.username = fmt::format("user{}", i), .email = fmt::format("user{}@example.org", i)});
      auto r = store.create_repository({.name = fmt::format("repo{}", i),
                                        .org_id = org.id,
                                        .path = fmt::format("/srv/git/repo{}.git", i),
                                        .description = std::string(500, 'r')},
                                       owner.id);
      store.grant_access(r.id, u.id, cpm::access_level::read);
    }
  }
  return cpm_test::file_bytes(path);
}

// Opening `path` must fail with a cpm::open_error naming the file, whose code is one of
// `codes`, leaving the directory exactly as it was. Returns the message.
std::string check_refused(const std::filesystem::path& path, std::initializer_list<int> codes) {
  const auto dir = path.parent_path();
  const auto before = directory_state(dir);
  std::string message;
  try {
    auto store = cpm::store::open(path.string());
    FAIL("cpm::store::open accepted the file");
  } catch (const cpm::open_error& e) {
    message = e.what();
    INFO(message);
    bool expected = false;
    for (int c : codes) expected = expected || e.code() == c;
    CHECK(expected);
    CHECK(e.path() == path.string());
    CHECK(message.find(path.string()) != std::string::npos);
  }
  CHECK(directory_state(dir) == before);
  return message;
}

}  // namespace

TEST_CASE("a file that is not a database is refused with open_error and left unchanged", "[faults][files]") {
  cpm_test::temp_dir dir;
  const auto path = dir / "not-a-db.db";
  std::string text;
  for (int i = 0; i < 200; ++i) text += "this is a text file, not a database\n";
  const std::string magic("SQLite format 3\0", 16);
  auto fake_header = random_bytes(8192, 2);
  std::copy(magic.begin(), magic.end(), fake_header.begin());

  const std::vector<std::pair<const char*, std::vector<char>>> files = {
      {"text", std::vector<char>(text.begin(), text.end())},
      {"random bytes", random_bytes(8192, 1)},
      {"SQLite's magic string, then random bytes", fake_header},
      {"a short random file", random_bytes(40, 3)},
  };
  for (const auto& [what, bytes] : files) {
    INFO(what);
    write_file(path, bytes);
    check_refused(path, {SQLITE_NOTADB});
    CHECK(cpm_test::file_bytes(path) == bytes);
  }
}

TEST_CASE("a truncated cpm database is refused with open_error and left unchanged", "[faults][files]") {
  for (auto journal : {cpm::journal_mode::wal, cpm::journal_mode::rollback}) {
    INFO((journal == cpm::journal_mode::wal ? "WAL database" : "rollback-journal database"));
    cpm_test::temp_dir dir;
    const auto whole = real_database(dir / "whole.db", journal);
    REQUIRE(whole.size() >= 10 * 4096);
    const std::size_t cuts[] = {whole.size() / 2, whole.size() / 2 + 1234, whole.size() - 4096, 4096, 3 * 4096 + 17,
                                100, 60};
    for (std::size_t cut : cuts) {
      INFO("cut at byte " << cut << " of " << whole.size());
      cpm_test::temp_dir sub;
      const auto path = sub / "truncated.db";
      const std::vector<char> bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
      write_file(path, bytes);
      check_refused(path, {SQLITE_CORRUPT, SQLITE_NOTADB});
      CHECK(cpm_test::file_bytes(path) == bytes);
    }
  }
}

TEST_CASE("a database of a newer schema version is refused with schema_too_new and left unchanged",
          "[faults][files]") {
  for (auto journal : {cpm::journal_mode::wal, cpm::journal_mode::rollback}) {
    INFO((journal == cpm::journal_mode::wal ? "WAL database" : "rollback-journal database"));
    cpm_test::temp_dir dir;
    const auto path = dir / "newer.db";
    real_database(path, journal);
    {
      auto db = cpm::connection::open(path.string(), {.journal = cpm::journal_mode::keep});
      db.exec(fmt::format("INSERT INTO cpm_schema_history(component, version, name, checksum) "
                          "VALUES ('cpm.store', {}, 'from newer code', '')",
                          cpm::store::target_version() + 1));
    }
    const auto before = directory_state(dir.path());
    REQUIRE(before.size() == 1);
    try {
      auto store = cpm::store::open(path.string());
      FAIL("cpm::store::open accepted a newer database");
    } catch (const cpm::schema_too_new& e) {
      CHECK(e.database_version() == cpm::store::target_version() + 1);
      CHECK(e.code_version() == cpm::store::target_version());
    }
    CHECK(directory_state(dir.path()) == before);
  }
}
