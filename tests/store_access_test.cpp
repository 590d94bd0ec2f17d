// The store's repository access operations: grant (create or replace), get by id, by
// (repository, user), list (lazy, paged), a repository's grants, revoke; access_level on the
// cases the rule names.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_backends.hpp>
#include <store_support.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

using cpm_test::count_rows;
using cpm_test::list_of;
using cpm_test::text;
using cpm_test::texts;

// A store of the backend B (on_sqlite, on_postgres) with two users and two repositories.
template <class B>
struct fixture : B {
  cpm::user alice = this->store.create_user({.username = "alice", .email = "alice@example.org"});
  cpm::user bob = this->store.create_user({.username = "bob", .email = "bob@example.org"});
  cpm::organization acme = this->store.create_organization({.name = "acme"});
  cpm::organization globex = this->store.create_organization({.name = "globex"});
  cpm::repository tools = this->store.create_repository({.name = "tools", .org_id = acme.id, .path = "/git/tools"});
  cpm::repository plans = this->store.create_repository({.name = "plans", .org_id = globex.id, .path = "/git/plans"});
};

}  // namespace

CPM_STORE_TEST_CASE("grant_access stores a grant that the get, find and list operations return", "[store][access]") {
  fixture<TestType> f;
  auto g1 = f.store.grant_access(f.tools.id, f.alice.id, cpm::access_level::write);
  auto g2 = f.store.grant_access(f.tools.id, f.bob.id, cpm::access_level::read);
  auto g3 = f.store.grant_access(f.plans.id, f.alice.id, cpm::access_level::admin);
  CHECK(g1.id > 0);
  CHECK(g1.repo_id == f.tools.id);
  CHECK(g1.user_id == f.alice.id);
  CHECK(g1.access_level == cpm::access_level::write);

  CHECK(text(f.store.get_repo_access(g2.id)) == text(g2));
  CHECK_FALSE(f.store.get_repo_access(g3.id + 1));
  CHECK(text(f.store.repo_grant(f.plans.id, f.alice.id)) == text(g3));
  CHECK_FALSE(f.store.repo_grant(f.plans.id, f.bob.id));
  CHECK(texts(list_of(f.store.repository_grants(f.tools.id))) == std::vector<std::string>{text(g1), text(g2)});
  CHECK(texts(list_of(f.store.list_repo_access())) == std::vector<std::string>{text(g1), text(g2), text(g3)});
  CHECK(texts(list_of(f.store.list_repo_access({.after = g1.id, .limit = 1}))) == std::vector<std::string>{text(g2)});
  CHECK(texts(list_of(f.store.list_repo_access({.after = g2.id, .limit = 10}))) == std::vector<std::string>{text(g3)});
}

CPM_STORE_TEST_CASE("grant_access again replaces the level in the same row", "[store][access]") {
  fixture<TestType> f;
  auto first = f.store.grant_access(f.tools.id, f.alice.id, cpm::access_level::read);
  auto second = f.store.grant_access(f.tools.id, f.alice.id, cpm::access_level::admin);
  CHECK(second.id == first.id);
  CHECK(second.access_level == cpm::access_level::admin);
  CHECK(count_rows(f.store.db(), "repo_access") == 1);
  CHECK(f.store.repo_grant(f.tools.id, f.alice.id)->access_level == cpm::access_level::admin);
  auto third = f.store.grant_access(f.tools.id, f.alice.id, cpm::access_level::read);
  CHECK(third.id == first.id);
  CHECK(f.store.access_level(f.alice.id, f.tools.id) == cpm::access_level::read);
}

CPM_STORE_TEST_CASE("grant_access refuses a missing repository or user, storing nothing", "[store][access]") {
  fixture<TestType> f;
  try {
    (void)f.store.grant_access(f.plans.id + 8, f.alice.id, cpm::access_level::read);
    FAIL("a grant on a missing repository");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "repository");
    CHECK(e.key() == std::to_string(f.plans.id + 8));
  }
  try {
    (void)f.store.grant_access(f.tools.id, f.bob.id + 8, cpm::access_level::read);
    FAIL("a grant to a missing user");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "user");
    CHECK(e.key() == std::to_string(f.bob.id + 8));
  }
  CHECK(count_rows(f.store.db(), "repo_access") == 0);
}

CPM_STORE_TEST_CASE("revoke_access removes one grant and refuses a missing one", "[store][access]") {
  fixture<TestType> f;
  (void)f.store.grant_access(f.tools.id, f.alice.id, cpm::access_level::write);
  auto kept = f.store.grant_access(f.tools.id, f.bob.id, cpm::access_level::write);
  f.store.revoke_access(f.tools.id, f.alice.id);
  CHECK_FALSE(f.store.repo_grant(f.tools.id, f.alice.id));
  CHECK(f.store.access_level(f.alice.id, f.tools.id) == std::nullopt);
  CHECK(texts(list_of(f.store.list_repo_access())) == std::vector<std::string>{text(kept)});
  try {
    f.store.revoke_access(f.tools.id, f.alice.id);
    FAIL("revoked twice");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "repo_access");
    CHECK_THAT(e.key(), Catch::Contains(std::to_string(f.tools.id)) && Catch::Contains(std::to_string(f.alice.id)));
  }
}

CPM_STORE_TEST_CASE("access_level is the higher of the direct grant and the organization role", "[store][access]") {
  fixture<TestType> f;
  using L = cpm::access_level;
  using R = cpm::org_role;
  struct scenario {
    std::optional<L> grant;
    std::optional<R> role;
    std::optional<L> expected;
  };
  const scenario scenarios[] = {
      {{}, {}, {}},
      {L::read, {}, L::read},
      {L::write, {}, L::write},
      {L::admin, {}, L::admin},
      {{}, R::member, L::read},
      {{}, R::admin, L::admin},
      {{}, R::owner, L::admin},
      {L::write, R::member, L::write},
      {L::read, R::member, L::read},
      {L::read, R::admin, L::admin},
      {L::write, R::owner, L::admin},
      {L::admin, R::member, L::admin},
  };
  for (const auto& s : scenarios) {
    TestType backend;
    auto& store = backend.store;
    auto u = store.create_user({.username = "u", .email = "u@example.org"});
    auto org = store.create_organization({.name = "org"});
    auto repo = store.create_repository({.name = "r", .org_id = org.id, .path = "/r"});
    if (s.grant) (void)store.grant_access(repo.id, u.id, *s.grant);
    if (s.role) (void)store.add_org_member(org.id, u.id, *s.role);
    INFO("grant " << (s.grant ? static_cast<int>(*s.grant) : 0) << ", role "
                  << (s.role ? static_cast<int>(*s.role) : -1));
    CHECK(store.access_level(u.id, repo.id) == s.expected);
  }
}

CPM_STORE_TEST_CASE("access_level takes the role in the repository's own organization only", "[store][access]") {
  fixture<TestType> f;
  (void)f.store.add_org_member(f.globex.id, f.alice.id, cpm::org_role::owner);
  CHECK(f.store.access_level(f.alice.id, f.plans.id) == cpm::access_level::admin);
  CHECK(f.store.access_level(f.alice.id, f.tools.id) == std::nullopt);  // tools is acme's
  (void)f.store.grant_access(f.plans.id, f.bob.id, cpm::access_level::write);
  CHECK(f.store.access_level(f.bob.id, f.plans.id) == cpm::access_level::write);
  CHECK(f.store.access_level(f.bob.id, f.tools.id) == std::nullopt);  // a grant is per repository
  CHECK(f.store.access_level(f.bob.id, f.plans.id + 50) == std::nullopt);
  CHECK(f.store.access_level(f.bob.id + 50, f.plans.id) == std::nullopt);
}
