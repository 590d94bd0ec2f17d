// cpm benchmarks: what the three implementations (cpm, raw sqlite3, SQLiteCpp) share: the
// connection settings of each configuration, the key sets, the hand-written column readers
// of the raw and SQLiteCpp variants, and result digests that check all three agree.
#pragma once

#include "data.hpp"

#include <cpm/cpm.hpp>

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cpm_bench {

// ---- configurations ----------------------------------------------------------------------------

// default: what cpm::open_options{} sets (WAL, synchronous=NORMAL, foreign_keys=ON, busy
//          timeout 5 s, SQLITE_OPEN_NOMUTEX); raw and SQLiteCpp get the same.
// hot:     the same plus locking_mode=EXCLUSIVE and a page cache that holds the whole file,
//          warmed by reading every page once; each variant on its own copy of the file.
struct conn_config {
  bool hot = false;
  bool serialized = false;  // SQLITE_OPEN_FULLMUTEX instead of SQLITE_OPEN_NOMUTEX
};

inline constexpr std::int64_t hot_cache_kib = 2 * 1024 * 1024;  // an upper bound; pages are allocated on use

inline std::vector<std::string> extra_pragmas(const conn_config& c) {
  if (!c.hot) return {};
  return {"PRAGMA locking_mode=EXCLUSIVE", "PRAGMA cache_size=-" + std::to_string(hot_cache_kib)};
}

// The statements cpm's connection runs on open, in its order, for raw and SQLiteCpp to mirror.
// (The caller's pragmas before the first read, as in cpm::connection.)
inline std::vector<std::string> open_script(const conn_config& c) {
  std::vector<std::string> out{"PRAGMA foreign_keys=ON"};
  for (auto& p : extra_pragmas(c)) out.push_back(p);
  for (const char* p : {"PRAGMA schema_version", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"})
    out.push_back(p);
  return out;
}

// Reads every page of every b-tree once, so that the hot cache holds the whole database.
inline void warm(sqlite3* db) {
  if (sqlite3_exec(db, "PRAGMA quick_check", nullptr, nullptr, nullptr) != SQLITE_OK)
    throw std::runtime_error(std::string("warm: ") + sqlite3_errmsg(db));
}

// "NOMUTEX" or "FULLMUTEX": what the connection really got (sqlite3_db_mutex is null without one).
inline const char* threading_of(sqlite3* db) { return sqlite3_db_mutex(db) ? "FULLMUTEX" : "NOMUTEX"; }

// ---- keys ------------------------------------------------------------------------------------

inline constexpr std::size_t key_count = 4096;  // each benchmark cycles through these
inline constexpr std::size_t key_mask = key_count - 1;

struct keyset {
  std::vector<std::int64_t> user_ids;
  std::vector<std::string> usernames;
  std::vector<std::int64_t> org_ids;
  std::vector<std::int64_t> repo_ids;
  std::vector<std::pair<std::int64_t, std::int64_t>> access;  // (user, repository): 1/3 through an
                                                              // organization, 1/3 granted, 1/3 random
  std::vector<std::string> public_keys;   // from user_keys ("type base64"), first and second keys
  std::vector<std::string> fingerprints;  // from user_keys ("SHA256:...")
  std::vector<std::string> repo_paths;
};

// make_keys: workloads.hpp

// ---- hand-written column reading (raw sqlite3) ------------------------------------------------

// "YYYY-MM-DD HH:MM:SS", the layout the data (and CURRENT_TIMESTAMP) has; anything else goes
// through cpm's general parser, as hand-written code reading this database would need to.
inline bool parse_fixed_timestamp(const unsigned char* p, int n, cpm::timestamp& out) noexcept {
  if (n != 19 || p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' || p[16] != ':') return false;
  int v[6];
  constexpr int at[6] = {0, 5, 8, 11, 14, 17};
  for (int k = 0; k < 6; ++k) {
    int width = k == 0 ? 4 : 2;
    int x = 0;
    for (int i = 0; i < width; ++i) {
      unsigned d = static_cast<unsigned>(p[at[k] + i] - '0');
      if (d > 9) return false;
      x = x * 10 + static_cast<int>(d);
    }
    v[k] = x;
  }
  using namespace std::chrono;
  year_month_day date{year{v[0]}, month{static_cast<unsigned>(v[1])}, day{static_cast<unsigned>(v[2])}};
  if (!date.ok() || v[3] > 23 || v[4] > 59 || v[5] > 59) return false;
  out = sys_days{date} + hours{v[3]} + minutes{v[4]} + seconds{v[5]};
  return true;
}

inline cpm::timestamp parse_timestamp_text(const unsigned char* p, int n) {
  cpm::timestamp t;
  if (parse_fixed_timestamp(p, n, t)) return t;
  cpm::detail::parsed_timestamp ts{};
  if (!cpm::detail::parse_timestamp(std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)), ts))
    throw std::runtime_error("not a timestamp: " + std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)));
  return ts.seconds;
}

namespace raw {

inline std::string_view text(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i))};
}
inline void read(sqlite3_stmt* s, int i, std::string& out) { out.assign(text(s, i)); }
inline void read(sqlite3_stmt* s, int i, std::optional<std::string>& out) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) {
    out.reset();
  } else {
    if (!out) out.emplace();
    out->assign(text(s, i));
  }
}
// A column where the store writes '' for none (users.public_key, the descriptions).
inline void read_none_as_empty(sqlite3_stmt* s, int i, std::optional<std::string>& out) {
  read(s, i, out);
  if (out && out->empty()) out.reset();
}
inline void read(sqlite3_stmt* s, int i, std::optional<cpm::timestamp>& out) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) {
    out.reset();
  } else {
    const unsigned char* p = sqlite3_column_text(s, i);
    out = parse_timestamp_text(p, sqlite3_column_bytes(s, i));
  }
}
inline void read(sqlite3_stmt* s, int i, std::optional<std::int64_t>& out) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) out.reset(); else out = sqlite3_column_int64(s, i);
}
inline cpm::org_role role(std::string_view t) {
  if (t == "owner") return cpm::org_role::owner;
  if (t == "admin") return cpm::org_role::admin;
  if (t == "member") return cpm::org_role::member;
  throw std::runtime_error("bad role: " + std::string(t));
}

// Columns id, username, email, public_key, created_at.
inline void read_user(sqlite3_stmt* s, cpm::user& u) {
  u.id = sqlite3_column_int64(s, 0);
  read(s, 1, u.username);
  read(s, 2, u.email);
  read_none_as_empty(s, 3, u.public_key);
  read(s, 4, u.created_at);
}
// Columns id, name, org_id, path, description, created_at.
inline void read_repository(sqlite3_stmt* s, cpm::repository& r) {
  r.id = sqlite3_column_int64(s, 0);
  read(s, 1, r.name);
  r.org_id = sqlite3_column_int64(s, 2);
  read(s, 3, r.path);
  read_none_as_empty(s, 4, r.description);
  read(s, 5, r.created_at);
}
// Columns user id, username, email, role, joined_at.
inline void read_member(sqlite3_stmt* s, cpm::member_info& m) {
  m.user_id = sqlite3_column_int64(s, 0);
  read(s, 1, m.username);
  read(s, 2, m.email);
  m.role = role(text(s, 3));
  read(s, 4, m.joined_at);
}
// Columns id, name, host, port, is_neighbor, ssh_key_id, created_at.
inline void read_server(sqlite3_stmt* s, cpm::server& v) {
  v.id = sqlite3_column_int64(s, 0);
  read(s, 1, v.name);
  read(s, 2, v.host);
  v.port = sqlite3_column_int(s, 3);
  v.is_neighbor = sqlite3_column_int(s, 4) != 0;
  read(s, 5, v.ssh_key_id);
  read(s, 6, v.created_at);
}

}  // namespace raw

// The hand-written SQL of the raw and SQLiteCpp variants: for the lookups cpm generates, the
// natural text for each, with the same result rows in the same order as cpm's.
namespace hand_sql {
inline constexpr const char* user_by_username =
    "SELECT id, username, email, public_key, created_at FROM users WHERE username = ?";
inline constexpr const char* user_by_id = "SELECT id, username, email, public_key, created_at FROM users WHERE id = ?";
inline constexpr const char* all_users = "SELECT id, username, email, public_key, created_at FROM users ORDER BY id";
inline constexpr const char* org_repositories =
    "SELECT id, name, org_id, path, description, created_at FROM repositories WHERE org_id = ? ORDER BY id";
// The store's own hand-written queries (cpm/store/queries.hpp): the raw and SQLiteCpp variants
// run the very same text, so that these rows compare the library, not two ways to write SQL.
inline const std::string user_repositories{cpm::detail::user_repositories_sql<>.view()};
inline const std::string org_members{cpm::detail::org_members_sql<>.view()};
inline const std::string access_level{cpm::detail::access_level_sql<>.view()};
// A key in user_keys, then (not found there) a key the original system wrote into
// users.public_key; a fingerprint in user_keys.
inline const std::string user_by_public_key{cpm::detail::user_by_key_sql<>.view()};
inline const std::string user_by_original_key{cpm::detail::user_by_original_key_sql<>.view()};
inline const std::string user_by_fingerprint{cpm::detail::user_by_fingerprint_sql<>.view()};
// The text store::repository_by_path runs (find_one on repositories.path: with its ORDER BY
// "id", which the UNIQUE index satisfies; without it the program would be one Noop shorter).
inline const std::string repository_by_path{
    cpm::detail::select_where_sql<cpm::repository, cpm::field_index<&cpm::repository::path>>.view()};
inline constexpr const char* neighbor_servers =
    "SELECT id, name, host, port, is_neighbor, ssh_key_id, created_at FROM servers WHERE is_neighbor = 1 ORDER BY id";
inline constexpr const char* insert_user = "INSERT INTO users(username, email, public_key) VALUES (?, ?, ?)";
// The store's schema, as its migrations create it (versions 1 to 3), for the insert benchmark.
inline std::vector<std::string> store_schema_sql() {
  return {std::string(cpm::original_schema_sql), std::string(cpm::query_indexes_sql),
          std::string(cpm::service_rules_sql), std::string(cpm::service_rule_indexes_sql)};
}
// The original system's GetUserRepositories, word for word.
inline constexpr const char* seed_user_repositories =
    "SELECT DISTINCT r.* FROM repositories r LEFT JOIN org_members om ON r.org_id = om.org_id "
    "LEFT JOIN repo_access ra ON r.id = ra.repo_id WHERE om.user_id = ? OR ra.user_id = ?";
}  // namespace hand_sql

// ---- digests -----------------------------------------------------------------------------------

struct digest {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void add(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
  }
  void add(std::string_view s) {
    add(s.size());
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  }
  template <class T>
  void add(const std::optional<T>& v) {
    add(std::uint64_t{v.has_value()});
    if (v) add(*v);
  }
  void add(std::int64_t v) { add(static_cast<std::uint64_t>(v)); }
  void add(int v) { add(static_cast<std::uint64_t>(v)); }
  void add(bool v) { add(std::uint64_t{v}); }
  void add(const std::string& s) { add(std::string_view(s)); }
  void add(cpm::timestamp t) { add(static_cast<std::int64_t>(t.time_since_epoch().count())); }
  void add(cpm::org_role r) { add(static_cast<int>(r)); }
  void add(cpm::access_level a) { add(static_cast<int>(a)); }
  void add(const cpm::user& u) { add(u.id); add(u.username); add(u.email); add(u.public_key); add(u.created_at); }
  void add(const cpm::repository& r) {
    add(r.id); add(r.name); add(r.org_id); add(r.path); add(r.description); add(r.created_at);
  }
  void add(const cpm::member_info& m) { add(m.user_id); add(m.username); add(m.email); add(m.role); add(m.joined_at); }
  void add(const cpm::server& s) {
    add(s.id); add(s.name); add(s.host); add(s.port); add(s.is_neighbor); add(s.ssh_key_id); add(s.created_at);
  }
  void add(const cpm::repo_access& a) { add(a.id); add(a.repo_id); add(a.user_id); add(a.access_level); }
};

}  // namespace cpm_bench
