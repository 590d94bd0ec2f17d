// Compile-time measurement (scripts/compile-time.sh): the work of store_all_ops.cpp written by
// hand on the sqlite3 C API, as a small data layer would be: the same structs, every store
// operation with its SQL, prepared once and cached, binds, column reads, timestamps, enums as
// text, transactions that roll back on error, unique violations reported as "already exists",
// and the same input checks (simplified where cpm's are long: UTF-8 and IP address parsing).
// Lists are returned as std::vector (the usual hand-written style) rather than lazy ranges.
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace raw {

using timestamp = std::chrono::sys_seconds;
enum class org_role { owner, admin, member };
enum class access_level { read = 1, write = 2, admin = 3 };

struct user {
  std::int64_t id = 0;
  std::string username, email;
  std::optional<std::string> public_key;
  std::optional<timestamp> created_at;
};
struct organization {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> description;
  std::optional<timestamp> created_at;
};
struct repository {
  std::int64_t id = 0;
  std::string name;
  std::int64_t org_id = 0;
  std::string path;
  std::optional<std::string> description;
  std::optional<timestamp> created_at;
};
struct ssh_key {
  std::int64_t id = 0;
  std::string name, public_key, private_key_path;
  std::optional<timestamp> created_at;
};
struct server {
  std::int64_t id = 0;
  std::string name, host;
  int port = 22;
  bool is_neighbor = false;
  std::optional<std::int64_t> ssh_key_id;
  std::optional<timestamp> created_at;
};
struct org_member {
  std::int64_t id = 0, org_id = 0, user_id = 0;
  org_role role = org_role::member;
  std::optional<timestamp> joined_at;
};
struct repo_access {
  std::int64_t id = 0, repo_id = 0, user_id = 0;
  raw::access_level level = raw::access_level::read;
};
struct member_info {
  std::int64_t user_id = 0;
  std::string username, email;
  org_role role = org_role::member;
  std::optional<timestamp> joined_at;
};

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct not_found : error {
  using error::error;
};
struct already_exists : error {
  using error::error;
};
struct invalid : error {
  using error::error;
};

// ---- statements --------------------------------------------------------------------------------

class stmt {
 public:
  explicit stmt(sqlite3_stmt* s) : s_(s) {}
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;
  ~stmt() { sqlite3_reset(s_); }

  stmt& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(s_, i, v)); }
  stmt& bind(int i, std::string_view v) { return check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC)); }
  stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  stmt& bind(int i, const std::optional<std::string>& v) { return v ? bind(i, std::string_view(*v)) : check(sqlite3_bind_null(s_, i)); }
  stmt& bind(int i, const std::optional<std::int64_t>& v) { return v ? bind(i, *v) : check(sqlite3_bind_null(s_, i)); }
  stmt& bind_null(int i) { return check(sqlite3_bind_null(s_, i)); }

  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3* db = sqlite3_db_handle(s_);
    std::string message = sqlite3_errmsg(db);
    int code = sqlite3_extended_errcode(db);
    sqlite3_reset(s_);
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) throw already_exists(message);
    throw error(message + " in: " + sqlite3_sql(s_));
  }
  void run() {
    while (step()) {
    }
  }

  std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  bool null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string text(int c) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }
  std::optional<std::string> opt_text(int c) const { return null(c) ? std::nullopt : std::optional<std::string>(text(c)); }
  std::optional<std::int64_t> opt_i64(int c) const { return null(c) ? std::nullopt : std::optional<std::int64_t>(i64(c)); }
  std::optional<timestamp> time(int c) const {
    if (null(c)) return std::nullopt;
    std::string t = text(c);
    if (t.size() < 19 || t[4] != '-' || t[7] != '-' || (t[10] != ' ' && t[10] != 'T') || t[13] != ':' || t[16] != ':')
      throw error("bad timestamp: " + t);
    auto num = [&](std::size_t at, std::size_t n) {
      int v = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (t[at + i] < '0' || t[at + i] > '9') throw error("bad timestamp: " + t);
        v = v * 10 + (t[at + i] - '0');
      }
      return v;
    };
    using namespace std::chrono;
    year_month_day d{year{num(0, 4)}, month{static_cast<unsigned>(num(5, 2))}, day{static_cast<unsigned>(num(8, 2))}};
    if (!d.ok()) throw error("bad date: " + t);
    return sys_days{d} + hours{num(11, 2)} + minutes{num(14, 2)} + seconds{num(17, 2)};
  }

 private:
  stmt& check(int rc) {
    if (rc != SQLITE_OK) throw error(std::string("bind: ") + sqlite3_errstr(rc));
    return *this;
  }
  sqlite3_stmt* s_;
};

class database {
 public:
  explicit database(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw error("cannot open " + path + ": " + message);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  }
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database() {
    for (auto& [sql, s] : cache_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }

  void exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : "error";
      sqlite3_free(message);
      throw error(text);
    }
  }
  stmt prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
        throw error(std::string(sqlite3_errmsg(db_)) + " in: " + sql);
      it = cache_.emplace(sql, s).first;
    }
    return stmt(it->second);
  }
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  std::int64_t last_id() const { return sqlite3_last_insert_rowid(db_); }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> cache_;
};

class transaction {
 public:
  explicit transaction(database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction() {
    if (!done_) {
      try {
        db_.exec("ROLLBACK");
      } catch (...) {
      }
    }
  }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  database& db_;
  bool done_ = false;
};

// ---- checks ------------------------------------------------------------------------------------

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
void check_username(std::string_view v) {
  if (v.empty() || v.size() > 64 || v.front() == '-') throw invalid("user.username");
  for (char c : v)
    if (!alnum(c) && c != '-' && c != '_') throw invalid("user.username");
}
void check_email(std::string_view v) {
  auto at = v.find('@');
  if (v.size() > 254 || at == std::string_view::npos || at == 0 || v.find('.', at) == std::string_view::npos) throw invalid("user.email");
}
void check_name(std::string_view v, const char* field) {
  if (v.empty() || v.size() > 100 || v.front() == '.' || v.front() == '-') throw invalid(field);
  for (char c : v)
    if (!alnum(c) && c != '.' && c != '-' && c != '_') throw invalid(field);
}
void check_path(std::string_view v, const char* field) {
  if (v.size() < 2 || v.front() != '/' || v.find("//") != std::string_view::npos || v.find("/../") != std::string_view::npos ||
      v.find("/./") != std::string_view::npos)
    throw invalid(field);
}
void check_key(std::string_view v, const char* field) {
  static const char* const types[] = {"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"};
  auto space = v.find(' ');
  if (space == std::string_view::npos) throw invalid(field);
  bool known = false;
  for (auto t : types) known = known || v.substr(0, space) == t;
  if (!known) throw invalid(field);
  for (char c : v.substr(space + 1, v.find(' ', space + 1) - space - 1))
    if (!alnum(c) && c != '+' && c != '/' && c != '=') throw invalid(field);
}
std::string normalize_key(std::string_view key) { return std::string(key.substr(0, key.find(' ', key.find(' ') + 1))); }
void check_host(std::string_view v) {
  if (v.empty() || v.size() > 253) throw invalid("server.host");
  for (char c : v)
    if (!alnum(c) && c != '-' && c != '.' && c != ':') throw invalid("server.host");
}
void check_port(int p) {
  if (p < 1 || p > 65535) throw invalid("server.port");
}

const char* role_text(org_role r) { return r == org_role::owner ? "owner" : r == org_role::admin ? "admin" : "member"; }
org_role role_of(const std::string& t) {
  if (t == "owner") return org_role::owner;
  if (t == "admin") return org_role::admin;
  if (t == "member") return org_role::member;
  throw error("bad role: " + t);
}
const char* level_text(access_level l) { return l == access_level::admin ? "admin" : l == access_level::write ? "write" : "read"; }
access_level level_of(const std::string& t) {
  if (t == "admin") return access_level::admin;
  if (t == "write") return access_level::write;
  if (t == "read") return access_level::read;
  throw error("bad access level: " + t);
}

// ---- rows --------------------------------------------------------------------------------------

user read_user(const stmt& s) { return {s.i64(0), s.text(1), s.text(2), s.opt_text(3), s.time(4)}; }
organization read_org(const stmt& s) { return {s.i64(0), s.text(1), s.opt_text(2), s.time(3)}; }
repository read_repo(const stmt& s) { return {s.i64(0), s.text(1), s.i64(2), s.text(3), s.opt_text(4), s.time(5)}; }
ssh_key read_key(const stmt& s) { return {s.i64(0), s.text(1), s.text(2), s.text(3), s.time(4)}; }
server read_server(const stmt& s) {
  return {s.i64(0), s.text(1), s.text(2), static_cast<int>(s.i64(3)), s.i64(4) != 0, s.opt_i64(5), s.time(6)};
}
org_member read_member(const stmt& s) { return {s.i64(0), s.i64(1), s.i64(2), role_of(s.text(3)), s.time(4)}; }
repo_access read_access(const stmt& s) { return {s.i64(0), s.i64(1), s.i64(2), level_of(s.text(3))}; }
member_info read_info(const stmt& s) { return {s.i64(0), s.text(1), s.text(2), role_of(s.text(3)), s.time(4)}; }

template <class T, class Read>
std::optional<T> one(stmt&& s, Read read) {
  if (!s.step()) return std::nullopt;
  return read(s);
}
template <class T, class Read>
std::vector<T> all(stmt&& s, Read read) {
  std::vector<T> out;
  while (s.step()) out.push_back(read(s));
  return out;
}

#define USER_COLS "id, username, email, public_key, created_at"
#define ORG_COLS "id, name, description, created_at"
#define REPO_COLS "id, name, org_id, path, description, created_at"
#define KEY_COLS "id, name, public_key, private_key_path, created_at"
#define SERVER_COLS "id, name, host, port, is_neighbor, ssh_key_id, created_at"
#define MEMBER_COLS "id, org_id, user_id, role, joined_at"
#define ACCESS_COLS "id, repo_id, user_id, access_level"

// ---- the store ---------------------------------------------------------------------------------

class store {
 public:
  explicit store(const std::string& path) : db_(path) { migrate(); }

  void migrate() {
    transaction tx(db_);
    db_.exec(
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL,"
        " public_key TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);"
        "CREATE TABLE IF NOT EXISTS organizations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, description TEXT,"
        " created_at DATETIME DEFAULT CURRENT_TIMESTAMP);"
        "CREATE TABLE IF NOT EXISTS repositories (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, org_id INTEGER NOT NULL,"
        " path TEXT NOT NULL, description TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP,"
        " FOREIGN KEY (org_id) REFERENCES organizations(id) ON DELETE CASCADE, UNIQUE(org_id, name));"
        "CREATE TABLE IF NOT EXISTS ssh_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, public_key TEXT NOT NULL,"
        " private_key_path TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);"
        "CREATE TABLE IF NOT EXISTS servers (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, host TEXT NOT NULL,"
        " port INTEGER NOT NULL DEFAULT 22, is_neighbor BOOLEAN NOT NULL DEFAULT 0, ssh_key_id INTEGER,"
        " created_at DATETIME DEFAULT CURRENT_TIMESTAMP, FOREIGN KEY (ssh_key_id) REFERENCES ssh_keys(id) ON DELETE SET NULL);"
        "CREATE TABLE IF NOT EXISTS repo_access (id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, user_id INTEGER NOT NULL,"
        " access_level TEXT NOT NULL CHECK(access_level IN ('read', 'write', 'admin')),"
        " FOREIGN KEY (repo_id) REFERENCES repositories(id) ON DELETE CASCADE,"
        " FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE, UNIQUE(repo_id, user_id));"
        "CREATE TABLE IF NOT EXISTS org_members (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER NOT NULL, user_id INTEGER NOT NULL,"
        " role TEXT NOT NULL CHECK(role IN ('owner', 'admin', 'member')), joined_at DATETIME DEFAULT CURRENT_TIMESTAMP,"
        " FOREIGN KEY (org_id) REFERENCES organizations(id) ON DELETE CASCADE,"
        " FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE, UNIQUE(org_id, user_id));"
        "CREATE INDEX IF NOT EXISTS idx_repositories_org_id ON repositories(org_id);"
        "CREATE INDEX IF NOT EXISTS idx_repo_access_user_id ON repo_access(user_id);"
        "CREATE INDEX IF NOT EXISTS idx_servers_is_neighbor ON servers(is_neighbor);"
        "CREATE INDEX IF NOT EXISTS idx_org_members_user_id ON org_members(user_id);"
        "CREATE INDEX IF NOT EXISTS idx_users_public_key ON users(public_key);"
        "PRAGMA user_version = 2");
    tx.commit();
  }
  int schema_version() {
    auto s = db_.prepare("PRAGMA user_version");
    s.step();
    return static_cast<int>(s.i64(0));
  }

  // users
  user create_user(const user& u) {
    transaction tx(db_);
    user stored = insert_user(u);
    tx.commit();
    return stored;
  }
  std::size_t create_users(const std::vector<user>& users) {
    transaction tx(db_);
    for (const auto& u : users) insert_user(u);
    tx.commit();
    return users.size();
  }
  std::optional<user> get_user(std::int64_t id) {
    return one<user>(std::move(db_.prepare("SELECT " USER_COLS " FROM users WHERE id = ?").bind(1, id)), read_user);
  }
  std::optional<user> user_by_name(std::string_view name) {
    return one<user>(std::move(db_.prepare("SELECT " USER_COLS " FROM users WHERE username = ?").bind(1, name)), read_user);
  }
  std::optional<user> user_by_public_key(std::string_view key) {
    std::string k = normalize_key(key);
    return one<user>(std::move(db_.prepare("SELECT " USER_COLS " FROM users WHERE public_key = ?").bind(1, std::string_view(k))), read_user);
  }
  std::vector<user> list_users(std::int64_t after, std::int64_t limit) {
    return all<user>(std::move(db_.prepare("SELECT " USER_COLS " FROM users WHERE id > ? ORDER BY id LIMIT ?").bind(1, after).bind(2, limit)),
                     read_user);
  }
  user update_user(std::int64_t id, const std::optional<std::string>& username, const std::optional<std::string>& email) {
    transaction tx(db_);
    require("users", id);
    if (username) check_username(*username);
    if (email) check_email(*email);
    auto s = db_.prepare(
        "UPDATE users SET username = CASE WHEN ?1 IS NULL THEN username ELSE ?1 END,"
        " email = CASE WHEN ?2 IS NULL THEN email ELSE ?2 END WHERE id = ?3");
    s.bind(1, username).bind(2, email).bind(3, id).run();
    user stored = *get_user(id);
    tx.commit();
    return stored;
  }
  void delete_user(std::int64_t id) { remove("DELETE FROM users WHERE id = ?", id); }

  // organizations and members
  organization create_organization(const organization& o, std::optional<std::int64_t> owner) {
    check_name(o.name, "organization.name");
    transaction tx(db_);
    if (owner) require("users", *owner);
    db_.prepare("INSERT INTO organizations(name, description) VALUES (?, ?)").bind(1, std::string_view(o.name)).bind(2, o.description).run();
    std::int64_t id = db_.last_id();
    if (owner) db_.prepare("INSERT INTO org_members(org_id, user_id, role) VALUES (?, ?, 'owner')").bind(1, id).bind(2, *owner).run();
    organization stored = *get_organization(id);
    tx.commit();
    return stored;
  }
  std::optional<organization> get_organization(std::int64_t id) {
    return one<organization>(std::move(db_.prepare("SELECT " ORG_COLS " FROM organizations WHERE id = ?").bind(1, id)), read_org);
  }
  std::optional<organization> organization_by_name(std::string_view name) {
    return one<organization>(std::move(db_.prepare("SELECT " ORG_COLS " FROM organizations WHERE name = ?").bind(1, name)), read_org);
  }
  std::vector<organization> list_organizations() {
    return all<organization>(db_.prepare("SELECT " ORG_COLS " FROM organizations ORDER BY id"), read_org);
  }
  organization update_organization(std::int64_t id, const std::optional<std::string>& description) {
    transaction tx(db_);
    require("organizations", id);
    db_.prepare("UPDATE organizations SET description = ? WHERE id = ?").bind(1, description).bind(2, id).run();
    organization stored = *get_organization(id);
    tx.commit();
    return stored;
  }
  void delete_organization(std::int64_t id) { remove("DELETE FROM organizations WHERE id = ?", id); }

  org_member add_org_member(std::int64_t org, std::int64_t user_id, org_role role) {
    transaction tx(db_);
    require("organizations", org);
    require("users", user_id);
    db_.prepare("INSERT INTO org_members(org_id, user_id, role) VALUES (?, ?, ?)").bind(1, org).bind(2, user_id).bind(3, role_text(role)).run();
    org_member stored = *get_org_member(db_.last_id());
    tx.commit();
    return stored;
  }
  std::optional<org_member> get_org_member(std::int64_t id) {
    return one<org_member>(std::move(db_.prepare("SELECT " MEMBER_COLS " FROM org_members WHERE id = ?").bind(1, id)), read_member);
  }
  std::optional<org_member> org_membership(std::int64_t org, std::int64_t user_id) {
    return one<org_member>(
        std::move(db_.prepare("SELECT " MEMBER_COLS " FROM org_members WHERE org_id = ? AND user_id = ?").bind(1, org).bind(2, user_id)),
        read_member);
  }
  std::vector<org_member> list_org_members() {
    return all<org_member>(db_.prepare("SELECT " MEMBER_COLS " FROM org_members ORDER BY id"), read_member);
  }
  std::vector<member_info> org_members(std::int64_t org) {
    return all<member_info>(std::move(db_.prepare(
                                "SELECT u.id, u.username, u.email, om.role, om.joined_at FROM org_members om JOIN users u ON u.id = om.user_id"
                                " WHERE om.org_id = ? ORDER BY CASE om.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.username")
                                          .bind(1, org)),
                            read_info);
  }
  org_member set_org_role(std::int64_t org, std::int64_t user_id, org_role role) {
    transaction tx(db_);
    db_.prepare("UPDATE org_members SET role = ? WHERE org_id = ? AND user_id = ?").bind(1, role_text(role)).bind(2, org).bind(3, user_id).run();
    if (db_.changes() == 0) throw not_found("org_member");
    org_member stored = *org_membership(org, user_id);
    tx.commit();
    return stored;
  }
  void remove_org_member(std::int64_t org, std::int64_t user_id) {
    transaction tx(db_);
    db_.prepare("DELETE FROM org_members WHERE org_id = ? AND user_id = ?").bind(1, org).bind(2, user_id).run();
    if (db_.changes() == 0) throw not_found("org_member");
    tx.commit();
  }

  // repositories and access
  repository create_repository(const repository& r, std::optional<std::int64_t> creator) {
    transaction tx(db_);
    repository stored = insert_repository(r);
    if (creator) {
      require("users", *creator);
      db_.prepare("INSERT INTO repo_access(repo_id, user_id, access_level) VALUES (?, ?, 'admin')").bind(1, stored.id).bind(2, *creator).run();
    }
    tx.commit();
    return stored;
  }
  std::size_t create_repositories(const std::vector<repository>& repos) {
    transaction tx(db_);
    for (const auto& r : repos) insert_repository(r);
    tx.commit();
    return repos.size();
  }
  std::optional<repository> get_repository(std::int64_t id) {
    return one<repository>(std::move(db_.prepare("SELECT " REPO_COLS " FROM repositories WHERE id = ?").bind(1, id)), read_repo);
  }
  std::optional<repository> repository_by_name(std::int64_t org, std::string_view name) {
    return one<repository>(
        std::move(db_.prepare("SELECT " REPO_COLS " FROM repositories WHERE org_id = ? AND name = ?").bind(1, org).bind(2, name)), read_repo);
  }
  std::vector<repository> list_repositories() {
    return all<repository>(db_.prepare("SELECT " REPO_COLS " FROM repositories ORDER BY id"), read_repo);
  }
  std::vector<repository> org_repositories(std::int64_t org) {
    return all<repository>(std::move(db_.prepare("SELECT " REPO_COLS " FROM repositories WHERE org_id = ? ORDER BY id").bind(1, org)), read_repo);
  }
  repository update_repository(std::int64_t id, const std::optional<std::string>& description) {
    transaction tx(db_);
    require("repositories", id);
    db_.prepare("UPDATE repositories SET description = ? WHERE id = ?").bind(1, description).bind(2, id).run();
    repository stored = *get_repository(id);
    tx.commit();
    return stored;
  }
  void delete_repository(std::int64_t id) { remove("DELETE FROM repositories WHERE id = ?", id); }

  repo_access grant_access(std::int64_t repo, std::int64_t user_id, access_level level) {
    transaction tx(db_);
    require("repositories", repo);
    require("users", user_id);
    auto s = db_.prepare(
        "INSERT INTO repo_access(repo_id, user_id, access_level) VALUES (?, ?, ?)"
        " ON CONFLICT (repo_id, user_id) DO UPDATE SET access_level = excluded.access_level RETURNING " ACCESS_COLS);
    s.bind(1, repo).bind(2, user_id).bind(3, level_text(level));
    s.step();
    repo_access stored = read_access(s);
    tx.commit();
    return stored;
  }
  void revoke_access(std::int64_t repo, std::int64_t user_id) {
    transaction tx(db_);
    db_.prepare("DELETE FROM repo_access WHERE repo_id = ? AND user_id = ?").bind(1, repo).bind(2, user_id).run();
    if (db_.changes() == 0) throw not_found("repo_access");
    tx.commit();
  }
  std::optional<repo_access> get_repo_access(std::int64_t id) {
    return one<repo_access>(std::move(db_.prepare("SELECT " ACCESS_COLS " FROM repo_access WHERE id = ?").bind(1, id)), read_access);
  }
  std::optional<repo_access> repo_grant(std::int64_t repo, std::int64_t user_id) {
    return one<repo_access>(
        std::move(db_.prepare("SELECT " ACCESS_COLS " FROM repo_access WHERE repo_id = ? AND user_id = ?").bind(1, repo).bind(2, user_id)),
        read_access);
  }
  std::vector<repo_access> list_repo_access() {
    return all<repo_access>(db_.prepare("SELECT " ACCESS_COLS " FROM repo_access ORDER BY id"), read_access);
  }
  std::vector<repo_access> repository_grants(std::int64_t repo) {
    return all<repo_access>(std::move(db_.prepare("SELECT " ACCESS_COLS " FROM repo_access WHERE repo_id = ? ORDER BY id").bind(1, repo)),
                            read_access);
  }
  std::vector<repository> user_repositories(std::int64_t user_id) {
    return all<repository>(
        std::move(db_.prepare("SELECT r.id, r.name, r.org_id, r.path, r.description, r.created_at FROM org_members om"
                              " JOIN repositories r ON r.org_id = om.org_id WHERE om.user_id = ?1 UNION"
                              " SELECT r.id, r.name, r.org_id, r.path, r.description, r.created_at FROM repo_access ra"
                              " JOIN repositories r ON r.id = ra.repo_id WHERE ra.user_id = ?1 ORDER BY 1")
                      .bind(1, user_id)),
        read_repo);
  }
  std::optional<access_level> access(std::int64_t user_id, std::int64_t repo) {
    auto s = db_.prepare(
        "SELECT max(level) FROM (SELECT CASE ra.access_level WHEN 'admin' THEN 3 WHEN 'write' THEN 2 WHEN 'read' THEN 1 END AS level"
        " FROM repo_access ra WHERE ra.repo_id = ?2 AND ra.user_id = ?1 UNION ALL"
        " SELECT CASE om.role WHEN 'owner' THEN 3 WHEN 'admin' THEN 3 WHEN 'member' THEN 1 END"
        " FROM repositories r JOIN org_members om ON om.org_id = r.org_id AND om.user_id = ?1 WHERE r.id = ?2)");
    s.bind(1, user_id).bind(2, repo);
    s.step();
    if (s.null(0)) return std::nullopt;
    return static_cast<access_level>(s.i64(0));
  }

  // ssh keys and servers
  ssh_key create_ssh_key(const ssh_key& k) {
    check_name(k.name, "ssh_key.name");
    check_key(k.public_key, "ssh_key.public_key");
    check_path(k.private_key_path, "ssh_key.private_key_path");
    transaction tx(db_);
    db_.prepare("INSERT INTO ssh_keys(name, public_key, private_key_path) VALUES (?, ?, ?)")
        .bind(1, std::string_view(k.name)).bind(2, std::string_view(k.public_key)).bind(3, std::string_view(k.private_key_path)).run();
    ssh_key stored = *get_ssh_key(db_.last_id());
    tx.commit();
    return stored;
  }
  std::optional<ssh_key> get_ssh_key(std::int64_t id) {
    return one<ssh_key>(std::move(db_.prepare("SELECT " KEY_COLS " FROM ssh_keys WHERE id = ?").bind(1, id)), read_key);
  }
  std::optional<ssh_key> ssh_key_by_name(std::string_view name) {
    return one<ssh_key>(std::move(db_.prepare("SELECT " KEY_COLS " FROM ssh_keys WHERE name = ?").bind(1, name)), read_key);
  }
  std::vector<ssh_key> list_ssh_keys() { return all<ssh_key>(db_.prepare("SELECT " KEY_COLS " FROM ssh_keys ORDER BY id"), read_key); }
  ssh_key update_ssh_key(std::int64_t id, const std::string& private_key_path) {
    check_path(private_key_path, "ssh_key.private_key_path");
    transaction tx(db_);
    require("ssh_keys", id);
    db_.prepare("UPDATE ssh_keys SET private_key_path = ? WHERE id = ?").bind(1, std::string_view(private_key_path)).bind(2, id).run();
    ssh_key stored = *get_ssh_key(id);
    tx.commit();
    return stored;
  }
  void delete_ssh_key(std::int64_t id) { remove("DELETE FROM ssh_keys WHERE id = ?", id); }

  server create_server(const server& s) {
    check_name(s.name, "server.name");
    check_host(s.host);
    check_port(s.port);
    transaction tx(db_);
    if (s.ssh_key_id) require("ssh_keys", *s.ssh_key_id);
    db_.prepare("INSERT INTO servers(name, host, port, is_neighbor, ssh_key_id) VALUES (?, ?, ?, ?, ?)")
        .bind(1, std::string_view(s.name)).bind(2, std::string_view(s.host)).bind(3, std::int64_t{s.port})
        .bind(4, std::int64_t{s.is_neighbor}).bind(5, s.ssh_key_id).run();
    server stored = *get_server(db_.last_id());
    tx.commit();
    return stored;
  }
  std::optional<server> get_server(std::int64_t id) {
    return one<server>(std::move(db_.prepare("SELECT " SERVER_COLS " FROM servers WHERE id = ?").bind(1, id)), read_server);
  }
  std::optional<server> server_by_name(std::string_view name) {
    return one<server>(std::move(db_.prepare("SELECT " SERVER_COLS " FROM servers WHERE name = ?").bind(1, name)), read_server);
  }
  std::vector<server> list_servers() { return all<server>(db_.prepare("SELECT " SERVER_COLS " FROM servers ORDER BY id"), read_server); }
  std::vector<server> neighbor_servers() {
    return all<server>(db_.prepare("SELECT " SERVER_COLS " FROM servers WHERE is_neighbor = 1 ORDER BY id"), read_server);
  }
  server update_server(std::int64_t id, int port) {
    check_port(port);
    transaction tx(db_);
    require("servers", id);
    db_.prepare("UPDATE servers SET port = ? WHERE id = ?").bind(1, std::int64_t{port}).bind(2, id).run();
    server stored = *get_server(id);
    tx.commit();
    return stored;
  }
  void delete_server(std::int64_t id) { remove("DELETE FROM servers WHERE id = ?", id); }

 private:
  void require(const char* table, std::int64_t id) {
    auto st = db_.prepare(table[0] == 'u'   ? "SELECT 1 FROM users WHERE id = ?"
                          : table[0] == 'o' ? "SELECT 1 FROM organizations WHERE id = ?"
                          : table[0] == 'r' ? "SELECT 1 FROM repositories WHERE id = ?"
                          : table[1] == 's' ? "SELECT 1 FROM ssh_keys WHERE id = ?"
                                            : "SELECT 1 FROM servers WHERE id = ?");
    if (!st.bind(1, id).step()) throw not_found(std::string(table) + " " + std::to_string(id));
  }
  void remove(const char* sql, std::int64_t id) {
    transaction tx(db_);
    db_.prepare(sql).bind(1, id).run();
    if (db_.changes() == 0) throw not_found(std::to_string(id));
    tx.commit();
  }
  user insert_user(const user& u) {
    check_username(u.username);
    check_email(u.email);
    std::optional<std::string> key;
    if (u.public_key) {
      check_key(*u.public_key, "user.public_key");
      key = normalize_key(*u.public_key);
      if (auto holder = user_by_public_key(*key)) throw already_exists("user.public_key");
    }
    auto s = db_.prepare("INSERT INTO users(username, email, public_key) VALUES (?, ?, ?) RETURNING " USER_COLS);
    s.bind(1, std::string_view(u.username)).bind(2, std::string_view(u.email)).bind(3, key);
    s.step();
    return read_user(s);
  }
  repository insert_repository(const repository& r) {
    check_name(r.name, "repository.name");
    check_path(r.path, "repository.path");
    require("organizations", r.org_id);
    auto s = db_.prepare("INSERT INTO repositories(name, org_id, path, description) VALUES (?, ?, ?, ?) RETURNING " REPO_COLS);
    s.bind(1, std::string_view(r.name)).bind(2, r.org_id).bind(3, std::string_view(r.path)).bind(4, r.description);
    s.step();
    return read_repo(s);
  }

  database db_;
};

}  // namespace raw

std::size_t exercise_every_raw_operation(const std::string& path) {
  raw::store store(path);
  std::size_t seen = static_cast<std::size_t>(store.schema_version());
  store.migrate();

  auto alice = store.create_user({0, "alice", "alice@example.org", {}, {}});
  seen += store.create_users({{0, "bob", "bob@example.org", {}, {}}, {0, "carol", "carol@example.org", {}, {}}});
  seen += store.get_user(alice.id).has_value();
  seen += store.user_by_name("alice").has_value();
  seen += store.user_by_public_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA").has_value();
  seen += store.list_users(0, 10).size();
  alice = store.update_user(alice.id, std::nullopt, std::string("alice@example.com"));

  auto acme = store.create_organization({0, "acme", {}, {}}, alice.id);
  seen += store.get_organization(acme.id).has_value();
  seen += store.organization_by_name("acme").has_value();
  seen += store.list_organizations().size();
  acme = store.update_organization(acme.id, std::string("tools"));
  auto bob = store.user_by_name("bob");
  auto member = store.add_org_member(acme.id, bob->id, raw::org_role::member);
  seen += store.get_org_member(member.id).has_value();
  seen += store.org_membership(acme.id, bob->id).has_value();
  seen += store.list_org_members().size();
  seen += store.org_members(acme.id).size();
  member = store.set_org_role(acme.id, bob->id, raw::org_role::admin);

  auto tools = store.create_repository({0, "tools", acme.id, "/srv/git/acme/tools.git", {}, {}}, alice.id);
  seen += store.create_repositories({{0, "web", acme.id, "/srv/git/acme/web.git", {}, {}}});
  seen += store.get_repository(tools.id).has_value();
  seen += store.repository_by_name(acme.id, "tools").has_value();
  seen += store.list_repositories().size();
  seen += store.org_repositories(acme.id).size();
  tools = store.update_repository(tools.id, std::string("build tools"));
  auto grant = store.grant_access(tools.id, bob->id, raw::access_level::write);
  seen += store.get_repo_access(grant.id).has_value();
  seen += store.repo_grant(tools.id, bob->id).has_value();
  seen += store.list_repo_access().size();
  seen += store.repository_grants(tools.id).size();
  seen += store.user_repositories(bob->id).size();
  seen += store.access(bob->id, tools.id).has_value();
  store.revoke_access(tools.id, bob->id);

  auto key = store.create_ssh_key({0, "deploy", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA", "/etc/cpm/keys/deploy", {}});
  seen += store.get_ssh_key(key.id).has_value();
  seen += store.ssh_key_by_name("deploy").has_value();
  seen += store.list_ssh_keys().size();
  key = store.update_ssh_key(key.id, "/etc/cpm/keys/deploy2");
  auto node = store.create_server({0, "node-1", "node1.example.net", 22, true, key.id, {}});
  seen += store.get_server(node.id).has_value();
  seen += store.server_by_name("node-1").has_value();
  seen += store.list_servers().size();
  seen += store.neighbor_servers().size();
  node = store.update_server(node.id, 2222);

  store.delete_server(node.id);
  store.delete_ssh_key(key.id);
  store.remove_org_member(acme.id, bob->id);
  store.delete_repository(tools.id);
  store.delete_organization(acme.id);
  store.delete_user(alice.id);
  return seen;
}
