// The store's repository operations: create (with a creator's admin grant, together; a range,
// all or nothing), get by id and by (organization, name), list (lazy, paged), the
// organization's repositories, update with repository_patch, delete; user_repositories.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <range/v3/view/iota.hpp>
#include <range/v3/view/transform.hpp>
#include <store_backends.hpp>
#include <store_support.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ranges>
#include <string>
#include <utility>
#include <vector>

namespace {

using cpm_test::count_rows;
using cpm_test::list_of;
using cpm_test::text;
using cpm_test::texts;

// A store of the backend B (on_sqlite, on_postgres) with two users and two organizations.
template <class B>
struct fixture : B {
  cpm::user alice = this->store.create_user({.username = "alice", .email = "alice@example.org"});
  cpm::user bob = this->store.create_user({.username = "bob", .email = "bob@example.org"});
  cpm::organization acme = this->store.create_organization({.name = "acme"});
  cpm::organization globex = this->store.create_organization({.name = "globex"});

  cpm::repository repo(const std::string& name, std::int64_t org, std::optional<std::int64_t> creator = {}) {
    return this->store.create_repository(
        {.name = name, .org_id = org, .path = fmt::format("/srv/git/{}/{}.git", org, name)}, creator);
  }
};

// A list of repositories (cpm::rows or std::vector): their names, in its order.
template <class Rows>
std::vector<std::string> names(Rows&& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.name);
  return out;
}

// For user_repositories, which gives each repository once in no particular order.
template <class Rows>
std::vector<std::string> sorted_names(Rows&& rows) {
  auto out = names(std::forward<Rows>(rows));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

CPM_STORE_TEST_CASE("create_repository stores the repository and returns it with id and creation time", "[store][repos]") {
  fixture<TestType> f;
  auto tools = f.store.create_repository(
      {.name = "tools", .org_id = f.acme.id, .path = "/srv/git/acme/tools.git", .description = "Tools"});
  CHECK(tools.id > 0);
  CHECK(tools.name == "tools");
  CHECK(tools.org_id == f.acme.id);
  CHECK(tools.path == "/srv/git/acme/tools.git");
  CHECK(tools.description == std::optional<std::string>("Tools"));
  CHECK(tools.created_at.has_value());
  CHECK(text(f.store.get_repository(tools.id)) == text(tools));
  CHECK(count_rows(f.store.db(), "repo_access") == 0);  // no creator, no grant
}

CPM_STORE_TEST_CASE("a repository name is unique within its organization only", "[store][repos]") {
  fixture<TestType> f;
  auto a = f.repo("tools", f.acme.id);
  auto b = f.repo("tools", f.globex.id);
  CHECK(a.id != b.id);
  try {
    (void)f.store.create_repository({.name = "tools", .org_id = f.acme.id, .path = "/srv/git/elsewhere.git"});
    FAIL("two repositories named tools in acme");
  } catch (const cpm::already_exists& e) {
    CHECK(e.entity() == "repository");
    CHECK(e.field() == "name");
    CHECK(e.value() == "tools");
  }
  CHECK(count_rows(f.store.db(), "repositories") == 2);
}

CPM_STORE_TEST_CASE("create_repository with a creator grants the creator admin in the same transaction", "[store][repos]") {
  fixture<TestType> f;
  auto tools = f.repo("tools", f.acme.id, f.bob.id);
  auto grant = f.store.repo_grant(tools.id, f.bob.id);
  REQUIRE(grant);
  CHECK(grant->access_level == cpm::access_level::admin);
  CHECK(f.store.access_level(f.bob.id, tools.id) == cpm::access_level::admin);
  CHECK_FALSE(f.store.repo_grant(tools.id, f.alice.id));
}

CPM_STORE_TEST_CASE("create_repository with a missing creator stores nothing", "[store][repos]") {
  fixture<TestType> f;
  try {
    (void)f.repo("tools", f.acme.id, f.bob.id + 77);
    FAIL("a repository was made for a creator that does not exist");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "user");
    CHECK(e.key() == std::to_string(f.bob.id + 77));
  }
  CHECK(count_rows(f.store.db(), "repositories") == 0);
  CHECK(count_rows(f.store.db(), "repo_access") == 0);
  CHECK_FALSE(f.store.repository_by_name(f.acme.id, "tools"));
  CHECK_FALSE(f.store.db().in_transaction());
  CHECK(f.repo("tools", f.acme.id, f.bob.id).name == "tools");  // the name is still free
}

CPM_STORE_TEST_CASE("create_repository in a missing organization is record_not_found", "[store][repos]") {
  fixture<TestType> f;
  try {
    (void)f.repo("tools", f.globex.id + 10);
    FAIL("a repository in no organization");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "organization");
    CHECK(e.key() == std::to_string(f.globex.id + 10));
  }
  CHECK(count_rows(f.store.db(), "repositories") == 0);
}

CPM_STORE_TEST_CASE("get_repository and repository_by_name find repositories, nullopt otherwise", "[store][repos]") {
  fixture<TestType> f;
  auto a = f.repo("tools", f.acme.id);
  auto b = f.repo("tools", f.globex.id);
  CHECK(f.store.get_repository(b.id)->org_id == f.globex.id);
  CHECK_FALSE(f.store.get_repository(b.id + 1));
  CHECK(f.store.repository_by_name(f.acme.id, "tools")->id == a.id);
  CHECK(f.store.repository_by_name(f.globex.id, "tools")->id == b.id);
  CHECK_FALSE(f.store.repository_by_name(f.acme.id, "site"));
  CHECK_FALSE(f.store.repository_by_name(f.globex.id + 1, "tools"));
}

CPM_STORE_TEST_CASE("list_repositories pages through every repository, org_repositories lists one organization's", "[store][repos]") {
  fixture<TestType> f;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 17; ++i) ids.push_back(f.repo(fmt::format("r{}", i), i % 3 ? f.acme.id : f.globex.id).id);

  std::vector<std::int64_t> listed;
  for (const auto& r : f.store.list_repositories()) listed.push_back(r.id);
  CHECK(listed == ids);

  std::vector<std::int64_t> paged;
  for (cpm::page_request p{.after = 0, .limit = 4};;) {
    auto page = list_of(f.store.list_repositories(p));
    if (page.empty()) break;
    for (const auto& r : page) paged.push_back(r.id);
    p.after = page.back().id;
  }
  CHECK(paged == ids);

  auto acme_repos = list_of(f.store.org_repositories(f.acme.id));
  auto globex_repos = list_of(f.store.org_repositories(f.globex.id));
  CHECK(acme_repos.size() == 11);
  CHECK(globex_repos.size() == 6);
  for (const auto& r : acme_repos) CHECK(r.org_id == f.acme.id);
  for (const auto& r : globex_repos) CHECK(r.org_id == f.globex.id);
  CHECK(list_of(f.store.org_repositories(f.globex.id + 1)).empty());
}

CPM_STORE_TEST_CASE("update_repository changes what the patch sets, a description can be cleared", "[store][repos]") {
  fixture<TestType> f;
  auto tools = f.store.create_repository(
      {.name = "tools", .org_id = f.acme.id, .path = "/srv/git/tools.git", .description = "Tools"});
  auto other = f.repo("other", f.acme.id);

  auto renamed = f.store.update_repository(tools.id, {.name = "toolbox", .path = "/srv/git/toolbox.git"});
  CHECK(renamed.name == "toolbox");
  CHECK(renamed.path == "/srv/git/toolbox.git");
  CHECK(renamed.org_id == f.acme.id);
  CHECK(renamed.description == std::optional<std::string>("Tools"));
  CHECK(renamed.created_at == tools.created_at);

  auto moved = f.store.update_repository(tools.id, {.org_id = f.globex.id});
  CHECK(moved.org_id == f.globex.id);
  CHECK(moved.name == "toolbox");
  CHECK(f.store.repository_by_name(f.globex.id, "toolbox")->id == tools.id);
  CHECK_FALSE(f.store.repository_by_name(f.acme.id, "toolbox"));

  auto cleared = f.store.update_repository(tools.id, {.description = std::optional<std::string>{}});
  CHECK_FALSE(cleared.description.has_value());
  CHECK(text(f.store.get_repository(tools.id)) == text(cleared));
  CHECK(text(f.store.get_repository(other.id)) == text(other));
}

CPM_STORE_TEST_CASE("update_repository refuses a taken name, a missing organization and an unknown id", "[store][repos]") {
  fixture<TestType> f;
  auto tools = f.repo("tools", f.acme.id);
  auto site = f.repo("site", f.acme.id);
  auto globex_tools = f.repo("tools", f.globex.id);

  SECTION("renaming onto a name taken in the same organization") {
    try {
      (void)f.store.update_repository(site.id, {.name = "tools", .path = "/new/path"});
      FAIL("two repositories named tools in acme");
    } catch (const cpm::already_exists& e) {
      CHECK(e.entity() == "repository");
      CHECK(e.value() == "tools");
    }
  }
  SECTION("moving into an organization where the name is taken") {
    try {
      (void)f.store.update_repository(globex_tools.id, {.org_id = f.acme.id});
      FAIL("two repositories named tools in acme");
    } catch (const cpm::already_exists& e) {
      CHECK(e.entity() == "repository");
      CHECK(e.field() == "name");
      CHECK(e.value() == "tools");  // the name that clashes, though the patch did not set it
    }
  }
  SECTION("moving into a missing organization") {
    try {
      (void)f.store.update_repository(site.id, {.org_id = f.globex.id + 3});
      FAIL("moved into no organization");
    } catch (const cpm::record_not_found& e) {
      CHECK(e.entity() == "organization");
      CHECK(e.key() == std::to_string(f.globex.id + 3));
    }
  }
  SECTION("an unknown repository") {
    try {
      (void)f.store.update_repository(globex_tools.id + 1, {.name = "x"});
      FAIL("updated a repository that does not exist");
    } catch (const cpm::record_not_found& e) {
      CHECK(e.entity() == "repository");
      CHECK(e.key() == std::to_string(globex_tools.id + 1));
    }
  }
  CHECK(texts(list_of(f.store.list_repositories())) ==
        std::vector<std::string>{text(tools), text(site), text(globex_tools)});
}

CPM_STORE_TEST_CASE("delete_repository removes it and its grants, an unknown id is record_not_found", "[store][repos]") {
  fixture<TestType> f;
  auto tools = f.repo("tools", f.acme.id, f.alice.id);
  auto site = f.repo("site", f.acme.id, f.alice.id);
  (void)f.store.grant_access(tools.id, f.bob.id, cpm::access_level::write);
  f.store.delete_repository(tools.id);
  CHECK_FALSE(f.store.get_repository(tools.id));
  CHECK(list_of(f.store.repository_grants(tools.id)).empty());
  CHECK(list_of(f.store.repository_grants(site.id)).size() == 1);
  CHECK(count_rows(f.store.db(), "repo_access") == 1);
  try {
    f.store.delete_repository(tools.id);
    FAIL("deleted twice");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "repository");
    CHECK(e.key() == std::to_string(tools.id));
  }
}

CPM_STORE_TEST_CASE("create_repositories stores a range in one transaction, all or nothing", "[store][repos]") {
  fixture<TestType> f;
  auto make = [&](int i) {
    return cpm::repository{.name = fmt::format("r{}", i), .org_id = f.acme.id, .path = fmt::format("/git/r{}", i)};
  };
  SECTION("all stored") {
    CHECK(f.store.create_repositories(ranges::views::iota(0, 30) | ranges::views::transform(make)) == 30);
    CHECK(count_rows(f.store.db(), "repositories") == 30);
  }
  SECTION("one clash and none is stored") {
    std::vector<cpm::repository> repos;
    for (int i = 0; i < 30; ++i) repos.push_back(make(i));
    repos[20].name = "r3";
    CHECK_THROWS_AS(f.store.create_repositories(repos), cpm::already_exists);
    CHECK(count_rows(f.store.db(), "repositories") == 0);
  }
  SECTION("one in a missing organization and none is stored") {
    std::vector<cpm::repository> repos;
    for (int i = 0; i < 30; ++i) repos.push_back(make(i));
    repos[29].org_id = 999;
    CHECK_THROWS_AS(f.store.create_repositories(repos), cpm::record_not_found);
    CHECK(count_rows(f.store.db(), "repositories") == 0);
  }
  SECTION("one with a relative path and none is stored") {
    std::vector<cpm::repository> repos;
    for (int i = 0; i < 30; ++i) repos.push_back(make(i));
    repos[1].path = "git/r1";
    CHECK_THROWS_AS(f.store.create_repositories(repos), cpm::validation_error);
    CHECK(count_rows(f.store.db(), "repositories") == 0);
  }
  CHECK_FALSE(f.store.db().in_transaction());
}

CPM_STORE_TEST_CASE("user_repositories gives the repositories reached through membership or a grant, each once", "[store][repos]") {
  fixture<TestType> f;
  auto initech = f.store.create_organization({.name = "initech"});
  auto a1 = f.repo("a1", f.acme.id);
  auto a2 = f.repo("a2", f.acme.id);
  auto g1 = f.repo("g1", f.globex.id);
  auto g2 = f.repo("g2", f.globex.id);
  auto i1 = f.repo("i1", initech.id);
  (void)f.store.add_org_member(f.acme.id, f.alice.id, cpm::org_role::member);
  (void)f.store.grant_access(g2.id, f.alice.id, cpm::access_level::read);  // a grant outside her orgs
  (void)f.store.grant_access(a1.id, f.alice.id, cpm::access_level::write);  // and one inside: still once
  (void)f.store.add_org_member(initech.id, f.bob.id, cpm::org_role::owner);
  (void)f.store.grant_access(g1.id, f.bob.id, cpm::access_level::admin);

  CHECK(sorted_names(f.store.user_repositories(f.alice.id)) == std::vector<std::string>{"a1", "a2", "g2"});
  CHECK(sorted_names(f.store.user_repositories(f.bob.id)) == std::vector<std::string>{"g1", "i1"});
  auto carol = f.store.create_user({.username = "carol", .email = "carol@example.org"});
  CHECK(list_of(f.store.user_repositories(carol.id)).empty());
  CHECK(list_of(f.store.user_repositories(carol.id + 100)).empty());

  // Each row is the whole repository.
  auto rows = list_of(f.store.user_repositories(f.alice.id));
  REQUIRE(rows.size() == 3);
  auto found = std::find_if(rows.begin(), rows.end(), [&](const cpm::repository& r) { return r.id == a2.id; });
  REQUIRE(found != rows.end());
  CHECK(text(*found) == text(a2));

  // Losing the membership keeps what the grants give.
  f.store.remove_org_member(f.acme.id, f.alice.id);
  CHECK(sorted_names(f.store.user_repositories(f.alice.id)) == std::vector<std::string>{"a1", "g2"});
  (void)i1;
}
