// cpm: the cpm schema, as migration steps.
//
// Version 1 is the original system's schema, word for word (its initSchema ran exactly this
// DDL), so databases that system made are adopted in place: their tables already exist, the
// step checks that they have the columns cpm reads, creates whatever is missing, and records
// the version. Nothing is copied or rewritten. Timestamps the Go driver wrote are read as they
// are (see cpm/sqlite/detail/timestamp.hpp).
//
// Version 2 sets the indexes the query patterns need (docs/schema.md has the measurements):
//   + idx_org_members_user_id   user_repositories and access checks start from a user;
//                               UNIQUE(org_id, user_id) only serves lookups by org_id
//   + idx_users_public_key      keys the original system writes into users.public_key are
//                               found there (cpm's own are found in user_keys, version 3)
//   - idx_repo_access_repo_id   the prefix of UNIQUE(repo_id, user_id), which serves it already
//
// Version 3 adds a git service's rules, enforced by the database so that no other writer of
// the file can break them, and many SSH keys per user:
//   + user_keys                 a user's keys, each unique among all users, found by key or
//                               by fingerprint; users.public_key is carried over (its comment
//                               kept in user_keys.comment) and stays, mirroring the user's
//                               first key
//   + idx_users_username_nocase, idx_organizations_name_nocase
//                               names unique regardless of (ASCII) case
//   + idx_repositories_path     a repository's disk path is unique
//   + org_members_keep_owner_*  triggers: an organization's last owner cannot be removed or
//                               demoted (deleting the organization itself still cascades)
//   NULL -> '' in users.public_key, organizations.description, repositories.description, the
//   original system's "none" (its Go models scan them into plain strings)
// A database whose rows already break a rule is refused with every conflicting row named
// (cpm::rule_conflict) and left as it was.
//
// The ERD of the original system draws an org_repos table that its DDL never created:
// repositories.org_id already is that relation (each repository belongs to one organization),
// so cpm has no org_repos table either.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/schema/migration.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/store/public_keys.hpp>
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

// Version 3's tables, triggers and the original system's "none" in the columns it reads as
// strings. (The unique indexes follow, once the rows are known to obey them.)
inline constexpr std::string_view service_rules_sql = R"sql(
CREATE TABLE IF NOT EXISTS user_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL UNIQUE,
    comment TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_used_at DATETIME,
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    UNIQUE(user_id, name)
);
CREATE TRIGGER IF NOT EXISTS org_members_keep_owner_on_delete BEFORE DELETE ON org_members
WHEN old.role = 'owner'
 AND EXISTS (SELECT 1 FROM organizations WHERE id = old.org_id)
 AND NOT EXISTS (SELECT 1 FROM org_members WHERE org_id = old.org_id AND role = 'owner' AND id <> old.id)
BEGIN SELECT RAISE(ABORT, 'cpm: an organization keeps at least one owner'); END;
CREATE TRIGGER IF NOT EXISTS org_members_keep_owner_on_update BEFORE UPDATE OF role, org_id ON org_members
WHEN old.role = 'owner' AND (new.role <> 'owner' OR new.org_id <> old.org_id)
 AND NOT EXISTS (SELECT 1 FROM org_members WHERE org_id = old.org_id AND role = 'owner' AND id <> old.id)
BEGIN SELECT RAISE(ABORT, 'cpm: an organization keeps at least one owner'); END;
UPDATE users SET public_key = '' WHERE public_key IS NULL;
UPDATE organizations SET description = '' WHERE description IS NULL;
UPDATE repositories SET description = '' WHERE description IS NULL;
)sql";

inline constexpr std::string_view service_rule_indexes_sql = R"sql(
CREATE UNIQUE INDEX IF NOT EXISTS idx_users_username_nocase ON users(username COLLATE NOCASE);
CREATE UNIQUE INDEX IF NOT EXISTS idx_organizations_name_nocase ON organizations(name COLLATE NOCASE);
CREATE UNIQUE INDEX IF NOT EXISTS idx_repositories_path ON repositories(path);
)sql";

// Rows that break a rule of the store's schema, found when a migration would enforce it: the
// migration was refused and the database left as it was. Each conflict names the rows.
class rule_conflict : public error {
 public:
  explicit rule_conflict(std::vector<std::string> conflicts)
      : error(message(conflicts)), conflicts_(std::move(conflicts)) {}
  [[nodiscard]] const std::vector<std::string>& conflicts() const noexcept { return conflicts_; }

 private:
  static std::string message(const std::vector<std::string>& conflicts) {
    std::string text = "cpm: the database holds rows that break the store's rules; it was left untouched. "
                       "Fix these and open it again:";
    for (const auto& c : conflicts) text += "\n  " + c;
    return text;
  }
  std::vector<std::string> conflicts_;
};

// An existing table lacks a column cpm reads: the database is not one the original system made.
class adoption_error : public error {
 public:
  adoption_error(std::string table, std::string column)
      : error(detail::message("cpm: cannot adopt this database: table '{}' has no column '{}'; it was left untouched",
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

// Rows that break version 3's rules: names equal but for case, repositories sharing a path,
// keys held by two users, keys cpm cannot read.
inline std::vector<std::string> service_rule_conflicts(connection& db) {
  std::vector<std::string> found;
  if (!table_exists(db, "users") || !table_exists(db, "organizations") || !table_exists(db, "repositories"))
    return found;  // a new database: the steps create them empty
  auto collect = [&](std::string_view sql, auto describe) {
    auto stmt = db.prepare(sql);
    while (stmt.step()) found.push_back(describe(stmt));
  };
  // Names equal but for case, each group in id order.
  auto same_but_case = [&](std::string_view sql, std::string_view what) {
    auto stmt = db.prepare(sql);
    std::vector<std::string> group;
    std::string key;
    auto flush = [&] {
      if (group.size() > 1) {
        std::string names;
        for (const auto& n : group) names += (names.empty() ? "" : ", ") + printable(n);
        found.push_back(detail::message("{} {} differ only in case", what, names));
      }
      group.clear();
    };
    while (stmt.step()) {
      auto name = stmt.column<std::string>(0);
      auto folded = stmt.column<std::string>(1);
      if (folded != key) flush();
      key = std::move(folded);
      group.push_back(std::move(name));
    }
    flush();
  };
  same_but_case("SELECT username, lower(username) FROM users ORDER BY lower(username), id", "users");
  same_but_case("SELECT name, lower(name) FROM organizations ORDER BY lower(name), id", "organizations");
  collect("SELECT r.path, group_concat(quote(coalesce(o.name, '?') || '/' || r.name), ', ') FROM repositories AS r "
          "LEFT JOIN organizations AS o ON o.id = r.org_id GROUP BY r.path HAVING count(*) > 1",
          [](auto& s) {
            return detail::message("repositories {} share the path {}", s.template column<std::string>(1),
                                   printable(s.template column<std::string>(0)));
          });
  // Keys: parsed in C++ (the comment is not part of the key).
  std::vector<std::pair<std::string, std::string>> keys;  // (key, username)
  auto stmt = db.prepare("SELECT username, public_key FROM users WHERE trim(public_key, ' ' || char(9, 10, 13)) <> ''");
  while (stmt.step()) {
    auto name = stmt.column<std::string>(0);
    auto line = stmt.column<std::string>(1);
    try {
      keys.emplace_back(parse_public_key(line, "users.public_key").key, std::move(name));
    } catch (const validation_error& e) {
      found.push_back(detail::message("user {} has a public key cpm cannot read ({})", printable(name), e.problem()));
    }
  }
  std::sort(keys.begin(), keys.end());
  for (std::size_t i = 0; i + 1 < keys.size();) {
    std::size_t j = i + 1;
    while (j < keys.size() && keys[j].first == keys[i].first) ++j;
    if (j - i > 1) {
      std::string names;
      for (std::size_t k = i; k < j; ++k) names += (k > i ? ", " : "") + printable(keys[k].second);
      found.push_back(detail::message("users {} hold the same public key {}", names, ssh_fingerprint(keys[i].first)));
    }
    i = j;
  }
  return found;
}

// users.public_key into user_keys, as the key named "default", its comment kept there.
// users.public_key then holds the key as the store mirrors it, "type base64", '' for none.
inline void carry_public_keys(connection& db) {
  std::vector<std::pair<std::int64_t, public_key_line>> keys;
  auto stmt = db.prepare("SELECT id, public_key FROM users WHERE trim(public_key, ' ' || char(9, 10, 13)) <> ''");
  while (stmt.step())
    keys.emplace_back(stmt.column<std::int64_t>(0), parse_public_key(stmt.column<std::string>(1), "users.public_key"));
  auto insert = db.prepare("INSERT INTO user_keys (user_id, name, public_key, fingerprint, comment) "
                           "VALUES (?, 'default', ?, ?, nullif(?, ''))");
  for (const auto& [id, key] : keys) {
    insert.bind(id, key.key, key.fingerprint, key.comment);
    insert.run();
  }
  db.exec("UPDATE users SET public_key = coalesce((SELECT k.public_key FROM user_keys AS k WHERE k.user_id = users.id "
          "ORDER BY k.id LIMIT 1), '')");
}

inline void apply_service_rules(connection& db) {
  auto conflicts = service_rule_conflicts(db);
  if (!conflicts.empty()) throw rule_conflict(std::move(conflicts));
  db.exec(service_rule_indexes_sql);
  carry_public_keys(db);
}

}  // namespace detail

// cpm's schema, step by step. (A function-local static: built on first use, not in every
// translation unit's static initialisation.)
inline std::span<const migration> store_migrations() {
  static const migration steps[] = {
      {1, "original cpm schema (adopts databases of the original system)", std::string(original_schema_sql),
       [](connection& db) { detail::check_adoptable(db); }},
      {2, "indexes for the query patterns", std::string(query_indexes_sql), {}},
      {3, "a git service's rules: unique paths, names unique regardless of case, an owner per organization, "
          "many SSH keys per user",
       std::string(service_rules_sql), [](connection& db) { detail::apply_service_rules(db); }},
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
