// The store's schema on PostgreSQL (cpm/postgres/store_schema.hpp): the SQLite schema's
// tables, columns and indexes, and every rule refused by the server with the typed error the
// SQLite layer throws for it.
#include "pg_support.hpp"

#include "../store_support.hpp"

#include <cpm/postgres/store_schema.hpp>
#include <cpm/store.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using Catch::Matchers::Contains;

namespace {

struct column_row {
  std::string table_name;
  std::string column_name;
  bool not_null = false;
};

// (table, column, NOT NULL) of every column of the store's tables, by table then column.
std::vector<std::tuple<std::string, std::string, bool>> pg_columns(cpm::pg::connection& db) {
  std::vector<std::tuple<std::string, std::string, bool>> out;
  for (const auto& r : db.query<column_row>(
           "SELECT table_name::text, column_name::text, is_nullable = 'NO' AS not_null FROM information_schema.columns "
           "WHERE table_schema = current_schema() AND table_name <> 'cpm_schema_history' "
           "ORDER BY table_name, column_name"))
    out.emplace_back(r.table_name, r.column_name, r.not_null);
  return out;
}

std::vector<std::tuple<std::string, std::string, bool>> sqlite_columns(cpm::connection& db) {
  std::vector<std::tuple<std::string, std::string, bool>> out;
  auto stmt = db.prepare(
      "SELECT m.name, p.name, p.\"notnull\" OR p.pk FROM sqlite_schema AS m, pragma_table_info(m.name) AS p "
      "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'cpm_schema_history' "
      "ORDER BY m.name, p.name");
  while (stmt.step())
    out.emplace_back(stmt.column<std::string>(0), stmt.column<std::string>(1), stmt.column<int>(2) != 0);
  return out;
}

std::vector<std::string> named_indexes_pg(cpm::pg::connection& db) {
  return db.query<std::string>(
      "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'idx\\_%' "
      "ORDER BY indexname");
}

std::vector<std::string> named_indexes_sqlite(cpm::connection& db) {
  std::vector<std::string> out;
  auto stmt = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'idx\\_%' ESCAPE '\\' "
                         "ORDER BY name");
  while (stmt.step()) out.push_back(stmt.column<std::string>(0));
  return out;
}

// alice (id 1) owning organization acme (id 1) and its repository web; bob (id 2).
constexpr const char* owner_rows =
    "INSERT INTO users (username, email) VALUES ('alice', 'alice@example.org'), ('bob', 'bob@example.org');"
    "INSERT INTO organizations (name) VALUES ('acme');"
    "INSERT INTO org_members (org_id, user_id, role) VALUES (1, 1, 'owner');"
    "INSERT INTO repositories (name, org_id, path) VALUES ('web', 1, '/git/acme/web')";

cpm::pg::connection store_with_owner(const pg_test::scratch& s) {
  auto db = s.open();
  (void)cpm::pg::migrate_store(db);
  db.exec(owner_rows);
  return db;
}

// The same rows in a SQLite store, to check that SQLite refuses the same statements with the
// same types.
cpm::store sqlite_with_owner() {
  auto lite = cpm::store::open_memory();
  lite.db().exec(owner_rows);
  return lite;
}

std::int64_t count(cpm::pg::connection& db, const std::string& table) {
  return db.query_one<std::int64_t>("SELECT count(*) FROM " + table);
}

}  // namespace

TEST_CASE("the store's schema migrates to the SQLite side's version, with its steps' versions and names",
          "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = s.open();
  auto report = cpm::pg::migrate_store(db);
  CHECK(report.component == "cpm.store");
  CHECK(report.applied == std::vector<int>{1, 2, 3});
  CHECK(cpm::pg::store_schema_version(db) == cpm::target_version(cpm::store_migrations()));
  CHECK(cpm::pg::migrate_store(db).applied.empty());
  REQUIRE(cpm::pg::store_migrations().size() == cpm::store_migrations().size());
  for (std::size_t i = 0; i < cpm::store_migrations().size(); ++i) {
    CHECK(cpm::pg::store_migrations()[i].version == cpm::store_migrations()[i].version);
    CHECK(cpm::pg::store_migrations()[i].name == cpm::store_migrations()[i].name);
  }
}

TEST_CASE("the store's tables, columns, NOT NULLs and named indexes are SQLite's", "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = s.open();
  (void)cpm::pg::migrate_store(db);
  auto lite = cpm::store::open_memory();
  auto pg = pg_columns(db);
  auto sqlite = sqlite_columns(lite.db());
  CHECK(pg.size() == sqlite.size());
  CHECK(pg == sqlite);
  CHECK(named_indexes_pg(db) == named_indexes_sqlite(lite.db()));
  // The types are PostgreSQL's.
  auto type_of = [&](const std::string& table, const std::string& column) {
    return db.query_one<std::string>(
        "SELECT data_type::text FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = $1 AND column_name = $2",
        table, column);
  };
  CHECK(type_of("users", "id") == "bigint");
  CHECK(type_of("repositories", "org_id") == "bigint");
  CHECK(type_of("servers", "is_neighbor") == "boolean");
  CHECK(type_of("servers", "port") == "integer");
  CHECK(type_of("users", "created_at") == "timestamp with time zone");
  CHECK(type_of("user_keys", "last_used_at") == "timestamp with time zone");
  CHECK(type_of("users", "username") == "text");
  CHECK(db.query_one<std::string>("SELECT is_identity::text || ':' || identity_generation::text FROM "
                                  "information_schema.columns WHERE table_schema = current_schema() AND "
                                  "table_name = 'users' AND column_name = 'id'") == "YES:BY DEFAULT");
}

TEST_CASE("the store's models read their rows back from PostgreSQL", "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = store_with_owner(s);
  auto u = db.query_one<cpm::user>("SELECT id, username, email, public_key, created_at FROM users WHERE id = 1");
  CHECK(u.username == "alice");
  CHECK_FALSE(u.public_key.has_value());  // no default: the store writes '' for none (none_as_empty), as on SQLite
  REQUIRE(u.created_at.has_value());
  auto m = db.query_one<cpm::org_member>("SELECT id, org_id, user_id, role, joined_at FROM org_members");
  CHECK(m.role == cpm::org_role::owner);
  CHECK(m.user_id == 1);
  db.execute("INSERT INTO repo_access (repo_id, user_id, access_level) VALUES ($1, $2, $3)", std::int64_t{1},
             std::int64_t{2}, cpm::access_level::write);
  auto a = db.query_one<cpm::repo_access>("SELECT id, repo_id, user_id, access_level FROM repo_access");
  CHECK(a.access_level == cpm::access_level::write);
  auto srv_id = db.query_one<std::int64_t>("INSERT INTO servers (name, host) VALUES ('s1', 'h') RETURNING id");
  auto srv = db.query_one<cpm::server>(
      "SELECT id, name, host, port, is_neighbor, ssh_key_id, created_at FROM servers WHERE id = $1", srv_id);
  CHECK(srv.port == 22);
  CHECK_FALSE(srv.is_neighbor);
  CHECK_FALSE(srv.ssh_key_id.has_value());
}

TEST_CASE("ids are kept when given (identity BY DEFAULT), and the sequence can be set past them",
          "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = s.open();
  (void)cpm::pg::migrate_store(db);
  db.exec("INSERT INTO users (id, username, email) VALUES (41, 'copied', 'c@example.org')");
  db.exec("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))");
  CHECK(db.query_one<std::int64_t>("INSERT INTO users (username, email) VALUES ('next', 'n@example.org') RETURNING id") ==
        42);
}

TEST_CASE("UNIQUE: every unique rule is refused as cpm::unique_violation, naming table and columns",
          "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = store_with_owner(s);
  auto lite = sqlite_with_owner();
  constexpr const char* more =
      "INSERT INTO user_keys (user_id, name, public_key, fingerprint) VALUES (1, 'laptop', 'ssh-ed25519 K1', 'SHA256:f1');"
      "INSERT INTO ssh_keys (name, public_key, private_key_path) VALUES ('deploy', 'k', '/k');"
      "INSERT INTO servers (name, host) VALUES ('s1', 'h');"
      "INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (1, 2, 'read')";
  db.exec(more);
  lite.db().exec(more);
  struct refused {
    const char* sql;
    const char* table;
    std::vector<std::string> columns;
  };
  const refused cases[] = {
      {"INSERT INTO users (username, email) VALUES ('alice', 'x')", "users", {"username"}},
      {"INSERT INTO users (username, email) VALUES ('ALICE', 'x')", "users", {"lower(username)"}},
      {"INSERT INTO organizations (name) VALUES ('acme')", "organizations", {"name"}},
      {"INSERT INTO organizations (name) VALUES ('Acme')", "organizations", {"lower(name)"}},
      {"INSERT INTO repositories (name, org_id, path) VALUES ('web', 1, '/elsewhere')", "repositories",
       {"org_id", "name"}},
      {"INSERT INTO repositories (name, org_id, path) VALUES ('other', 1, '/git/acme/web')", "repositories", {"path"}},
      {"INSERT INTO org_members (org_id, user_id, role) VALUES (1, 1, 'member')", "org_members", {"org_id", "user_id"}},
      {"INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (1, 2, 'admin')", "repo_access",
       {"repo_id", "user_id"}},
      {"INSERT INTO user_keys (user_id, name, public_key, fingerprint) VALUES (2, 'k', 'ssh-ed25519 K1', 'SHA256:f2')",
       "user_keys", {"public_key"}},
      {"INSERT INTO user_keys (user_id, name, public_key, fingerprint) VALUES (2, 'k', 'ssh-ed25519 K2', 'SHA256:f1')",
       "user_keys", {"fingerprint"}},
      {"INSERT INTO user_keys (user_id, name, public_key, fingerprint) VALUES (1, 'laptop', 'ssh-ed25519 K3', 'SHA256:f3')",
       "user_keys", {"user_id", "name"}},
      {"INSERT INTO ssh_keys (name, public_key, private_key_path) VALUES ('deploy', 'k2', '/k2')", "ssh_keys", {"name"}},
      {"INSERT INTO servers (name, host) VALUES ('s1', 'other')", "servers", {"name"}},
  };
  for (const auto& c : cases) {
    INFO(c.sql);
    CHECK_THROWS_AS(lite.db().exec(c.sql), cpm::unique_violation);  // SQLite refuses it alike
    try {
      db.exec(c.sql);
      FAIL("not refused");
    } catch (const cpm::unique_violation& e) {
      CHECK(e.table() == c.table);
      CHECK(e.columns() == c.columns);
      CHECK_THAT(e.what(), Contains("already exists"));
    }
  }
  // NOCASE folds ASCII letters only, and so does lower() of a "C" column: these are different names.
  db.exec("INSERT INTO users (username, email) VALUES ('ÄDA', 'x'), ('äda', 'y')");
  lite.db().exec("INSERT INTO users (username, email) VALUES ('ÄDA', 'x'), ('äda', 'y')");
  CHECK(count(db, "users") == 4);
}

TEST_CASE("FOREIGN KEY, CHECK and NOT NULL are refused with the SQLite layer's types", "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = store_with_owner(s);
  auto lite = sqlite_with_owner();
  for (const char* sql : {
           "INSERT INTO repositories (name, org_id, path) VALUES ('x', 99, '/x')",
           "INSERT INTO org_members (org_id, user_id, role) VALUES (1, 99, 'member')",
           "INSERT INTO org_members (org_id, user_id, role) VALUES (99, 2, 'member')",
           "INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (99, 1, 'read')",
           "INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (1, 99, 'read')",
           "INSERT INTO user_keys (user_id, name, public_key, fingerprint) VALUES (99, 'k', 'k', 'f')",
           "INSERT INTO servers (name, host, ssh_key_id) VALUES ('s', 'h', 99)",
       }) {
    INFO(sql);
    CHECK_THROWS_AS(db.exec(sql), cpm::foreign_key_violation);
    CHECK_THROWS_AS(lite.db().exec(sql), cpm::foreign_key_violation);
  }
  CHECK_THROWS_AS(lite.db().exec("INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (1, 2, 'owner')"),
                  cpm::check_violation);
  CHECK_THROWS_AS(lite.db().exec("INSERT INTO org_members (org_id, user_id, role) VALUES (1, 2, 'boss')"),
                  cpm::check_violation);
  try {
    db.exec("INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (1, 2, 'owner')");
    FAIL("not refused");
  } catch (const cpm::check_violation& e) {
    CHECK(e.constraint() == "repo_access_access_level_check");
  }
  try {
    db.exec("INSERT INTO org_members (org_id, user_id, role) VALUES (1, 2, 'boss')");
    FAIL("not refused");
  } catch (const cpm::check_violation& e) {
    CHECK(e.constraint() == "org_members_role_check");
  }
  struct refused {
    const char* sql;
    const char* table;
    const char* column;
  };
  for (const auto& c : {refused{"INSERT INTO users (username) VALUES ('carol')", "users", "email"},
                        refused{"INSERT INTO users (email) VALUES ('c@example.org')", "users", "username"},
                        refused{"INSERT INTO repositories (name, org_id) VALUES ('x', 1)", "repositories", "path"},
                        refused{"INSERT INTO organizations (name) VALUES (NULL)", "organizations", "name"},
                        refused{"INSERT INTO servers (name, host, port) VALUES ('s', 'h', NULL)", "servers", "port"},
                        refused{"INSERT INTO org_members (org_id, user_id) VALUES (1, 2)", "org_members", "role"}}) {
    INFO(c.sql);
    try {
      lite.db().exec(c.sql);
      FAIL("SQLite did not refuse it");
    } catch (const cpm::not_null_violation& e) {
      CHECK(e.table() == c.table);
      CHECK(e.column() == c.column);
    }
    try {
      db.exec(c.sql);
      FAIL("not refused");
    } catch (const cpm::not_null_violation& e) {
      CHECK(e.table() == c.table);
      CHECK(e.column() == c.column);
    }
  }
}

TEST_CASE("the last owner of an organization cannot be removed, demoted or moved (cpm::constraint_error)",
          "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = store_with_owner(s);
  auto lite = sqlite_with_owner();
  lite.db().exec("INSERT INTO organizations (name) VALUES ('other')");
  auto refused = [&](const char* sql) {
    INFO(sql);
    try {  // SQLite's trigger: a cpm::constraint_error, none of the more specific ones
      lite.db().exec(sql);
      FAIL("SQLite did not refuse it");
    } catch (const cpm::unique_violation&) {
      FAIL("a unique violation on SQLite");
    } catch (const cpm::constraint_error& e) {
      CHECK_THAT(e.what(), Contains("cpm: an organization keeps at least one owner"));
    }
    try {
      db.exec(sql);
      FAIL("not refused");
    } catch (const cpm::unique_violation&) {
      FAIL("a unique violation");
    } catch (const cpm::constraint_error& e) {  // as SQLite's RAISE(ABORT) in a trigger
      CHECK_THAT(e.what(), Contains("cpm: an organization keeps at least one owner") &&
                               Contains("User 1 is the last owner of organization 1") && Contains("SQLSTATE 23000"));
      auto* d = dynamic_cast<const cpm::pg::diagnostics*>(&e);
      REQUIRE(d != nullptr);
      CHECK(d->sqlstate() == "23000");
      CHECK(d->constraint_name() == "org_members_keep_owner");
      CHECK(d->table_name() == "org_members");
    }
  };
  refused("DELETE FROM org_members");
  refused("UPDATE org_members SET role = 'member'");
  refused("DELETE FROM users WHERE username = 'alice'");
  db.exec("INSERT INTO organizations (name) VALUES ('other')");
  refused("UPDATE org_members SET org_id = 2");
  CHECK(count(db, "org_members") == 1);

  // With a second owner, the first may go; the second is then the last.
  db.exec("INSERT INTO org_members (org_id, user_id, role) VALUES (1, 2, 'owner')");
  db.exec("UPDATE org_members SET role = 'admin' WHERE user_id = 1");
  CHECK_THROWS_AS(db.exec("DELETE FROM org_members WHERE user_id = 2"), cpm::constraint_error);
  db.exec("DELETE FROM org_members WHERE user_id = 1");
  // Deleting the organization itself cascades to its owner, its repositories and grants.
  db.exec("INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (1, 1, 'read')");
  db.exec("DELETE FROM organizations WHERE name = 'acme'");
  CHECK(count(db, "org_members") == 0);
  CHECK(count(db, "repositories") == 0);
  CHECK(count(db, "repo_access") == 0);
}

TEST_CASE("deletes cascade and SET NULL as on SQLite", "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = store_with_owner(s);
  db.exec("INSERT INTO user_keys (user_id, name, public_key, fingerprint) VALUES (2, 'k', 'k', 'f');"
          "INSERT INTO org_members (org_id, user_id, role) VALUES (1, 2, 'member');"
          "INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (1, 2, 'write');"
          "INSERT INTO ssh_keys (name, public_key, private_key_path) VALUES ('deploy', 'k', '/k');"
          "INSERT INTO servers (name, host, ssh_key_id) VALUES ('s1', 'h', 1)");
  db.exec("DELETE FROM users WHERE username = 'bob'");
  CHECK(count(db, "user_keys") == 0);
  CHECK(count(db, "org_members") == 1);
  CHECK(count(db, "repo_access") == 0);
  db.exec("DELETE FROM ssh_keys");
  CHECK(count(db, "servers") == 1);
  CHECK_FALSE(db.query_one<std::optional<std::int64_t>>("SELECT ssh_key_id FROM servers").has_value());
}

TEST_CASE("step 3 carries users.public_key into user_keys, as on SQLite", "[pg][store_schema]") {
  pg_test::scratch s;
  auto db = s.open();
  auto steps = cpm::pg::store_migrations();
  (void)cpm::pg::migrate(db, cpm::pg::store_component, steps.first(2));
  const std::string key = cpm_test::ssh_key(7);
  db.execute("INSERT INTO users (username, email, public_key) VALUES ('alice', 'a@example.org', $1)",
             key + " alice@laptop\n");
  db.exec("INSERT INTO users (username, email) VALUES ('bob', 'b@example.org')");
  CHECK(cpm::pg::migrate_store(db).applied == std::vector<int>{3});
  struct carried {
    std::string name;
    std::string public_key;
    std::string fingerprint;
    std::optional<std::string> comment;
  };
  auto rows = db.query<carried>("SELECT name, public_key, fingerprint, comment FROM user_keys");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].name == "default");
  CHECK(rows[0].public_key == key);
  CHECK(rows[0].fingerprint == cpm::ssh_fingerprint(key));
  CHECK(rows[0].comment == std::optional<std::string>("alice@laptop"));
  CHECK(db.query<std::string>("SELECT public_key FROM users ORDER BY id") == std::vector<std::string>{key, ""});

  // A key cpm cannot read stops step 3, which leaves nothing behind.
  pg_test::scratch s2;
  auto bad = s2.open();
  (void)cpm::pg::migrate(bad, cpm::pg::store_component, steps.first(2));
  bad.exec("INSERT INTO users (username, email, public_key) VALUES ('eve', 'e@example.org', 'not a key')");
  CHECK_THROWS_AS(cpm::pg::migrate_store(bad), cpm::migration_error);
  CHECK(cpm::pg::store_schema_version(bad) == 2);
  CHECK_FALSE(bad.query_one<bool>("SELECT to_regclass('user_keys') IS NOT NULL"));
}

TEST_CASE("two sessions removing an organization's two owners at once cannot both succeed", "[pg][store_schema]") {
  // Session one removes alice and holds its transaction open; session two, removing bob, must
  // wait for it (the trigger updates the organization's row) and then be refused (read
  // committed) or fail as a serialization failure (repeatable read). Without the wait each
  // would see the other owner still there, and the organization would end with none.
  pg_test::scratch s;
  auto db = store_with_owner(s);
  db.exec("INSERT INTO org_members (org_id, user_id, role) VALUES (1, 2, 'owner')");
  const bool repeatable = GENERATE(false, true);
  INFO((repeatable ? "repeatable read" : "read committed"));
  auto one = s.open();
  auto two = s.open();
  const auto level = repeatable ? cpm::pg::isolation::repeatable_read : cpm::pg::isolation::read_committed;
  cpm::pg::transaction tx_one(one, level);
  one.exec("DELETE FROM org_members WHERE user_id = 1");

  std::atomic<bool> done{false};
  std::string outcome = "committed";
  std::thread t([&] {
    try {
      cpm::pg::transaction tx_two(two, level);
      (void)two.query_one<int>("SELECT 1");  // the snapshot is taken here, before one commits
      two.exec("DELETE FROM org_members WHERE user_id = 2");
      tx_two.commit();
    } catch (const cpm::pg::serialization_failure&) {
      outcome = "serialization failure";
    } catch (const cpm::constraint_error& e) {
      outcome = std::string("refused: ") + e.what();
    } catch (const std::exception& e) {
      outcome = std::string("other error: ") + e.what();
    }
    done = true;
  });
  // Two is seen waiting for a lock held by one.
  bool waiting = false;
  for (int i = 0; i < 300 && !waiting && !done; ++i) {
    waiting = db.query_one<std::int64_t>("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                                         two.backend_pid()) == 1;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(waiting);
  tx_one.commit();
  t.join();
  if (repeatable)
    CHECK(outcome == "serialization failure");
  else
    CHECK_THAT(outcome, Contains("refused: cpm: an organization keeps at least one owner"));
  CHECK(db.query<std::int64_t>("SELECT user_id FROM org_members WHERE role = 'owner'") == std::vector<std::int64_t>{2});
}

TEST_CASE("four servers starting at once migrate the store's schema once between them", "[pg][store_schema]") {
  pg_test::scratch s;
  constexpr int servers = 4;
  std::vector<cpm::pg::connection> connections;
  for (int i = 0; i < servers; ++i) connections.push_back(s.open());
  std::atomic<int> ready{0};
  std::vector<std::vector<int>> applied(servers);
  std::vector<std::string> errors(servers);
  std::vector<std::thread> threads;
  for (int i = 0; i < servers; ++i)
    threads.emplace_back([&, i] {
      const auto at = static_cast<std::size_t>(i);
      ready.fetch_add(1);
      while (ready.load() < servers) std::this_thread::yield();
      try {
        applied[at] = cpm::pg::migrate_store(connections[at]).applied;
      } catch (const std::exception& e) {
        errors[at] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  std::vector<int> all;
  for (int i = 0; i < servers; ++i) {
    const auto at = static_cast<std::size_t>(i);
    INFO("server " << i << ": " << errors[at]);
    CHECK(errors[at].empty());
    all.insert(all.end(), applied[at].begin(), applied[at].end());
  }
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<int>{1, 2, 3});
  auto db = s.open();
  CHECK(db.query<int>("SELECT version FROM cpm_schema_history WHERE component = 'cpm.store' ORDER BY version") ==
        std::vector<int>{1, 2, 3});
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'org_members_keep_owner%' "
                                   "AND tgrelid = 'org_members'::regclass") == 2);
}
