// cpm: transactions, savepoints and read snapshots, as RAII guards.
//
//   cpm::transaction tx(db);            // BEGIN IMMEDIATE (the default, right for writers)
//   ...
//   tx.commit();                        // without it, the destructor rolls back
//
// A transaction opened while another is active becomes a SAVEPOINT, so nesting composes:
// rolling back the inner one keeps the outer one's work. Beginning, committing and rolling
// back run statements prepared once per connection (no SQL is parsed per transaction).
#pragma once

#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpm {

enum class tx_mode { deferred, immediate, exclusive };

class transaction {
 public:
  explicit transaction(connection& db, tx_mode mode = tx_mode::immediate) : state_(db.share()) {
    auto& s = *state_;
    if (s.in_snapshot)
      throw usage_error(
          "cpm: a transaction cannot start inside a cpm::read_snapshot, which is read-only; end the snapshot "
          "first, or do the reads and the writes in one cpm::transaction (its reads see one snapshot too)");
    if (s.in_transaction()) {
      // Named by depth (cpm_sp_1 inside the transaction, cpm_sp_2 inside that, ...): the same
      // few texts at every nesting, so their statements are prepared once and cached. Ending a
      // savepoint ends those opened inside it too, so depth `d` is free again when it ends.
      depth_ = s.savepoints + 1;
      savepoint_ = "cpm_sp_" + std::to_string(depth_);
      run_cached("SAVEPOINT ");
      s.savepoints = depth_;
    } else {
      s.savepoints = 0;  // none outlives the transaction they were part of
      switch (mode) {
        case tx_mode::deferred: run<"BEGIN DEFERRED">(); break;
        case tx_mode::immediate: run<"BEGIN IMMEDIATE">(); break;
        case tx_mode::exclusive: run<"BEGIN EXCLUSIVE">(); break;
      }
    }
    active_ = true;
  }

  transaction(transaction&& other) noexcept
      : state_(std::move(other.state_)),
        savepoint_(std::move(other.savepoint_)),
        depth_(other.depth_),
        active_(std::exchange(other.active_, false)) {}
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
      run<"COMMIT">();
    } else {
      run_cached("RELEASE ");
      end_depth();
    }
    active_ = false;
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
  template <detail::packed_string Text>
  void run() {
    detail::run_constant<detail::unpacked<Text>>(*state_);
  }

  // This savepoint's depth, and those inside it, are free again. (Only ever lowered: a guard
  // whose savepoint an outer one already ended leaves the depth as it is.)
  void end_depth() noexcept {
    if (state_->savepoints > depth_ - 1) state_->savepoints = depth_ - 1;
  }

  // Runs `verb` + this savepoint's name, a statement cached by its text.
  void run_cached(std::string_view verb) {
    std::string text;
    text.reserve(verb.size() + savepoint_.size());
    text.append(verb).append(savepoint_);
    detail::lease_text(*state_, text).run();
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
    if (!state_->in_transaction()) return;  // SQLite rolled it back itself
    if (savepoint_.empty()) {
      run<"ROLLBACK">();
    } else {
      end_depth();
      run_cached("ROLLBACK TO ");
      run_cached("RELEASE ");
    }
  }

  detail::state_ref state_;
  std::string savepoint_;
  std::size_t depth_ = 0;  // of the savepoint: 1 inside the transaction, 2 inside that, ...
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
//
// A snapshot is read-only: while it is active, a statement of the connection that would write
// is refused before it runs (cpm::readonly_error; sqlite3_stmt_readonly tells), and a
// cpm::transaction (every write of cpm::store opens one) is refused with cpm::usage_error.
// Nothing is written that its end could lose. To read and write together, use a
// cpm::transaction instead. (No pragma is switched: the connection's prepared statements stay
// valid, and a snapshot costs its BEGIN and COMMIT only.)
class read_snapshot {
 public:
  explicit read_snapshot(connection& db) : state_(db.share()) {
    auto& s = *state_;
    if (s.in_transaction()) return;
    run<"BEGIN DEFERRED">();
    s.in_snapshot = true;
    active_ = true;
  }
  read_snapshot(const read_snapshot&) = delete;
  read_snapshot& operator=(const read_snapshot&) = delete;
  ~read_snapshot() {
    if (!active_) return;
    state_->in_snapshot = false;
    end();
  }

  // True when this snapshot began the read transaction (false inside another transaction).
  [[nodiscard]] bool is_active() const noexcept { return active_; }

 private:
  template <detail::packed_string Text>
  void run() {
    detail::run_constant<detail::unpacked<Text>>(*state_);
  }

  // Ends the read transaction. Nothing was written in it, so a failed COMMIT loses nothing.
  void end() noexcept {
    if (!state_->in_transaction()) return;
    try {
      run<"COMMIT">();
    } catch (...) {
      try {
        run<"ROLLBACK">();
      } catch (...) {
      }
    }
  }

  detail::state_ref state_;
  bool active_ = false;
};

}  // namespace cpm
