// Several owners of schema in one file: each component has its own migration history, refuses
// only what is newer for itself, and an edited step is caught. Databases of earlier cpm
// versions (one history for everything) and of the original system are carried over.
#include "store_support.hpp"
#include "support.hpp"

#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<cpm::migration> ci_steps(int count) {
  std::vector<cpm::migration> steps = {
      {1, "builds", "CREATE TABLE builds(id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL "
                    "REFERENCES repositories(id) ON DELETE CASCADE, status TEXT NOT NULL)", {}},
      {2, "build logs", "CREATE TABLE build_logs(id INTEGER PRIMARY KEY, build_id INTEGER NOT NULL "
                        "REFERENCES builds(id) ON DELETE CASCADE, line TEXT NOT NULL)", {}},
      {3, "builds by status", "CREATE INDEX builds_status ON builds(status)", {}},
  };
  steps.resize(static_cast<std::size_t>(count));
  return steps;
}

int history_rows(cpm::connection& db, std::string_view component) {
  auto stmt = db.prepare("SELECT count(*) FROM cpm_schema_history WHERE component = ?");
  stmt.bind(component);
  stmt.step();
  return stmt.column<int>(0);
}

}  // namespace

TEST_CASE("an application's steps numbered from 1 live beside the store's, each component at its own version",
          "[migration][components]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "cpm.db").string();
  {
    auto store = cpm::store::open(path);
    auto report = cpm::migrate(store.db(), "ci", ci_steps(3));
    CHECK(report.applied == std::vector<int>{1, 2, 3});
    CHECK(report.component == "ci");
  }
  {
    auto store = cpm::store::open(path, {.migrate = false});  // the store is not confused by ci's 3
    CHECK(store.schema_version() == cpm::store::target_version());
    CHECK(cpm::schema_version(store.db(), "ci") == 3);
    CHECK(cpm::schema_version(store.db()) == cpm::store::target_version());  // user_version: the store's
  }
  auto store = cpm::store::open(path);
  CHECK(store.migrate().applied.empty());
  CHECK(history_rows(store.db(), "cpm.store") == cpm::store::target_version());
  CHECK(history_rows(store.db(), "ci") == 3);
  // Older application code (it knows 2 steps) meets ci at 3: refused for ci only.
  try {
    (void)cpm::migrate(store.db(), "ci", ci_steps(2));
    FAIL("ci at 3 was accepted by code that knows 2");
  } catch (const cpm::schema_too_new& e) {
    CHECK(e.component() == "ci");
    CHECK(e.database_version() == 3);
    CHECK(e.code_version() == 2);
    CHECK_THAT(e.what(), Catch::Contains("'ci'"));
  }
  // The store's foreign keys reach the application's tables: its cascades run.
  auto alice = store.create_user({.username = "alice", .email = "a@example.org"});
  auto acme = store.create_organization({.name = "acme"}, alice.id);
  auto repo = store.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"});
  cpm::execute(store.db(), "INSERT INTO builds(repo_id, status) VALUES (?, 'ok')", repo.id);
  store.delete_repository(repo.id);
  CHECK(cpm::query<std::int64_t>(store.db(), "SELECT count(*) FROM builds").one() == 0);
}

TEST_CASE("a step whose SQL was edited after it was applied is refused until the change is accepted",
          "[migration][components]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE repositories(id INTEGER PRIMARY KEY)");
  (void)cpm::migrate(db, "ci", ci_steps(3));
  auto edited = ci_steps(3);
  edited[2].sql = "CREATE INDEX builds_status ON builds(status, repo_id)";
  const auto before = cpm_test::dump(db);
  try {
    (void)cpm::migrate(db, "ci", edited);
    FAIL("an edited migration was accepted");
  } catch (const cpm::migration_changed& e) {
    CHECK(e.component() == "ci");
    CHECK(e.version() == 3);
    CHECK(e.name() == "builds by status");
    CHECK_THAT(e.what(), Catch::Contains("'ci'") && Catch::Contains("builds by status") &&
                             Catch::Contains("accept_migration_change"));
  }
  CHECK(cpm_test::dump(db) == before);
  // A new step after an edited one is not applied either.
  edited.push_back({4, "later", "CREATE TABLE later(x)", {}});
  CHECK_THROWS_AS(cpm::migrate(db, "ci", edited), cpm::migration_changed);
  CHECK(cpm::schema_version(db, "ci") == 3);

  cpm::accept_migration_change(db, "ci", edited, 3);
  CHECK(cpm::migrate(db, "ci", edited).applied == std::vector<int>{4});
  CHECK_THROWS_AS(cpm::accept_migration_change(db, "ci", edited, 9), cpm::usage_error);
  CHECK_THROWS_AS(cpm::accept_migration_change(db, "other", edited, 4), cpm::not_found);
  // A function step has no SQL to compare: its code may change freely.
  std::vector<cpm::migration> with_function = {{1, "fn", {}, [](cpm::connection& c) { c.exec("CREATE TABLE f(x)"); }}};
  (void)cpm::migrate(db, "fn", with_function);
  with_function[0].apply = [](cpm::connection&) {};
  CHECK(cpm::migrate(db, "fn", with_function).applied.empty());
}

TEST_CASE("a database of the earlier single history (user_version and cpm_migrations) is carried over, nothing lost",
          "[migration][components]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "earlier.db").string();
  // As the earlier cpm left it: the store's steps 1 and 2, and an application's step numbered
  // 3 after them in the same history, with user_version 3.
  {
    auto db = cpm::connection::open(path);
    db.exec(std::string(cpm::original_schema_sql));
    db.exec(std::string(cpm::query_indexes_sql));
    db.exec("CREATE TABLE builds(id INTEGER PRIMARY KEY, status TEXT NOT NULL)");
    db.exec("CREATE TABLE cpm_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)");
    auto record = db.prepare("INSERT INTO cpm_migrations(version, name, applied_at) VALUES (?, ?, ?)");
    for (const auto& step : cpm::store_migrations()) {
      if (step.version > 2) break;  // the store's steps that cpm had
      record.bind(step.version, step.name, "2024-05-01 10:00:00");
      record.run();
    }
    record.bind(3, "builds", "2024-06-01 09:00:00");
    record.run();
    db.exec("INSERT INTO users(username, email) VALUES ('alice', 'a@example.org'); PRAGMA user_version = 3;");
  }
  std::string legacy_rows;
  {
    auto store = cpm::store::open(path);  // before: "schema version 3, newer than this code knows (2)"
    CHECK(store.schema_version() == cpm::store::target_version());
    CHECK(store.migrate().applied.empty());
    CHECK(store.user_by_name("alice"));
    auto times = cpm::query<std::string>(store.db(),
                                         "SELECT applied_at FROM cpm_schema_history WHERE component = 'cpm.store' "
                                         "AND version <= 2")
                     .to_vector();
    CHECK(times == std::vector<std::string>(2, "2024-05-01 10:00:00"));  // carried over with their times
    CHECK(cpm::query<std::int64_t>(store.db(), "SELECT count(*) FROM cpm_migrations").one() == 3);  // kept
  }
  auto db = cpm::connection::open(path);
  std::vector<cpm::migration> app = {{3, "builds", "CREATE TABLE builds(id INTEGER PRIMARY KEY, status TEXT NOT NULL)", {}},
                                     {4, "build logs", "CREATE TABLE build_logs(id INTEGER PRIMARY KEY, line TEXT)", {}}};
  auto report = cpm::migrate(db, "ci", app);
  CHECK(report.from == 3);  // its step 3 carried over, not run again
  CHECK(report.applied == std::vector<int>{4});
}

TEST_CASE("a database of the original system is adopted into the store's history", "[migration][components]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "original.db").string();
  {
    cpm::open_options options;
    options.journal = cpm::journal_mode::rollback;
    auto db = cpm::connection::open(path, options);
    db.exec(std::string(cpm::original_schema_sql));
    db.exec("INSERT INTO users(username, email, public_key) VALUES ('bob', 'b@example.org', '')");
  }
  auto store = cpm::store::open(path);
  CHECK(store.schema_version() == cpm::store::target_version());
  CHECK(history_rows(store.db(), "cpm.store") == cpm::store::target_version());
  CHECK(store.user_by_name("bob"));
}

TEST_CASE("two processes migrating a new file at once: one applies each step, the other waits and finds it applied",
          "[migration][components][processes]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "race.db").string();
  auto slow_steps = [] {
    auto steps = ci_steps(3);
    // Each step lingers inside its transaction, so the two processes overlap.
    for (auto& step : steps)
      step.apply = [](cpm::connection&) { std::this_thread::sleep_for(std::chrono::milliseconds(150)); };
    return steps;
  };
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 0;
      try {
        auto store = cpm::store::open(path);
        (void)cpm::migrate(store.db(), "ci", slow_steps());
        if (cpm::schema_version(store.db(), "ci") != 3) code = 2;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        code = 1;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  auto db = cpm::connection::open(path);
  CHECK(history_rows(db, "ci") == 3);
  CHECK(history_rows(db, "cpm.store") == cpm::store::target_version());
}

TEST_CASE("cpm's check, backup and restore work on a file that holds an application's tables",
          "[migration][components][maintenance]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "cpm.db").string();
  {
    auto store = cpm::store::open(path);
    (void)cpm::migrate(store.db(), "ci", ci_steps(3));
    (void)store.create_user({.username = "alice", .email = "a@example.org"});
    auto result = cpm::check(store);
    CHECK(result.integrity_problems.empty());
    CHECK(result.foreign_key_violations.empty());
    CHECK(result.schema_version == cpm::store::target_version());
    auto backup = cpm::backup_to_directory(store, (dir / "b").string());
    (void)store.create_user({.username = "later", .email = "l@example.org"});
    store.db().close();
    (void)cpm::restore(path, backup.path);
  }
  auto store = cpm::store::open(path);
  CHECK(store.user_by_name("alice"));
  CHECK_FALSE(store.user_by_name("later"));
  CHECK(cpm::schema_version(store.db(), "ci") == 3);
}

#ifndef NDEBUG
TEST_CASE("in debug builds the store checks its tables against its models when it opens", "[migration][schema_check]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "drifted.db").string();
  {
    auto db = cpm::connection::open(path);
    std::string ddl(cpm::original_schema_sql);
    // users.email made a BLOB by hand: the user model reads it as text.
    const auto at = ddl.find("email TEXT NOT NULL");
    REQUIRE(at != std::string::npos);
    ddl.replace(at, std::string_view("email TEXT NOT NULL").size(), "email BLOB NOT NULL");
    db.exec(ddl);
  }
  try {
    (void)cpm::store::open(path);
    FAIL("a store whose users.email is a BLOB was opened");
  } catch (const cpm::schema_mismatch& e) {
    CHECK_THAT(e.what(), Catch::Contains("users") && Catch::Contains("email"));
  }
}
#endif
