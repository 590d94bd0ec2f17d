// cpm: PostgreSQL transactions, savepoints and read snapshots, as RAII guards.
//
//   cpm::pg::transaction tx(db);                                   // BEGIN (read committed)
//   cpm::pg::transaction tx(db, cpm::pg::isolation::serializable); // BEGIN ISOLATION LEVEL ...
//   ...
//   tx.commit();                        // without it, the destructor rolls back
//
// A transaction opened while another is active becomes a uniquely named SAVEPOINT, so nesting
// composes: rolling back the inner one (or leaving it by an exception) keeps the outer one's
// work, and the outer one can go on after an inner statement failed. A savepoint cannot set an
// isolation level: asking for one inside a transaction throws cpm::usage_error.
//
// PostgreSQL ends a transaction in which a statement failed only with a rollback (it answers
// COMMIT with ROLLBACK). commit() on such a transaction does not pretend: it rolls back and
// throws cpm::usage_error. Serialization failures and deadlocks (cpm::pg::serialization_failure,
// cpm::pg::deadlock, both cpm::busy_error and retryable()) ask for the whole transaction to
// run again: cpm::pg::retry_transaction does that.
#pragma once

#include <cpm/postgres/connection.hpp>
#include <cpm/postgres/errors.hpp>
#include <cpm/sqlite/error.hpp>

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpm::pg {

enum class isolation { read_committed, repeatable_read, serializable };

namespace detail {

inline PGTransactionStatusType transaction_status(const connection_state& s) noexcept {
  return PQtransactionStatus(s.conn);
}

inline bool in_transaction(const connection_state& s) noexcept {
  auto t = transaction_status(s);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

// Runs one command and returns its command tag ("COMMIT", "ROLLBACK", ...).
inline std::string command(connection_state& s, std::string_view sql) {
  s.require_idle();
  std::string text(sql);
  result_ptr res(PQexec(s.conn, text.c_str()));
  if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) s.fail(res.get(), sql);
  return PQcmdStatus(res.get());
}

inline std::string_view begin_text(isolation level) noexcept {
  switch (level) {
    case isolation::repeatable_read: return "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case isolation::serializable: return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case isolation::read_committed: break;
  }
  return "BEGIN ISOLATION LEVEL READ COMMITTED";
}

}  // namespace detail

class transaction {
 public:
  // BEGIN at read committed, or a SAVEPOINT inside a transaction.
  explicit transaction(connection& db) : state_(db.share()) {
    if (detail::in_transaction(*state_)) {
      savepoint_ = db.next_savepoint_name();
      detail::command(*state_, "SAVEPOINT " + savepoint_);
    } else {
      detail::command(*state_, detail::begin_text(isolation::read_committed));
    }
    active_ = true;
  }

  // BEGIN at `level`; inside a transaction, cpm::usage_error (a savepoint keeps the level of
  // the transaction it is in).
  transaction(connection& db, isolation level) : state_(db.share()) {
    if (detail::in_transaction(*state_))
      throw usage_error(
          "cpm: an isolation level was asked for inside a transaction; a nested cpm::pg::transaction is a "
          "savepoint and keeps the enclosing transaction's level (construct it without one)");
    detail::command(*state_, detail::begin_text(level));
    active_ = true;
  }

  transaction(transaction&& other) noexcept
      : state_(std::move(other.state_)),
        savepoint_(std::move(other.savepoint_)),
        active_(std::exchange(other.active_, false)) {}
  transaction& operator=(transaction&&) = delete;
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  ~transaction() {
    if (active_) rollback_quietly();
  }

  // Makes the work permanent (for a savepoint: folds it into the enclosing transaction).
  // After a failed statement the server can only roll back: then this rolls back and throws
  // cpm::usage_error. A failed COMMIT (a serialization failure at commit) throws its error;
  // the server has rolled the transaction back.
  void commit() {
    require_active("commit");
    auto& s = *state_;
    if (detail::transaction_status(s) == PQTRANS_INERROR) {
      rollback_quietly();
      throw usage_error(
          "cpm: commit of a transaction in which a statement failed; PostgreSQL can only roll it back, and did "
          "(catch the error inside a nested cpm::pg::transaction, a savepoint, to go on after it)");
    }
    if (savepoint_.empty()) {
      active_ = false;
      std::string tag = detail::command(s, "COMMIT");
      if (tag != "COMMIT")
        throw usage_error("cpm: the server answered COMMIT with " + tag + "; the transaction's work is not saved");
    } else {
      detail::command(s, "RELEASE SAVEPOINT " + savepoint_);
      active_ = false;
    }
  }

  // Undoes the work now, instead of in the destructor.
  void rollback() {
    require_active("rollback");
    active_ = false;
    rollback_now();
  }

  [[nodiscard]] bool is_savepoint() const noexcept { return !savepoint_.empty(); }
  [[nodiscard]] bool is_active() const noexcept { return active_; }

 private:
  void require_active(const char* what) const {
    if (!active_) throw usage_error(std::string("cpm: ") + what + " on a transaction that already ended");
  }

  void rollback_quietly() noexcept {
    active_ = false;
    try {
      rollback_now();
    } catch (...) {
      // A destructor never throws. A lost connection has nothing left to undo: the server
      // rolled the transaction back when the session ended.
    }
  }

  void rollback_now() {
    auto& s = *state_;
    if (PQstatus(s.conn) != CONNECTION_OK) return;
    s.cancel_stream();  // a stream moved out of the transaction's scope ends with it
    if (!detail::in_transaction(s)) return;
    if (savepoint_.empty()) {
      detail::command(s, "ROLLBACK");
    } else {
      detail::command(s, "ROLLBACK TO SAVEPOINT " + savepoint_);
      detail::command(s, "RELEASE SAVEPOINT " + savepoint_);
    }
  }

  std::shared_ptr<detail::connection_state> state_;
  std::string savepoint_;
  bool active_ = false;
};

// Runs `work(db)` (or `work()`) in a transaction: commits when it returns, rolls back and
// rethrows when it throws. Returns what `work` returns.
template <class Work>
decltype(auto) with_transaction(connection& db, Work&& work, isolation level = isolation::read_committed) {
  transaction tx = detail::in_transaction(*db.share()) ? transaction(db) : transaction(db, level);
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

// As with_transaction, run again (in a new transaction) when it fails with a retryable error
// (serialization failure, deadlock), up to `attempts` runs in all; the last failure is
// rethrown. Not inside another transaction (cpm::usage_error): only a whole transaction can
// be retried.
template <class Work>
decltype(auto) retry_transaction(connection& db, Work&& work, isolation level = isolation::serializable,
                                 int attempts = 5) {
  if (detail::in_transaction(*db.share()))
    throw usage_error("cpm: retry_transaction inside a transaction; only a whole transaction can run again");
  for (int attempt = 1;; ++attempt) {
    try {
      return with_transaction(db, work, level);
    } catch (const diagnostics& e) {
      if (!e.retryable() || attempt >= attempts) throw;
    }
  }
}

// One consistent, read-only view of the database: BEGIN ISOLATION LEVEL REPEATABLE READ READ
// ONLY. Every statement run while it lives sees the same snapshot; a write is refused by the
// server (cpm::pg::read_only_transaction, a cpm::readonly_error). Inside an existing
// transaction it does nothing (is_active() is false).
class read_snapshot {
 public:
  explicit read_snapshot(connection& db) : state_(db.share()) {
    if (detail::in_transaction(*state_)) return;
    detail::command(*state_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    active_ = true;
  }
  read_snapshot(const read_snapshot&) = delete;
  read_snapshot& operator=(const read_snapshot&) = delete;
  ~read_snapshot() {
    if (!active_) return;
    try {
      // Nothing was written: ending it by rollback loses nothing, also after a failed statement.
      if (PQstatus(state_->conn) != CONNECTION_OK) return;
      state_->cancel_stream();  // a stream moved out of the snapshot's scope ends with it
      if (detail::in_transaction(*state_)) detail::command(*state_, "ROLLBACK");
    } catch (...) {
    }
  }

  [[nodiscard]] bool is_active() const noexcept { return active_; }

 private:
  std::shared_ptr<detail::connection_state> state_;
  bool active_ = false;
};

}  // namespace cpm::pg
