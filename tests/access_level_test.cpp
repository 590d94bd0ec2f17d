// access_level(user, repo) against a reference model, on random histories of memberships,
// grants, role changes, revocations and deletions: the effective level is the higher of the
// direct grant and the organization role (owner, admin: admin; member: read), none where
// neither applies. user_repositories must agree with it.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_backends.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using level = cpm::access_level;
using role = cpm::org_role;

// What the store should hold, kept by the test alone.
struct reference {
  std::set<std::int64_t> users;
  std::map<std::int64_t, std::int64_t> repo_org;  // live repositories and their organization
  std::map<std::pair<std::int64_t, std::int64_t>, role> members;   // (org, user)
  std::map<std::pair<std::int64_t, std::int64_t>, level> grants;   // (repo, user)

  std::optional<level> access(std::int64_t user, std::int64_t repo) const {
    auto r = repo_org.find(repo);
    if (r == repo_org.end() || !users.count(user)) return std::nullopt;
    std::optional<level> best;
    if (auto g = grants.find({repo, user}); g != grants.end()) best = g->second;
    if (auto m = members.find({r->second, user}); m != members.end()) {
      level from_role = m->second == role::member ? level::read : level::admin;
      if (!best || from_role > *best) best = from_role;
    }
    return best;
  }

  void delete_user(std::int64_t user) {
    users.erase(user);
    std::erase_if(members, [&](const auto& m) { return m.first.second == user; });
    std::erase_if(grants, [&](const auto& g) { return g.first.second == user; });
  }
  void delete_repository(std::int64_t repo) {
    repo_org.erase(repo);
    std::erase_if(grants, [&](const auto& g) { return g.first.first == repo; });
  }
};

template <class T>
T pick(std::mt19937& rng, const std::vector<T>& from) {
  return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
}

}  // namespace

CPM_STORE_TEST_CASE("access_level matches a reference model on random histories", "[access_level]") {
  const std::uint32_t seed = GENERATE(1u, 2u, 3u);
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  TestType backend;
  auto& store = backend.store;
  reference ref;

  constexpr int user_count = 200, org_count = 30, repo_count = 250, operations = 4000;
  std::vector<std::int64_t> user_ids, org_ids, repo_ids;  // every id ever made (deleted ones too)
  {
    typename TestType::transaction tx(store.db());
    for (int i = 0; i < user_count; ++i) {
      auto u = store.create_user({.username = fmt::format("u{}", i), .email = fmt::format("u{}@example.org", i)});
      user_ids.push_back(u.id);
      ref.users.insert(u.id);
    }
    for (int i = 0; i < org_count; ++i) org_ids.push_back(store.create_organization({.name = fmt::format("o{}", i)}).id);
    for (int i = 0; i < repo_count; ++i) {
      auto org = pick(rng, org_ids);
      auto r = store.create_repository({.name = fmt::format("r{}", i), .org_id = org, .path = fmt::format("/git/r{}", i)});
      repo_ids.push_back(r.id);
      ref.repo_org[r.id] = org;
    }
    tx.commit();
  }

  const role roles[] = {role::owner, role::admin, role::member};
  const level levels[] = {level::read, level::write, level::admin};
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<int> three(0, 2);
  int deleted_users = 0, deleted_repos = 0, refused = 0;

  // The store refuses to take an organization's last owner away (cpm::last_owner).
  auto sole_owner = [&](std::int64_t org, std::int64_t user) {
    auto it = ref.members.find({org, user});
    if (it == ref.members.end() || it->second != role::owner) return false;
    for (const auto& [key, r] : ref.members)
      if (key.first == org && key.second != user && r == role::owner) return false;
    return true;
  };
  auto sole_owner_anywhere = [&](std::int64_t user) {
    for (const auto& [key, r] : ref.members)
      if (key.second == user && sole_owner(key.first, user)) return true;
    return false;
  };

  auto check_sample = [&](int count) {
    typename TestType::read_snapshot snapshot(store.db());
    for (int k = 0; k < count; ++k) {
      auto u = pick(rng, user_ids);
      auto r = pick(rng, repo_ids);
      INFO("user " << u << ", repository " << r);
      REQUIRE(store.access_level(u, r) == ref.access(u, r));
    }
  };

  {
    typename TestType::transaction tx(store.db());  // one transaction for the whole history: fast, same semantics
    for (int op = 0; op < operations; ++op) {
      const int p = percent(rng);
      const auto u = pick(rng, user_ids);
      const auto o = pick(rng, org_ids);
      const auto r = pick(rng, repo_ids);
      const bool user_alive = ref.users.count(u) > 0;
      const bool repo_alive = ref.repo_org.count(r) > 0;
      if (p < 35) {  // join an organization, or change role when already in it
        const role given = roles[three(rng)];
        if (!user_alive) {
          CHECK_THROWS_AS(store.add_org_member(o, u, given), cpm::record_not_found);
          ++refused;
        } else if (ref.members.count({o, u})) {
          if (given != role::owner && sole_owner(o, u)) {
            CHECK_THROWS_AS(store.set_org_role(o, u, given), cpm::last_owner);
            ++refused;
          } else {
            (void)store.set_org_role(o, u, given);
            ref.members[{o, u}] = given;
          }
        } else {
          (void)store.add_org_member(o, u, given);
          ref.members[{o, u}] = given;
        }
      } else if (p < 70) {  // grant, or replace a grant
        const level given = levels[three(rng)];
        if (!user_alive || !repo_alive) {
          CHECK_THROWS_AS(store.grant_access(r, u, given), cpm::record_not_found);
          ++refused;
        } else {
          (void)store.grant_access(r, u, given);
          ref.grants[{r, u}] = given;
        }
      } else if (p < 80) {  // revoke a grant
        if (ref.grants.erase({r, u})) {
          store.revoke_access(r, u);
        } else {
          CHECK_THROWS_AS(store.revoke_access(r, u), cpm::record_not_found);
          ++refused;
        }
      } else if (p < 90) {  // leave an organization
        if (sole_owner(o, u)) {
          CHECK_THROWS_AS(store.remove_org_member(o, u), cpm::last_owner);
          ++refused;
        } else if (ref.members.erase({o, u})) {
          store.remove_org_member(o, u);
        } else {
          CHECK_THROWS_AS(store.remove_org_member(o, u), cpm::record_not_found);
          ++refused;
        }
      } else if (p < 95) {  // change the role of an existing member
        if (!ref.members.empty()) {
          auto it = ref.members.begin();
          std::advance(it, std::uniform_int_distribution<std::size_t>(0, ref.members.size() - 1)(rng));
          const role given = roles[three(rng)];
          if (given != role::owner && sole_owner(it->first.first, it->first.second)) {
            CHECK_THROWS_AS(store.set_org_role(it->first.first, it->first.second, given), cpm::last_owner);
            ++refused;
          } else {
            (void)store.set_org_role(it->first.first, it->first.second, given);
            it->second = given;
          }
        }
      } else if (p < 97) {
        if (user_alive && sole_owner_anywhere(u)) {
          CHECK_THROWS_AS(store.delete_user(u), cpm::last_owner);
          ++refused;
        } else if (user_alive) {
          store.delete_user(u);
          ref.delete_user(u);
          ++deleted_users;
        }
      } else {
        if (repo_alive) {
          store.delete_repository(r);
          ref.delete_repository(r);
          ++deleted_repos;
        }
      }
      if (op % 500 == 499) check_sample(300);
    }
    tx.commit();
  }

  // The history covered every kind of step.
  CHECK(deleted_users > 0);
  CHECK(deleted_repos > 0);
  CHECK(refused > 0);
  CHECK(ref.grants.size() > 100);
  CHECK(ref.members.size() > 100);

  // Every pair, once the history is done; the store's rows agree with the model's.
  typename TestType::read_snapshot snapshot(store.db());
  CHECK(cpm_test::count_of_model<cpm::repo_access>(store.db()) == static_cast<std::int64_t>(ref.grants.size()));
  CHECK(cpm_test::count_of_model<cpm::org_member>(store.db()) == static_cast<std::int64_t>(ref.members.size()));
  int with_access = 0, mismatches = 0;
  std::map<level, int> by_level;
  for (auto u : user_ids) {
    std::vector<std::int64_t> expected_repos;
    for (auto r : repo_ids) {
      auto expected = ref.access(u, r);
      if (store.access_level(u, r) != expected) {
        ++mismatches;
        FAIL_CHECK("user " << u << ", repository " << r);
      }
      if (expected) {
        ++with_access;
        ++by_level[*expected];
        expected_repos.push_back(r);
      }
    }
    std::vector<std::int64_t> listed;
    for (const auto& repo : store.user_repositories(u)) listed.push_back(repo.id);
    std::sort(listed.begin(), listed.end());  // user_repositories: in no particular order
    std::sort(expected_repos.begin(), expected_repos.end());
    INFO("user " << u);
    CHECK(std::adjacent_find(listed.begin(), listed.end()) == listed.end());  // each once
    CHECK(listed == expected_repos);
  }
  CHECK(mismatches == 0);
  // Enough of each outcome for the comparison to mean something.
  CHECK(with_access > 1000);
  CHECK(by_level[level::read] > 100);
  CHECK(by_level[level::write] > 100);
  CHECK(by_level[level::admin] > 100);
}
