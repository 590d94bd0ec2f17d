// Where the database lives: ~/.cpm/cpm.db by default, a new directory made 0700 and a new
// database file 0600; existing directories and files keep their modes.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
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

namespace {

// default_database_path() with HOME unset and then empty, as the current user.
void check_without_home(const std::string& expected) {
  {
    scoped_env env("HOME", nullptr);
    CHECK(cpm::default_database_path() == expected);
  }
  {
    scoped_env env("HOME", "");
    CHECK(cpm::default_database_path() == expected);
  }
}

// The path default_database_path() gives, with HOME unset, in a child process running as
// `uid` (the caller is root); the test fails when the child cannot switch to that user.
std::string path_as_user(uid_t uid) {
  scoped_env env("HOME", nullptr);
  int out[2];
  REQUIRE(::pipe(out) == 0);
  std::fflush(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(out[0]);
    if (::setgid(65534) != 0 || ::setuid(uid) != 0) ::_exit(1);
    const std::string path = cpm::default_database_path();
    auto written = ::write(out[1], path.data(), path.size());
    ::_exit(written == static_cast<ssize_t>(path.size()) ? 0 : 2);
  }
  ::close(out[1]);
  std::string path;
  char buf[256];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) path.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO("child exit status " << status);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return path;
}

}  // namespace

TEST_CASE("without HOME, default_database_path uses the home directory of the password database", "[location]") {
  // The current user: the password database's home, or "." for a user it does not list.
  const passwd* pw = ::getpwuid(::getuid());
  const std::string own_home = pw && pw->pw_dir ? pw->pw_dir : ".";
  INFO("uid " << ::getuid() << (pw ? " is" : " is not") << " in the password database");
  check_without_home(own_home + "/.cpm/cpm.db");

  // As root, both cases run whatever the current user is: a child process switches to a listed
  // user, and to a uid the password database does not know.
  if (::geteuid() == 0) {
    uid_t listed = 0;
    std::string listed_home;
    for (uid_t uid : {uid_t{65534}, uid_t{1}, uid_t{2}}) {  // nobody, daemon, bin
      if (const passwd* other = ::getpwuid(uid); other && other->pw_dir) {
        listed = uid;
        listed_home = other->pw_dir;
        break;
      }
    }
    REQUIRE(listed != 0);
    CHECK(path_as_user(listed) == listed_home + "/.cpm/cpm.db");

    uid_t unlisted = 40000;
    while (::getpwuid(unlisted)) ++unlisted;
    CHECK(path_as_user(unlisted) == "./.cpm/cpm.db");
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
