// The workload of the concurrency tests (tests/concurrency_test.cpp, processes; and
// tests/concurrency_threads_test.cpp, threads): writers and readers on one file database, each
// with a connection (a cpm::store) of its own.
//
// A writer named W runs `iterations` rounds; round i is four write transactions and one read:
//   create_user W_u<i>; create_repository W_r<i> in organization i % orgs, granting W_u<i>
//   admin (repository + grant together); grant_access(W_r<i>, W_u<i-1>, read) for i > 0;
//   add_org_member(org i % orgs, W_u<i>, member) for even i; then user_repositories(W_u<i>)
//   must hold W_r<i>, and access_level(W_u<i>, W_r<i>) must be admin.
// A reader loops until told to stop: in one read snapshot it lists user_repositories of a
// random user and checks that access_level of that user is set on each repository listed.
// Every exception is recorded (busy ones counted apart); the tests require none.
#pragma once

#include <cpm/cpm.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace cpm_test {

struct workload_result {
  std::int64_t writes = 0;      // write transactions committed
  std::int64_t reads = 0;       // read operations (queries) run
  std::int64_t busy = 0;        // cpm::busy_error caught
  std::vector<std::string> errors;  // every exception, as text
};

struct workload {
  std::string path;
  std::vector<std::int64_t> orgs;  // organization ids, made before the workers start
  int iterations = 100;
  cpm::store_options options{};
  // When set, the writers' busy timeout from after they opened their store: opening with a
  // timeout of 0 can itself meet another opener's brief lock, which is not what a test of
  // blocked writes is about.
  std::optional<std::chrono::milliseconds> write_busy_timeout;

  // Expected totals after `writers` writers ran to completion.
  [[nodiscard]] std::int64_t users(int writers) const { return std::int64_t{writers} * iterations; }
  [[nodiscard]] std::int64_t repositories(int writers) const { return std::int64_t{writers} * iterations; }
  [[nodiscard]] std::int64_t grants(int writers) const {
    return std::int64_t{writers} * (iterations + std::max(iterations - 1, 0));
  }
  [[nodiscard]] std::int64_t memberships(int writers) const { return std::int64_t{writers} * ((iterations + 1) / 2); }

  void record(workload_result& result, const std::string& who, const std::exception& e) const {
    if (dynamic_cast<const cpm::busy_error*>(&e)) ++result.busy;
    result.errors.push_back(who + ": " + e.what());
  }

  workload_result write(const std::string& name) const {
    workload_result result;
    try {
      auto store = cpm::store::open(path, options);
      if (write_busy_timeout) sqlite3_busy_timeout(store.db().native(), static_cast<int>(write_busy_timeout->count()));
      std::int64_t previous_user = 0;
      for (int i = 0; i < iterations; ++i) {
        try {
          std::int64_t org = orgs[static_cast<std::size_t>(i) % orgs.size()];
          auto u = store.create_user({.username = fmt::format("{}_u{}", name, i), .email = fmt::format("{}.u{}@conc.test", name, i)});
          ++result.writes;
          auto r = store.create_repository(
              {.name = fmt::format("{}_r{}", name, i), .org_id = org, .path = fmt::format("/srv/git/{}/r{}.git", name, i)},
              u.id);
          ++result.writes;
          if (previous_user != 0) {
            store.grant_access(r.id, previous_user, cpm::access_level::read);
            ++result.writes;
          }
          if (i % 2 == 0) {
            store.add_org_member(org, u.id, cpm::org_role::member);
            ++result.writes;
          }
          bool listed = false;
          for (const cpm::repository& seen : store.user_repositories(u.id)) listed = listed || seen.id == r.id;
          ++result.reads;
          if (!listed) result.errors.push_back(fmt::format("{}: {} missing from user_repositories", name, r.name));
          auto level = store.access_level(u.id, r.id);
          ++result.reads;
          if (level != cpm::access_level::admin)
            result.errors.push_back(fmt::format("{}: access_level of {} on {} is not admin", name, u.username, r.name));
          previous_user = u.id;
        } catch (const std::exception& e) {
          record(result, name, e);
        }
      }
    } catch (const std::exception& e) {
      record(result, name + " (open)", e);
    }
    return result;
  }

  workload_result read(const std::string& name, const std::atomic<bool>& stop, std::uint64_t seed) const {
    workload_result result;
    std::mt19937_64 rng(seed);
    try {
      auto store = cpm::store::open(path, options);
      while (!stop.load(std::memory_order_relaxed)) {
        try {
          cpm::read_snapshot snapshot(store.db());
          auto max_id = cpm::query<std::int64_t>(store.db(), "SELECT coalesce(max(id), 0) FROM users").one();
          ++result.reads;
          if (max_id == 0) continue;
          std::int64_t user = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(max_id));
          auto repos = store.user_repositories(user).to_vector();
          ++result.reads;
          for (const auto& r : repos) {
            ++result.reads;
            if (!store.access_level(user, r.id))
              result.errors.push_back(fmt::format("{}: user {} lists {} but has no access to it", name, user, r.name));
          }
        } catch (const std::exception& e) {
          record(result, name, e);
        }
      }
    } catch (const std::exception& e) {
      record(result, name + " (open)", e);
    }
    return result;
  }
};

// Creates the database (migrated, WAL) and `count` organizations; returns the workload.
inline workload make_workload(const std::string& path, int orgs, int iterations) {
  workload w;
  w.path = path;
  w.iterations = iterations;
  auto store = cpm::store::open(path);
  for (int i = 0; i < orgs; ++i) w.orgs.push_back(store.create_organization({.name = fmt::format("org{}", i)}).id);
  return w;
}

// The totals the database holds.
struct totals {
  std::int64_t users = 0, repositories = 0, grants = 0, memberships = 0;
};

inline totals count_all(const std::string& path) {
  auto store = cpm::store::open(path);
  auto one = [&](const char* sql) { return cpm::query<std::int64_t>(store.db(), sql).one(); };
  return {one("SELECT count(*) FROM users"), one("SELECT count(*) FROM repositories"),
          one("SELECT count(*) FROM repo_access"), one("SELECT count(*) FROM org_members")};
}

}  // namespace cpm_test
