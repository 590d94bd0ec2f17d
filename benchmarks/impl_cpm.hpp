// cpm benchmarks: cpm through its public API, cpm::store's operations.
#pragma once

#include "common.hpp"

#include <cpm/cpm.hpp>

#include <string>
#include <utility>
#include <vector>

namespace cpm_bench {

inline cpm::store open_cpm(const std::string& path, const conn_config& c) {
  cpm::store_options options;
  options.migrate = false;  // the files are at cpm's version already; never touch a variant's indexes
  options.connection.threads = c.serialized ? cpm::threading::serialized : cpm::threading::single;
  options.connection.pragmas = extra_pragmas(c);
  auto store = cpm::store::open(path, options);
  if (c.hot) warm(store.db().native());
  return store;
}

class cpm_impl {
 public:
  cpm_impl(const std::string& path, const conn_config& c) : store_(open_cpm(path, c)) {}

  [[nodiscard]] sqlite3* native() { return store_.db().native(); }
  [[nodiscard]] cpm::store& store() { return store_; }

  std::optional<cpm::user> user_by_username(const std::string& name) { return store_.user_by_name(name); }
  std::optional<cpm::user> user_by_id(std::int64_t id) { return store_.get_user(id); }
  std::optional<cpm::user> user_by_public_key(const std::string& key) { return store_.user_by_public_key(key); }

  template <class F>
  void org_repositories(std::int64_t org, F&& each) {
    for (const cpm::repository& r : store_.org_repositories(org)) each(r);
  }
  template <class F>
  void user_repositories(std::int64_t user, F&& each) {
    for (const cpm::repository& r : store_.user_repositories(user)) each(r);
  }
  template <class F>
  void org_members(std::int64_t org, F&& each) {
    for (const cpm::member_info& m : store_.org_members(org)) each(m);
  }
  template <class F>
  void neighbor_servers(F&& each) {
    for (const cpm::server& s : store_.neighbor_servers()) each(s);
  }
  template <class F>
  void all_users(F&& each) {
    for (const cpm::user& u : store_.list_users()) each(u);
  }
  std::optional<cpm::access_level> access_level(std::int64_t user, std::int64_t repo) {
    return store_.access_level(user, repo);
  }

  template <class F>
  void snapshot(F&& work) {
    cpm::read_snapshot snap(store_.db());
    std::forward<F>(work)();
  }

  // Only measured through cpm (index validation).
  template <class F>
  void repository_grants(std::int64_t repo, F&& each) {
    for (const cpm::repo_access& a : store_.repository_grants(repo)) each(a);
  }
  // The original system's GetUserRepositories SQL, through cpm::query.
  template <class F>
  void seed_user_repositories(std::int64_t user, F&& each) {
    for (const cpm::repository& r : cpm::query<cpm::repository>(store_.db(), hand_sql::seed_user_repositories, user, user))
      each(r);
  }

 private:
  cpm::store store_;
};

// The same operations through the generic layer (cpm::find_one, cpm::get, cpm::all), where
// it differs from the store's: for comparison with the store methods.
class cpm_generic_impl : public cpm_impl {
 public:
  using cpm_impl::cpm_impl;
  std::optional<cpm::user> user_by_username(const std::string& name) {
    return cpm::find_one<&cpm::user::username>(store().db(), name);
  }
  std::optional<cpm::user> user_by_public_key(const std::string& key) {
    return cpm::find_one<&cpm::user::public_key>(store().db(), key);
  }
  template <class F>
  void all_users(F&& each) {
    for (const cpm::user& u : cpm::all<cpm::user>(store().db())) each(u);
  }
};

// Inserts into an in-memory database with cpm's schema: cpm::insert_all, one transaction.
class cpm_insert {
 public:
  explicit cpm_insert(bool validated = false) : store_(cpm::store::open_memory()), validated_(validated) {}

  std::size_t insert_users(const std::vector<cpm::user>& users) {
    // store::create_users also validates every field and checks that no other user has the key.
    if (validated_) return store_.create_users(users);
    return cpm::insert_all(store_.db(), users);
  }
  void clear() { store_.db().exec("DELETE FROM users"); }
  std::int64_t count() { return cpm::count<cpm::user>(store_.db()); }

 private:
  cpm::store store_;
  bool validated_;
};

}  // namespace cpm_bench
