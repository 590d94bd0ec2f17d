// cpm: many threads, one database: a pool of connections for servers (docs/pool.md).
//
//   auto pool = cpm::pool::open("/var/lib/cpm/cpm.db");   // migrated once, WAL
//
//   {
//     auto r = pool.read();                 // a reader; all its reads see one snapshot
//     auto u = r->user_by_name("alice");
//   }                                       // back to the pool
//
//   pool.write([&](cpm::store& s) {         // the writer, in one BEGIN IMMEDIATE transaction:
//     s.create_user({...});                 // committed when the function returns,
//     s.grant_access(...);                  // rolled back if it throws
//   });
//
// One writer connection and N reader connections (PRAGMA query_only=ON), each with its own
// prepared statements, kept between checkouts. The pool is thread-safe; a handle is used by one
// thread at a time (it may move between threads). Writers of this process queue on the pool,
// first come first served, not on SQLite's busy handler; in WAL mode readers never wait for
// the writer. A checkout waits at most pool_options::wait, then throws cpm::pool_timeout.
//
// A connection that failed while checked out (I/O error, full disk, corruption, interrupt) is
// discarded when its handle returns and a fresh one takes its place: the handle sees the
// connection's last result code, and pool.read(f) / pool.write(f) also see the exception f
// throws. mark_broken() discards a connection for any other reason.
//
// Destroying the pool while handles are out is a bug: with CPM_POOL_CHECKS (debug builds) it
// prints what is out and aborts; otherwise the handles keep working and their connections close
// when they return.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/pool/detail/state.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/store/store.hpp>

#include <fmt/core.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace cpm {

namespace detail {

// Runs work(*handle), then finish(); a failure that fails the connection marks it broken.
template <class Handle, class Work, class Finish>
decltype(auto) run_on(Handle& handle, Work& work, Finish finish) {
  using store_ref = decltype(*handle);
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Work&, store_ref>>) {
      std::invoke(work, *handle);
      finish();
    } else {
      decltype(auto) result = std::invoke(work, *handle);
      finish();
      return result;
    }
  } catch (const sqlite_error& e) {
    if (fails_connection(e.extended_code())) handle.mark_broken();
    throw;
  }
}

}  // namespace detail

// The pool over cpm::store; use it as cpm::pool. A class template only so that a translation
// unit that includes it without using it compiles none of it.
template <class Store = store>
class basic_pool {
 public:
  class reader;
  class writer;

  // Opens the database at `path` (creating it and its directory when missing, as store::open
  // does), migrates it through the writer, then opens the readers. Throws what store::open
  // throws; a pool needs a file (":memory:" is a usage_error).
  static basic_pool open(const std::string& path, pool_options options = {}) {
    if (path.empty() || path == ":memory:")
      throw usage_error("cpm::pool: needs a database file; every connection to \":memory:\" is a database of its own");
    auto state = std::make_unique<state_type>(path, std::move(options));
    state->open_all();
    return basic_pool(std::move(state));
  }

  basic_pool(basic_pool&& other) noexcept = default;
  basic_pool& operator=(basic_pool&& other) noexcept {
    if (this != &other) {
      close();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  basic_pool(const basic_pool&) = delete;
  basic_pool& operator=(const basic_pool&) = delete;
  ~basic_pool() { close(); }

  // A reader connection, its store inside a read snapshot held until the handle is destroyed.
  [[nodiscard]] reader read() { return checkout_reader(true); }

  // Runs work(store&) on a reader; returns what it returns.
  template <class Work>
  decltype(auto) read(Work&& work) {
    static_assert(std::is_invocable_v<Work&, Store&>, "cpm::pool::read(work): work must be callable with cpm::store&");
    reader r = read();
    return detail::run_on(r, work, [] {});
  }

  // A reader without a snapshot: each statement sees the latest committed data, so two reads
  // through it may see different states (as with a store in autocommit, or Go's db.QueryRow).
  // It saves the snapshot's BEGIN and COMMIT, the cheapest checkout for a request that runs
  // one query.
  [[nodiscard]] reader read_latest() { return checkout_reader(false); }

  // Runs work(store&) on a reader without a snapshot; returns what it returns.
  template <class Work>
  decltype(auto) read_latest(Work&& work) {
    static_assert(std::is_invocable_v<Work&, Store&>,
                  "cpm::pool::read_latest(work): work must be callable with cpm::store&");
    reader r = read_latest();
    return detail::run_on(r, work, [] {});
  }

  // The writer connection, its store inside BEGIN IMMEDIATE: commit() makes the work permanent;
  // without it, the work is rolled back when the handle is destroyed.
  [[nodiscard]] writer write() {
    state_type* state = live_state();
    return writer(state, state->checkout_writer());
  }

  // Runs work(store&) on the writer in one transaction: committed when it returns, rolled back
  // (and the exception passed on) when it throws. Returns what it returns.
  template <class Work>
  decltype(auto) write(Work&& work) {
    static_assert(std::is_invocable_v<Work&, Store&>, "cpm::pool::write(work): work must be callable with cpm::store&");
    writer w = write();
    return detail::run_on(w, work, [&w] { w.commit(); });
  }

  [[nodiscard]] pool_stats stats() const { return live().stats(); }
  [[nodiscard]] const std::string& path() const { return live().path(); }
  [[nodiscard]] std::size_t reader_count() const { return live().options().readers; }
  [[nodiscard]] const pool_options& options() const { return live().options(); }

 private:
  using state_type = detail::pool_state<Store>;
  using slot_type = detail::pool_slot<Store>;

  explicit basic_pool(std::unique_ptr<state_type> state) noexcept : state_(std::move(state)) {}

  reader checkout_reader(bool snapshot) {
    state_type* state = live_state();
    return reader(state, state->checkout_reader(snapshot));
  }

  state_type& live() const {
    if (!state_) throw usage_error("cpm::pool: used after it was moved from");
    return *state_;
  }
  state_type* live_state() const {
    if (!state_) throw usage_error("cpm::pool: used after it was moved from");
    return state_.get();
  }

  void close() noexcept {
    if (!state_) return;
    std::string path = state_->path();
    state_type* state = state_.get();
    auto [out, oldest] = state->close(std::move(state_));  // frees it, or the last handle out will
#if CPM_POOL_CHECKS
    if (out > 0)
      detail::pool_misuse(detail::message("cpm::pool: destroyed while {} handle{} still out (the oldest for {} ms) on '{}'; "
                                          "every reader and writer must be destroyed before its pool",
                                          out, out == 1 ? " is" : "s are", oldest.count(), path));
#else
    (void)out;
    (void)oldest;
#endif
  }

  std::unique_ptr<state_type> state_;

 public:
  // A checked-out reader: a cpm::store whose reads all see one snapshot, taken at its first
  // read (from read_latest(): each read sees the latest commit). Movable; returns its
  // connection to the pool when destroyed.
  class reader {
   public:
    reader(reader&& other) noexcept
        : state_(std::exchange(other.state_, nullptr)), slot_(std::exchange(other.slot_, nullptr)) {}
    reader& operator=(reader&& other) noexcept {
      if (this != &other) {
        release();
        state_ = std::exchange(other.state_, nullptr);
        slot_ = std::exchange(other.slot_, nullptr);
      }
      return *this;
    }
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;
    ~reader() { release(); }

    [[nodiscard]] Store& operator*() const { return get(); }
    // r->operation(...): an operation that fails the connection marks it for replacement, even
    // when the caller catches the error and goes on using the handle.
    [[nodiscard]] detail::pool_access<Store> operator->() const {
      Store& s = get();  // throws on a spent handle, before slot_ is used
      return detail::pool_access<Store>(s, *slot_);
    }
    [[nodiscard]] Store& get() const {
      if (!slot_) throw usage_error("cpm::pool::reader: used after it was moved from");
      return slot_->get();
    }

    // Discards the connection when the handle returns, instead of handing it out again.
    void mark_broken() noexcept {
      if (slot_) slot_->broken = true;
    }
    // How long the handle has been out.
    [[nodiscard]] std::chrono::steady_clock::duration held() const noexcept {
      return slot_ ? std::chrono::steady_clock::now() - slot_->out_since() : std::chrono::steady_clock::duration{};
    }

   private:
    friend class basic_pool;
    reader(state_type* state, slot_type* slot) noexcept : state_(state), slot_(slot) {}

    void release() noexcept {
      if (!slot_) return;
      std::exchange(state_, nullptr)->give_back(std::exchange(slot_, nullptr));
    }

    state_type* state_ = nullptr;  // kept alive by the pool, or after it by the handles out
    slot_type* slot_ = nullptr;
  };

  // The checked-out writer: a cpm::store inside one BEGIN IMMEDIATE transaction. commit() (or
  // rollback()) ends it and returns the connection to the pool at once; destroying an active
  // handle rolls back. Store operations inside it are savepoints of that transaction.
  class writer {
   public:
    writer(writer&& other) noexcept
        : state_(std::exchange(other.state_, nullptr)), slot_(std::exchange(other.slot_, nullptr)) {}
    writer& operator=(writer&& other) noexcept {
      if (this != &other) {
        release();
        state_ = std::exchange(other.state_, nullptr);
        slot_ = std::exchange(other.slot_, nullptr);
      }
      return *this;
    }
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;
    ~writer() { release(); }

    [[nodiscard]] Store& operator*() const { return get(); }
    [[nodiscard]] detail::pool_access<Store> operator->() const {
      Store& s = get();  // throws on a spent handle, before slot_ is used
      return detail::pool_access<Store>(s, *slot_);
    }
    [[nodiscard]] Store& get() const {
      if (!slot_) throw usage_error("cpm::pool::writer: used after commit(), rollback() or a move");
      return slot_->get();
    }

    // Commits and gives the writer back. When the commit fails, the handle stays active (and
    // rolls back when destroyed), as cpm::transaction does.
    void commit() {
      if (!slot_) throw usage_error("cpm::pool::writer: commit() after commit(), rollback() or a move");
      slot_->guard_commits = false;  // this commit is the handle's own
      try {
        slot_->tx->commit();
      } catch (...) {
        slot_->guard_commits = true;
        throw;
      }
      release();
    }
    // Rolls back and gives the writer back.
    void rollback() {
      if (!slot_) throw usage_error("cpm::pool::writer: rollback() after commit(), rollback() or a move");
      release();
    }

    // True until commit(), rollback() or a move.
    [[nodiscard]] bool active() const noexcept { return slot_ != nullptr; }
    void mark_broken() noexcept {
      if (slot_) slot_->broken = true;
    }
    [[nodiscard]] std::chrono::steady_clock::duration held() const noexcept {
      return slot_ ? std::chrono::steady_clock::now() - slot_->out_since() : std::chrono::steady_clock::duration{};
    }

   private:
    friend class basic_pool;
    writer(state_type* state, slot_type* slot) noexcept : state_(state), slot_(slot) {}

    void release() noexcept {
      if (!slot_) return;
      std::exchange(state_, nullptr)->give_back(std::exchange(slot_, nullptr));
    }

    state_type* state_ = nullptr;  // kept alive by the pool, or after it by the handles out
    slot_type* slot_ = nullptr;
  };
};

using pool = basic_pool<>;

}  // namespace cpm
