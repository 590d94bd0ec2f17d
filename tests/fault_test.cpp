// Faults: a full disk, a read-only database, and I/O errors injected on the Nth write or sync
// (tests/reliability/faulty_vfs.hpp). Each raises a typed error (cpm::io_error,
// cpm::readonly_error), the transaction is rolled back (the database holds exactly what it held
// before), PRAGMA integrity_check passes, and the same connection, and a new one, keep working.
#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>
#include <reliability/faulty_vfs.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <fmt/core.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <filesystem>
#include <string>
#include <vector>

namespace {

std::string integrity(cpm::connection& db) {
  std::string out;
  for (const std::string& line : cpm::query<std::string>(db, "PRAGMA integrity_check")) out += line;
  return out;
}

void check_sound(cpm::connection& db) {
  CHECK(integrity(db) == "ok");
  CHECK(cpm::foreign_key_violations(db).empty());
}

std::vector<cpm::repository> big_repositories(std::int64_t org, int count, const std::string& prefix) {
  std::vector<cpm::repository> repos;
  for (int i = 0; i < count; ++i)
    repos.push_back({.name = fmt::format("{}{}", prefix, i),
                     .org_id = org,
                     .path = fmt::format("/srv/git/{}{}.git", prefix, i),
                     .description = std::string(4000, static_cast<char>('a' + i % 26))});
  return repos;
}

}  // namespace

TEST_CASE("a full disk (max_page_count) raises io_error SQLITE_FULL, rolls back, and the connection keeps working",
          "[faults]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "full.db").string();
  auto store = cpm::store::open(path);
  auto& db = store.db();
  auto owner = store.create_user({.username = "owner", .email = "owner@example.org"});
  auto org = store.create_organization({.name = "acme"}, owner.id);
  const auto before = cpm_test::dump(db);
  const auto pages = cpm::query<std::int64_t>(db, "PRAGMA page_count").one();
  db.exec(fmt::format("PRAGMA max_page_count = {}", pages + 2));

  SECTION("a bulk create that does not fit is refused whole") {
    try {
      store.create_repositories(big_repositories(org.id, 40, "big"));
      FAIL("the bulk create fit in two pages");
    } catch (const cpm::io_error& e) {
      CHECK(e.code() == SQLITE_FULL);
    }
    CHECK_FALSE(db.in_transaction());
    CHECK(cpm_test::dump(db) == before);
    check_sound(db);

    // The same connection keeps working: a small write fits, and with room the big one too.
    auto small = store.create_user({.username = "small", .email = "small@example.org"});
    CHECK(store.get_user(small.id));
    db.exec("PRAGMA max_page_count = 1073741823");
    CHECK(store.create_repositories(big_repositories(org.id, 40, "big")) == 40);
    check_sound(db);
  }

  SECTION("inside a caller's transaction, the caller's commit keeps all its other work or reports failure") {
    bool committed = false;
    {
      cpm::transaction tx(db);
      store.create_user({.username = "earlier", .email = "earlier@example.org"});
      CHECK_THROWS_AS(store.create_repositories(big_repositories(org.id, 40, "big")), cpm::io_error);
      try {
        if (db.in_transaction()) {
          store.create_user({.username = "later", .email = "later@example.org"});
          tx.commit();
          committed = true;
        }
      } catch (const cpm::error&) {
      }
    }
    CHECK_FALSE(db.in_transaction());
    // Either both users of the transaction are there, or neither; never a repository.
    CHECK(store.user_by_name("earlier").has_value() == committed);
    CHECK(store.user_by_name("later").has_value() == committed);
    CHECK(store.org_repositories(org.id).to_vector().empty());
    check_sound(db);
    store.create_user({.username = "after", .email = "after@example.org"});
    CHECK(store.user_by_name("after"));
  }

  // A new connection sees what the first one committed, and nothing else.
  const auto seen = cpm_test::dump(db);
  auto other = cpm::store::open(path);
  CHECK(cpm_test::dump(other.db()) == seen);
  check_sound(other.db());
}

TEST_CASE("a database opened read-only refuses writes with readonly_error and keeps working", "[faults]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "ro.db").string();
  std::int64_t org_id = 0;
  {
    auto store = cpm::store::open(path);
    auto owner = store.create_user({.username = "owner", .email = "owner@example.org"});
    org_id = store.create_organization({.name = "acme"}, owner.id).id;
  }
  cpm::store_options ro;
  ro.connection.read_only = true;
  auto store = cpm::store::open(path, ro);
  auto& db = store.db();
  const auto before = cpm_test::dump(db);

  CHECK_THROWS_AS(store.create_user({.username = "bob", .email = "bob@example.org"}), cpm::readonly_error);
  CHECK_FALSE(db.in_transaction());
  CHECK_THROWS_AS(store.create_repository({.name = "tools", .org_id = org_id, .path = "/srv/git/tools.git"}),
                  cpm::readonly_error);
  CHECK_THROWS_AS(store.delete_organization(org_id), cpm::readonly_error);
  CHECK_FALSE(db.in_transaction());
  CHECK(cpm_test::dump(db) == before);
  check_sound(db);
  CHECK(store.user_by_name("owner"));

  // A writer on another connection goes on, and the read-only connection sees its work.
  auto writer = cpm::store::open(path);
  writer.create_user({.username = "carol", .email = "carol@example.org"});
  CHECK(store.user_by_name("carol"));
}

namespace {

// Whether a user other than the owner can reach `dir`: every directory from `/` down to it is
// searchable by others.
bool reachable_by_others(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return false;
  for (auto p = std::filesystem::absolute(dir, ec);; p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
    if (p == p.root_path()) return true;
  }
}

}  // namespace

// Registered as a CTest of its own (cpm.faults.readonly_file, tests/CMakeLists.txt), so that the
// one case it cannot run in, as root with no directory that nobody can reach, shows as skipped.
TEST_CASE("a database file without write permission refuses writes with readonly_error", "[faults][.readonly_file]") {
  // Root may write any file, so the check runs in a child process that drops to an
  // unprivileged user (nobody) when the test runs as root; the database is then made in a
  // directory nobody can reach (a TMPDIR inside /root would not do).
  std::filesystem::path base = std::filesystem::temp_directory_path();
  if (::geteuid() == 0 && !reachable_by_others(base)) {
    bool found = false;
    for (const char* candidate : {"/tmp", "/var/tmp", "/dev/shm"}) {
      if (reachable_by_others(candidate)) {
        base = candidate;
        found = true;
        break;
      }
    }
    if (!found) cpm_test::skip_test("running as root, and neither TMPDIR nor /tmp, /var/tmp, /dev/shm is reachable by nobody");
  }
  cpm_test::temp_dir dir(base);
  const auto path = (dir / "ro.db").string();
  {
    auto store = cpm::store::open(path);
    store.create_user({.username = "owner", .email = "owner@example.org"});
  }
  const auto bytes_before = cpm_test::file_bytes(path);
  REQUIRE(::chmod(path.c_str(), 0444) == 0);
  REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);  // the -wal and -shm files may be made beside it

  std::fflush(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 0;
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(10);
    try {
      auto store = cpm::store::open(path);
      if (!store.user_by_name("owner")) code = 11;
      try {
        store.create_user({.username = "bob", .email = "bob@example.org"});
        code = 12;  // the write went through
      } catch (const cpm::readonly_error&) {
        if (store.db().in_transaction()) code = 13;
        if (!store.user_by_name("owner") || store.user_by_name("bob")) code = 14;  // still reads, nothing kept
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "read-only child: %s\n", e.what());
      code = 15;
    }
    std::fflush(stderr);
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  INFO("child exit code " << WEXITSTATUS(status) << " (10: cannot drop root, 11: cannot read, 12: write accepted, "
                                                     "13: transaction left open, 14: data changed, 15: other error)");
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(cpm_test::file_bytes(path) == bytes_before);

  // Writable again, a new connection works.
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  auto store = cpm::store::open(path);
  store.create_user({.username = "bob", .email = "bob@example.org"});
  check_sound(store.db());
}

namespace {

// A directory for the fault-injection databases: in /dev/shm when there is one, since the
// thousand-odd cases run with synchronous=FULL and real fsyncs only slow them down (the faults
// are injected above the file system; what is tested is SQLite's and cpm's answer to them).
class scratch_dir {
 public:
  scratch_dir() {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    std::string templ = (base / "cpm-fault-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct setting {
  const char* name;
  cpm::journal_mode journal;
  cpm::synchronous_mode sync;
};

const char* fault_name(cpm_test::fault f) {
  switch (f) {
    case cpm_test::fault::write_ioerr: return "write fails (EIO)";
    case cpm_test::fault::write_full: return "write fails (disk full)";
    case cpm_test::fault::sync_ioerr: return "fsync fails";
  }
  return "?";
}

// One multi-row transaction through the store: a user, an organization they own, three
// repositories in it, and a grant; all or nothing.
void multi_row_operation(cpm::store& store, int n, std::int64_t seed_user) {
  cpm::transaction tx(store.db());
  auto u = store.create_user({.username = fmt::format("op{}", n), .email = fmt::format("op{}@example.org", n)});
  auto org = store.create_organization(
      {.name = fmt::format("org{}", n), .description = std::string(1500, static_cast<char>('a' + n % 26))}, u.id);
  store.create_repositories(big_repositories(org.id, 3, fmt::format("r{}_", n)));
  auto first = store.repository_by_name(org.id, fmt::format("r{}_0", n)).value();
  store.grant_access(first.id, seed_user, cpm::access_level::write);
  tx.commit();
}

bool operation_present(cpm::store& store, int n) {
  auto org = store.organization_by_name(fmt::format("org{}", n));
  return store.user_by_name(fmt::format("op{}", n)) && org && store.org_repositories(org->id).to_vector().size() == 3;
}

}  // namespace

TEST_CASE("I/O errors injected on the Nth write or sync: typed error, rolled back, intact, still working",
          "[faults][vfs]") {
  cpm_test::faulty_vfs::install();
  const setting settings[] = {
      {"WAL, synchronous=NORMAL", cpm::journal_mode::wal, cpm::synchronous_mode::normal},
      {"WAL, synchronous=FULL", cpm::journal_mode::wal, cpm::synchronous_mode::full},
      {"rollback journal, synchronous=FULL", cpm::journal_mode::rollback, cpm::synchronous_mode::full},
  };
  const cpm_test::fault faults[] = {cpm_test::fault::write_ioerr, cpm_test::fault::write_full,
                                    cpm_test::fault::sync_ioerr};
  int cases = 0, failed_operations = 0, faults_fired = 0;

  for (const auto& s : settings) {
    for (auto kind : faults) {
      for (bool persistent : {false, true}) {
        INFO(s.name << ", " << fault_name(kind) << (persistent ? ", from then on" : ", once"));
        scratch_dir dir;
        const auto path = (dir / "faulty.db").string();
        cpm::store_options options;
        options.connection.vfs = cpm_test::faulty_vfs::name;
        options.connection.journal = s.journal;
        options.connection.synchronous = s.sync;
        auto store = cpm::store::open(path, options);
        auto& db = store.db();
        auto seed_user = store.create_user({.username = "seed", .email = "seed@example.org"});

        // The Nth write (or sync) of the operation fails, for N = 1, 2, ... until the operation
        // runs through without reaching an Nth one: every write and sync it makes is failed once.
        int n = 0;
        for (int nth = 1;; ++nth) {
          INFO("fault on call " << nth);
          REQUIRE(nth < 400);
          const auto before = cpm_test::dump(db);
          bool threw = false;
          cpm_test::faulty_vfs::arm(kind, nth, persistent);
          try {
            multi_row_operation(store, n, seed_user.id);
          } catch (const cpm::io_error& e) {
            threw = true;
            CHECK(e.code() == (kind == cpm_test::fault::write_full ? SQLITE_FULL : SQLITE_IOERR));
          }
          const int fired = cpm_test::faulty_vfs::fired();
          cpm_test::faulty_vfs::disarm();
          ++cases;
          faults_fired += fired;
          CHECK_FALSE(db.in_transaction());
          if (threw) {
            ++failed_operations;
            CHECK(fired > 0);
            CHECK(cpm_test::dump(db) == before);  // rolled back: exactly what was there before
            CHECK_FALSE(operation_present(store, n));
          } else {
            CHECK(operation_present(store, n));
          }
          check_sound(db);
          // The same connection keeps working...
          store.create_user({.username = fmt::format("after{}", nth), .email = fmt::format("after{}@example.org", nth)});
          // ...and a new connection sees exactly what it sees.
          {
            auto other = cpm::connection::open(path, {.journal = cpm::journal_mode::keep});
            CHECK(cpm_test::dump(other) == cpm_test::dump(db));
            check_sound(other);
          }
          if (!threw) ++n;
          if (!threw && fired == 0) break;
        }

        if (s.journal == cpm::journal_mode::wal) {
          // A checkpoint that fails part-way loses nothing either.
          for (int nth = 1;; ++nth) {
            INFO("checkpoint, fault on call " << nth);
            REQUIRE(nth < 400);
            multi_row_operation(store, n++, seed_user.id);
            const auto before = cpm_test::dump(db);
            cpm_test::faulty_vfs::arm(kind, nth, persistent);
            bool threw = false;
            try {
              db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
            } catch (const cpm::io_error&) {
              threw = true;
            }
            const int fired = cpm_test::faulty_vfs::fired();
            cpm_test::faulty_vfs::disarm();
            ++cases;
            faults_fired += fired;
            if (threw) ++failed_operations;
            CHECK(cpm_test::dump(db) == before);
            check_sound(db);
            auto other = cpm::connection::open(path, {.journal = cpm::journal_mode::keep});
            CHECK(cpm_test::dump(other) == before);
            if (fired == 0) break;
          }
        }
      }
    }
  }
  std::printf("fault injection: %d cases, %d faults injected, %d operations refused with io_error\n", cases,
              faults_fired, failed_operations);
  CHECK(failed_operations > 0);
}

TEST_CASE("opening a missing database read-only, or without create, fails and makes no file", "[faults][files]") {
  cpm_test::temp_dir dir;
  const auto path = dir / "sub" / "missing.db";
  cpm::store_options ro;
  ro.connection.read_only = true;
  CHECK_THROWS_AS(cpm::store::open(path.string(), ro), cpm::open_error);
  cpm::store_options no_create;
  no_create.connection.create = false;
  CHECK_THROWS_AS(cpm::store::open(path.string(), no_create), cpm::open_error);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(dir / "sub"));
}
