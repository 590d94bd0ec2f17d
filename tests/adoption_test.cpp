// Adopting databases made by the original (Go) system: its DDL, no version recorded, rows
// present with timestamps as SQLite's CURRENT_TIMESTAMP and the Go driver wrote them.
// cpm::store::open brings them to the current version in place, keeping every row.
#include <cpm/schema.hpp>
#include <cpm/sqlite.hpp>
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono;
using cpm_test::count_rows;
using cpm_test::has_schema_object;

// 2024-01-15 10:30:00 UTC, the instant most fixture timestamps name in one layout or another.
const sys_seconds jan15 = sys_days{year{2024} / 1 / 15} + hours{10} + minutes{30};

// A database as the original system left it: its initSchema DDL, rows written through the Go
// driver (mattn/go-sqlite3) and by DEFAULT CURRENT_TIMESTAMP, PRAGMA user_version 0, no
// history table, rollback journal.
void make_original_database(const std::filesystem::path& path) {
  cpm::open_options options;
  options.journal = cpm::journal_mode::rollback;
  options.synchronous = cpm::synchronous_mode::off;  // a fixture: no need to wait for the disk
  auto db = cpm::connection::open(path.string(), options);
  cpm::transaction tx(db);
  db.exec(cpm::original_schema_sql);
  // Users: created_at by CURRENT_TIMESTAMP (alice) and by the Go driver in its layouts.
  // Go stored public keys as given (with the comment ssh-keygen writes), and "" for none.
  auto user = db.prepare("INSERT INTO users(username, email, public_key, created_at) VALUES (?, ?, ?, ?)");
  db.exec("INSERT INTO users(username, email, public_key) VALUES ('alice', 'alice@example.org', '" +
          cpm_test::ssh_key(1, "alice@laptop") + "')");
  user.bind("bob", "bob@example.org", "", "2024-01-15 10:30:00.123456789+00:00");
  user.run();
  user.reset();
  user.bind("carol", "carol@example.org", std::optional<std::string>{}, "2024-01-15T10:30:00Z");
  user.run();
  user.reset();
  const std::string dave_key = cpm_test::ssh_key(4);  // outlives the run: binds do not copy
  user.bind("dave", "dave@example.org", dave_key, "2024-01-15 12:30:00+02:00");
  user.run();
  user.reset();
  const std::string erin_key = cpm_test::ssh_key(5, "erin@host") + "\n";  // as read from a key file
  user.bind("erin", "erin@example.org", erin_key, "2024-01-15 10:30:00");
  user.run();

  db.exec(R"sql(
    INSERT INTO organizations(name, description) VALUES ('acme', 'Tools and more');
    INSERT INTO organizations(name, description, created_at) VALUES ('globex', '', '2024-01-15 10:30:00.5+00:00');
    INSERT INTO repositories(name, org_id, path, description) VALUES ('tools', 1, '/srv/git/acme/tools.git', 'the tools');
    INSERT INTO repositories(name, org_id, path, description, created_at)
      VALUES ('site', 1, '/srv/git/acme/site.git', '', '2024-01-15T10:30:00.999Z');
    INSERT INTO repositories(name, org_id, path) VALUES ('plans', 2, '/srv/git/globex/plans.git');
    INSERT INTO org_members(org_id, user_id, role) VALUES (1, 1, 'owner');
    INSERT INTO org_members(org_id, user_id, role, joined_at) VALUES (1, 2, 'member', '2024-01-15 10:30:00+00:00');
    INSERT INTO org_members(org_id, user_id, role) VALUES (2, 4, 'admin');
    INSERT INTO repo_access(repo_id, user_id, access_level) VALUES (2, 3, 'write');
    INSERT INTO repo_access(repo_id, user_id, access_level) VALUES (3, 2, 'read');
  )sql");
  db.exec("INSERT INTO ssh_keys(name, public_key, private_key_path) VALUES ('deploy', '" + cpm_test::ssh_key(10) +
          "', '/home/cpm/.ssh/deploy')");
  db.exec("INSERT INTO ssh_keys(name, public_key, private_key_path, created_at) VALUES ('backup', '" +
          cpm_test::ssh_key(11) + "', '/home/cpm/.ssh/backup', '2024-01-15 10:30:00.123+00:00')");
  db.exec(R"sql(
    INSERT INTO servers(name, host, port, is_neighbor, ssh_key_id) VALUES ('north', 'north.example.org', 22, 1, 1);
    INSERT INTO servers(name, host, port, is_neighbor, ssh_key_id, created_at)
      VALUES ('south', '192.0.2.7', 2222, 0, 2, '2024-01-15 10:30:00+00:00');
    INSERT INTO servers(name, host, is_neighbor) VALUES ('east', '2001:db8::1', 1);
  )sql");
  tx.commit();
}

const char* const seven_tables[] = {"users", "organizations", "repositories", "ssh_keys",
                                    "servers", "repo_access", "org_members"};

}  // namespace

TEST_CASE("the adoption fixture is what the original system left: version 0 and no history", "[adoption]") {
  cpm_test::temp_dir dir;
  make_original_database(dir / "cpm.db");
  auto db = cpm::connection::open((dir / "cpm.db").string());
  CHECK(cpm::schema_version(db) == 0);
  CHECK_FALSE(has_schema_object(db, "table", "cpm_schema_history"));
  CHECK(has_schema_object(db, "index", "idx_repo_access_repo_id"));
  CHECK(count_rows(db, "users") == 5);
}

TEST_CASE("store::open adopts an original database in place and keeps every row", "[adoption]") {
  cpm_test::temp_dir dir;
  const auto path = dir / "cpm.db";
  make_original_database(path);
  std::map<std::string, std::int64_t> counts;
  {
    auto db = cpm::connection::open(path.string());
    for (auto table : seven_tables) counts[table] = count_rows(db, table);
  }
  const auto opened_at = floor<seconds>(system_clock::now());

  auto store = cpm::store::open(path.string());

  CHECK(store.schema_version() == cpm::store::target_version());
  for (auto table : seven_tables) {
    INFO(table);
    CHECK(count_rows(store.db(), table) == counts[table]);
  }
  {
    auto stmt = store.db().prepare("SELECT version FROM cpm_schema_history WHERE component = 'cpm.store' ORDER BY version");
    std::vector<int> versions;
    while (stmt.step()) versions.push_back(stmt.column<int>(0));
    CHECK(versions == std::vector<int>{1, 2, 3});
  }

  SECTION("users, with each timestamp layout read as the same instant") {
    auto alice = store.user_by_name("alice");
    REQUIRE(alice);
    REQUIRE(alice->created_at);
    // CURRENT_TIMESTAMP when the fixture was written, moments ago.
    CHECK(*alice->created_at >= opened_at - minutes(1));
    CHECK(*alice->created_at <= opened_at + minutes(1));
    for (const char* name : {"bob", "carol", "dave", "erin"}) {
      INFO(name);
      auto u = store.user_by_name(name);
      REQUIRE(u);
      CHECK(u->email == std::string(name) + "@example.org");
      CHECK(u->created_at == jan15);
    }
    CHECK(store.get_user(2)->username == "bob");
    // The original system's "" for "no key" reads as none, and an empty lookup finds nobody.
    CHECK_FALSE(store.get_user(2)->public_key.has_value());
    CHECK_FALSE(store.user_by_public_key("").has_value());
    CHECK_FALSE(store.get_user(3)->public_key.has_value());
    CHECK(store.list_users().to_vector().size() == 5);
  }
  SECTION("users are found by their public key, whatever comment the original system stored") {
    auto alice = store.user_by_public_key(cpm_test::ssh_key(1, "alice@desktop"));
    REQUIRE(alice);
    CHECK(alice->username == "alice");
    CHECK(alice->public_key == cpm_test::ssh_key(1));  // users.public_key mirrors the key...
    CHECK(store.user_keys(alice->id).first()->comment == "alice@laptop");  // ...its comment is kept
    auto erin = store.user_by_public_key(cpm_test::ssh_key(5));
    REQUIRE(erin);
    CHECK(erin->public_key == cpm_test::ssh_key(5));
    CHECK(store.user_keys(erin->id).first()->comment == "erin@host");
    CHECK(store.user_by_fingerprint(cpm::ssh_fingerprint(cpm_test::ssh_key(5)))->id == erin->id);
    auto dave = store.user_by_public_key(cpm_test::ssh_key(4));
    REQUIRE(dave);
    CHECK(dave->username == "dave");
  }
  SECTION("organizations, repositories, memberships and grants") {
    auto acme = store.organization_by_name("acme");
    REQUIRE(acme);
    CHECK(acme->description == std::optional<std::string>("Tools and more"));
    auto globex = store.organization_by_name("globex");
    REQUIRE(globex);
    CHECK(globex->created_at == jan15);  // ".5" of a second is cut to the second

    auto site = store.repository_by_name(acme->id, "site");
    REQUIRE(site);
    CHECK(site->path == "/srv/git/acme/site.git");
    CHECK(site->created_at == jan15);
    CHECK(store.org_repositories(acme->id).to_vector().size() == 2);

    auto members = store.org_members(acme->id).to_vector();
    REQUIRE(members.size() == 2);
    CHECK(members[0].username == "alice");
    CHECK(members[0].role == cpm::org_role::owner);
    CHECK(members[1].username == "bob");
    CHECK(members[1].joined_at == jan15);

    CHECK(store.access_level(1, site->id) == cpm::access_level::admin);  // alice owns acme
    CHECK(store.access_level(3, site->id) == cpm::access_level::write);  // carol's grant
    CHECK(store.access_level(2, 3) == cpm::access_level::read);          // bob's grant on plans
    CHECK(store.access_level(4, site->id) == std::nullopt);              // dave is in globex only
    std::vector<std::string> bobs;
    for (const auto& r : store.user_repositories(2)) bobs.push_back(r.name);
    std::sort(bobs.begin(), bobs.end());  // user_repositories: in no particular order
    CHECK(bobs == std::vector<std::string>{"plans", "site", "tools"});
  }
  SECTION("SSH keys and servers, with every servers.ssh_key_id kept") {
    auto north = store.server_by_name("north");
    auto south = store.server_by_name("south");
    auto east = store.server_by_name("east");
    REQUIRE(north);
    REQUIRE(south);
    REQUIRE(east);
    CHECK(north->ssh_key_id == std::optional<std::int64_t>(1));
    CHECK(south->ssh_key_id == std::optional<std::int64_t>(2));
    CHECK_FALSE(east->ssh_key_id.has_value());
    CHECK(south->port == 2222);
    CHECK(south->created_at == jan15);
    CHECK(north->is_neighbor);
    CHECK(store.neighbor_servers().to_vector().size() == 2);
    CHECK(store.ssh_key_by_name("backup")->created_at == jan15);
    CHECK(store.ssh_key_by_name("deploy")->private_key_path == "/home/cpm/.ssh/deploy");
  }
  SECTION("the indexes of version 2 are in place") {
    CHECK(has_schema_object(store.db(), "index", "idx_org_members_user_id"));
    CHECK(has_schema_object(store.db(), "index", "idx_users_public_key"));
    CHECK_FALSE(has_schema_object(store.db(), "index", "idx_repo_access_repo_id"));
    CHECK(has_schema_object(store.db(), "index", "idx_repositories_org_id"));
    CHECK(has_schema_object(store.db(), "index", "idx_repo_access_user_id"));
    CHECK(has_schema_object(store.db(), "index", "idx_servers_is_neighbor"));
  }
  SECTION("the adopted database works with the store's writes, and ids continue after the old ones") {
    auto frank = store.create_user({.username = "frank", .email = "frank@example.org"});
    CHECK(frank.id == 6);
    CHECK_THROWS_AS(store.create_user({.username = "alice", .email = "a@example.org"}), cpm::already_exists);
  }
}

TEST_CASE("an adopted database reopened is left as it is", "[adoption]") {
  cpm_test::temp_dir dir;
  const auto path = dir / "cpm.db";
  make_original_database(path);
  std::string adopted;
  {
    auto store = cpm::store::open(path.string());
    adopted = cpm_test::dump(store.db());
  }
  auto store = cpm::store::open(path.string());
  CHECK(store.migrate().applied.empty());
  CHECK(cpm_test::dump(store.db()) == adopted);
}

TEST_CASE("a version-0 database whose users table lacks a column is refused with adoption_error and left unchanged",
          "[adoption]") {
  cpm_test::temp_dir dir;
  const auto path = dir / "foreign.db";
  {
    cpm::open_options options;
    options.journal = cpm::journal_mode::rollback;
    auto db = cpm::connection::open(path.string(), options);
    db.exec(R"sql(
      CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE, public_key TEXT,
                          created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
      INSERT INTO users(username) VALUES ('alice'), ('bob');
    )sql");
  }
  const auto before = cpm_test::file_bytes(path);

  try {
    (void)cpm::store::open(path.string());
    FAIL("a database without users.email was adopted");
  } catch (const cpm::adoption_error& e) {
    CHECK(e.table() == "users");
    CHECK(e.column() == "email");
    CHECK_THAT(e.what(), Catch::Contains("users") && Catch::Contains("email"));
  }
  CHECK(cpm_test::file_bytes(path) == before);
  CHECK_FALSE(std::filesystem::exists(path.string() + "-wal"));

  // Through the generic runner the same refusal is a failed step 1, with the cause nested.
  auto db = cpm::connection::open(path.string());
  const auto content = cpm_test::dump(db);
  try {
    (void)cpm::migrate(db, cpm::store_component, cpm::store_migrations(), {.record_user_version = true});
    FAIL("migrate adopted a database without users.email");
  } catch (const cpm::migration_error& e) {
    CHECK(e.version() == 1);
    CHECK_THROWS_AS(std::rethrow_if_nested(e), cpm::adoption_error);
  }
  CHECK(cpm_test::dump(db) == content);
  CHECK(cpm::schema_version(db) == 0);
  CHECK_FALSE(has_schema_object(db, "table", "organizations"));
}

TEST_CASE("a new database gets the whole schema at the current version", "[adoption]") {
  cpm_test::temp_dir dir;
  auto store = cpm::store::open((dir / "new.db").string());
  CHECK(store.schema_version() == cpm::store::target_version());
  for (auto table : seven_tables) CHECK(has_schema_object(store.db(), "table", table));
  CHECK_FALSE(has_schema_object(store.db(), "index", "idx_repo_access_repo_id"));
  CHECK(has_schema_object(store.db(), "index", "idx_org_members_user_id"));
}
