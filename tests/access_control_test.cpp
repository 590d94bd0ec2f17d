// Access control: store.access_level and store.user_repositories agree with a reference model
// (the rule, written out independently: the higher of a direct grant and what the user's role
// in the repository's organization gives, owner or admin: admin, member: read) on 110,000
// random memberships and grants, then again after deleting users, repositories and
// organizations, changing roles, revoking grants, removing members, changing grant levels and
// moving repositories between organizations. A user with no membership and no grant never gets
// a level, nor does a deleted user or repository.
#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>
#include <store_backends.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

namespace {

using id = std::int64_t;

std::uint64_t key(id a, id b) { return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint64_t>(b); }

struct model {
  std::set<id> users;
  std::set<id> orgs;
  std::map<id, id> repo_org;                    // repository -> its organization
  std::unordered_map<std::uint64_t, cpm::org_role> role;      // (org, user)
  std::unordered_map<std::uint64_t, cpm::access_level> grant;  // (repo, user)

  [[nodiscard]] std::optional<cpm::access_level> level(id user, id repo) const {
    if (!users.count(user)) return std::nullopt;
    auto r = repo_org.find(repo);
    if (r == repo_org.end()) return std::nullopt;
    int best = 0;
    if (auto g = grant.find(key(repo, user)); g != grant.end()) best = static_cast<int>(g->second);
    if (auto m = role.find(key(r->second, user)); m != role.end())
      best = std::max(best, m->second == cpm::org_role::member ? 1 : 3);
    if (best == 0) return std::nullopt;
    return static_cast<cpm::access_level>(best);
  }

  void delete_user(id u) {
    users.erase(u);
    std::erase_if(role, [&](const auto& item) { return static_cast<id>(item.first & 0xffffffffu) == u; });
    std::erase_if(grant, [&](const auto& item) { return static_cast<id>(item.first & 0xffffffffu) == u; });
  }
  void delete_repo(id r) {
    repo_org.erase(r);
    std::erase_if(grant, [&](const auto& item) { return static_cast<id>(item.first >> 32) == r; });
  }
  void delete_org(id o) {
    orgs.erase(o);
    std::vector<id> gone;
    for (const auto& [r, org] : repo_org)
      if (org == o) gone.push_back(r);
    for (id r : gone) delete_repo(r);
    std::erase_if(role, [&](const auto& item) { return static_cast<id>(item.first >> 32) == o; });
  }
};

struct check_figures {
  std::int64_t pairs = 0, granted = 0, users_listed = 0;
};

// Compares the store with the model on `samples` random (user, repository) pairs (ids of deleted
// and never-made rows included), on every repository for `full_users` random users, whose
// user_repositories must also match, and on every repository for each of `outsiders`.
template <class Store, class Snapshot>
check_figures compare(Store& store, const model& m, std::mt19937_64& rng, int samples, int full_users,
                      const std::vector<id>& outsiders, id max_user, id max_repo) {
  check_figures figures;
  Snapshot snapshot(store.db());
  auto check_pair = [&](id u, id r) {
    auto expected = m.level(u, r);
    auto actual = store.access_level(u, r);
    ++figures.pairs;
    if (expected) ++figures.granted;
    if (actual != expected) {
      FAIL_CHECK("user " << u << " repository " << r << ": store says "
                         << (actual ? static_cast<int>(*actual) : 0) << ", model says "
                         << (expected ? static_cast<int>(*expected) : 0));
    }
  };
  for (int i = 0; i < samples; ++i)
    check_pair(1 + static_cast<id>(rng() % static_cast<std::uint64_t>(max_user + 1)),
               1 + static_cast<id>(rng() % static_cast<std::uint64_t>(max_repo + 1)));

  std::vector<id> all_users(m.users.begin(), m.users.end());
  std::vector<id> chosen;
  std::sample(all_users.begin(), all_users.end(), std::back_inserter(chosen), full_users, rng);
  chosen.insert(chosen.end(), outsiders.begin(), outsiders.end());
  for (id u : chosen) {
    std::set<id> expected_repos;
    for (id r = 1; r <= max_repo; ++r) {
      check_pair(u, r);
      if (m.level(u, r)) expected_repos.insert(r);
    }
    std::set<id> listed;
    for (const cpm::repository& r : store.user_repositories(u)) {
      CHECK(listed.insert(r.id).second);  // each repository once
    }
    ++figures.users_listed;
    if (listed != expected_repos) FAIL_CHECK("user_repositories(" << u << ") differs from the model");
  }
  for (id u : outsiders) {
    CHECK(cpm_test::list_of(store.user_repositories(u)).empty());
  }
  return figures;
}

}  // namespace

CPM_STORE_TEST_CASE("access_level agrees with a reference model on 110,000 random memberships and grants, through changes",
          "[access]") {
  constexpr int user_count = 3000, org_count = 60, repo_count = 1500;
  constexpr int membership_count = 40000, grant_count = 70000;
  std::mt19937_64 rng(20240607);
  const auto started = std::chrono::steady_clock::now();

  TestType backend;
  auto& store = backend.store;
  model m;
  std::vector<id> user_ids, org_ids, repo_ids;
  std::vector<id> outsiders;
  {
    typename TestType::transaction tx(store.db());
    std::vector<cpm::user> users;
    for (int i = 0; i < user_count; ++i)
      users.push_back({.username = fmt::format("user{}", i), .email = fmt::format("user{}@example.org", i)});
    REQUIRE(store.create_users(users) == user_count);
    for (const cpm::user& u : store.list_users()) user_ids.push_back(u.id);
    for (int i = 0; i < org_count; ++i) org_ids.push_back(store.create_organization({.name = fmt::format("org{}", i)}).id);
    std::vector<cpm::repository> repos;
    for (int i = 0; i < repo_count; ++i) {
      id org = org_ids[rng() % org_ids.size()];
      repos.push_back({.name = fmt::format("repo{}", i), .org_id = org, .path = fmt::format("/srv/git/repo{}.git", i)});
    }
    REQUIRE(store.create_repositories(repos) == repo_count);
    for (const cpm::repository& r : store.list_repositories()) {
      repo_ids.push_back(r.id);
      m.repo_org[r.id] = r.org_id;
    }
    m.users.insert(user_ids.begin(), user_ids.end());
    m.orgs.insert(org_ids.begin(), org_ids.end());

    while (m.role.size() < membership_count) {
      id o = org_ids[rng() % org_ids.size()], u = user_ids[rng() % user_ids.size()];
      if (m.role.count(key(o, u))) continue;
      auto r = static_cast<cpm::org_role>(rng() % 3);
      store.add_org_member(o, u, r);
      m.role[key(o, u)] = r;
    }
    while (m.grant.size() < grant_count) {
      id r = repo_ids[rng() % repo_ids.size()], u = user_ids[rng() % user_ids.size()];
      if (m.grant.count(key(r, u))) continue;
      auto level = static_cast<cpm::access_level>(1 + rng() % 3);
      store.grant_access(r, u, level);
      m.grant[key(r, u)] = level;
    }
    // Users with no membership and no grant.
    for (int i = 0; i < 20; ++i) {
      auto u = store.create_user({.username = fmt::format("outsider{}", i), .email = fmt::format("outsider{}@example.org", i)});
      outsiders.push_back(u.id);
      m.users.insert(u.id);
    }
    tx.commit();
  }
  REQUIRE(cpm_test::count_rows(store.db(), "org_members") == membership_count);
  REQUIRE(cpm_test::count_rows(store.db(), "repo_access") == grant_count);

  id max_user = user_ids.back() + 50, max_repo = repo_ids.back() + 10;
  auto first = compare<typename TestType::store_type, typename TestType::read_snapshot>(store, m, rng, 100000, 25, outsiders,
                                                                                     max_user, max_repo);
  CHECK(first.granted > first.pairs / 20);  // the sample is not all refusals

  // Changes, all through the store, mirrored in the model.
  std::int64_t changes = 0;
  {
    typename TestType::transaction tx(store.db());
    auto pick = [&](const auto& container) {
      auto it = container.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng() % container.size()));
      return *it;
    };
    for (int i = 0; i < 150; ++i) {  // users
      id u = pick(m.users);
      if (std::find(outsiders.begin(), outsiders.end(), u) != outsiders.end()) continue;
      store.delete_user(u);
      m.delete_user(u);
      ++changes;
    }
    for (int i = 0; i < 80; ++i) {  // repositories
      id r = pick(m.repo_org).first;
      store.delete_repository(r);
      m.delete_repo(r);
      ++changes;
    }
    for (int i = 0; i < 4; ++i) {  // organizations, with their repositories
      id o = pick(m.orgs);
      store.delete_organization(o);
      m.delete_org(o);
      ++changes;
    }
    std::vector<std::uint64_t> roles;
    for (const auto& item : m.role) roles.push_back(item.first);
    std::shuffle(roles.begin(), roles.end(), rng);
    for (std::size_t i = 0; i < 4000; ++i) {  // role changes
      id o = static_cast<id>(roles[i] >> 32), u = static_cast<id>(roles[i] & 0xffffffffu);
      auto r = static_cast<cpm::org_role>(rng() % 3);
      CHECK(store.set_org_role(o, u, r).role == r);
      m.role[roles[i]] = r;
      ++changes;
    }
    for (std::size_t i = 4000; i < 6000; ++i) {  // members removed
      id o = static_cast<id>(roles[i] >> 32), u = static_cast<id>(roles[i] & 0xffffffffu);
      store.remove_org_member(o, u);
      m.role.erase(roles[i]);
      ++changes;
    }
    std::vector<std::uint64_t> grants;
    for (const auto& item : m.grant) grants.push_back(item.first);
    std::shuffle(grants.begin(), grants.end(), rng);
    for (std::size_t i = 0; i < 5000; ++i) {  // revocations
      store.revoke_access(static_cast<id>(grants[i] >> 32), static_cast<id>(grants[i] & 0xffffffffu));
      m.grant.erase(grants[i]);
      ++changes;
    }
    for (std::size_t i = 5000; i < 9000; ++i) {  // level changes (up and down)
      auto level = static_cast<cpm::access_level>(1 + rng() % 3);
      store.grant_access(static_cast<id>(grants[i] >> 32), static_cast<id>(grants[i] & 0xffffffffu), level);
      m.grant[grants[i]] = level;
      ++changes;
    }
    for (int i = 0; i < 100; ++i) {  // repositories moved to another organization
      id r = pick(m.repo_org).first, o = pick(m.orgs);
      CHECK(store.update_repository(r, {.org_id = o}).org_id == o);
      m.repo_org[r] = o;
      ++changes;
    }
    // New users after deletions get fresh ids (AUTOINCREMENT) and none of the deleted users'
    // access.
    for (int i = 0; i < 20; ++i) {
      auto u = store.create_user({.username = fmt::format("newcomer{}", i), .email = fmt::format("newcomer{}@example.org", i)});
      CHECK(u.id > user_ids.back());
      outsiders.push_back(u.id);
      m.users.insert(u.id);
    }
    tx.commit();
  }
  max_user = std::max(max_user, outsiders.back() + 10);
  auto second = compare<typename TestType::store_type, typename TestType::read_snapshot>(store, m, rng, 100000, 25, outsiders,
                                                                                     max_user, max_repo);
  CHECK(second.granted > second.pairs / 20);
  CHECK(cpm_test::count_rows(store.db(), "org_members") ==
        static_cast<std::int64_t>(m.role.size()));
  CHECK(cpm_test::count_rows(store.db(), "repo_access") ==
        static_cast<std::int64_t>(m.grant.size()));
  CHECK(cpm_test::no_foreign_key_violations(store.db()));

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("access control: %d memberships + %d grants, %ld changes, %ld + %ld (user, repository) pairs checked "
              "(%ld + %ld with a level), user_repositories of %ld users compared, in %.1f s\n",
              membership_count, grant_count, static_cast<long>(changes), static_cast<long>(first.pairs),
              static_cast<long>(second.pairs), static_cast<long>(first.granted), static_cast<long>(second.granted),
              static_cast<long>(first.users_listed + second.users_listed), seconds);
}
