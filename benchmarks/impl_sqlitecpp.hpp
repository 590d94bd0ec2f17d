// cpm benchmarks: SQLiteCpp 3.2.1 (Debian's libsqlitecpp-dev), used the way its documentation
// shows: SQLite::Statement objects kept and reused; each call does bind() (which copies text,
// SQLITE_TRANSIENT), executeStep(), getColumn(i).getString() / getInt64() / isNull(), and
// reset(). SQLite::Database passes its flags to sqlite3_open_v2 unchanged (its default is
// OPEN_READONLY and no mutex flag, i.e. serialized with Debian's library); here it gets
// OPEN_READWRITE | OPEN_NOMUTEX, the same as cpm and raw, and the same pragmas in the same order.
#pragma once

#include "common.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <string>
#include <utility>
#include <vector>

namespace cpm_bench {

namespace cppdb {

inline SQLite::Database open(const std::string& path, const conn_config& c) {
  int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | (c.serialized ? SQLite::OPEN_FULLMUTEX : SQLite::OPEN_NOMUTEX);
  SQLite::Database db(path, flags, 5000);
  bool memory = path == ":memory:";
  for (const auto& sql : open_script(c)) {
    if (memory && (sql.find("journal_mode") != std::string::npos || sql.find("synchronous") != std::string::npos)) continue;
    // exec() refuses statements that return rows; PRAGMA journal_mode etc. return one.
    SQLite::Statement stmt(db, sql);
    while (stmt.executeStep()) {
    }
  }
  if (c.hot) warm(db.getHandle());
  return db;
}

inline void read(const SQLite::Column& c, std::optional<std::string>& out) {
  if (c.isNull()) out.reset(); else out = c.getString();
}
inline void read(const SQLite::Column& c, std::optional<cpm::timestamp>& out) {
  if (c.isNull()) {
    out.reset();
  } else {
    out = parse_timestamp_text(reinterpret_cast<const unsigned char*>(c.getText()), c.getBytes());
  }
}
// A column where the store writes '' for none (users.public_key, the descriptions).
inline void read_none_as_empty(const SQLite::Column& c, std::optional<std::string>& out) {
  read(c, out);
  if (out && out->empty()) out.reset();
}
inline void read_user(const SQLite::Statement& s, cpm::user& u) {
  u.id = s.getColumn(0).getInt64();
  u.username = s.getColumn(1).getString();
  u.email = s.getColumn(2).getString();
  read_none_as_empty(s.getColumn(3), u.public_key);
  read(s.getColumn(4), u.created_at);
}
inline void read_repository(const SQLite::Statement& s, cpm::repository& r) {
  r.id = s.getColumn(0).getInt64();
  r.name = s.getColumn(1).getString();
  r.org_id = s.getColumn(2).getInt64();
  r.path = s.getColumn(3).getString();
  read_none_as_empty(s.getColumn(4), r.description);
  read(s.getColumn(5), r.created_at);
}
inline void read_member(const SQLite::Statement& s, cpm::member_info& m) {
  m.user_id = s.getColumn(0).getInt64();
  m.username = s.getColumn(1).getString();
  m.email = s.getColumn(2).getString();
  m.role = raw::role(s.getColumn(3).getText());
  read(s.getColumn(4), m.joined_at);
}
inline void read_server(const SQLite::Statement& s, cpm::server& v) {
  v.id = s.getColumn(0).getInt64();
  v.name = s.getColumn(1).getString();
  v.host = s.getColumn(2).getString();
  v.port = s.getColumn(3).getInt();
  v.is_neighbor = s.getColumn(4).getInt() != 0;
  auto key = s.getColumn(5);
  if (key.isNull()) v.ssh_key_id.reset(); else v.ssh_key_id = key.getInt64();
  read(s.getColumn(6), v.created_at);
}

}  // namespace cppdb

class sqlitecpp_impl {
 public:
  sqlitecpp_impl(const std::string& path, const conn_config& c)
      : db_(cppdb::open(path, c)),
        by_username_(db_, hand_sql::user_by_username),
        by_id_(db_, hand_sql::user_by_id),
        by_key_(db_, hand_sql::user_by_public_key),
        by_original_key_(db_, hand_sql::user_by_original_key),
        by_fingerprint_(db_, hand_sql::user_by_fingerprint),
        repo_by_path_(db_, hand_sql::repository_by_path),
        all_users_(db_, hand_sql::all_users),
        org_repos_(db_, hand_sql::org_repositories),
        user_repos_(db_, hand_sql::user_repositories),
        members_(db_, hand_sql::org_members),
        access_(db_, hand_sql::access_level),
        neighbors_(db_, hand_sql::neighbor_servers) {}

  [[nodiscard]] sqlite3* native() const noexcept { return db_.getHandle(); }

  std::optional<cpm::user> user_by_username(const std::string& name) {
    by_username_.bind(1, name);
    return one_user(by_username_);
  }
  std::optional<cpm::user> user_by_id(std::int64_t id) {
    by_id_.bind(1, static_cast<int64_t>(id));
    return one_user(by_id_);
  }
  // The store's two steps: user_keys, then a key only the original system wrote.
  std::optional<cpm::user> user_by_public_key(const std::string& key) {
    by_key_.bind(1, key);
    if (auto found = one_user(by_key_)) return found;
    by_original_key_.bind(1, key);
    return one_user(by_original_key_);
  }
  std::optional<cpm::user> user_by_fingerprint(const std::string& fingerprint) {
    by_fingerprint_.bind(1, fingerprint);
    return one_user(by_fingerprint_);
  }
  std::optional<cpm::repository> repository_by_path(const std::string& path) {
    repo_by_path_.bind(1, path);
    std::optional<cpm::repository> out;
    if (repo_by_path_.executeStep()) cppdb::read_repository(repo_by_path_, out.emplace());
    repo_by_path_.reset();
    return out;
  }

  template <class F>
  void org_repositories(std::int64_t org, F&& each) {
    org_repos_.bind(1, static_cast<int64_t>(org));
    rows<cpm::repository>(org_repos_, cppdb::read_repository, each);
  }
  template <class F>
  void user_repositories(std::int64_t user, F&& each) {
    user_repos_.bind(1, static_cast<int64_t>(user));
    rows<cpm::repository>(user_repos_, cppdb::read_repository, each);
  }
  template <class F>
  void org_members(std::int64_t org, F&& each) {
    members_.bind(1, static_cast<int64_t>(org));
    rows<cpm::member_info>(members_, cppdb::read_member, each);
  }
  template <class F>
  void neighbor_servers(F&& each) {
    rows<cpm::server>(neighbors_, cppdb::read_server, each);
  }
  template <class F>
  void all_users(F&& each) {
    rows<cpm::user>(all_users_, cppdb::read_user, each);
  }

  std::optional<cpm::access_level> access_level(std::int64_t user, std::int64_t repo) {
    access_.bind(1, static_cast<int64_t>(user));
    access_.bind(2, static_cast<int64_t>(repo));
    access_.executeStep();
    std::optional<cpm::access_level> out;
    auto level = access_.getColumn(0);
    if (!level.isNull()) out = static_cast<cpm::access_level>(level.getInt());
    access_.reset();
    return out;
  }

  // SQLite::Transaction: BEGIN (deferred) ... commit(), each run through sqlite3_exec.
  template <class F>
  void snapshot(F&& work) {
    SQLite::Transaction tx(db_);
    std::forward<F>(work)();
    tx.commit();
  }

 private:
  static std::optional<cpm::user> one_user(SQLite::Statement& s) {
    std::optional<cpm::user> out;
    if (s.executeStep()) cppdb::read_user(s, out.emplace());
    s.reset();
    return out;
  }
  template <class Row, class Read, class F>
  static void rows(SQLite::Statement& s, Read read, F& each) {
    Row row;
    while (s.executeStep()) {
      read(s, row);
      each(row);
    }
    s.reset();
  }

  SQLite::Database db_;
  SQLite::Statement by_username_;
  SQLite::Statement by_id_;
  SQLite::Statement by_key_;
  SQLite::Statement by_original_key_;
  SQLite::Statement by_fingerprint_;
  SQLite::Statement repo_by_path_;
  SQLite::Statement all_users_;
  SQLite::Statement org_repos_;
  SQLite::Statement user_repos_;
  SQLite::Statement members_;
  SQLite::Statement access_;
  SQLite::Statement neighbors_;
};

class sqlitecpp_insert {
 public:
  sqlitecpp_insert() : db_(cppdb::open(":memory:", conn_config{})) {
    for (const auto& sql : hand_sql::store_schema_sql()) db_.exec(sql);
    insert_ = std::make_unique<SQLite::Statement>(db_, hand_sql::insert_user);
  }

  std::size_t insert_users(const std::vector<cpm::user>& users) {
    SQLite::Transaction tx(db_);
    for (const cpm::user& u : users) {
      insert_->bind(1, u.username);
      insert_->bind(2, u.email);
      if (u.public_key) insert_->bind(3, *u.public_key); else insert_->bind(3, "");  // the store's none
      insert_->exec();
      insert_->reset();
    }
    tx.commit();
    return users.size();
  }
  void clear() { db_.exec("DELETE FROM users"); }
  std::int64_t count() { return db_.execAndGet("SELECT count(*) FROM users").getInt64(); }

 private:
  SQLite::Database db_;
  std::unique_ptr<SQLite::Statement> insert_;
};

}  // namespace cpm_bench
