// cpm: the cpm schema, as migration steps.
//
// Version 1 is the original system's schema, word for word (its initSchema ran exactly this
// DDL), so databases that system made are adopted in place: their tables already exist, the
// step checks that they have the columns cpm reads, creates whatever is missing, and records
// the version. Nothing is copied; the only rewrite is of users' public keys, cut to "type
// base64" as cpm stores them (see normalize_stored_public_keys). Timestamps the Go driver
// wrote are read as they are (see cpm/sqlite/detail/timestamp.hpp).
//
// Version 2 sets the indexes the query patterns need (docs/schema.md has the measurements):
//   + idx_org_members_user_id   user_repositories and access checks start from a user;
//                               UNIQUE(org_id, user_id) only serves lookups by org_id
//   + idx_users_public_key      user_by_public_key runs on every SSH login
//   - idx_repo_access_repo_id   the prefix of UNIQUE(repo_id, user_id), which serves it already
//
// The ERD of the original system draws an org_repos table that its DDL never created:
// repositories.org_id already is that relation (each repository belongs to one organization),
// so cpm has no org_repos table either.
#pragma once

#include <cpm/schema/migration.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/store/validation.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpm {

// The original system's DDL (seed/database-architecture.txt), unchanged.
inline constexpr std::string_view original_schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    public_key TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS repositories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    org_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    description TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (org_id) REFERENCES organizations(id) ON DELETE CASCADE,
    UNIQUE(org_id, name)
);
CREATE TABLE IF NOT EXISTS ssh_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    private_key_path TEXT NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    port INTEGER NOT NULL DEFAULT 22,
    is_neighbor BOOLEAN NOT NULL DEFAULT 0,
    ssh_key_id INTEGER,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (ssh_key_id) REFERENCES ssh_keys(id) ON DELETE SET NULL
);
CREATE TABLE IF NOT EXISTS repo_access (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    access_level TEXT NOT NULL CHECK(access_level IN ('read', 'write', 'admin')),
    FOREIGN KEY (repo_id) REFERENCES repositories(id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    UNIQUE(repo_id, user_id)
);
CREATE TABLE IF NOT EXISTS org_members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK(role IN ('owner', 'admin', 'member')),
    joined_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (org_id) REFERENCES organizations(id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    UNIQUE(org_id, user_id)
);
CREATE INDEX IF NOT EXISTS idx_repositories_org_id ON repositories(org_id);
CREATE INDEX IF NOT EXISTS idx_repo_access_repo_id ON repo_access(repo_id);
CREATE INDEX IF NOT EXISTS idx_repo_access_user_id ON repo_access(user_id);
CREATE INDEX IF NOT EXISTS idx_servers_is_neighbor ON servers(is_neighbor);
)sql";

inline constexpr std::string_view query_indexes_sql = R"sql(
CREATE INDEX IF NOT EXISTS idx_org_members_user_id ON org_members(user_id);
CREATE INDEX IF NOT EXISTS idx_users_public_key ON users(public_key);
DROP INDEX IF EXISTS idx_repo_access_repo_id;
)sql";

// An existing table lacks a column cpm reads: the database is not one the original system made.
class adoption_error : public error {
 public:
  adoption_error(std::string table, std::string column)
      : error(fmt::format("cpm: cannot adopt this database: table '{}' has no column '{}'; it was left untouched",
                          table, column)),
        table_(std::move(table)),
        column_(std::move(column)) {}
  [[nodiscard]] const std::string& table() const noexcept { return table_; }
  [[nodiscard]] const std::string& column() const noexcept { return column_; }

 private:
  std::string table_;
  std::string column_;
};

namespace detail {

struct expected_table {
  std::string_view name;
  std::string_view columns[7];  // unused entries stay empty
};

inline constexpr expected_table original_tables[] = {
    {"users", {"id", "username", "email", "public_key", "created_at"}},
    {"organizations", {"id", "name", "description", "created_at"}},
    {"repositories", {"id", "name", "org_id", "path", "description", "created_at"}},
    {"ssh_keys", {"id", "name", "public_key", "private_key_path", "created_at"}},
    {"servers", {"id", "name", "host", "port", "is_neighbor", "ssh_key_id", "created_at"}},
    {"repo_access", {"id", "repo_id", "user_id", "access_level"}},
    {"org_members", {"id", "org_id", "user_id", "role", "joined_at"}},
};

// The tables that already exist must have every column cpm reads (extra columns are kept).
inline void check_adoptable(connection& db) {
  auto columns = db.prepare("SELECT name FROM pragma_table_info(?)");
  for (const auto& table : original_tables) {
    std::vector<std::string> present;
    columns.bind(table.name);
    while (columns.step()) present.push_back(columns.column<std::string>(0));
    columns.reset();
    if (present.empty()) continue;  // created by the step
    for (auto column : table.columns) {
      if (column.empty()) break;
      bool found = false;
      for (const auto& p : present) found = found || p == column;
      if (!found) throw adoption_error(std::string(table.name), std::string(column));
    }
  }
}

// The original system stored users' public keys as given, comment included ("ssh-ed25519
// AAAA... alice@laptop"), sometimes with the line's trailing newline, and an empty string for
// "no key" (its CreateUser took a Go string); cpm stores "type base64", NULL for no key, and
// looks keys up that way (user_by_public_key). An adopted key that kept its comment would
// never be found, and an empty one would be found by an empty lookup.
inline void normalize_stored_public_keys(connection& db) {
  db.exec("UPDATE users SET public_key = NULL WHERE trim(public_key, ' ' || char(9, 10, 13)) = ''");
  db.exec("UPDATE users SET public_key = trim(public_key, ' ' || char(9, 10, 13)) "
          "WHERE public_key <> trim(public_key, ' ' || char(9, 10, 13))");
  std::vector<std::pair<std::int64_t, std::string>> found;  // read them all before writing
  auto keys = db.prepare("SELECT id, public_key FROM users WHERE public_key LIKE '% % %'");
  while (keys.step())
    found.emplace_back(keys.column<std::int64_t>(0), std::string(normalize_public_key(keys.column<std::string>(1))));
  auto update = db.prepare("UPDATE users SET public_key = ? WHERE id = ?");
  for (const auto& [id, key] : found) {
    update.bind(key, id);
    update.run();
  }
}

}  // namespace detail

// cpm's schema, step by step. (A function-local static: built on first use, not in every
// translation unit's static initialisation.)
inline std::span<const migration> store_migrations() {
  static const migration steps[] = {
      {1, "original cpm schema (adopts databases of the original system)", std::string(original_schema_sql),
       [](connection& db) {
         detail::check_adoptable(db);
         detail::normalize_stored_public_keys(db);
       }},
      {2, "indexes for the query patterns", std::string(query_indexes_sql), {}},
  };
  return steps;
}

// The component name of the store's migrations in cpm_schema_history.
inline constexpr std::string_view store_component = "cpm.store";

// The store's schema version in `db`: its history; in a database of an earlier cpm (one
// history for everything, cpm_migrations), the store's steps recorded there; in one with
// neither, PRAGMA user_version.
inline int store_schema_version(connection& db) {
  if (int recorded = schema_version(db, store_component); recorded > 0) return recorded;
  if (detail::table_exists(db, "cpm_migrations")) {
    int found = 0;
    for (const migration* step : detail::legacy_steps(db, store_migrations())) found = std::max(found, step->version);
    return found;
  }
  return schema_version(db);
}


}  // namespace cpm
