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
  options.connection.sqlite_mutex = c.serialized;
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
  std::optional<cpm::user> user_by_fingerprint(const std::string& fingerprint) { return store_.user_by_fingerprint(fingerprint); }
  std::optional<cpm::repository> repository_by_path(const std::string& path) { return store_.repository_by_path(path); }

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

// The same operations through the generic layer (cpm::find_one, cpm::all, cpm::query), where
// it differs from the store's: for comparison with the store methods.
class cpm_generic_impl : public cpm_impl {
 public:
  using cpm_impl::cpm_impl;
  std::optional<cpm::user> user_by_username(const std::string& name) {
    return cpm::find_one<&cpm::user::username>(store().db(), name);
  }
  // The store's user_keys query alone, through query(...).first(): no comment dropped, no
  // second step for keys the original system wrote.
  std::optional<cpm::user> user_by_public_key(const std::string& key) {
    return cpm::query<cpm::user>(store().db(), cpm::sql_constant<cpm::detail::user_by_key_sql<>>{}, key).first();
  }
  template <class F>
  void all_users(F&& each) {
    for (const cpm::user& u : cpm::all<cpm::user>(store().db())) each(u);
  }
  // The store's access_level with .first() instead of .one(): the aggregate always returns one
  // row, so there is no second step to prove that no second row follows.
  std::optional<cpm::access_level> access_level(std::int64_t user, std::int64_t repo) {
    auto level = cpm::query<std::optional<int>>(store().db(), cpm::sql_constant<cpm::detail::access_level_sql<>>{}, user, repo).first();
    if (!level || !*level) return std::nullopt;
    return static_cast<cpm::access_level>(**level);
  }
};

// The same operations through a cpm::pool (one writer, two readers): each call checks a reader
// out, through pool.read() (a read snapshot per checkout) when `snapshot`, else through
// pool.read_latest(), runs the store's operation on it and gives it back. One thread, so the
// instructions counted are a checkout's and the reader's, never a wait.
class cpm_pool_impl {
 public:
  cpm_pool_impl(const std::string& path, const conn_config& c, bool snapshot)
      : pool_(cpm::pool::open(path, {.connection = {.sqlite_mutex = c.serialized, .pragmas = extra_pragmas(c)},
                                     .migrate = false,
                                     .readers = 2})),
        snapshot_(snapshot) {}

  std::optional<cpm::user> user_by_username(const std::string& name) { return reader()->user_by_name(name); }
  std::optional<cpm::user> user_by_id(std::int64_t id) { return reader()->get_user(id); }
  std::optional<cpm::user> user_by_public_key(const std::string& key) { return reader()->user_by_public_key(key); }
  std::optional<cpm::user> user_by_fingerprint(const std::string& fingerprint) {
    return reader()->user_by_fingerprint(fingerprint);
  }
  std::optional<cpm::repository> repository_by_path(const std::string& path) { return reader()->repository_by_path(path); }

  template <class F>
  void org_repositories(std::int64_t org, F&& each) {
    auto r = reader();
    for (const cpm::repository& x : r->org_repositories(org)) each(x);
  }
  template <class F>
  void user_repositories(std::int64_t user, F&& each) {
    auto r = reader();
    for (const cpm::repository& x : r->user_repositories(user)) each(x);
  }
  template <class F>
  void org_members(std::int64_t org, F&& each) {
    auto r = reader();
    for (const cpm::member_info& x : r->org_members(org)) each(x);
  }
  template <class F>
  void neighbor_servers(F&& each) {
    auto r = reader();
    for (const cpm::server& x : r->neighbor_servers()) each(x);
  }
  template <class F>
  void all_users(F&& each) {
    auto r = reader();
    for (const cpm::user& x : r->list_users()) each(x);
  }
  std::optional<cpm::access_level> access_level(std::int64_t user, std::int64_t repo) {
    return reader()->access_level(user, repo);
  }
  // The batch's lookups each check a reader out (pool.read() is the pool's snapshot).
  template <class F>
  void snapshot(F&& work) {
    std::forward<F>(work)();
  }

 private:
  cpm::pool::reader reader() { return snapshot_ ? pool_.read() : pool_.read_latest(); }

  cpm::pool pool_;
  bool snapshot_;
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

// The write side of an index: an in-memory database with cpm's schema but one variant's
// indexes, and parents to refer to (1,000 users, 10 organizations, 500 repositories); the
// benchmark inserts 10,000 rows into one table in one transaction through cpm::insert_all.
class index_write_db {
 public:
  static constexpr std::int64_t parent_users = 1000, parent_orgs = 10, parent_repos = 500;

  explicit index_write_db(const schema_variant& v) : store_(cpm::store::open_memory()) {
    auto& db = store_.db();
    for (auto& [name, sql] : shipped_indexes()) db.exec("DROP INDEX " + name);
    for (auto& sql : v.table_sql) db.exec(sql);
    for (auto& sql : v.index_sql) db.exec(sql);
    std::vector<cpm::user> users = fresh_users(parent_users, data_seed ^ 0x706172ULL);
    for (auto& u : users) u.username = "p" + u.username;
    cpm::insert_all(db, users);
    std::vector<cpm::organization> orgs;
    for (std::int64_t i = 1; i <= parent_orgs; ++i) orgs.push_back({0, "org-" + std::to_string(i), std::nullopt, std::nullopt});
    cpm::insert_all(db, orgs);
    cpm::insert_all(db, make_repositories(parent_repos, "r"));
  }

  // Rows to insert: 10,000 of each table, in shuffled order.
  static std::vector<cpm::repository> make_repositories(std::int64_t n, const std::string& prefix) {
    std::vector<cpm::repository> out;
    for (std::int64_t i = 0; i < n; ++i) {
      std::string name = prefix + std::to_string(i);
      std::int64_t org = i % parent_orgs + 1;
      out.push_back({0, name, org, "/srv/git/org-" + std::to_string(org) + "/" + name + ".git", std::nullopt, std::nullopt});
    }
    shuffle(out, 0x7265ULL);
    return out;
  }
  static std::vector<cpm::org_member> make_members() {  // every (organization, user) pair
    std::vector<cpm::org_member> out;
    for (std::int64_t u = 1; u <= parent_users; ++u)
      for (std::int64_t o = 1; o <= parent_orgs; ++o) out.push_back({0, o, u, o % 5 == 0 ? cpm::org_role::admin : cpm::org_role::member, std::nullopt});
    shuffle(out, 0x6d65ULL);
    return out;
  }
  static std::vector<cpm::user_key> make_user_keys() {  // ten keys per user, as the store keeps them
    splitmix64 rng{data_seed ^ 0x6b79ULL};
    std::vector<cpm::user_key> out;
    for (std::int64_t u = 1; u <= parent_users; ++u)
      for (std::int64_t k = 0; k < 10; ++k)
        out.push_back(make_user_key(u, "key-" + std::to_string(k), ed25519_key(rng), std::nullopt));
    shuffle(out, 0x6b6bULL);
    return out;
  }
  static std::vector<cpm::repo_access> make_grants() {  // ten distinct repositories per user
    std::vector<cpm::repo_access> out;
    for (std::int64_t u = 1; u <= parent_users; ++u)
      for (std::int64_t k = 0; k < 10; ++k) out.push_back({0, (u * 37 + k * 50) % parent_repos + 1, u, cpm::access_level::read});
    shuffle(out, 0x6772ULL);
    return out;
  }

  template <class T>
  std::size_t insert(const std::vector<T>& rows) { return cpm::insert_all(store_.db(), rows); }

  // Removes what insert added (untimed).
  void clear(std::string_view table) {
    if (table == "users") store_.db().exec("DELETE FROM users WHERE id > " + std::to_string(parent_users));
    else if (table == "repositories") store_.db().exec("DELETE FROM repositories WHERE id > " + std::to_string(parent_repos));
    else store_.db().exec("DELETE FROM " + std::string(table));
  }

 private:
  template <class T>
  static void shuffle(std::vector<T>& v, std::uint64_t seed) {
    splitmix64 rng{data_seed ^ seed};
    for (std::size_t i = v.size() - 1; i > 0; --i) std::swap(v[i], v[rng.below(i + 1)]);
  }

  cpm::store store_;
};

}  // namespace cpm_bench
