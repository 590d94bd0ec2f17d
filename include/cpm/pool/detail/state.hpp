// cpm: the shared state behind cpm::pool (see <cpm/pool/pool.hpp>). Not public API.
//
// A reader is checked out and given back without a lock while no checkout waits: each slot's
// `out` flag is claimed with a compare-and-swap, starting at the reader the thread used last
// (its pages are warm in that thread's core). One mutex guards the rest: the writer, the
// queues of waiting checkouts, adding readers, and closing. Nothing slow runs under it:
// opening, checking and closing connections happen outside. A checkout writes nothing that
// other threads' checkouts write (no shared counter: each slot counts its own). The pool owns
// this state; when it closes with handles still out, the state owns itself until the last of
// them returns, so a handle that outlives its pool still refers to live memory.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/query.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/sqlite/transaction.hpp>
#include <cpm/store/store.hpp>

#include <fmt/core.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// CPM_POOL_CHECKS: destroying a pool while handles are out prints what is out and aborts.
// On by default in debug builds (NDEBUG not defined); define it to 0 or 1 to choose.
#ifndef CPM_POOL_CHECKS
#ifdef NDEBUG
#define CPM_POOL_CHECKS 0
#else
#define CPM_POOL_CHECKS 1
#endif
#endif

namespace cpm {

// How long a checkout may wait for a free connection, and more (cpm::pool::open).
struct pool_options {
  // For every connection of the pool, as for store::open: busy timeout (other processes),
  // pragmas, vfs, journal mode (WAL by default: readers never wait for the writer).
  // The readers also get PRAGMA query_only=ON.
  open_options connection{};
  bool migrate = true;  // the writer brings the schema to the current version on open
  // Reader connections opened with the pool; 0: the number of processors
  // (std::thread::hardware_concurrency), at least 2.
  std::size_t readers = 0;
  // The most reader connections: when every reader is out, a read() opens another, up to this
  // many, rather than wait (as Go's database/sql does); they stay open. 0: 64 (or `readers`,
  // if more). Set it to `readers` for a pool of fixed size.
  std::size_t max_readers = 0;
  // The longest pool.read() or pool.write() waits for a connection; then cpm::pool_timeout.
  std::chrono::milliseconds wait{5000};
  // The WAL's bound, in pages (64 MB with 4 KB pages): while readers overlap without a pause,
  // SQLite's checkpoints cannot start the WAL again from its beginning, and it grows without
  // end; past this size the writer waits for the readers and restarts it (docs/pool.md).
  // Smaller: a smaller file, but writers wait for that more often. 0: no bound.
  std::size_t wal_limit_pages = 16000;
};

// A checkout that could not be served within pool_options::wait.
class pool_timeout : public error {
 public:
  enum class side { read, write };

  template <class = void>  // see describe()
  pool_timeout(side which, std::chrono::milliseconds wait, std::chrono::milliseconds waited, std::size_t handles_out,
               std::size_t readers_out, std::size_t readers, bool writer_out, std::chrono::milliseconds oldest,
               std::size_t waiting)
      : error(describe(which, wait, handles_out, readers_out, readers, writer_out, oldest, waiting)),
        which_(which),
        waited_(waited),
        handles_out_(handles_out),
        oldest_(oldest),
        waiting_(waiting) {}

  // Whether a reader (pool.read()) or the writer (pool.write()) was asked for.
  [[nodiscard]] side which() const noexcept { return which_; }
  // How long the checkout waited (pool_options::wait, or a little more).
  [[nodiscard]] std::chrono::milliseconds waited() const noexcept { return waited_; }
  // Handles (readers and the writer) checked out when the wait ended.
  [[nodiscard]] std::size_t handles_out() const noexcept { return handles_out_; }
  // How long the handle checked out longest ago had been out.
  [[nodiscard]] std::chrono::milliseconds oldest_out() const noexcept { return oldest_; }
  // Other checkouts of the same side still waiting.
  [[nodiscard]] std::size_t waiting() const noexcept { return waiting_; }

 private:
  // A template only so that it is compiled where a pool is used, not wherever this is included.
  template <class = void>
  static std::string describe(side which, std::chrono::milliseconds wait, std::size_t handles_out,
                              std::size_t readers_out, std::size_t readers, bool writer_out,
                              std::chrono::milliseconds oldest, std::size_t waiting) {
    std::string text =
        which == side::read
            ? detail::message("cpm::pool: no reader connection came free within {} ms", wait.count())
            : detail::message("cpm::pool: the writer connection did not come free within {} ms", wait.count());
    text += detail::message(" ({} handle{} out: {} of {} readers, the writer {}; the oldest out for {} ms",
                            handles_out, handles_out == 1 ? "" : "s", readers_out, readers,
                            writer_out ? "out" : "free", oldest.count());
    if (waiting > 0) text += detail::message("; {} more {} waiting", waiting, which == side::read ? "readers" : "writers");
    text += ')';
    if (which == side::write)
      text += ". A thread that asks for the writer while it holds a write handle waits for itself.";
    return text;
  }

  side which_;
  std::chrono::milliseconds waited_;
  std::size_t handles_out_;
  std::chrono::milliseconds oldest_;
  std::size_t waiting_;
};

// What the pool is doing, at one moment (cpm::pool::stats).
struct pool_stats {
  std::size_t readers = 0;        // reader connections (checked out or not)
  std::size_t readers_out = 0;    // reader handles out now
  bool writer_out = false;        // the write handle is out now
  std::size_t read_waiting = 0;   // pool.read() calls waiting now
  std::size_t write_waiting = 0;  // pool.write() calls waiting now
  std::uint64_t reads = 0;        // read checkouts served since open
  std::uint64_t writes = 0;       // write checkouts served since open
  std::uint64_t replaced = 0;     // connections discarded after a failure (and opened anew)
  std::uint64_t timeouts = 0;     // checkouts that ended in cpm::pool_timeout
  std::uint64_t checkpoints = 0;  // WAL checkpoints run by the pool (see pool_state::checkpoint)
};

namespace detail {

// Result codes after which a connection is not trusted again: I/O errors (and a full disk),
// corruption, an interrupt, out of memory, a file that could not be opened.
[[nodiscard]] constexpr bool fails_connection(int code) noexcept {
  switch (code & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_INTERRUPT:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

// True while something made through a handle outlives it: a range not at its end, a statement
// or a transaction of cpm's (the connection counts them), or a statement prepared on the native
// handle in the middle of a read (it holds a read transaction). Both are counters, not a walk
// over the connection's statements, whose cost would grow with every statement it caches.
[[nodiscard]] inline bool outlived_by_work(connection& db) noexcept {
  return db.has_dependents() || sqlite3_txn_state(db.native(), nullptr) != SQLITE_TXN_NONE;
}

template <class Store>
struct pool_slot {
  using clock = std::chrono::steady_clock;

  std::optional<Store> db;  // empty: to be opened at the next checkout
  bool writer = false;
  std::atomic<bool> out{false};  // checked out (claimed by compare-and-swap), or closed
  bool broken = false;           // discard the connection when the handle returns
  std::atomic<clock::rep> out_since_ticks{0};  // read by stats and timeouts of other threads
  // Checkouts served by this slot, counted by the thread that holds it (a counter of the pool's
  // would be written by every checkout of every thread); stats() adds them up.
  std::atomic<std::uint64_t> served{0};
  // Threads in give_back for this slot: a count, not a flag, since once the slot is free again
  // another thread may check it out and give it back while the first is still finishing.
  std::atomic<unsigned> returning{0};
  std::optional<read_snapshot> snapshot;       // a reader's, while out
  std::optional<transaction> tx;               // the writer's, while out
  // The writer's, while out: any commit but the handle's own is refused (a write that would
  // commit on its own after SQLite ended the handle's transaction fails instead).
  bool guard_commits = false;

  [[nodiscard]] Store& get() noexcept { return *db; }
  [[nodiscard]] clock::time_point out_since() const noexcept {
    return clock::time_point(clock::duration(out_since_ticks.load(std::memory_order_relaxed)));
  }
  void stamp_out() noexcept { out_since_ticks.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed); }
  // By the thread that holds the slot: no other thread writes `served`.
  void count_checkout() noexcept { served.store(served.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

// What a handle's operator-> returns: forwards to the store, and when the call it was made for
// throws, looks at the connection's result code right away (before the caller can run anything
// else on it): a failure of the connection marks it for replacement.
template <class Store>
class pool_access {
 public:
  pool_access(Store& s, pool_slot<Store>& slot) noexcept : store_(&s), slot_(&slot), unwinding_(std::uncaught_exceptions()) {}
  pool_access(const pool_access&) = delete;
  pool_access& operator=(const pool_access&) = delete;
  ~pool_access() {
    if (std::uncaught_exceptions() > unwinding_ && fails_connection(sqlite3_extended_errcode(store_->db().native())))
      slot_->broken = true;
  }
  [[nodiscard]] Store* operator->() const noexcept { return store_; }

 private:
  Store* store_;
  pool_slot<Store>* slot_;
  int unwinding_;
};

// A checkout waiting for a connection.
template <class Store>
struct pool_waiter {
  std::condition_variable cv;
  std::chrono::steady_clock::time_point since;
  pool_slot<Store>* slot = nullptr;  // handed over directly (the waiter was starving)
  bool closed = false;
};

// Who gets a connection that comes free. A checkout takes a free connection at once, even when
// others wait ("barging"): on a busy machine, handing it to a sleeping thread leaves it unused
// until that thread runs, while the thread that just gave it back, or another running one, can
// use it now. So that no one waits long for that, once the first waiter has waited
// `starving_after`, connections go to the waiters in order of arrival, by hand, and new
// checkouts queue behind them. Each hand-over costs the time the sleeping thread takes to run,
// about a millisecond on a busy machine: with a bound close to that, hand-overs make the next
// waiter wait as long, and feed themselves. bench_pool, 16 threads on 2 shared cores: with 1 ms,
// 225k reads/s at 100% reads and a 1.7 ms median write at 95% reads; with 5 ms, 340k and 24 us;
// with 20 ms, 440k, but a 20 ms write p99.
template <class Store>
struct pool_lane {
  static constexpr std::chrono::microseconds starving_after{5000};

  std::vector<pool_slot<Store>*> idle;    // the writer's lane only (readers: their `out` flags)
  std::deque<pool_waiter<Store>*> queue;  // in order of arrival
  std::atomic<std::size_t> waiting{0};    // queue.size(), readable without the lock

  [[nodiscard]] bool starving(std::chrono::steady_clock::time_point now) const noexcept {
    return !queue.empty() && now - queue.front()->since >= starving_after;
  }
};

inline std::size_t default_readers() noexcept {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);  // what std::thread::hardware_concurrency() reports on Linux
  return n < 2 ? 2 : static_cast<std::size_t>(n);
}

[[noreturn]] inline void pool_misuse(const std::string& message) noexcept {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

// Store: cpm::store (a class template, as basic_store is, so that a translation unit that
// includes the pool but does not use it compiles none of it).
template <class Store>
class pool_state {
 public:
  using slot_type = pool_slot<Store>;
  using waiter_type = pool_waiter<Store>;
  using lane_type = pool_lane<Store>;

  pool_state(std::string path, pool_options options) : path_(std::move(path)), options_(std::move(options)) {
    if (options_.readers == 0) options_.readers = default_readers();
    if (options_.max_readers == 0) options_.max_readers = std::max<std::size_t>(64, options_.readers);
    if (options_.max_readers < options_.readers)
      throw usage_error(detail::message("cpm::pool: max_readers ({}) is less than readers ({})", options_.max_readers,
                                        options_.readers));
    // Every reader slot there can be, made now: a slot never moves, so a checkout can scan them
    // without the lock. Unused ones stay unpublished (reader_count_).
    slots_.reserve(options_.max_readers + 1);
    for (std::size_t i = 0; i <= options_.max_readers; ++i) {
      slots_.push_back(std::make_unique<slot_type>());
      slots_.back()->writer = i == 0;
    }
  }
  pool_state(const pool_state&) = delete;
  pool_state& operator=(const pool_state&) = delete;

  // Opens every connection: the writer first (it creates and migrates the database), then the readers.
  void open_all() {
    slots_[0]->db.emplace(open_writer(options_.migrate));
    writers_.idle.push_back(slots_[0].get());
    for (std::size_t i = 1; i <= options_.readers; ++i) slots_[i]->db.emplace(open_reader());
    reader_count_.store(options_.readers, std::memory_order_release);
  }

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const pool_options& options() const noexcept { return options_; }

  // A reader, with its read snapshot begun when `snapshot`; waits up to options().wait.
  slot_type* checkout_reader(bool snapshot) {
    slot_type* slot = nullptr;
    // No one waits: take a free reader without the lock. (Someone waits: the slow path, so that
    // one who waited long enough is served first.)
    if (readers_.waiting.load() == 0) slot = claim_reader();
    if (slot) {
      slot->count_checkout();
      if (closed_.load()) {
        give_back(slot);
        throw usage_error("cpm::pool: checkout from a pool that was destroyed");
      }
    } else {
      slot = checkout(readers_, pool_timeout::side::read);
    }
    try {
      if (!slot->db) slot->db.emplace(open_reader());
      if (snapshot) slot->snapshot.emplace(slot->get().db());
    } catch (...) {
      give_back(slot);
      throw;
    }
    return slot;
  }

  // The writer inside BEGIN IMMEDIATE; waits up to options().wait for it (then, for another
  // process's write lock, up to the busy timeout).
  slot_type* checkout_writer() {
    slot_type* slot = checkout(writers_, pool_timeout::side::write);
    try {
      if (!slot->db) slot->db.emplace(open_writer(false));
      slot->tx.emplace(slot->get().db(), tx_mode::immediate);
      slot->guard_commits = true;
    } catch (...) {
      give_back(slot);
      throw;
    }
    return slot;
  }

  // Ends what the handle began (a reader's snapshot, the writer's uncommitted transaction:
  // rolled back), decides whether the connection failed, and returns it to the pool (to the
  // first waiter, if any). Never throws. After the pool was closed: closes the connection, and
  // the last handle to return frees this state (see close()); nothing may use `this` after.
  void give_back(slot_type* slot) noexcept {
    slot->returning.fetch_add(1, std::memory_order_relaxed);  // until the end: see free_when_quiet
    bool broken = slot->broken;
    slot->guard_commits = false;
    if (slot->db) {
      connection& db = slot->get().db();
      // First, before anything below overwrites it: the result of the last call on the
      // connection. An error that fails a connection stays there until the next statement.
      if (fails_connection(sqlite3_extended_errcode(db.native()))) broken = true;
      if (slot->snapshot) slot->snapshot.reset();  // ends the read transaction
      if (slot->tx) {
        // SQLite rolls a transaction back itself after an I/O error, a full disk or an
        // interrupt in the middle of a write: the handle's transaction is gone.
        if (slot->tx->is_active() && !db.in_transaction()) broken = true;
        slot->tx.reset();  // rolls back what was not committed
      }
      if (!broken && db.in_transaction()) {  // BEGIN run by hand through the handle
        try {
          db.exec("ROLLBACK");
        } catch (...) {
        }
        broken = db.in_transaction();
      }
      // A range, statement or transaction still alive would be shared with the next thread:
      // retire the connection.
      if (!broken && outlived_by_work(db)) broken = true;
    } else {
      slot->snapshot.reset();
      slot->tx.reset();
    }

    if (broken) {
      slot->db.reset();  // closes the failed connection, outside the lock
      // Replaced now, in the returning thread; if that fails, the next checkout opens it.
      if (!closed_.load()) {
        try {
          slot->db.emplace(slot->writer ? open_writer(false) : open_reader());
        } catch (...) {
          slot->db.reset();
        }
      }
      replaced_.fetch_add(1, std::memory_order_relaxed);
    }
    slot->broken = false;

    if (!slot->writer) {
      if (!closed_.load()) {
        release_reader(slot);
        // Free again, unless close() came meanwhile and did not take it (it takes free ones).
        bool expected = false;
        if (!closed_.load() || !slot->out.compare_exchange_strong(expected, true)) {
          slot->returning.fetch_sub(1, std::memory_order_release);
          return;
        }
      }
      slot->db.reset();  // the pool is gone: this was its last use (the slot stays out)
      orphan_returned(*slot);
      return;
    }
    if (!broken && slot->db) restart_wal(slot->get().db());
    std::optional<Store> late;
    {
      std::lock_guard lock(mutex_);
      if (closed_.load()) {
        late = std::move(slot->db);  // the pool is gone: this was its last use (the slot stays out)
        slot->db.reset();
      } else {
        slot->out.store(false);
        lane_type& lane = writers_;
        if (!lane.queue.empty() && lane.starving(std::chrono::steady_clock::now())) {
          waiter_type* next = lane.queue.front();  // it waited long enough: it gets this one
          slot->out.store(true);
          lane.queue.pop_front();
          lane.waiting.store(lane.queue.size());
          hand_to(*next, slot);
        } else {
          lane.idle.push_back(slot);
          if (!lane.queue.empty()) lane.queue.front()->cv.notify_one();  // it may take it, or someone running first
        }
      }
    }
    if (late) {
      late.reset();  // outside the lock
      orphan_returned(*slot);
      return;
    }
    checkpoint();
    slot->returning.fetch_sub(1, std::memory_order_release);
  }

  // The pool object went away: idle connections close now, checked-out ones when their
  // handles return; waiting checkouts fail. Takes the state from the pool: it is freed here
  // when no handle is out, or else by the last handle to return (a handle holds a plain
  // pointer: a counted one would be a counter that every checkout of every thread writes).
  // Returns the number of handles still out, and how long the oldest of them has been out.
  // `self` owns this state.
  std::pair<std::size_t, std::chrono::milliseconds> close(std::unique_ptr<pool_state> self) noexcept {
    std::vector<std::optional<Store>> closing;
    std::pair<std::size_t, std::chrono::milliseconds> out{0, std::chrono::milliseconds(0)};
    {
      std::lock_guard lock(checkpoint_mutex_);
      checkpointer_.reset();
    }
    {
      std::lock_guard lock(mutex_);
      self_ = std::move(self);  // before closed_: a handle that sees closed_ sees self_
      closed_ = true;
      for (lane_type* lane : {&readers_, &writers_}) {
        for (waiter_type* w : lane->queue) {
          w->closed = true;
          w->cv.notify_one();
        }
        lane->queue.clear();
        lane->waiting.store(0);
        lane->idle.clear();
      }
      auto now = std::chrono::steady_clock::now();
      const std::size_t used = reader_count_.load() + 1;
      for (std::size_t i = 0; i < used; ++i) {
        slot_type& slot = *slots_[i];
        bool expected = false;
        if (slot.out.compare_exchange_strong(expected, true)) {  // idle: now closed, for good
          if (slot.db) closing.push_back(std::move(slot.db));
          slot.db.reset();
        } else {
          ++out.first;
          out.second = std::max(out.second, std::chrono::duration_cast<std::chrono::milliseconds>(now - slot.out_since()));
        }
      }
    }
    closing.clear();  // the idle connections, outside the lock
    const auto handles = static_cast<std::ptrdiff_t>(out.first);
    if (orphans_.fetch_add(handles, std::memory_order_acq_rel) + handles == 0) free_when_quiet();
    return out;  // (a local: `this` may be gone)
  }

  // A handle that was out when the pool closed has returned, its connection closed.
  void orphan_returned(slot_type& slot) noexcept {
    slot.returning.fetch_sub(1, std::memory_order_release);
    if (orphans_.fetch_sub(1, std::memory_order_acq_rel) == 1) free_when_quiet();
  }

  // The pool is closed and every handle has returned: waits for the give-backs still finishing
  // (a reader made free again, its thread about to leave give_back) and for the checkouts that
  // were waiting (they leave with a usage_error), then frees this state.
  void free_when_quiet() noexcept {
    for (const auto& slot : slots_)
      while (slot->returning.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    while (in_checkout_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    std::unique_ptr<pool_state> last = std::move(self_);
  }  // `this` is freed here

  [[nodiscard]] pool_stats stats() const {
    std::lock_guard lock(mutex_);
    pool_stats s;
    s.readers = reader_count_.load();
    for (std::size_t i = 1; i <= s.readers; ++i) s.readers_out += slots_[i]->out.load() ? 1 : 0;
    s.writer_out = slots_[0]->out.load();
    s.read_waiting = readers_.queue.size();
    s.write_waiting = writers_.queue.size();
    for (std::size_t i = 1; i <= s.readers; ++i) s.reads += slots_[i]->served.load(std::memory_order_relaxed);
    s.writes = slots_[0]->served.load(std::memory_order_relaxed);
    s.replaced = replaced_.load();
    s.timeouts = timeouts_;
    s.checkpoints = checkpoints_;
    return s;
  }

 private:
  Store open_writer(bool migrate) {
    auto s = Store::open(path_, store_options{.connection = options_.connection, .migrate = migrate});
    // The writer does not checkpoint the WAL itself, inside its commit, while every other writer
    // of the process waits for it (a checkpoint syncs the file: milliseconds). It reports the
    // WAL's size after each commit instead; give_back checkpoints on a connection of its own.
    sqlite3* db = s.db().native();
    int every = cpm::query<int>(s.db(), "PRAGMA wal_autocheckpoint").one();  // 1000, or the caller's pragma
    checkpoint_after_.store(every);
    sqlite3_wal_hook(db, &pool_state::wal_committed, this);
    // A checked-out writer works inside its BEGIN IMMEDIATE. When SQLite ends that transaction
    // itself (an interrupt, an I/O error or a full disk in the middle of a write), the writes
    // that follow would each commit on their own, and stay, whatever the handle does next:
    // refused instead (SQLITE_CONSTRAINT_COMMITHOOK), so that nothing commits but
    // writer::commit(). The writer is always slot 0.
    sqlite3_commit_hook(db, &pool_state::writer_commit, slots_[0].get());
    return s;
  }

  static int writer_commit(void* slot) noexcept { return static_cast<slot_type*>(slot)->guard_commits ? 1 : 0; }

  // The WAL's length in pages after the writer's commit, and how many times it has started
  // again from its beginning, in one word: (restarts << 32) | pages.
  static constexpr std::uint64_t wal_pages(std::uint64_t state) noexcept { return state & 0xffffffffu; }

  static int wal_committed(void* self, sqlite3*, const char*, int frames) noexcept {
    auto& wal = static_cast<pool_state*>(self)->wal_;
    const std::uint64_t old = wal.load(std::memory_order_relaxed);
    const std::uint64_t pages = static_cast<std::uint32_t>(frames);
    const std::uint64_t restarts = (old >> 32) + (pages < wal_pages(old) ? 1 : 0);  // shorter: started again
    wal.store((restarts << 32) | pages, std::memory_order_relaxed);
    return SQLITE_OK;
  }

  // After the writer is given back: when its commits have added the checkpoint size (PRAGMA
  // wal_autocheckpoint, 1000 pages) to the WAL since the last checkpoint, copies them into the
  // database file (PASSIVE: it waits for no one) on a connection kept for that, in the thread
  // that gave the writer back. One thread at a time; the others go on. (Counted from the last
  // checkpoint, not from the WAL's start: a WAL that readers keep from restarting stays long,
  // and a checkpoint, with its sync, at every give-back would follow.)
  [[nodiscard]] std::uint64_t frames_since_checkpoint() const noexcept {
    const std::uint64_t now = wal_.load(std::memory_order_relaxed);
    const std::uint64_t at = checkpointed_at_.load(std::memory_order_relaxed);
    // The WAL started again since: all of it is new.
    return (now >> 32) == (at >> 32) && wal_pages(now) >= wal_pages(at) ? wal_pages(now) - wal_pages(at) : wal_pages(now);
  }

  void checkpoint() noexcept {
    const int after = checkpoint_after_.load();
    if (after <= 0 || frames_since_checkpoint() < static_cast<std::uint64_t>(after)) return;
    std::unique_lock lock(checkpoint_mutex_, std::try_to_lock);
    if (!lock || closed_.load() || frames_since_checkpoint() < static_cast<std::uint64_t>(after)) return;
    checkpointed_at_.store(wal_.load());
    try {
      if (!checkpointer_) {
        open_options o = options_.connection;
        o.create = false;
        o.journal = journal_mode::keep;
        checkpointer_.emplace(connection::open(path_, o));
      }
      int rc = sqlite3_wal_checkpoint_v2(checkpointer_->native(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      if (fails_connection(rc)) checkpointer_.reset();
    } catch (...) {
      checkpointer_.reset();
    }
    std::lock_guard count(mutex_);
    ++checkpoints_;
  }

  // Checkpoint starvation: while readers overlap without a pause, a PASSIVE checkpoint never
  // finishes and SQLite appends to the WAL for ever (a gigabyte in minutes under a steady
  // write load). Once the WAL has grown past pool_options::wal_limit_pages, the writer, before it
  // is given back (so no writer of the process can add to the WAL meanwhile), runs a RESTART
  // checkpoint: it copies what is left, waits for the readers still on the WAL to finish (new
  // readers read the database file), and the next commit starts the WAL from its beginning.
  // Readers hold a snapshot for a checkout only, so the wait is short; it gives up after
  // restart_wait_ (a reader kept out longer, or descheduled on a machine with more busy threads
  // than processors; another process's write lock), leaving the WAL as it is, to try again once
  // another checkpoint size of commits has been added, waiting twice as long (up to 320 ms).
  static constexpr std::chrono::milliseconds first_restart_wait{20}, longest_restart_wait{320};

  void restart_wal(connection& db) noexcept {
    const int after = checkpoint_after_.load();
    // (The writer is out: only this thread's commits change the WAL now.)
    const auto frames = static_cast<std::int64_t>(wal_pages(wal_.load()));
    // After an attempt that gave up, the next waits for another checkpoint size of commits.
    const auto limit = static_cast<std::int64_t>(options_.wal_limit_pages);
    if (after <= 0 || limit == 0 || frames < limit || frames < restart_tried_at_ + after) return;
    sqlite3* native = db.native();
    struct waiting {
      std::chrono::steady_clock::time_point until;
    } wait{std::chrono::steady_clock::now() + restart_wait_};
    sqlite3_busy_handler(
        native,
        [](void* arg, int) -> int {
          if (std::chrono::steady_clock::now() >= static_cast<waiting*>(arg)->until) return 0;
          std::this_thread::yield();  // readers finish within microseconds
          return 1;
        },
        &wait);
    int rc = sqlite3_wal_checkpoint_v2(native, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
    sqlite3_busy_timeout(native, static_cast<int>(db.busy_timeout().count()));  // as it was
    restart_tried_at_ = rc == SQLITE_OK ? 0 : frames;
    restart_wait_ = rc == SQLITE_OK ? first_restart_wait : std::min(2 * restart_wait_, longest_restart_wait);
    if (rc == SQLITE_OK) {  // the next commit writes the WAL from its beginning (wal_committed sees it)
      std::lock_guard count(mutex_);
      ++checkpoints_;
    }
  }

  Store open_reader() {
    open_options o = options_.connection;
    o.create = false;                 // the writer made the file
    o.journal = journal_mode::keep;   // and chose the journal mode
    auto db = connection::open(path_, o);
    db.exec("PRAGMA query_only=ON");
    return Store(std::move(db), false);
  }

  // Claims a free reader with a compare-and-swap on its `out` flag, trying first the one this
  // thread took last from this pool. Null when every published reader is out. Lock-free.
  slot_type* claim_reader() noexcept {
    struct last_taken {
      const pool_state* pool = nullptr;
      std::size_t index = 0;
    };
    static thread_local last_taken last;
    const std::size_t count = reader_count_.load(std::memory_order_acquire);
    if (count == 0) return nullptr;
    const std::size_t start = last.pool == this && last.index < count ? last.index : 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t index = (start + i) % count;
      slot_type& slot = *slots_[index + 1];
      bool expected = false;
      if (!slot.out.load() && slot.out.compare_exchange_strong(expected, true)) {
        slot.stamp_out();
        last = {this, index};
        return &slot;
      }
    }
    return nullptr;
  }

  // Makes a reader free again and, when checkouts wait, wakes the first (or hands the reader
  // straight to it, if it waited long enough). The flag is cleared before `waiting` is read, and
  // a waiter counts itself before it looks at the flags (both sequentially consistent), so
  // either it sees this reader free or this sees it waiting.
  void release_reader(slot_type* slot) noexcept {
    slot->out.store(false);
    if (readers_.waiting.load() == 0) return;
    std::lock_guard lock(mutex_);
    lane_type& lane = readers_;
    if (lane.queue.empty() || closed_.load()) return;
    if (lane.starving(std::chrono::steady_clock::now())) {
      bool expected = false;
      if (slot->out.compare_exchange_strong(expected, true)) {  // not taken by someone running
        waiter_type* next = lane.queue.front();  // it waited long enough: it gets this one
        lane.queue.pop_front();
        lane.waiting.store(lane.queue.size());
        slot->stamp_out();
        next->slot = slot;
        next->cv.notify_one();
        return;
      }
    }
    lane.queue.front()->cv.notify_one();  // it may take it, or someone running first
  }

  // The slow path: under the lock, with waiting. For the writer, always; for readers, when the
  // lock-free claim found none free, or when others wait.
  slot_type* checkout(lane_type& lane, pool_timeout::side which) {
    const bool reader = which == pool_timeout::side::read;
    // Counted from before the lock until after it (the guard outlives `lock`): a checkout that
    // waits when the pool closes leaves with a usage_error, and the state is not freed under it.
    struct inside {
      std::atomic<std::size_t>& count;
      explicit inside(std::atomic<std::size_t>& c) noexcept : count(c) { count.fetch_add(1); }
      ~inside() { count.fetch_sub(1, std::memory_order_release); }
      inside(const inside&) = delete;
      inside& operator=(const inside&) = delete;
    } guard(in_checkout_);
    std::unique_lock lock(mutex_);
    if (closed_) throw usage_error("cpm::pool: checkout from a pool that was destroyed");
    auto take = [&]() -> slot_type* { return reader ? claim_reader() : take_idle(lane); };
    slot_type* slot = nullptr;
    if (lane.queue.empty() || !lane.starving(std::chrono::steady_clock::now())) slot = take();
    if (!slot && reader && reader_count_.load() < options_.max_readers) {
      // Every reader is out: one more, opened by checkout_reader outside the lock.
      slot = slots_[reader_count_.load() + 1].get();
      slot->out.store(true);
      slot->stamp_out();
      reader_count_.fetch_add(1, std::memory_order_release);
    }
    if (!slot) {
      waiter_type me;
      me.since = std::chrono::steady_clock::now();
      lane.queue.push_back(&me);
      lane.waiting.store(lane.queue.size());  // before looking again (see release_reader)
      const auto deadline = me.since + options_.wait;
      for (;;) {
        if (me.closed) throw usage_error("cpm::pool: the pool was destroyed while a checkout waited");
        if (me.slot) {
          slot = me.slot;  // handed over, and marked out, by give_back
          break;
        }
        if (lane.queue.front() == &me || !lane.starving(std::chrono::steady_clock::now())) {
          if ((slot = take()) != nullptr) {
            leave(lane, me);
            break;
          }
        }
        if (me.cv.wait_until(lock, deadline) == std::cv_status::timeout && !me.slot && !me.closed) {
          if (lane.queue.front() == &me || !lane.starving(std::chrono::steady_clock::now()))
            if ((slot = take()) != nullptr) {
              leave(lane, me);
              break;
            }
          leave(lane, me);
          ++timeouts_;
          throw timeout(which, std::chrono::steady_clock::now() - me.since);
        }
      }
    }
    slot->count_checkout();
    return slot;
  }

  // The writer's lane, under the lock.
  slot_type* take_idle(lane_type& lane) {
    if (lane.idle.empty()) return nullptr;
    slot_type* slot = lane.idle.back();
    lane.idle.pop_back();
    slot->out.store(true);
    slot->stamp_out();
    return slot;
  }

  // Under the lock. When the first in line leaves (served, or giving up) and a connection is
  // still free, the next may take it: wake it (only the first is woken when one comes free).
  void leave(lane_type& lane, waiter_type& me) {
    const bool first = lane.queue.front() == &me;
    lane.queue.erase(std::find(lane.queue.begin(), lane.queue.end(), &me));
    lane.waiting.store(lane.queue.size());
    if (first && !lane.queue.empty() && any_free(lane)) lane.queue.front()->cv.notify_one();
  }

  // Under the lock: whether a connection of the lane is free now.
  bool any_free(const lane_type& lane) const noexcept {
    if (&lane == &writers_) return !lane.idle.empty();
    const std::size_t count = reader_count_.load();
    for (std::size_t i = 1; i <= count; ++i)
      if (!slots_[i]->out.load()) return true;
    return false;
  }

  // Under the lock. The waiter lives on its thread's stack until it sees `slot` set: notify
  // while still holding the lock.
  void hand_to(waiter_type& w, slot_type* slot) {
    slot->stamp_out();
    w.slot = slot;
    w.cv.notify_one();
  }

  // Under the lock.
  pool_timeout timeout(pool_timeout::side which, std::chrono::steady_clock::duration waited) const {
    auto now = std::chrono::steady_clock::now();
    std::size_t out = 0, readers_out = 0;
    std::chrono::milliseconds oldest{0};
    const std::size_t readers = reader_count_.load();
    for (std::size_t i = 0; i <= readers; ++i) {
      const slot_type& slot = *slots_[i];
      if (!slot.out.load()) continue;
      ++out;
      if (!slot.writer) ++readers_out;
      oldest = std::max(oldest, std::chrono::duration_cast<std::chrono::milliseconds>(now - slot.out_since()));
    }
    const lane_type& lane = which == pool_timeout::side::read ? readers_ : writers_;
    return pool_timeout(which, options_.wait, std::chrono::duration_cast<std::chrono::milliseconds>(waited), out, readers_out,
                        readers, slots_[0]->out.load(), oldest, lane.queue.size());
  }

  std::string path_;
  pool_options options_;
  // [0]: the writer; [1, reader_count_]: the readers; then room for max_readers in all. Made
  // once (never moved): scanned without the lock.
  std::vector<std::unique_ptr<slot_type>> slots_;
  // What every reader checkout reads and almost none writes, on a cache line of its own: a line
  // that another processor has just written costs a checkout a transfer (about 100 ns).
  alignas(64) std::atomic<std::size_t> reader_count_{0};  // grows under the lock; read without it
  std::atomic<bool> closed_{false};  // written under the lock; read without it by checkouts and give-backs (see close())
  lane_type readers_;                // its `waiting` is read by every reader checkout
  // What writers and waiting checkouts write.
  alignas(64) mutable std::mutex mutex_;
  std::atomic<std::size_t> in_checkout_{0};  // threads in checkout(), the slow path
  lane_type writers_;
  std::atomic<std::uint64_t> replaced_{0};
  std::uint64_t timeouts_ = 0, checkpoints_ = 0;  // under the lock
  // WAL checkpoints (see checkpoint()).
  std::atomic<std::uint64_t> wal_{0};              // after the writer's last commit (see wal_committed)
  std::atomic<std::uint64_t> checkpointed_at_{0};  // wal_ at the last checkpoint
  std::int64_t restart_tried_at_ = 0;  // the WAL's pages at a RESTART that gave up (the writer's thread)
  std::chrono::milliseconds restart_wait_{first_restart_wait};  // the writer's thread
  std::atomic<int> checkpoint_after_{0};  // PRAGMA wal_autocheckpoint of the writer; 0: never
  std::mutex checkpoint_mutex_;
  std::optional<connection> checkpointer_;  // guarded by checkpoint_mutex_
  // After close(): this state itself, and the handles still out less those that returned.
  std::unique_ptr<pool_state> self_;
  std::atomic<std::ptrdiff_t> orphans_{0};
};

}  // namespace detail
}  // namespace cpm
