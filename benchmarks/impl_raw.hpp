// cpm benchmarks: the floor, hand-written code on the sqlite3 C API.
//
// Every statement is prepared once (sqlite3_prepare_v3 with SQLITE_PREPARE_PERSISTENT). Each
// call binds (text as SQLITE_STATIC), steps, copies the columns into cpm's own structs and
// calls sqlite3_reset, which ends the statement's read transaction.
#pragma once

#include "common.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cpm_bench {

class raw_db {
 public:
  // A file database with cpm's connection settings (see conn_config), or ":memory:".
  raw_db(const std::string& path, const conn_config& c) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | (c.serialized ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) fail("open " + path);
    sqlite3_busy_timeout(db_, 5000);
    bool memory = path == ":memory:";
    for (const auto& sql : open_script(c)) {
      if (memory && (sql.find("journal_mode") != std::string::npos || sql.find("synchronous") != std::string::npos)) continue;
      exec(sql);
    }
    if (c.hot) warm(db_);
  }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;
  ~raw_db() {
    for (auto* s : statements_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }

  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) fail(sql);
    statements_.push_back(s);
    return s;
  }
  [[nodiscard]] sqlite3* native() const noexcept { return db_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("raw: " + std::string(db_ ? sqlite3_errmsg(db_) : "out of memory") + " (" + what + ")");
  }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

class raw_impl {
 public:
  raw_impl(const std::string& path, const conn_config& c)
      : db_(path, c),
        by_username_(db_.prepare(hand_sql::user_by_username)),
        by_id_(db_.prepare(hand_sql::user_by_id)),
        by_key_(db_.prepare(hand_sql::user_by_public_key.c_str())),
        by_original_key_(db_.prepare(hand_sql::user_by_original_key.c_str())),
        by_fingerprint_(db_.prepare(hand_sql::user_by_fingerprint.c_str())),
        repo_by_path_(db_.prepare(hand_sql::repository_by_path.c_str())),
        all_users_(db_.prepare(hand_sql::all_users)),
        org_repos_(db_.prepare(hand_sql::org_repositories)),
        user_repos_(db_.prepare(hand_sql::user_repositories.c_str())),
        members_(db_.prepare(hand_sql::org_members.c_str())),
        access_(db_.prepare(hand_sql::access_level.c_str())),
        neighbors_(db_.prepare(hand_sql::neighbor_servers)),
        begin_(db_.prepare("BEGIN")),
        commit_(db_.prepare("COMMIT")) {}

  [[nodiscard]] sqlite3* native() const noexcept { return db_.native(); }

  std::optional<cpm::user> user_by_username(const std::string& name) {
    bind_text(by_username_, 1, name);
    return one_user(by_username_);
  }
  std::optional<cpm::user> user_by_id(std::int64_t id) {
    bind_int(by_id_, 1, id);
    return one_user(by_id_);
  }
  // The store's two steps: user_keys, then a key only the original system wrote.
  std::optional<cpm::user> user_by_public_key(const std::string& key) {
    bind_text(by_key_, 1, key);
    if (auto found = one_user(by_key_)) return found;
    bind_text(by_original_key_, 1, key);
    return one_user(by_original_key_);
  }
  std::optional<cpm::user> user_by_fingerprint(const std::string& fingerprint) {
    bind_text(by_fingerprint_, 1, fingerprint);
    return one_user(by_fingerprint_);
  }
  std::optional<cpm::repository> repository_by_path(const std::string& path) {
    bind_text(repo_by_path_, 1, path);
    std::optional<cpm::repository> out;
    int rc = sqlite3_step(repo_by_path_);
    if (rc == SQLITE_ROW) {
      raw::read_repository(repo_by_path_, out.emplace());
    } else if (rc != SQLITE_DONE) {
      fail_step(repo_by_path_, rc);
    }
    sqlite3_reset(repo_by_path_);
    return out;
  }

  template <class F>
  void org_repositories(std::int64_t org, F&& each) {
    bind_int(org_repos_, 1, org);
    rows<cpm::repository>(org_repos_, raw::read_repository, each);
  }
  template <class F>
  void user_repositories(std::int64_t user, F&& each) {
    bind_int(user_repos_, 1, user);
    rows<cpm::repository>(user_repos_, raw::read_repository, each);
  }
  template <class F>
  void org_members(std::int64_t org, F&& each) {
    bind_int(members_, 1, org);
    rows<cpm::member_info>(members_, raw::read_member, each);
  }
  template <class F>
  void neighbor_servers(F&& each) {
    rows<cpm::server>(neighbors_, raw::read_server, each);
  }
  template <class F>
  void all_users(F&& each) {
    rows<cpm::user>(all_users_, raw::read_user, each);
  }

  std::optional<cpm::access_level> access_level(std::int64_t user, std::int64_t repo) {
    bind_int(access_, 1, user);
    bind_int(access_, 2, repo);
    int rc = sqlite3_step(access_);
    if (rc != SQLITE_ROW) fail_step(access_, rc);
    std::optional<cpm::access_level> out;
    if (sqlite3_column_type(access_, 0) != SQLITE_NULL) out = static_cast<cpm::access_level>(sqlite3_column_int(access_, 0));
    sqlite3_reset(access_);
    return out;
  }

  // BEGIN ... COMMIT around `work`: one read transaction for all of it.
  template <class F>
  void snapshot(F&& work) {
    run(begin_);
    std::forward<F>(work)();
    run(commit_);
  }

 private:
  void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
    if (sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC) != SQLITE_OK) db_.fail("bind");
  }
  void bind_int(sqlite3_stmt* s, int i, std::int64_t v) {
    if (sqlite3_bind_int64(s, i, v) != SQLITE_OK) db_.fail("bind");
  }
  [[noreturn]] void fail_step(sqlite3_stmt* s, int rc) {
    std::string message = sqlite3_errmsg(db_.native());
    sqlite3_reset(s);
    throw std::runtime_error("raw: step failed (" + std::to_string(rc) + "): " + message);
  }
  void run(sqlite3_stmt* s) {
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) fail_step(s, rc);
    sqlite3_reset(s);
  }
  std::optional<cpm::user> one_user(sqlite3_stmt* s) {
    std::optional<cpm::user> out;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      raw::read_user(s, out.emplace());
    } else if (rc != SQLITE_DONE) {
      fail_step(s, rc);
    }
    sqlite3_reset(s);
    return out;
  }
  template <class Row, class Read, class F>
  void rows(sqlite3_stmt* s, Read read, F& each) {
    Row row;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      read(s, row);
      each(row);
    }
    if (rc != SQLITE_DONE) fail_step(s, rc);
    sqlite3_reset(s);
  }

  raw_db db_;
  sqlite3_stmt* by_username_;
  sqlite3_stmt* by_id_;
  sqlite3_stmt* by_key_;
  sqlite3_stmt* by_original_key_;
  sqlite3_stmt* by_fingerprint_;
  sqlite3_stmt* repo_by_path_;
  sqlite3_stmt* all_users_;
  sqlite3_stmt* org_repos_;
  sqlite3_stmt* user_repos_;
  sqlite3_stmt* members_;
  sqlite3_stmt* access_;
  sqlite3_stmt* neighbors_;
  sqlite3_stmt* begin_;
  sqlite3_stmt* commit_;
};

// Inserts into an in-memory database with cpm's schema.
class raw_insert {
 public:
  raw_insert() : db_(":memory:", conn_config{}) {
    for (const auto& sql : hand_sql::store_schema_sql()) db_.exec(sql);
    begin_ = db_.prepare("BEGIN IMMEDIATE");
    commit_ = db_.prepare("COMMIT");
    insert_ = db_.prepare(hand_sql::insert_user);
  }

  std::size_t insert_users(const std::vector<cpm::user>& users) {
    step_done(begin_);
    for (const cpm::user& u : users) {
      sqlite3_bind_text(insert_, 1, u.username.data(), static_cast<int>(u.username.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 2, u.email.data(), static_cast<int>(u.email.size()), SQLITE_STATIC);
      if (u.public_key) {
        sqlite3_bind_text(insert_, 3, u.public_key->data(), static_cast<int>(u.public_key->size()), SQLITE_STATIC);
      } else {
        sqlite3_bind_text(insert_, 3, "", 0, SQLITE_STATIC);  // the store's none
      }
      step_done(insert_);
    }
    step_done(commit_);
    return users.size();
  }
  void clear() { db_.exec("DELETE FROM users"); }
  std::int64_t count() {
    sqlite3_stmt* s = db_.prepare("SELECT count(*) FROM users");
    sqlite3_step(s);
    std::int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return n;
  }

 private:
  void step_done(sqlite3_stmt* s) {
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
      std::string message = sqlite3_errmsg(db_.native());
      sqlite3_reset(s);
      throw std::runtime_error("raw insert: " + message);
    }
    sqlite3_reset(s);
  }

  raw_db db_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace cpm_bench
