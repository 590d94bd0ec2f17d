// The foreign-key actions of the seed's schema, on a database opened afresh (a new connection,
// as a new process would make: a file on SQLite, the same schema on PostgreSQL): deleting an
// organization, a user, a repository or an SSH key removes or clears what refers to it.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_backends.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

using cpm_test::count_rows;

struct ids {
  std::int64_t alice, bob, carol;
  std::int64_t acme, globex;
  std::int64_t tools, site, plans;
  std::int64_t deploy, backup;
  std::int64_t north, south, east;
};

// Two organizations with repositories, members and grants, two keys and three servers,
// written by one store that is then closed.
template <class Store>
ids populate(Store store) {
  ids i{};
  i.alice = store.create_user({.username = "alice", .email = "alice@example.org"}).id;
  i.bob = store.create_user({.username = "bob", .email = "bob@example.org"}).id;
  i.carol = store.create_user({.username = "carol", .email = "carol@example.org"}).id;
  i.acme = store.create_organization({.name = "acme"}, i.alice).id;
  i.globex = store.create_organization({.name = "globex"}, i.bob).id;
  (void)store.add_org_member(i.acme, i.bob, cpm::org_role::member);
  (void)store.add_org_member(i.globex, i.carol, cpm::org_role::admin);
  i.tools = store.create_repository({.name = "tools", .org_id = i.acme, .path = "/git/acme/tools"}, i.alice).id;
  i.site = store.create_repository({.name = "site", .org_id = i.acme, .path = "/git/acme/site"}).id;
  i.plans = store.create_repository({.name = "plans", .org_id = i.globex, .path = "/git/globex/plans"}, i.bob).id;
  (void)store.grant_access(i.site, i.carol, cpm::access_level::write);
  (void)store.grant_access(i.plans, i.alice, cpm::access_level::read);
  (void)store.grant_access(i.tools, i.carol, cpm::access_level::read);
  i.deploy = store.create_ssh_key({.name = "deploy", .public_key = cpm_test::ssh_key(1), .private_key_path = "/k/d"}).id;
  i.backup = store.create_ssh_key({.name = "backup", .public_key = cpm_test::ssh_key(2), .private_key_path = "/k/b"}).id;
  i.north = store.create_server({.name = "north", .host = "n.example.org", .ssh_key_id = i.deploy}).id;
  i.south = store.create_server({.name = "south", .host = "s.example.org", .ssh_key_id = i.deploy}).id;
  i.east = store.create_server({.name = "east", .host = "e.example.org", .ssh_key_id = i.backup}).id;
  return i;
}

template <class Connection>
std::int64_t count_where(Connection& db, const std::string& sql, std::int64_t id) {
  return cpm_test::scalar<std::int64_t>(db, sql, id);
}

}  // namespace

#if !CPM_STORE_TESTS_POSTGRES
// SQLite only: foreign keys are a per-connection PRAGMA on SQLite, which cpm turns on for each
// connection; PostgreSQL always enforces them.
TEST_CASE("a store opened afresh on a file has foreign keys on", "[store][cascade]") {
  cpm_test::temp_dir dir;
  const auto path = (dir / "cpm.db").string();
  (void)populate(cpm::store::open(path));
  auto store = cpm::store::open(path);
  CHECK(cpm::query<int>(store.db(), "PRAGMA foreign_keys").one() == 1);
}
#endif

CPM_STORE_TEST_CASE("deleting an organization removes its repositories, its memberships and their grants", "[store][cascade]") {
  typename TestType::shared_database database;
  const ids i = populate(database.open());
  {
    auto store = database.open();
    store.delete_organization(i.acme);
  }
  auto store = database.open();  // what a later process sees
  auto& db = store.db();
  CHECK_FALSE(store.get_organization(i.acme));
  CHECK(count_where(db, "SELECT count(*) FROM repositories WHERE org_id = ?", i.acme) == 0);
  CHECK(count_where(db, "SELECT count(*) FROM org_members WHERE org_id = ?", i.acme) == 0);
  CHECK_FALSE(store.get_repository(i.tools));
  CHECK_FALSE(store.get_repository(i.site));
  CHECK(cpm_test::list_of(store.repository_grants(i.tools)).empty());
  CHECK(cpm_test::list_of(store.repository_grants(i.site)).empty());
  // The other organization and the users are untouched.
  CHECK(store.get_organization(i.globex));
  CHECK(store.get_repository(i.plans));
  CHECK(count_rows(db, "repositories") == 1);
  CHECK(count_rows(db, "org_members") == 2);  // bob owns globex, carol is its admin
  CHECK(count_rows(db, "repo_access") == 2);  // bob's admin grant on plans, alice's read
  CHECK(count_rows(db, "users") == 3);
  CHECK(store.access_level(i.alice, i.plans) == cpm::access_level::read);
  CHECK(cpm_test::no_foreign_key_violations(db));
}

CPM_STORE_TEST_CASE("deleting a user removes their memberships and grants, and nothing else", "[store][cascade]") {
  typename TestType::shared_database database;
  const ids i = populate(database.open());
  {
    auto store = database.open();
    store.delete_user(i.carol);
  }
  auto store = database.open();
  auto& db = store.db();
  CHECK_FALSE(store.get_user(i.carol));
  CHECK(count_where(db, "SELECT count(*) FROM org_members WHERE user_id = ?", i.carol) == 0);
  CHECK(count_where(db, "SELECT count(*) FROM repo_access WHERE user_id = ?", i.carol) == 0);
  CHECK(count_rows(db, "organizations") == 2);
  CHECK(count_rows(db, "repositories") == 3);
  CHECK(count_rows(db, "org_members") == 3);  // alice, bob in acme; bob in globex
  CHECK(count_rows(db, "repo_access") == 3);  // alice on tools and plans, bob on plans
  CHECK(store.org_membership(i.globex, i.bob));
  CHECK(cpm_test::no_foreign_key_violations(db));
}

CPM_STORE_TEST_CASE("deleting a repository removes its grants only", "[store][cascade]") {
  typename TestType::shared_database database;
  const ids i = populate(database.open());
  {
    auto store = database.open();
    store.delete_repository(i.tools);
  }
  auto store = database.open();
  CHECK(count_where(store.db(), "SELECT count(*) FROM repo_access WHERE repo_id = ?", i.tools) == 0);
  CHECK(count_rows(store.db(), "repo_access") == 3);
  CHECK(count_rows(store.db(), "org_members") == 4);
  CHECK(store.get_organization(i.acme));
}

CPM_STORE_TEST_CASE("deleting an SSH key sets servers.ssh_key_id to NULL and keeps the servers", "[store][cascade]") {
  typename TestType::shared_database database;
  const ids i = populate(database.open());
  {
    auto store = database.open();
    store.delete_ssh_key(i.deploy);
  }
  auto store = database.open();
  CHECK(count_rows(store.db(), "servers") == 3);
  CHECK_FALSE(store.get_server(i.north)->ssh_key_id.has_value());
  CHECK_FALSE(store.get_server(i.south)->ssh_key_id.has_value());
  CHECK(store.get_server(i.east)->ssh_key_id == std::optional<std::int64_t>(i.backup));
  CHECK(store.get_ssh_key(i.backup));
  CHECK(cpm_test::no_foreign_key_violations(store.db()));
}

#if !CPM_STORE_TESTS_POSTGRES
// SQLite only: PRAGMA foreign_keys=OFF, as the original system ran SQLite; PostgreSQL cannot turn
// foreign keys off.
TEST_CASE("with foreign keys off, as the original system ran, the same deletes leave orphans", "[store][cascade]") {
  // Why cpm turns them on: this is what the original system's database went through.
  cpm_test::temp_dir dir;
  const auto path = (dir / "cpm.db").string();
  const ids i = populate(cpm::store::open(path));
  cpm::store_options options;
  options.connection.pragmas = {"PRAGMA foreign_keys=OFF"};
  auto store = cpm::store::open(path, options);
  store.delete_organization(i.acme);
  store.delete_ssh_key(i.deploy);
  CHECK(count_where(store.db(), "SELECT count(*) FROM repositories WHERE org_id = ?", i.acme) == 2);
  CHECK(store.get_server(i.north)->ssh_key_id == std::optional<std::int64_t>(i.deploy));
  CHECK_FALSE(cpm::foreign_key_violations(store.db()).empty());
}
#endif
