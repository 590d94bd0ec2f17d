// A git service's rules, held by the store and by the database itself: names unique
// regardless of case, unique repository paths, an owner for every organization, one user per
// SSH key; and a legacy file that already breaks them is refused with the rows named.
#include <cpm/sqlite.hpp>
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_backends.hpp>
#include <store_support.hpp>
#include <support.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace {

using cpm_test::count_rows;
using cpm_test::first_of;
using cpm_test::scalar;
using cpm_test::dump;

// A store of the backend B (on_sqlite, on_postgres): alice owns acme, bob is no member.
template <class B>
struct acme_fixture : B {
  cpm::user alice = this->store.create_user({.username = "alice", .email = "alice@example.org"});
  cpm::user bob = this->store.create_user({.username = "bob", .email = "bob@example.org"});
  cpm::organization acme = this->store.create_organization({.name = "acme"}, alice.id);
};

std::vector<std::string> organizations_of(const cpm::last_owner& e) { return e.organizations(); }

}  // namespace

CPM_STORE_TEST_CASE("usernames and organization names are unique regardless of case", "[store][rules]") {
  acme_fixture<TestType> f;
  CHECK_THROWS_MATCHES(f.store.create_user({.username = "Alice", .email = "a2@example.org"}), cpm::already_exists,
                       Catch::Message("user with username 'Alice' already exists"));
  CHECK_THROWS_AS(f.store.update_user(f.bob.id, {.username = "ALICE"}), cpm::already_exists);
  CHECK_THROWS_AS(f.store.create_organization({.name = "ACME"}), cpm::already_exists);
  CHECK(count_rows(f.store.db(), "users") == 2);
  CHECK(count_rows(f.store.db(), "organizations") == 1);
  CHECK(f.store.get_user(f.bob.id)->username == "bob");
  // Renaming a user to another case of their own name is allowed.
  CHECK(f.store.update_user(f.alice.id, {.username = "Alice"}).username == "Alice");
}

CPM_STORE_TEST_CASE("a repository's path is unique, on create and on update", "[store][rules]") {
  acme_fixture<TestType> f;
  auto tools = f.store.create_repository({.name = "tools", .org_id = f.acme.id, .path = "/srv/git/acme/tools.git"});
  CHECK_THROWS_MATCHES(
      f.store.create_repository({.name = "tools2", .org_id = f.acme.id, .path = "/srv/git/acme/tools.git"}),
      cpm::already_exists, Catch::Message("repository with path '/srv/git/acme/tools.git' already exists"));
  auto site = f.store.create_repository({.name = "site", .org_id = f.acme.id, .path = "/srv/git/acme/site.git"});
  try {
    (void)f.store.update_repository(site.id, {.path = tools.path});
    FAIL("a repository moved onto another's path");
  } catch (const cpm::already_exists& e) {
    CHECK(e.field() == "path");
    CHECK(e.value() == tools.path);
  }
  CHECK(f.store.get_repository(site.id)->path == "/srv/git/acme/site.git");
  // A clash of names still names the name.
  try {
    (void)f.store.create_repository({.name = "tools", .org_id = f.acme.id, .path = "/srv/git/other.git"});
    FAIL("a second 'tools' in acme");
  } catch (const cpm::already_exists& e) {
    CHECK(e.field() == "name");
  }
}

CPM_STORE_TEST_CASE("the database refuses what breaks the rules from any writer, not only through the store", "[store][rules]") {
  acme_fixture<TestType> f;
  auto& db = f.store.db();
  (void)f.store.create_repository({.name = "tools", .org_id = f.acme.id, .path = "/srv/git/tools.git"});
  CHECK_THROWS_AS(db.exec("INSERT INTO users(username, email) VALUES ('BOB', 'b@example.org')"), cpm::unique_violation);
  CHECK_THROWS_AS(db.exec("INSERT INTO organizations(name) VALUES ('Acme')"), cpm::unique_violation);
  CHECK_THROWS_AS(db.exec("INSERT INTO repositories(name, org_id, path) VALUES ('x', 1, '/srv/git/tools.git')"),
                  cpm::unique_violation);
  CHECK_THROWS_WITH(db.exec("DELETE FROM org_members"), Catch::Contains("keeps at least one owner"));
  CHECK_THROWS_WITH(db.exec("UPDATE org_members SET role = 'member'"), Catch::Contains("keeps at least one owner"));
  CHECK_THROWS_WITH(db.exec("DELETE FROM users WHERE username = 'alice'"), Catch::Contains("keeps at least one owner"));
  CHECK(count_rows(db, "org_members") == 1);
  // Deleting the organization itself still takes its members with it.
  db.exec("DELETE FROM organizations WHERE name = 'acme'");
  CHECK(count_rows(db, "org_members") == 0);
}

CPM_STORE_TEST_CASE("an organization's last owner cannot be removed, demoted or deleted", "[store][rules]") {
  acme_fixture<TestType> f;
  (void)f.store.add_org_member(f.acme.id, f.bob.id, cpm::org_role::member);
  auto globex = f.store.create_organization({.name = "globex"}, f.alice.id);
  const std::string before = dump(f.store.db());

  CHECK_THROWS_MATCHES(f.store.remove_org_member(f.acme.id, f.alice.id), cpm::last_owner,
                       Catch::Message("user 'alice' is the last owner of organization 'acme': make another member an "
                                      "owner first"));
  CHECK_THROWS_AS(f.store.set_org_role(f.acme.id, f.alice.id, cpm::org_role::admin), cpm::last_owner);
  try {
    f.store.delete_user(f.alice.id);
    FAIL("the last owner of two organizations was deleted");
  } catch (const cpm::last_owner& e) {
    CHECK(organizations_of(e) == std::vector<std::string>{"acme", "globex"});
    CHECK(e.username() == "alice");
  }
  CHECK(dump(f.store.db()) == before);

  SECTION("with a second owner, the first may go") {
    (void)f.store.set_org_role(f.acme.id, f.bob.id, cpm::org_role::owner);
    (void)f.store.set_org_role(f.acme.id, f.alice.id, cpm::org_role::member);
    f.store.remove_org_member(f.acme.id, f.alice.id);
    CHECK_FALSE(f.store.org_membership(f.acme.id, f.alice.id).has_value());
    CHECK_THROWS_AS(f.store.delete_user(f.alice.id), cpm::last_owner);  // still globex's only owner
    f.store.delete_organization(globex.id);
    f.store.delete_user(f.alice.id);
    CHECK_FALSE(f.store.get_user(f.alice.id).has_value());
  }
  SECTION("members who are not owners come and go freely") {
    f.store.remove_org_member(f.acme.id, f.bob.id);
    CHECK(f.store.org_member_count(f.acme.id) == 1);
  }
}

CPM_STORE_TEST_CASE("an organization without members, as the original system allowed, is kept and can get an owner",
          "[store][rules]") {
  TestType backend;
  auto& store = backend.store;
  auto bob = store.create_user({.username = "bob", .email = "bob@example.org"});
  auto empty = store.create_organization({.name = "empty"});
  CHECK(store.org_member_count(empty.id) == 0);
  (void)store.add_org_member(empty.id, bob.id, cpm::org_role::member);
  store.remove_org_member(empty.id, bob.id);  // no owner to lose
  (void)store.add_org_member(empty.id, bob.id, cpm::org_role::owner);
  CHECK_THROWS_AS(store.remove_org_member(empty.id, bob.id), cpm::last_owner);
}

#if !CPM_STORE_TESTS_POSTGRES
// SQLite only: the legacy database is a file in the original system's SQLite schema
// (cpm::original_schema_sql), adopted by cpm::store::open; PostgreSQL has no such legacy.
TEST_CASE("a legacy database that breaks the rules is refused with every conflicting row named, and left as it was",
          "[store][rules][adoption]") {
  cpm_test::temp_dir dir;
  const auto path = dir.path() / "legacy.db";
  {
    cpm::open_options options;
    options.journal = cpm::journal_mode::rollback;
    auto db = cpm::connection::open(path.string(), options);
    db.exec(cpm::original_schema_sql);
    db.exec("INSERT INTO users(username, email, public_key) VALUES ('alice', 'a@example.org', '" +
            cpm_test::ssh_key(1, "alice@laptop") + "'), ('Alice', 'a2@example.org', ''), "
            "('carol', 'c@example.org', '" + cpm_test::ssh_key(1, "carol@desk") + "'), "
            "('dave', 'd@example.org', 'not a key')");
    db.exec("INSERT INTO organizations(name, description) VALUES ('acme', ''), ('ACME', '')");
    db.exec("INSERT INTO repositories(name, org_id, path, description) VALUES ('tools', 1, '/srv/git/t.git', ''), "
            "('tools2', 1, '/srv/git/t.git', '')");
  }
  const auto before = cpm_test::file_bytes(path);
  try {
    (void)cpm::store::open(path.string());
    FAIL("a database breaking the rules was adopted");
  } catch (const cpm::rule_conflict& e) {
    const auto& c = e.conflicts();
    REQUIRE(c.size() == 5);
    CHECK(c[0] == "users 'alice', 'Alice' differ only in case");
    CHECK(c[1] == "organizations 'acme', 'ACME' differ only in case");
    CHECK(c[2] == "repositories 'acme/tools', 'acme/tools2' share the path '/srv/git/t.git'");
    CHECK_THAT(c[3], Catch::StartsWith("user 'dave' has a public key cpm cannot read"));
    CHECK_THAT(c[4], Catch::StartsWith("users 'alice', 'carol' hold the same public key SHA256:"));
    CHECK_THAT(e.what(), Catch::Contains("left untouched"));
  }
  CHECK(cpm_test::file_bytes(path) == before);
}
#endif

CPM_STORE_TEST_CASE("users hold many SSH keys, each found by key and by fingerprint as OpenSSH prints it", "[store][keys]") {
  acme_fixture<TestType> f;
  // ssh-keygen -l -f on this key prints SHA256:JCNnxenJUXmqiOJnwpXLvCaiSLBk9xRNALZz6Eo8j3M.
  const std::string laptop =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2b58ere7p96IeHxcIA7r1cuzRcCyYCUAYmOEXx3k58 alice@laptop";
  auto k1 = f.store.add_user_key(f.alice.id, "laptop", laptop + "\n");
  CHECK(k1.fingerprint == "SHA256:JCNnxenJUXmqiOJnwpXLvCaiSLBk9xRNALZz6Eo8j3M");
  CHECK(k1.public_key == laptop.substr(0, laptop.rfind(' ')));
  CHECK(k1.comment == "alice@laptop");
  CHECK(k1.created_at.has_value());
  auto k2 = f.store.add_user_key(f.alice.id, "desktop", cpm_test::ssh_key(7));
  CHECK_FALSE(k2.comment.has_value());

  CHECK(f.store.user_key_count(f.alice.id) == 2);
  std::vector<std::string> names;
  for (const auto& k : f.store.user_keys(f.alice.id)) names.push_back(k.name);
  CHECK(names == std::vector<std::string>{"laptop", "desktop"});

  CHECK(f.store.user_by_public_key(cpm_test::ssh_key(7, "whatever comment"))->username == "alice");
  CHECK(f.store.user_by_public_key(laptop.substr(0, laptop.rfind(' ')))->id == f.alice.id);
  CHECK(f.store.user_by_fingerprint("SHA256:JCNnxenJUXmqiOJnwpXLvCaiSLBk9xRNALZz6Eo8j3M")->id == f.alice.id);
  CHECK(f.store.user_key_by_fingerprint(k2.fingerprint)->name == "desktop");
  CHECK_FALSE(f.store.user_by_fingerprint("SHA256:nothing").has_value());
  CHECK_FALSE(f.store.user_by_public_key("").has_value());

  SECTION("a key held by a user cannot be given to another, nor twice to the same") {
    CHECK_THROWS_AS(f.store.add_user_key(f.bob.id, "stolen", cpm_test::ssh_key(7, "bob@x")), cpm::already_exists);
    CHECK_THROWS_AS(f.store.add_user_key(f.alice.id, "again", cpm_test::ssh_key(7)), cpm::already_exists);
    CHECK_THROWS_AS(f.store.create_user({.username = "eve", .email = "e@example.org", .public_key = laptop}),
                    cpm::already_exists);
    CHECK_THROWS_AS(f.store.update_user(f.bob.id, {.public_key = std::optional<std::string>(laptop)}),
                    cpm::already_exists);
    CHECK(f.store.user_key_count(f.bob.id) == 0);
    CHECK_FALSE(f.store.user_by_name("eve").has_value());
  }
  SECTION("a key name is the user's own: unique per user") {
    CHECK_THROWS_MATCHES(f.store.add_user_key(f.alice.id, "laptop", cpm_test::ssh_key(8)), cpm::already_exists,
                         Catch::Message("user_key with name 'laptop' already exists"));
    CHECK(f.store.add_user_key(f.bob.id, "laptop", cpm_test::ssh_key(8)).user_id == f.bob.id);
  }
  SECTION("keys are validated") {
    CHECK_THROWS_AS(f.store.add_user_key(f.alice.id, "bad", "ssh-ed25519 not-base64"), cpm::validation_error);
    CHECK_THROWS_AS(f.store.add_user_key(f.alice.id, "", cpm_test::ssh_key(9)), cpm::validation_error);
    CHECK_THROWS_AS(f.store.add_user_key(999, "x", cpm_test::ssh_key(9)), cpm::record_not_found);
  }
  SECTION("users.public_key mirrors the first key, for the original system's readers") {
    CHECK(f.store.get_user(f.alice.id)->public_key == k1.public_key);
    f.store.remove_user_key(k1.id);
    CHECK(f.store.get_user(f.alice.id)->public_key == cpm_test::ssh_key(7));
    f.store.remove_user_key(k2.id);
    CHECK_FALSE(f.store.get_user(f.alice.id)->public_key.has_value());
    CHECK(scalar<std::optional<std::string>>(f.store.db(), "SELECT public_key FROM users WHERE id = ?", f.alice.id) ==
          "");  // '' as the original wrote, never NULL
    CHECK_THROWS_AS(f.store.remove_user_key(k2.id), cpm::record_not_found);
  }
  SECTION("a login is recorded on the key") {
    const auto when = cpm::timestamp{std::chrono::seconds{1'700'000'000}};
    f.store.mark_key_used(k2.id, when);
    CHECK(f.store.get_user_key(k2.id)->last_used_at == when);
    CHECK_FALSE(f.store.get_user_key(k1.id)->last_used_at.has_value());
    CHECK_THROWS_AS(f.store.mark_key_used(999), cpm::record_not_found);
  }
  SECTION("deleting the user deletes their keys") {
    f.store.delete_organization(f.acme.id);
    f.store.delete_user(f.alice.id);
    CHECK(count_rows(f.store.db(), "user_keys") == 0);
  }
}

CPM_STORE_TEST_CASE("a user's first key cannot be replaced by another key the user already holds", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  auto u = store.create_user({.username = "u", .email = "u@example.org", .public_key = cpm_test::ssh_key(1)});
  (void)store.add_user_key(u.id, "second", cpm_test::ssh_key(2));
  const std::string before = dump(store.db());
  try {
    (void)store.update_user(u.id, {.public_key = std::optional<std::string>(cpm_test::ssh_key(2))});
    FAIL("two rows of one key");
  } catch (const cpm::already_exists& e) {
    CHECK(e.field() == "public_key");
    CHECK(e.value() == cpm_test::ssh_key(2));
  }
  CHECK(dump(store.db()) == before);
  // The first key itself may be given again, with another comment.
  (void)store.update_user(u.id, {.public_key = std::optional<std::string>(cpm_test::ssh_key(1, "new@host"))});
  CHECK(first_of(store.user_keys(u.id)).comment == "new@host");
}

CPM_STORE_TEST_CASE("user_by_public_key finds no one for a key type alone or a base64 spelled another way", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  (void)store.create_user({.username = "u", .email = "u@example.org", .public_key = cpm_test::ssh_key(1)});
  CHECK_FALSE(store.user_by_public_key("ssh-ed25519").has_value());
  CHECK_FALSE(store.user_by_public_key("ssh-ed25519 ").has_value());
  CHECK(store.user_by_public_key(cpm_test::ssh_key(1)).has_value());
  // Base64 whose padding leaves non-zero bits names the same bytes as the canonical text:
  // OpenSSH refuses it, and so does cpm, so that one key has one spelling.
  std::string key = cpm_test::ssh_key(3, "", "ssh-rsa");  // a 47-byte blob: one '=' of padding
  REQUIRE(key.back() == '=');
  CHECK(store.add_user_key(1, "rsa", key).public_key == key);
  char& last = key[key.size() - 2];  // its two low bits are the padding's, zero
  last = static_cast<char>(last + 1);  // 'A' -> 'B', 'Q' -> 'R', ...: the same bytes, spelled otherwise
  CHECK_THROWS_AS(store.add_user_key(1, "alias", key), cpm::validation_error);
}

CPM_STORE_TEST_CASE("a user's public_key is their first key: create, replace, remove", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  auto carol = store.create_user({.username = "carol", .email = "c@example.org", .public_key = cpm_test::ssh_key(3, "c@h")});
  CHECK(carol.public_key == cpm_test::ssh_key(3));
  CHECK(first_of(store.user_keys(carol.id)).comment == "c@h");
  REQUIRE(store.user_key_count(carol.id) == 1);
  CHECK(first_of(store.user_keys(carol.id)).name == "default");
  auto replaced = store.update_user(carol.id, {.public_key = std::optional<std::string>(cpm_test::ssh_key(4))});
  CHECK(replaced.public_key == cpm_test::ssh_key(4));
  CHECK(store.user_key_count(carol.id) == 1);
  CHECK_FALSE(store.user_by_public_key(cpm_test::ssh_key(3)).has_value());
  auto removed = store.update_user(carol.id, {.public_key = std::optional<std::string>()});
  CHECK_FALSE(removed.public_key.has_value());
  CHECK(store.user_key_count(carol.id) == 0);
}

CPM_STORE_TEST_CASE("'' in the original system's text columns reads as none, and none is written as ''", "[store][compat]") {
  TestType backend;
  auto& store = backend.store;
  auto& db = store.db();
  db.exec("INSERT INTO users(username, email, public_key) VALUES ('go', 'go@example.org', '')");
  db.exec("INSERT INTO organizations(name, description) VALUES ('goorg', '')");
  db.exec("INSERT INTO repositories(name, org_id, path, description) VALUES ('gorepo', 1, '/srv/go.git', '')");
  CHECK_FALSE(store.user_by_name("go")->public_key.has_value());
  CHECK_FALSE(store.organization_by_name("goorg")->description.has_value());
  CHECK_FALSE(store.repository_by_path("/srv/go.git")->description.has_value());

  auto org = store.create_organization({.name = "cpmorg"});
  (void)store.create_repository({.name = "r", .org_id = org.id, .path = "/srv/r.git"});
  (void)store.update_organization(org.id, {.description = std::optional<std::string>("text")});
  (void)store.update_organization(org.id, {.description = std::optional<std::string>()});
  (void)store.create_user({.username = "nokey", .email = "n@example.org"});
  CHECK(scalar<std::int64_t>(db, "SELECT count(*) FROM users WHERE public_key IS NULL") == 0);
  CHECK(scalar<std::int64_t>(db, "SELECT count(*) FROM organizations WHERE description IS NULL") == 0);
  CHECK(scalar<std::int64_t>(db, "SELECT count(*) FROM repositories WHERE description IS NULL") == 0);
  CHECK_FALSE(store.get_organization(org.id)->description.has_value());
}

CPM_STORE_TEST_CASE("repositories are found by path and by full name, a user's organizations list the role in each",
          "[store][lookups]") {
  acme_fixture<TestType> f;
  auto globex = f.store.create_organization({.name = "globex"}, f.bob.id);
  (void)f.store.add_org_member(globex.id, f.alice.id, cpm::org_role::admin);
  auto tools = f.store.create_repository({.name = "tools", .org_id = f.acme.id, .path = "/srv/git/acme/tools.git"});
  (void)f.store.create_repository({.name = "tools", .org_id = globex.id, .path = "/srv/git/globex/tools.git"});

  CHECK(f.store.repository_by_path("/srv/git/acme/tools.git")->id == tools.id);
  CHECK_FALSE(f.store.repository_by_path("/srv/git/none.git").has_value());
  CHECK(f.store.repository_by_full_name("acme/tools")->id == tools.id);
  CHECK(f.store.repository_by_full_name("globex/tools")->org_id == globex.id);
  CHECK_FALSE(f.store.repository_by_full_name("acme/none").has_value());
  CHECK_FALSE(f.store.repository_by_full_name("tools").has_value());

  std::vector<std::string> seen;
  for (const auto& m : f.store.user_organizations(f.alice.id))
    seen.push_back(m.name + ":" + std::string(cpm::enum_to_text(m.role)));
  CHECK(seen == std::vector<std::string>{"acme:owner", "globex:admin"});
  CHECK(first_of(f.store.user_organizations(f.bob.id)).name == "globex");

  auto c = f.store.counts();
  CHECK(c.users == 2);
  CHECK(c.organizations == 2);
  CHECK(c.org_members == 3);
  CHECK(c.repositories == 2);
  CHECK(c.user_keys == 0);
  CHECK(c.repo_access == 0);
  CHECK(f.store.org_repository_count(f.acme.id) == 1);
  CHECK(f.store.org_member_count(globex.id) == 2);
}
