// cpm: transactions, savepoints and read snapshots, as RAII guards.
//
//   cpm::transaction tx(db);            // BEGIN IMMEDIATE (the default, right for writers)
//   ...
//   tx.commit();                        // without it, the destructor rolls back
//
// A transaction opened while another is active becomes a uniquely named SAVEPOINT, so
// nesting composes: rolling back the inner one keeps the outer one's work.
#pragma once

#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace cpm {

enum class tx_mode { deferred, immediate, exclusive };

class transaction {
 public:
  explicit transaction(connection& db, tx_mode mode = tx_mode::immediate) : db_(&db) {
    if (db.in_transaction()) {
      savepoint_ = db.next_savepoint_name();
      db.exec("SAVEPOINT " + savepoint_);
    } else {
      switch (mode) {
        case tx_mode::deferred: run(sql<"BEGIN DEFERRED">); break;
        case tx_mode::immediate: run(sql<"BEGIN IMMEDIATE">); break;
        case tx_mode::exclusive: run(sql<"BEGIN EXCLUSIVE">); break;
      }
    }
    active_ = true;
  }

  transaction(transaction&& other) noexcept
      : db_(other.db_), savepoint_(std::move(other.savepoint_)), active_(std::exchange(other.active_, false)) {}
  transaction& operator=(transaction&&) = delete;
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  ~transaction() {
    if (active_) rollback_quietly();
  }

  // Makes the work permanent (or, for a savepoint, folds it into the enclosing transaction).
  // On failure the guard stays active and rolls back when destroyed.
  void commit() {
    require_active("commit");
    if (savepoint_.empty()) {
      run(sql<"COMMIT">);
    } else {
      db_->exec("RELEASE " + savepoint_);
    }
    active_ = false;
  }

  // Undoes the work now, instead of in the destructor.
  void rollback() {
    require_active("rollback");
    active_ = false;
    if (savepoint_.empty()) {
      if (db_->in_transaction()) run(sql<"ROLLBACK">);
    } else {
      db_->exec("ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_);
    }
  }

  [[nodiscard]] bool is_savepoint() const noexcept { return !savepoint_.empty(); }
  [[nodiscard]] bool is_active() const noexcept { return active_; }
  [[nodiscard]] connection& db() const noexcept { return *db_; }

 private:
  template <detail::fixed_string Text>
  void run(sql_constant<Text> key) {
    auto stmt = db_->cached(key);
    stmt.run();
  }

  void require_active(const char* what) const {
    if (!active_) throw usage_error(std::string("cpm: ") + what + " on a transaction that already ended");
  }

  void rollback_quietly() noexcept {
    active_ = false;
    try {
      rollback_now();
    } catch (...) {
      // A destructor never throws. SQLite may already have rolled the transaction back
      // itself (after SQLITE_FULL, SQLITE_IOERR, ...); nothing is left to undo then.
    }
  }
  void rollback_now() {
    if (savepoint_.empty()) {
      if (db_->in_transaction()) run(sql<"ROLLBACK">);
    } else if (db_->in_transaction()) {
      db_->exec("ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_);
    }
  }

  connection* db_;
  std::string savepoint_;
  bool active_ = false;
};

// Runs `work(db)` (or `work()`) in a transaction: commits when it returns, rolls back and
// rethrows when it throws. Returns what `work` returns.
template <class Work>
decltype(auto) with_transaction(connection& db, Work&& work, tx_mode mode = tx_mode::immediate) {
  transaction tx(db, mode);
  if constexpr (std::is_invocable_v<Work&&, connection&>) {
    if constexpr (std::is_void_v<std::invoke_result_t<Work&&, connection&>>) {
      std::forward<Work>(work)(db);
      tx.commit();
    } else {
      decltype(auto) result = std::forward<Work>(work)(db);
      tx.commit();
      return result;
    }
  } else {
    if constexpr (std::is_void_v<std::invoke_result_t<Work&&>>) {
      std::forward<Work>(work)();
      tx.commit();
    } else {
      decltype(auto) result = std::forward<Work>(work)();
      tx.commit();
      return result;
    }
  }
}

// Groups reads into one read transaction: every statement run while it lives sees the same
// snapshot of the database, and the per-statement cost of starting and ending a WAL read
// transaction is paid once. Inside an existing transaction it does nothing.
// Ending it commits (writes made inside it are kept, not dropped).
class read_snapshot {
 public:
  explicit read_snapshot(connection& db) : db_(&db) {
    if (!db.in_transaction()) {
      auto stmt = db.cached(sql<"BEGIN DEFERRED">);
      stmt.run();
      active_ = true;
    }
  }
  read_snapshot(const read_snapshot&) = delete;
  read_snapshot& operator=(const read_snapshot&) = delete;
  ~read_snapshot() {
    if (!active_ || !db_->in_transaction()) return;
    try {
      auto stmt = db_->cached(sql<"COMMIT">);
      stmt.run();
    } catch (...) {
      try {
        auto stmt = db_->cached(sql<"ROLLBACK">);
        stmt.run();
      } catch (...) {
      }
    }
  }

 private:
  connection* db_;
  bool active_ = false;
};

}  // namespace cpm
