// Table rebuilds (cpm::rebuild_table) on ssh_keys of cpm's own schema: the foreign-key trap
// of a naive rebuild, the safe rebuild in a foreign_keys_off step, and the check that aborts
// a rebuild leaving references that point nowhere.
#include <cpm/schema.hpp>
#include <cpm/sqlite.hpp>
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace {

using cpm_test::count_rows;
using cpm_test::has_schema_object;

constexpr std::string_view ssh_keys_with_comment =
    "(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, public_key TEXT NOT NULL, "
    "private_key_path TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP, comment TEXT)";
constexpr std::string_view ssh_keys_columns = "id, name, public_key, private_key_path, created_at";

// A store database with 3 SSH keys and 6 servers, 5 of them using a key.
cpm::connection store_database() {
  auto db = cpm::connection::open_memory();
  (void)cpm::migrate(db, cpm::store_component, cpm::store_migrations(), {.record_user_version = true});
  cpm::store store(std::move(db));
  std::int64_t keys[3];
  for (int i = 0; i < 3; ++i)
    keys[i] = store
                  .create_ssh_key({.name = fmt::format("key{}", i),
                                   .public_key = cpm_test::ssh_key(static_cast<std::uint32_t>(i)),
                                   .private_key_path = fmt::format("/home/cpm/.ssh/key{}", i)})
                  .id;
  for (int i = 0; i < 6; ++i) {
    cpm::server s{.name = fmt::format("server{}", i), .host = fmt::format("10.0.0.{}", i + 1)};
    if (i < 5) s.ssh_key_id = keys[i % 3];
    (void)store.create_server(s);
  }
  return std::move(store.db());
}

// server id -> ssh_key_id
std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> server_keys(cpm::connection& db) {
  std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> out;
  auto stmt = db.prepare("SELECT id, ssh_key_id FROM servers ORDER BY id");
  while (stmt.step()) out.emplace_back(stmt.column<std::int64_t>(0), stmt.column<std::optional<std::int64_t>>(1));
  return out;
}

int foreign_keys(cpm::connection& db) {
  auto stmt = db.prepare("PRAGMA foreign_keys");
  stmt.step();
  return stmt.column<int>(0);
}

std::vector<cpm::migration> with_step(cpm::migration step) {
  std::vector<cpm::migration> steps(cpm::store_migrations().begin(), cpm::store_migrations().end());
  steps.push_back(std::move(step));
  return steps;
}

std::vector<std::string> column_names(cpm::connection& db, std::string_view table) {
  auto stmt = db.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid");
  stmt.bind(table);
  std::vector<std::string> out;
  while (stmt.step()) out.push_back(stmt.column<std::string>(0));
  return out;
}

}  // namespace

TEST_CASE("a naive rebuild of ssh_keys with foreign keys on nulls every servers.ssh_key_id", "[rebuild]") {
  auto db = store_database();
  REQUIRE(foreign_keys(db) == 1);
  auto before = server_keys(db);
  REQUIRE(std::count_if(before.begin(), before.end(), [](auto& p) { return p.second.has_value(); }) == 5);

  // The textbook rebuild, run as a plain transaction: foreign keys stay on.
  {
    cpm::transaction tx(db);
    db.exec("CREATE TABLE new_ssh_keys " + std::string(ssh_keys_with_comment));
    db.exec("INSERT INTO new_ssh_keys (" + std::string(ssh_keys_columns) + ") SELECT " +
            std::string(ssh_keys_columns) + " FROM ssh_keys");
    db.exec("DROP TABLE ssh_keys");
    db.exec("ALTER TABLE new_ssh_keys RENAME TO ssh_keys");
    tx.commit();
  }
  // Every key is still there, but DROP TABLE ran ON DELETE SET NULL on every server first.
  CHECK(count_rows(db, "ssh_keys") == 3);
  for (const auto& [id, key] : server_keys(db)) {
    INFO("server " << id);
    CHECK_FALSE(key.has_value());
  }
}

TEST_CASE("rebuild_table in a foreign_keys_off step keeps every servers.ssh_key_id", "[rebuild]") {
  auto db = store_database();
  const auto before = server_keys(db);
  std::vector<std::vector<std::string>> keys_before;
  {
    auto stmt = db.prepare("SELECT id, name, public_key, private_key_path, created_at FROM ssh_keys ORDER BY id");
    while (stmt.step()) {
      std::vector<std::string> row;
      for (int i = 0; i < 5; ++i) row.push_back(std::string(cpm::field(stmt.native(), i).text()));
      keys_before.push_back(row);
    }
  }

  auto steps = with_step({4, "ssh_keys: add a comment column", {},
                          [](cpm::connection& c) {
                            cpm::rebuild_table(c, {.table = "ssh_keys",
                                                   .definition = ssh_keys_with_comment,
                                                   .columns = ssh_keys_columns});
                          },
                          true});
  auto report = cpm::migrate(db, cpm::store_component, steps);
  CHECK(report.applied == std::vector<int>{4});
  CHECK(cpm::schema_version(db, cpm::store_component) == 4);
  CHECK(foreign_keys(db) == 1);

  CHECK(server_keys(db) == before);
  CHECK(column_names(db, "ssh_keys") ==
        std::vector<std::string>{"id", "name", "public_key", "private_key_path", "created_at", "comment"});
  std::vector<std::vector<std::string>> keys_after;
  {
    auto stmt = db.prepare("SELECT id, name, public_key, private_key_path, created_at FROM ssh_keys ORDER BY id");
    while (stmt.step()) {
      std::vector<std::string> row;
      for (int i = 0; i < 5; ++i) row.push_back(std::string(cpm::field(stmt.native(), i).text()));
      keys_after.push_back(row);
    }
  }
  CHECK(keys_after == keys_before);
  CHECK_FALSE(has_schema_object(db, "table", "cpm_rebuild_ssh_keys"));
  CHECK(cpm::foreign_key_violations(db).empty());

  // The foreign key of servers still points at the rebuilt table and still acts. (The store
  // must not migrate: its own steps end before this test's step 3.)
  cpm::store store(std::move(db), false);
  store.delete_ssh_key(before[0].second.value());
  CHECK_FALSE(store.get_server(before[0].first)->ssh_key_id.has_value());
  CHECK(store.get_server(before[1].first)->ssh_key_id == before[1].second);
}

TEST_CASE("rebuild_table recreates the table's indexes and triggers and keeps its UNIQUE constraints", "[rebuild]") {
  auto db = store_database();
  db.exec("CREATE INDEX idx_ssh_keys_path ON ssh_keys(private_key_path)");
  db.exec("CREATE TABLE key_log(name TEXT)");
  db.exec("CREATE TRIGGER ssh_keys_log AFTER INSERT ON ssh_keys BEGIN INSERT INTO key_log VALUES (new.name); END");

  auto steps = with_step({4, "ssh_keys: add a comment column", {},
                          [](cpm::connection& c) {
                            cpm::rebuild_table(c, {.table = "ssh_keys",
                                                   .definition = ssh_keys_with_comment,
                                                   .columns = ssh_keys_columns});
                          },
                          true});
  (void)cpm::migrate(db, cpm::store_component, steps);

  CHECK(has_schema_object(db, "index", "idx_ssh_keys_path"));
  CHECK(has_schema_object(db, "index", "sqlite_autoindex_ssh_keys_1"));
  REQUIRE(has_schema_object(db, "trigger", "ssh_keys_log"));
  auto plan = cpm::explain(db, "SELECT id FROM ssh_keys WHERE private_key_path = ?");
  CHECK(plan.searches("ssh_keys", "idx_ssh_keys_path"));

  cpm::store store(std::move(db), false);
  (void)store.create_ssh_key({.name = "after", .public_key = cpm_test::ssh_key(99), .private_key_path = "/k/after"});
  CHECK(count_rows(store.db(), "key_log") == 1);  // the trigger fires on the new table
  CHECK_THROWS_AS(
      store.create_ssh_key({.name = "after", .public_key = cpm_test::ssh_key(98), .private_key_path = "/k/again"}),
      cpm::already_exists);
}

TEST_CASE("rebuild_table works when a view or another table's trigger names the rebuilt table", "[rebuild]") {
  auto db = store_database();
  // Renaming the new table into place checks every view and trigger of the schema; these
  // name ssh_keys, which does not exist between the DROP and the RENAME.
  db.exec("CREATE VIEW key_names AS SELECT name FROM ssh_keys");
  db.exec("CREATE TABLE key_uses(key_id INTEGER)");
  db.exec("CREATE TRIGGER servers_key_use AFTER UPDATE OF ssh_key_id ON servers BEGIN "
          "INSERT INTO key_uses SELECT id FROM ssh_keys WHERE id = new.ssh_key_id; END");

  auto steps = with_step({4, "ssh_keys: add a comment column", {},
                          [](cpm::connection& c) {
                            cpm::rebuild_table(c, {.table = "ssh_keys",
                                                   .definition = ssh_keys_with_comment,
                                                   .columns = ssh_keys_columns});
                          },
                          true});
  CHECK(cpm::migrate(db, cpm::store_component, steps).applied == std::vector<int>{4});
  CHECK(count_rows(db, "key_names") == 3);
  db.exec("UPDATE servers SET ssh_key_id = 2 WHERE id = 1");
  CHECK(count_rows(db, "key_uses") == 1);  // the trigger still finds the key
  CHECK(cpm::query<int>(db, "PRAGMA legacy_alter_table").one() == 0);  // left as it was
}

TEST_CASE("rebuild_table keeps the AUTOINCREMENT high-water mark: deleted ids are not given again", "[rebuild]") {
  auto db = store_database();
  std::int64_t deleted = 0;
  {
    cpm::store store(std::move(db));
    auto extra = store.create_ssh_key({.name = "extra", .public_key = cpm_test::ssh_key(50), .private_key_path = "/k/e"});
    deleted = extra.id;
    store.delete_ssh_key(extra.id);  // the highest id is gone; AUTOINCREMENT never gives it again
    SECTION("some rows left") {}
    SECTION("no rows left") {
      for (const auto& key : store.list_ssh_keys().to_vector()) store.delete_ssh_key(key.id);
      REQUIRE(count_rows(store.db(), "ssh_keys") == 0);
    }
    db = std::move(store.db());
  }
  auto steps = with_step({4, "ssh_keys: add a comment column", {},
                          [](cpm::connection& c) {
                            cpm::rebuild_table(c, {.table = "ssh_keys",
                                                   .definition = ssh_keys_with_comment,
                                                   .columns = ssh_keys_columns});
                          },
                          true});
  (void)cpm::migrate(db, cpm::store_component, steps);
  cpm::store store(std::move(db), false);
  auto next = store.create_ssh_key({.name = "next", .public_key = cpm_test::ssh_key(51), .private_key_path = "/k/n"});
  CHECK(next.id == deleted + 1);
}

TEST_CASE("a rebuild that leaves dangling references is aborted by the foreign key check and rolled back", "[rebuild]") {
  auto db = store_database();
  const auto before = cpm_test::dump(db);

  // The copy shifts every id: servers.ssh_key_id would point at keys that no longer exist.
  auto steps = with_step({4, "ssh_keys: renumber (wrong)", {},
                          [](cpm::connection& c) {
                            cpm::rebuild_table(c, {.table = "ssh_keys",
                                                   .definition = ssh_keys_with_comment,
                                                   .columns = ssh_keys_columns,
                                                   .select = "id + 1000, name, public_key, private_key_path, created_at"});
                          },
                          true});
  try {
    (void)cpm::migrate(db, cpm::store_component, steps);
    FAIL("the rebuild with dangling references was committed");
  } catch (const cpm::migration_error& e) {
    CHECK(e.version() == 4);
    CHECK(e.name() == "ssh_keys: renumber (wrong)");
    try {
      std::rethrow_if_nested(e);
      FAIL("no nested cause");
    } catch (const cpm::foreign_key_check_error& cause) {
      REQUIRE(cause.violations().size() == 5);  // the five servers that use a key
      for (const auto& v : cause.violations()) {
        CHECK(v.table == "servers");
        CHECK(v.parent == "ssh_keys");
      }
    }
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(cpm::schema_version(db, cpm::store_component) == 3);
  CHECK(foreign_keys(db) == 1);  // switched back on after the failed step
  CHECK(cpm_test::dump(db) == before);
}

TEST_CASE("rebuild_table refuses to run with foreign keys on or outside a transaction", "[rebuild]") {
  auto db = store_database();
  const auto before = cpm_test::dump(db);
  const cpm::table_rebuild change{.table = "ssh_keys", .definition = ssh_keys_with_comment, .columns = ssh_keys_columns};

  SECTION("called directly in a transaction with foreign keys on") {
    cpm::transaction tx(db);
    CHECK_THROWS_AS(cpm::rebuild_table(db, change), cpm::usage_error);
  }
  SECTION("called outside any transaction") {
    CHECK_THROWS_AS(cpm::rebuild_table(db, change), cpm::usage_error);
  }
  SECTION("from a migration step not marked foreign_keys_off") {
    auto steps = with_step({4, "rebuild, not marked", {}, [change](cpm::connection& c) { cpm::rebuild_table(c, change); }});
    try {
      (void)cpm::migrate(db, cpm::store_component, steps);
      FAIL("the unmarked rebuild ran");
    } catch (const cpm::migration_error& e) {
      CHECK(e.version() == 4);
      CHECK_THROWS_AS(std::rethrow_if_nested(e), cpm::usage_error);
    }
    CHECK(cpm::schema_version(db, cpm::store_component) == 3);
  }
  CHECK(cpm_test::dump(db) == before);
  CHECK(server_keys(db).size() == 6);
}

TEST_CASE("rebuild_table quotes a table name holding a double quote as the generated SQL does", "[rebuild]") {
  // The name is doubled-quote escaped like every identifier cpm writes (sql_text.hpp).
  auto db = cpm::connection::open_memory();
  db.exec(R"(CREATE TABLE "say ""hi""" (id INTEGER PRIMARY KEY AUTOINCREMENT, word TEXT NOT NULL))");
  db.exec(R"(CREATE INDEX "say ""hi"" by word" ON "say ""hi"""(word))");
  db.exec(R"(INSERT INTO "say ""hi"""(word) VALUES ('hello'), ('hi'), ('hey'))");
  db.exec(R"(DELETE FROM "say ""hi""" WHERE word = 'hey')");  // the AUTOINCREMENT mark is 3

  std::vector<cpm::migration> steps{{1, "say \"hi\": add a language column", {},
                                     [](cpm::connection& c) {
                                       cpm::rebuild_table(c, {.table = R"(say "hi")",
                                                              .definition = "(id INTEGER PRIMARY KEY AUTOINCREMENT, "
                                                                            "word TEXT NOT NULL, language TEXT)",
                                                              .columns = "id, word"});
                                     },
                                     true}};
  CHECK(cpm::migrate(db, "app", steps).applied == std::vector<int>{1});
  CHECK(column_names(db, R"(say "hi")") == std::vector<std::string>{"id", "word", "language"});
  CHECK(count_rows(db, R"(say ""hi"")") == 2);  // count_rows quotes without escaping
  CHECK(has_schema_object(db, "index", R"(say "hi" by word)"));
  CHECK_FALSE(has_schema_object(db, "table", R"(cpm_rebuild_say "hi")"));
  CHECK(cpm::execute(db, R"(INSERT INTO "say ""hi"""(word) VALUES ('yo'))") == 1);
  CHECK(cpm::query<std::int64_t>(db, R"(SELECT max(id) FROM "say ""hi""")").one() == 4);  // 3 is not given again
}
