// Where the database lives: ~/.cpm/cpm.db by default, a new directory made 0700 and a new
// database file 0600; existing directories and files keep their modes.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace {

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Sets an environment variable for one scope and puts back what was there.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A umask that would let group and others in, so that the modes seen are cpm's own choice.
class scoped_umask {
 public:
  explicit scoped_umask(mode_t mask) : old_(::umask(mask)) {}
  scoped_umask(const scoped_umask&) = delete;
  scoped_umask& operator=(const scoped_umask&) = delete;
  ~scoped_umask() { ::umask(old_); }

 private:
  mode_t old_;
};

}  // namespace

TEST_CASE("store::open makes missing directories 0700 and the database file 0600", "[location]") {
  cpm_test::temp_dir dir;
  scoped_umask permissive(0);
  const auto path = dir / "a" / "b" / "cpm.db";
  REQUIRE_FALSE(std::filesystem::exists(dir / "a"));
  {
    auto store = cpm::store::open(path.string());
    (void)store.create_user({.username = "alice", .email = "alice@example.org"});
    CHECK(mode_of(dir / "a") == 0700);
    CHECK(mode_of(dir / "a" / "b") == 0700);
    CHECK(mode_of(path) == 0600);
    // SQLite gives the WAL and shared-memory files the database's mode.
    REQUIRE(std::filesystem::exists(path.string() + "-wal"));
    CHECK(mode_of(path.string() + "-wal") == 0600);
    CHECK(mode_of(path.string() + "-shm") == 0600);
  }
  auto reopened = cpm::store::open(path.string());
  CHECK(reopened.user_by_name("alice"));
  CHECK(mode_of(path) == 0600);
}

TEST_CASE("an existing directory and an existing database file keep their modes", "[location]") {
  cpm_test::temp_dir dir;
  scoped_umask permissive(0);
  const auto shared = dir / "shared";
  std::filesystem::create_directory(shared);
  ::chmod(shared.c_str(), 0755);
  {
    auto store = cpm::store::open((shared / "cpm.db").string());
    CHECK(store.schema_version() == cpm::store::target_version());
  }
  CHECK(mode_of(shared) == 0755);
  CHECK(mode_of(shared / "cpm.db") == 0600);

  ::chmod((shared / "cpm.db").c_str(), 0640);
  {
    auto store = cpm::store::open((shared / "cpm.db").string());
    (void)store.create_user({.username = "bob", .email = "bob@example.org"});
  }
  CHECK(mode_of(shared / "cpm.db") == 0640);
  CHECK(mode_of(shared) == 0755);
}

TEST_CASE("default_database_path is $HOME/.cpm/cpm.db and open_default creates it privately", "[location]") {
  cpm_test::temp_dir home;
  scoped_umask permissive(0);
  {
    scoped_env env("HOME", home.path().c_str());
    CHECK(cpm::default_database_path() == home.path().string() + "/.cpm/cpm.db");
    REQUIRE_FALSE(std::filesystem::exists(home / ".cpm"));
    {
      auto store = cpm::store::open_default();
      CHECK(store.db().path() == home.path().string() + "/.cpm/cpm.db");
      CHECK(store.schema_version() == cpm::store::target_version());
    }
    CHECK(mode_of(home / ".cpm") == 0700);
    CHECK(mode_of(home / ".cpm" / "cpm.db") == 0600);
  }
  // HOME is back to what it was.
  CHECK(cpm::default_database_path() != home.path().string() + "/.cpm/cpm.db");
}

TEST_CASE("without HOME, default_database_path uses the home directory of the password database", "[location]") {
  const passwd* pw = ::getpwuid(::getuid());
  if (!pw || !pw->pw_dir) return;  // no entry for this user: nothing to compare with
  const std::string expected = std::string(pw->pw_dir) + "/.cpm/cpm.db";
  {
    scoped_env env("HOME", nullptr);
    CHECK(cpm::default_database_path() == expected);
  }
  {
    scoped_env env("HOME", "");
    CHECK(cpm::default_database_path() == expected);
  }
}

TEST_CASE("a directory that cannot be made is reported as location_error naming it", "[location]") {
  cpm_test::temp_dir dir;
  const auto blocker = dir / "file";
  { std::ofstream(blocker) << "not a directory"; }
  const auto path = blocker / "sub" / "cpm.db";
  try {
    (void)cpm::store::open(path.string());
    FAIL("opened a database under a regular file");
  } catch (const cpm::location_error& e) {
    CHECK(e.path() == (blocker / "sub").string());
  }
}
