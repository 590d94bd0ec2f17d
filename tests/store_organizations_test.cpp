// The store's organization and membership operations: create (with an owner, together), get
// by id and by name, list (lazy, paged), update with organization_patch, delete; members:
// add, get, find, list, org_members(org) in role order, set_org_role, remove.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_backends.hpp>
#include <store_support.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

using cpm_test::count_rows;
using cpm_test::list_of;
using cpm_test::text;
using cpm_test::texts;

template <class Store>
cpm::user add_user(Store& store, const std::string& name) {
  return store.create_user({.username = name, .email = name + "@example.org"});
}

}  // namespace

CPM_STORE_TEST_CASE("create_organization stores the organization and returns it with id and creation time", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto acme = store.create_organization({.name = "acme", .description = "Tools"});
  auto globex = store.create_organization({.name = "globex"});
  CHECK(acme.id > 0);
  CHECK(globex.id > acme.id);
  CHECK(acme.name == "acme");
  CHECK(acme.description == std::optional<std::string>("Tools"));
  CHECK_FALSE(globex.description.has_value());
  CHECK(acme.created_at.has_value());
  CHECK(count_rows(store.db(), "org_members") == 0);  // no owner given, no membership
  CHECK(text(store.get_organization(acme.id)) == text(acme));
}

CPM_STORE_TEST_CASE("create_organization with an owner makes the owner's membership in the same transaction", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = add_user(store, "alice");
  auto acme = store.create_organization({.name = "acme"}, alice.id);
  auto member = store.org_membership(acme.id, alice.id);
  REQUIRE(member);
  CHECK(member->role == cpm::org_role::owner);
  CHECK(member->joined_at.has_value());
  CHECK(store.access_level(alice.id, store.create_repository({.name = "r", .org_id = acme.id, .path = "/r"}).id) ==
        cpm::access_level::admin);
}

CPM_STORE_TEST_CASE("create_organization with a missing owner stores nothing", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = add_user(store, "alice");
  try {
    (void)store.create_organization({.name = "acme"}, alice.id + 41);
    FAIL("an organization was made for an owner that does not exist");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "user");
    CHECK(e.key() == std::to_string(alice.id + 41));
  }
  CHECK(count_rows(store.db(), "organizations") == 0);
  CHECK(count_rows(store.db(), "org_members") == 0);
  CHECK_FALSE(store.organization_by_name("acme"));
  CHECK_FALSE(store.db().in_transaction());
  // The name is still free.
  CHECK(store.create_organization({.name = "acme"}, alice.id).name == "acme");
}

CPM_STORE_TEST_CASE("get_organization and organization_by_name find organizations, nullopt otherwise", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto acme = store.create_organization({.name = "acme"});
  auto globex = store.create_organization({.name = "globex", .description = "G"});
  CHECK(store.get_organization(globex.id)->name == "globex");
  CHECK(store.organization_by_name("acme")->id == acme.id);
  CHECK_FALSE(store.get_organization(globex.id + 1));
  CHECK_FALSE(store.organization_by_name("ACME"));
  CHECK_FALSE(store.organization_by_name("initech"));
}

CPM_STORE_TEST_CASE("list_organizations lists in id order and pages through the whole table", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(store.create_organization({.name = fmt::format("org{}", i)}).id);
  std::vector<std::int64_t> listed;
  for (const auto& o : store.list_organizations()) listed.push_back(o.id);
  CHECK(listed == ids);

  std::vector<std::int64_t> paged;
  std::size_t pages = 0;
  for (cpm::page_request p{.after = 0, .limit = 5};;) {
    auto page = list_of(store.list_organizations(p));
    if (page.empty()) break;
    ++pages;
    CHECK(page.size() <= 5);
    for (const auto& o : page) paged.push_back(o.id);
    p.after = page.back().id;
  }
  CHECK(pages == 3);
  CHECK(paged == ids);
}

CPM_STORE_TEST_CASE("update_organization changes only what the patch sets, a description can be cleared", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto acme = store.create_organization({.name = "acme", .description = "Tools"});
  auto other = store.create_organization({.name = "other", .description = "Other"});

  auto renamed = store.update_organization(acme.id, {.name = "acme-corp"});
  CHECK(renamed.name == "acme-corp");
  CHECK(renamed.description == std::optional<std::string>("Tools"));
  CHECK(renamed.created_at == acme.created_at);

  auto described = store.update_organization(acme.id, {.description = std::optional<std::string>("New")});
  CHECK(described.name == "acme-corp");
  CHECK(described.description == std::optional<std::string>("New"));

  auto cleared = store.update_organization(acme.id, {.description = std::optional<std::string>{}});
  CHECK_FALSE(cleared.description.has_value());
  CHECK_FALSE(store.get_organization(acme.id)->description.has_value());
  CHECK(text(store.get_organization(other.id)) == text(other));
}

CPM_STORE_TEST_CASE("update_organization refuses an unknown id and a taken name", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto acme = store.create_organization({.name = "acme"});
  auto globex = store.create_organization({.name = "globex"});
  try {
    (void)store.update_organization(globex.id, {.name = "acme", .description = std::optional<std::string>("x")});
    FAIL("two organizations share a name");
  } catch (const cpm::already_exists& e) {
    CHECK(e.entity() == "organization");
    CHECK(e.field() == "name");
    CHECK(e.value() == "acme");
  }
  CHECK(text(store.get_organization(globex.id)) == text(globex));
  try {
    (void)store.update_organization(globex.id + 5, {.name = "new"});
    FAIL("updated an organization that does not exist");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "organization");
    CHECK(e.key() == std::to_string(globex.id + 5));
  }
  CHECK(text(store.get_organization(acme.id)) == text(acme));
}

CPM_STORE_TEST_CASE("delete_organization removes it, an unknown id is record_not_found", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto acme = store.create_organization({.name = "acme"});
  auto globex = store.create_organization({.name = "globex"});
  store.delete_organization(acme.id);
  CHECK_FALSE(store.get_organization(acme.id));
  CHECK(store.get_organization(globex.id));
  try {
    store.delete_organization(acme.id);
    FAIL("deleted twice");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "organization");
    CHECK(e.key() == std::to_string(acme.id));
  }
}

CPM_STORE_TEST_CASE("add_org_member adds a membership that the get, find and list operations return", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = add_user(store, "alice");
  auto bob = add_user(store, "bob");
  auto acme = store.create_organization({.name = "acme"});
  auto globex = store.create_organization({.name = "globex"});

  auto m1 = store.add_org_member(acme.id, alice.id, cpm::org_role::admin);
  auto m2 = store.add_org_member(acme.id, bob.id, cpm::org_role::member);
  auto m3 = store.add_org_member(globex.id, bob.id, cpm::org_role::owner);
  CHECK(m1.id > 0);
  CHECK(m1.org_id == acme.id);
  CHECK(m1.user_id == alice.id);
  CHECK(m1.role == cpm::org_role::admin);
  CHECK(m1.joined_at.has_value());

  CHECK(text(store.get_org_member(m2.id)) == text(m2));
  CHECK_FALSE(store.get_org_member(m3.id + 1));
  CHECK(text(store.org_membership(globex.id, bob.id)) == text(m3));
  CHECK_FALSE(store.org_membership(globex.id, alice.id));
  CHECK(texts(list_of(store.list_org_members())) == std::vector<std::string>{text(m1), text(m2), text(m3)});
  CHECK(texts(list_of(store.list_org_members({.after = m1.id, .limit = 1}))) == std::vector<std::string>{text(m2)});
}

CPM_STORE_TEST_CASE("add_org_member refuses a second membership and missing organizations or users", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = add_user(store, "alice");
  auto acme = store.create_organization({.name = "acme"});
  (void)store.add_org_member(acme.id, alice.id, cpm::org_role::member);
  try {
    (void)store.add_org_member(acme.id, alice.id, cpm::org_role::admin);
    FAIL("a user was made a member twice");
  } catch (const cpm::already_exists& e) {
    CHECK(e.entity() == "org_member");
    CHECK_THAT(e.value(), Catch::Contains(std::to_string(acme.id)) && Catch::Contains(std::to_string(alice.id)));
  }
  CHECK(store.org_membership(acme.id, alice.id)->role == cpm::org_role::member);
  try {
    (void)store.add_org_member(acme.id + 9, alice.id, cpm::org_role::admin);
    FAIL("membership in a missing organization");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "organization");
    CHECK(e.key() == std::to_string(acme.id + 9));
  }
  try {
    (void)store.add_org_member(acme.id, alice.id + 9, cpm::org_role::admin);
    FAIL("membership of a missing user");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "user");
    CHECK(e.key() == std::to_string(alice.id + 9));
  }
  CHECK(count_rows(store.db(), "org_members") == 1);
}

CPM_STORE_TEST_CASE("org_members lists owners, then admins, then members, each by username", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  // Role names sort admin < member < owner as text; the list must follow rank instead.
  struct entry {
    const char* name;
    cpm::org_role role;
  };
  const entry entries[] = {{"amy", cpm::org_role::member}, {"zed", cpm::org_role::owner},
                           {"carl", cpm::org_role::admin}, {"abe", cpm::org_role::member},
                           {"bob", cpm::org_role::admin},  {"yan", cpm::org_role::owner},
                           {"Zoe", cpm::org_role::member}};
  auto acme = store.create_organization({.name = "acme"});
  auto other = store.create_organization({.name = "other"});
  for (const auto& e : entries) {
    auto u = add_user(store, e.name);
    (void)store.add_org_member(acme.id, u.id, e.role);
  }
  auto outsider = add_user(store, "aaron");
  (void)store.add_org_member(other.id, outsider.id, cpm::org_role::owner);

  std::vector<std::string> names;
  std::vector<cpm::org_role> roles;
  for (const cpm::member_info& m : store.org_members(acme.id)) {
    names.push_back(m.username);
    roles.push_back(m.role);
    CHECK(m.email == m.username + "@example.org");
    CHECK(m.joined_at.has_value());
    CHECK(store.get_user(m.user_id)->username == m.username);
  }
  // Within a role, usernames in SQLite's binary order ('Z' before 'a').
  CHECK(names == std::vector<std::string>{"yan", "zed", "bob", "carl", "Zoe", "abe", "amy"});
  CHECK(roles == std::vector<cpm::org_role>{cpm::org_role::owner, cpm::org_role::owner, cpm::org_role::admin,
                                            cpm::org_role::admin, cpm::org_role::member, cpm::org_role::member,
                                            cpm::org_role::member});

  auto others = list_of(store.org_members(other.id));
  REQUIRE(others.size() == 1);
  CHECK(others[0].username == "aaron");
  CHECK(list_of(store.org_members(other.id + 100)).empty());
}

CPM_STORE_TEST_CASE("set_org_role changes a member's role and refuses a missing membership", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = add_user(store, "alice");
  auto bob = add_user(store, "bob");
  auto acme = store.create_organization({.name = "acme"}, alice.id);
  auto before = store.add_org_member(acme.id, bob.id, cpm::org_role::member);

  auto after = store.set_org_role(acme.id, bob.id, cpm::org_role::admin);
  CHECK(after.id == before.id);
  CHECK(after.role == cpm::org_role::admin);
  CHECK(after.joined_at == before.joined_at);
  CHECK(store.org_membership(acme.id, bob.id)->role == cpm::org_role::admin);
  CHECK(store.org_membership(acme.id, alice.id)->role == cpm::org_role::owner);

  auto carol = add_user(store, "carol");
  try {
    (void)store.set_org_role(acme.id, carol.id, cpm::org_role::owner);
    FAIL("a role was set for a non-member");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "org_member");
    CHECK_THAT(e.key(), Catch::Contains(std::to_string(carol.id)));
  }
  CHECK_FALSE(store.org_membership(acme.id, carol.id));
}

CPM_STORE_TEST_CASE("remove_org_member removes one membership and refuses a missing one", "[store][orgs]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = add_user(store, "alice");
  auto bob = add_user(store, "bob");
  auto acme = store.create_organization({.name = "acme"}, alice.id);
  (void)store.add_org_member(acme.id, bob.id, cpm::org_role::member);
  store.remove_org_member(acme.id, bob.id);
  CHECK_FALSE(store.org_membership(acme.id, bob.id));
  CHECK(store.org_membership(acme.id, alice.id));
  CHECK(store.get_user(bob.id));  // the user stays
  try {
    store.remove_org_member(acme.id, bob.id);
    FAIL("removed a membership twice");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "org_member");
  }
  CHECK(count_rows(store.db(), "org_members") == 1);
}
