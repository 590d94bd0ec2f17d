// The store on both backends: one suite, each test run on an SQLite store (in memory) and on a
// PostgreSQL store (cpm::pg::store, a schema of its own on the test server), with the same
// expectations: every store operation, its validation, its typed errors and its rules.
#include "pg_support.hpp"

#include <cpm/store.hpp>
#include <store_support.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

struct on_sqlite {
  cpm::store store = cpm::store::open_memory();
};

struct on_postgres {
  pg_test::scratch scratch;
  cpm::pg::store store{scratch.open()};
};

using cpm_test::ssh_key;

template <class Range>
std::vector<std::string> names(const Range& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) {
    if constexpr (requires { r.username; }) {
      out.push_back(r.username);
    } else {
      out.push_back(r.name);
    }
  }
  return out;
}

template <class Range>
std::set<std::string> name_set(const Range& rows) {
  auto v = names(rows);
  return {v.begin(), v.end()};
}

// How many rows a list holds (a cpm::rows on SQLite is an input range, without size()).
template <class Range>
std::size_t count_of(Range&& rows) {
  std::size_t n = 0;
  for (const auto& r : rows) {
    (void)r;
    ++n;
  }
  return n;
}

template <class Range>
auto first_of(Range&& rows) {
  for (auto& r : rows) return r;
  throw std::runtime_error("the list is empty");
}

template <class Store>
cpm::user add_user(Store& s, const std::string& name) {
  return s.create_user({.username = name, .email = name + "@example.org"});
}

}  // namespace

TEMPLATE_TEST_CASE("store: users are created, found, listed, updated and deleted", "[pg][store][both]", on_sqlite,
                   on_postgres) {
  TestType backend;
  auto& s = backend.store;
  CHECK(s.schema_version() == s.target_version());
  auto alice = s.create_user({.username = "alice", .email = "alice@example.org", .public_key = ssh_key(1, "alice@laptop")});
  CHECK(alice.id == 1);
  CHECK(alice.created_at);
  CHECK(alice.public_key == ssh_key(1));
  auto bob = add_user(s, "bob");
  CHECK_FALSE(bob.public_key);

  CHECK(s.get_user(alice.id)->username == "alice");
  CHECK(s.user_by_name("bob")->id == bob.id);
  CHECK_FALSE(s.user_by_name("carol"));
  CHECK(s.user_by_public_key(ssh_key(1, "other comment"))->id == alice.id);
  CHECK_FALSE(s.user_by_public_key(ssh_key(2)));
  auto key = first_of(s.user_keys(alice.id));
  CHECK(key.name == "default");
  CHECK(key.comment == "alice@laptop");
  CHECK(s.user_by_fingerprint(key.fingerprint)->id == alice.id);

  // Names are unique regardless of case; the refusal names the value and changes nothing.
  CHECK_THROWS_AS(add_user(s, "ALICE"), cpm::already_exists);
  CHECK_THROWS_AS(s.create_user({.username = "", .email = "x@example.org"}), cpm::validation_error);
  CHECK_THROWS_AS(s.create_user({.username = "dave", .email = "d@example.org", .public_key = ssh_key(1)}),
                  cpm::already_exists);
  CHECK_FALSE(s.user_by_name("dave"));

  for (int i = 0; i < 5; ++i) (void)add_user(s, "user" + std::to_string(i));
  CHECK(names(s.list_users()) == std::vector<std::string>{"alice", "bob", "user0", "user1", "user2", "user3", "user4"});
  CHECK(names(s.list_users({.after = bob.id, .limit = 2})) == std::vector<std::string>{"user0", "user1"});

  // A new public key replaces the first key; an empty one removes it.
  auto changed = s.update_user(bob.id, {.email = "robert@example.org", .public_key = ssh_key(3)});
  CHECK(changed.email == "robert@example.org");
  CHECK(changed.public_key == ssh_key(3));
  CHECK(s.user_key_count(bob.id) == 1);
  CHECK_THROWS_AS(s.update_user(bob.id, {.username = "Alice"}), cpm::already_exists);
  CHECK(s.get_user(bob.id)->username == "bob");
  try {
    (void)s.update_user(bob.id, {.username = "alice"});
    FAIL("no already_exists");
  } catch (const cpm::already_exists& e) {
    CHECK(e.field() == "username");
    CHECK(e.value() == "alice");
  }
  changed = s.update_user(bob.id, {.public_key = std::optional<std::string>()});
  CHECK_FALSE(changed.public_key);
  CHECK(s.user_key_count(bob.id) == 0);
  CHECK_THROWS_AS(s.update_user(999, {.email = "x@example.org"}), cpm::record_not_found);

  s.delete_user(bob.id);
  CHECK_FALSE(s.get_user(bob.id));
  CHECK_THROWS_AS(s.delete_user(bob.id), cpm::record_not_found);

  // create_users: all or none.
  std::vector<cpm::user> batch{{.username = "x1", .email = "x1@example.org"}, {.username = "x2", .email = "x2@example.org"},
                               {.username = "X1", .email = "x3@example.org"}};
  CHECK_THROWS_AS(s.create_users(batch), cpm::already_exists);
  CHECK_FALSE(s.user_by_name("x1"));
  batch.pop_back();
  CHECK(s.create_users(batch) == 2);
  CHECK(s.counts().users == 8);
}

TEMPLATE_TEST_CASE("store: a user's SSH keys are added, found, marked used and removed", "[pg][store][both]", on_sqlite,
                   on_postgres) {
  TestType backend;
  auto& s = backend.store;
  auto alice = add_user(s, "alice");
  auto bob = add_user(s, "bob");
  auto k1 = s.add_user_key(alice.id, "laptop", ssh_key(1, "alice@laptop"));
  auto k2 = s.add_user_key(alice.id, "desktop", ssh_key(2));
  CHECK(s.get_user(alice.id)->public_key == ssh_key(1));  // mirrors the first key
  CHECK(names(s.user_keys(alice.id)) == std::vector<std::string>{"laptop", "desktop"});
  CHECK(s.user_key_by_fingerprint(k2.fingerprint)->id == k2.id);
  CHECK(s.get_user_key(k1.id)->comment == "alice@laptop");
  CHECK_THROWS_AS(s.add_user_key(bob.id, "stolen", ssh_key(1)), cpm::already_exists);
  CHECK_THROWS_AS(s.add_user_key(alice.id, "laptop", ssh_key(5)), cpm::already_exists);
  CHECK_THROWS_AS(s.add_user_key(999, "x", ssh_key(6)), cpm::record_not_found);
  CHECK_THROWS_AS(s.add_user_key(bob.id, "bad", "ssh-ed25519 not-base64!"), cpm::validation_error);

  auto when = std::chrono::sys_days{std::chrono::year{2025} / 3 / 4} + std::chrono::hours{5};
  s.mark_key_used(k2.id, when);
  CHECK(s.get_user_key(k2.id)->last_used_at == when);
  CHECK_THROWS_AS(s.mark_key_used(999, when), cpm::record_not_found);

  s.remove_user_key(k1.id);
  CHECK(s.get_user(alice.id)->public_key == ssh_key(2));
  CHECK_THROWS_AS(s.remove_user_key(k1.id), cpm::record_not_found);
  CHECK(s.counts().user_keys == 1);
}

TEMPLATE_TEST_CASE("store: organizations, members and the last-owner rule", "[pg][store][both]", on_sqlite, on_postgres) {
  TestType backend;
  auto& s = backend.store;
  auto alice = add_user(s, "alice");
  auto bob = add_user(s, "bob");
  auto carol = add_user(s, "carol");
  auto acme = s.create_organization({.name = "acme", .description = "tools"}, alice.id);
  auto globex = s.create_organization({.name = "globex"});
  CHECK_FALSE(globex.description);
  CHECK(s.organization_by_name("acme")->id == acme.id);
  CHECK_THROWS_AS(s.create_organization({.name = "ACME"}), cpm::already_exists);
  CHECK_THROWS_AS(s.create_organization({.name = "initech"}, 999), cpm::record_not_found);
  CHECK_FALSE(s.organization_by_name("initech"));
  CHECK(names(s.list_organizations()) == std::vector<std::string>{"acme", "globex"});

  (void)s.add_org_member(acme.id, bob.id, cpm::org_role::member);
  (void)s.add_org_member(acme.id, carol.id, cpm::org_role::admin);
  (void)s.add_org_member(globex.id, bob.id, cpm::org_role::owner);
  CHECK_THROWS_AS(s.add_org_member(acme.id, bob.id, cpm::org_role::admin), cpm::already_exists);
  CHECK(names(s.org_members(acme.id)) == std::vector<std::string>{"alice", "carol", "bob"});  // owners, admins, members
  CHECK(names(s.user_organizations(bob.id)) == std::vector<std::string>{"acme", "globex"});
  CHECK(s.org_membership(acme.id, carol.id)->role == cpm::org_role::admin);
  CHECK_FALSE(s.org_membership(globex.id, carol.id));
  CHECK(s.org_member_count(acme.id) == 3);
  CHECK(count_of(s.list_org_members()) == 4);

  // The last owner can be neither demoted, removed nor deleted.
  CHECK_THROWS_AS(s.set_org_role(acme.id, alice.id, cpm::org_role::admin), cpm::last_owner);
  CHECK_THROWS_AS(s.remove_org_member(acme.id, alice.id), cpm::last_owner);
  try {
    s.delete_user(alice.id);
    FAIL("no last_owner");
  } catch (const cpm::last_owner& e) {
    CHECK(e.username() == "alice");
    CHECK(e.organizations() == std::vector<std::string>{"acme"});
  }
  CHECK(s.set_org_role(acme.id, bob.id, cpm::org_role::owner).role == cpm::org_role::owner);
  CHECK(s.set_org_role(acme.id, alice.id, cpm::org_role::member).role == cpm::org_role::member);
  s.remove_org_member(acme.id, alice.id);
  CHECK_THROWS_AS(s.remove_org_member(acme.id, alice.id), cpm::record_not_found);

  auto renamed = s.update_organization(globex.id, {.name = "globex2", .description = std::optional<std::string>("x")});
  CHECK(renamed.description == "x");
  CHECK_THROWS_AS(s.update_organization(globex.id, {.name = "Acme"}), cpm::already_exists);
  CHECK(s.get_organization(globex.id)->name == "globex2");

  s.delete_organization(acme.id);
  CHECK_FALSE(s.get_organization(acme.id));
  CHECK(s.org_member_count(acme.id) == 0);
  CHECK_THROWS_AS(s.delete_organization(acme.id), cpm::record_not_found);
}

TEMPLATE_TEST_CASE("store: repositories, grants, user_repositories and access_level", "[pg][store][both]", on_sqlite,
                   on_postgres) {
  TestType backend;
  auto& s = backend.store;
  auto alice = add_user(s, "alice");
  auto bob = add_user(s, "bob");
  auto acme = s.create_organization({.name = "acme"}, alice.id);
  auto globex = s.create_organization({.name = "globex"}, bob.id);
  auto tools = s.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"}, alice.id);
  auto site = s.create_repository({.name = "site", .org_id = acme.id, .path = "/srv/git/acme/site.git"});
  auto ops = s.create_repository({.name = "ops", .org_id = globex.id, .path = "/srv/git/globex/ops.git"});
  CHECK_THROWS_AS(s.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/x.git"}), cpm::already_exists);
  CHECK_THROWS_AS(s.create_repository({.name = "other", .org_id = acme.id, .path = "/srv/git/acme/site.git"}),
                  cpm::already_exists);
  CHECK_THROWS_AS(s.create_repository({.name = "x", .org_id = 999, .path = "/srv/y.git"}), cpm::record_not_found);
  CHECK_THROWS_AS(s.create_repository({.name = "x", .org_id = acme.id, .path = "relative"}), cpm::validation_error);

  CHECK(s.repository_by_name(acme.id, "site")->id == site.id);
  CHECK_FALSE(s.repository_by_name(globex.id, "site"));
  CHECK(s.repository_by_path("/srv/git/globex/ops.git")->id == ops.id);
  CHECK(s.repository_by_full_name("acme/tools")->id == tools.id);
  CHECK_FALSE(s.repository_by_full_name("acme"));
  CHECK(names(s.org_repositories(acme.id)) == std::vector<std::string>{"tools", "site"});
  CHECK(s.org_repository_count(acme.id) == 2);
  CHECK(names(s.list_repositories({.after = tools.id})) == std::vector<std::string>{"site", "ops"});

  // Grants: the creator is admin; a new grant replaces the old.
  CHECK(s.repo_grant(tools.id, alice.id)->access_level == cpm::access_level::admin);
  (void)s.grant_access(ops.id, alice.id, cpm::access_level::read);
  auto regrant = s.grant_access(ops.id, alice.id, cpm::access_level::write);
  CHECK(regrant.access_level == cpm::access_level::write);
  CHECK(count_of(s.repository_grants(ops.id)) == 1);
  CHECK(s.get_repo_access(regrant.id)->repo_id == ops.id);
  CHECK(count_of(s.list_repo_access()) == 2);
  CHECK_THROWS_AS(s.grant_access(ops.id, 999, cpm::access_level::read), cpm::record_not_found);

  CHECK(name_set(s.user_repositories(alice.id)) == std::set<std::string>{"tools", "site", "ops"});
  CHECK(name_set(s.user_repositories(bob.id)) == std::set<std::string>{"ops"});
  CHECK(s.access_level(alice.id, ops.id) == cpm::access_level::write);
  CHECK(s.access_level(alice.id, site.id) == cpm::access_level::admin);  // an owner of acme
  CHECK(s.access_level(bob.id, tools.id) == std::nullopt);

  s.revoke_access(ops.id, alice.id);
  CHECK_THROWS_AS(s.revoke_access(ops.id, alice.id), cpm::record_not_found);
  CHECK(s.access_level(alice.id, ops.id) == std::nullopt);

  // Moving a repository into an organization that has its name is refused, naming the name.
  (void)s.create_repository({.name = "ops", .org_id = acme.id, .path = "/srv/git/acme/ops.git"});
  CHECK_THROWS_AS(s.update_repository(ops.id, {.org_id = acme.id}), cpm::already_exists);
  auto moved = s.update_repository(ops.id, {.name = "ops2", .org_id = acme.id, .description = std::optional<std::string>("d")});
  CHECK(moved.org_id == acme.id);
  CHECK(moved.description == "d");
  s.delete_repository(tools.id);
  CHECK_FALSE(s.get_repository(tools.id));
  CHECK_FALSE(s.repo_grant(tools.id, alice.id));
}

TEMPLATE_TEST_CASE("store: ssh keys and servers", "[pg][store][both]", on_sqlite, on_postgres) {
  TestType backend;
  auto& s = backend.store;
  auto deploy = s.create_ssh_key({.name = "deploy", .public_key = ssh_key(7), .private_key_path = "/etc/cpm/deploy"});
  CHECK(s.ssh_key_by_name("deploy")->id == deploy.id);
  CHECK_THROWS_AS(s.create_ssh_key({.name = "deploy", .public_key = ssh_key(8), .private_key_path = "/etc/cpm/x"}),
                  cpm::already_exists);
  auto peer = s.create_server({.name = "peer", .host = "peer.example.org", .port = 2222, .is_neighbor = true,
                               .ssh_key_id = deploy.id});
  (void)s.create_server({.name = "mirror", .host = "10.0.0.2"});
  CHECK_THROWS_AS(s.create_server({.name = "bad", .host = "h", .port = 0}), cpm::validation_error);
  CHECK_THROWS_AS(s.create_server({.name = "x", .host = "h", .ssh_key_id = 999}), cpm::record_not_found);
  CHECK(names(s.neighbor_servers()) == std::vector<std::string>{"peer"});
  CHECK(names(s.list_servers()) == std::vector<std::string>{"peer", "mirror"});
  CHECK(s.server_by_name("peer")->port == 2222);
  auto updated = s.update_server(peer.id, {.port = 22, .ssh_key_id = std::optional<std::int64_t>()});
  CHECK(updated.port == 22);
  CHECK_FALSE(updated.ssh_key_id);
  auto key2 = s.update_ssh_key(deploy.id, {.name = "deploy2"});
  CHECK(key2.name == "deploy2");
  CHECK(names(s.list_ssh_keys()) == std::vector<std::string>{"deploy2"});
  (void)s.update_server(peer.id, {.ssh_key_id = deploy.id});
  s.delete_ssh_key(deploy.id);
  CHECK_FALSE(s.get_server(peer.id)->ssh_key_id);  // the server keeps running with no key
  s.delete_server(peer.id);
  CHECK_THROWS_AS(s.delete_server(peer.id), cpm::record_not_found);
  auto counts = s.counts();
  CHECK(counts.servers == 1);
  CHECK(counts.ssh_keys == 0);
}

TEMPLATE_TEST_CASE("store: a write inside a caller's transaction is a savepoint of it", "[pg][store][both]", on_sqlite,
                   on_postgres) {
  TestType backend;
  auto& s = backend.store;
  using tx_type = std::conditional_t<std::is_same_v<TestType, on_sqlite>, cpm::transaction, cpm::pg::transaction>;
  {
    tx_type tx(s.db());
    (void)add_user(s, "alice");
    CHECK_THROWS_AS(add_user(s, "Alice"), cpm::already_exists);  // refused: the transaction goes on
    (void)add_user(s, "bob");
    tx.commit();
  }
  CHECK(s.counts().users == 2);
  {
    tx_type tx(s.db());
    (void)add_user(s, "carol");
  }  // rolled back
  CHECK_FALSE(s.user_by_name("carol"));
}
