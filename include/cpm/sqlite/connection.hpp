// cpm: a connection to one SQLite database, with its statement cache.
//
// Every connection runs PRAGMA foreign_keys=ON and sets a busy timeout; file databases also
// get journal_mode=WAL and synchronous=NORMAL (all configurable through open_options).
//
// Threads: a connection, and everything made from it (statements, leases, ranges,
// transactions), is used by one thread at a time. It is opened with SQLITE_OPEN_NOMUTEX, so
// SQLite takes no mutex on each call. Use one connection per thread, or cpm::pool, which
// hands connections to threads one at a time.
//
// Lifetimes: a lease, a range or a transaction keeps the database handle it uses open, so
// each stays valid when the connection is moved or destroyed before it (the handle closes
// when the last of them ends). A moved-from connection is not open (is_open() is false);
// any other member called on it throws cpm::usage_error.
#pragma once

#include <cpm/detail/fixed_string.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/sqlite/statement.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cpm {

enum class journal_mode { wal, rollback, truncate, persist, memory, off, keep };
enum class synchronous_mode { off, normal, full, extra, keep };

struct open_options {
  bool create = true;      // create the file when it does not exist
  bool read_only = false;  // open read-only (the file must exist)
  std::chrono::milliseconds busy_timeout{5000};
  journal_mode journal = journal_mode::wal;                  // file databases only
  synchronous_mode synchronous = synchronous_mode::normal;   // file databases only
  // Statements cached by their run-time SQL text (cpm::query and cpm::execute with a string):
  // at most this many, the least recently used finalized first. SQL known at compile time
  // (cpm::sql<"...">, every generated statement) is cached apart and never evicted. 0: run-time
  // text is prepared on each use.
  std::size_t statement_cache_capacity = 128;
  // Open in SQLite's serialized mode (SQLITE_OPEN_FULLMUTEX): SQLite then takes the
  // connection's mutex in every call. This does not make a cpm::connection shareable between
  // threads (its cache, ranges and transactions are not); it exists to measure that cost.
  bool sqlite_mutex = false;
  // Statements run on open before the file is first read (so locking_mode=EXCLUSIVE works),
  // after foreign keys are switched on; journal and synchronous above are applied after them.
  std::vector<std::string> pragmas{};  // e.g. "PRAGMA cache_size=-65536"
  std::string vfs{};  // the name of a registered sqlite3_vfs to open with; empty: the default one
};

// SQL known at compile time: `cpm::sql<"SELECT ...">`, or `cpm::sql_constant<Text>{}` for a
// constant `Text` of static storage duration that holds it (anything that converts to
// std::string_view at compile time: a std::string_view, a cpm::detail::fixed_string such as
// the statements cpm generates). Statements made from it are cached on each connection in a
// slot of their own, found without hashing the text. The constant is referred to by its
// address, so its text never appears in mangled names; a literal in cpm::sql<"..."> does,
// packed (about 3 characters per character). Name long statements:
//   static constexpr std::string_view by_status = "SELECT count(*) FROM build WHERE status = ?";
//   cpm::query<std::int64_t>(db, cpm::sql_constant<by_status>{}, build_status::failed).one();
template <const auto& Text>
struct sql_constant {
  static constexpr std::string_view text = std::string_view(Text);
  static std::size_t slot() noexcept;
};

template <detail::packed_string Text>
inline constexpr sql_constant<detail::unpacked<Text>> sql{};

namespace detail {

inline std::atomic<std::size_t> next_statement_slot{0};

struct cache_entry {
  const char* key = nullptr;  // identity of the compile-time text this slot holds
  statement_ptr stmt;
  bool busy = false;          // leased right now
  const void* row_check = nullptr;  // the row type whose column names were checked (see statement_lease)
};

// A statement cached by its run-time text; `text` is the key the index views.
struct text_entry {
  std::string text;
  cache_entry entry;
};

// What a connection is: the database handle and its statement cache. Shared by the
// connection and everything made from it (leases, ranges, transactions) through
// state_ref; the last one to end closes the handle. Not thread-safe, as a connection is not.
struct connection_state {
  sqlite3* db = nullptr;
  std::string path;
  bool read_only = false;
  bool in_snapshot = false;     // a cpm::read_snapshot is active
  int busy_timeout_ms = 0;      // open_options::busy_timeout
  std::size_t refs = 0;         // state_refs alive
  std::size_t prepares = 0;
  std::size_t savepoints = 0;   // cpm::transaction savepoints open now (their nesting depth)
  std::size_t capacity = 128;   // of the text cache
  std::vector<std::unique_ptr<cache_entry>> slots;
  std::list<text_entry> by_recency;  // most recently used first
  std::unordered_map<std::string_view, std::list<text_entry>::iterator> by_text;

  connection_state() = default;
  connection_state(const connection_state&) = delete;
  connection_state& operator=(const connection_state&) = delete;
  ~connection_state() {
    slots.clear();
    by_text.clear();
    by_recency.clear();
    sqlite3_close_v2(db);
  }

  statement_ptr prepare(std::string_view sql, unsigned flags) {
    auto stmt = detail::prepare(db, sql, flags);
    ++prepares;
    return stmt;
  }

  void exec(std::string_view script) {
    std::string text(script);
    if (in_snapshot) return exec_read_only(text);
    int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) detail::throw_sqlite(db, rc, script);
  }

  // exec inside a read snapshot: statement by statement, each refused before it runs when it
  // would write.
  void exec_read_only(const std::string& text) {
    const char* rest = text.c_str();
    while (*rest != '\0') {
      sqlite3_stmt* raw = nullptr;
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v2(db, rest, -1, &raw, &tail);
      statement_ptr stmt(raw);
      if (rc != SQLITE_OK) detail::throw_sqlite(db, rc, text);
      rest = tail;
      if (!stmt) continue;  // a comment or whitespace
      if (!sqlite3_stmt_readonly(stmt.get()))
        throw readonly_error(SQLITE_READONLY,
                             "a statement that writes, inside a cpm::read_snapshot, which is read-only; write in a "
                             "cpm::transaction instead (its reads see one snapshot too)",
                             sqlite3_sql(stmt.get()));
      while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) detail::throw_sqlite(db, rc, sqlite3_sql(stmt.get()));
    }
  }

  [[nodiscard]] bool in_transaction() const noexcept { return sqlite3_get_autocommit(db) == 0; }

  // Drops the least recently used statements not leased now, down to `keep` entries.
  void evict_to(std::size_t keep) noexcept {
    for (auto it = by_recency.end(); by_text.size() > keep && it != by_recency.begin();) {
      --it;
      if (it->entry.busy) continue;
      by_text.erase(it->text);
      it = by_recency.erase(it);
    }
  }
};

// A counted reference to a connection_state (not atomic: a connection is used by one thread
// at a time, and so is everything made from it).
class state_ref {
 public:
  state_ref() = default;
  explicit state_ref(connection_state* s) noexcept : s_(s) {
    if (s_) ++s_->refs;
  }
  state_ref(const state_ref& other) noexcept : state_ref(other.s_) {}
  state_ref(state_ref&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
  state_ref& operator=(state_ref other) noexcept {
    std::swap(s_, other.s_);
    return *this;
  }
  ~state_ref() {
    if (s_ && --s_->refs == 0) close(s_);
  }
  // Lets the state go now; empty afterwards.
  void reset() noexcept {
    if (s_ && --s_->refs == 0) close(s_);
    s_ = nullptr;
  }

  [[nodiscard]] connection_state* get() const noexcept { return s_; }
  connection_state* operator->() const noexcept { return s_; }
  connection_state& operator*() const noexcept { return *s_; }
  explicit operator bool() const noexcept { return s_ != nullptr; }

 private:
  // Out of line, so that the common case (a moved-from or not the last reference) inlines
  // into every lease and range that ends.
  [[gnu::noinline]] static void close(connection_state* s) noexcept { delete s; }

  connection_state* s_ = nullptr;
};

}  // namespace detail

template <const auto& Text>
std::size_t sql_constant<Text>::slot() noexcept {
  static const std::size_t index = detail::next_statement_slot.fetch_add(1, std::memory_order_relaxed);
  return index;
}

// A statement borrowed from a connection's cache. It is reset and given back when the lease
// ends. When the cached statement is already leased (two ranges over the same query alive at
// once), the lease gets a statement of its own instead.
class statement_lease : public statement_base {
 public:
  statement_lease() = default;
  statement_lease(detail::connection_state& owner, detail::cache_entry& entry) noexcept
      : statement_base(entry.stmt.get(), &owner.in_snapshot), owner_(&owner), entry_(&entry) {
    entry.busy = true;
  }
  statement_lease(detail::connection_state& owner, detail::statement_ptr own) noexcept
      : statement_base(own.release(), &owner.in_snapshot), owner_(&owner) {}

  statement_lease(statement_lease&& other) noexcept
      : statement_base(std::exchange(other.stmt_, nullptr), other.read_only_),
        owner_(std::move(other.owner_)),
        entry_(std::exchange(other.entry_, nullptr)) {}
  statement_lease& operator=(statement_lease&& other) noexcept {
    if (this != &other) {
      release();
      stmt_ = std::exchange(other.stmt_, nullptr);
      read_only_ = other.read_only_;
      entry_ = std::exchange(other.entry_, nullptr);
      owner_ = std::move(other.owner_);
    }
    return *this;
  }
  statement_lease(const statement_lease&) = delete;
  statement_lease& operator=(const statement_lease&) = delete;
  ~statement_lease() { release(); }

  // True when this lease holds the connection's cached statement (not a private one).
  [[nodiscard]] bool is_cached() const noexcept { return entry_ != nullptr; }

  // Where a check worth making once per prepared statement records that it passed: cpm::query
  // stores the identity of the row type whose column names matched. Null for a private
  // statement, which is checked on every use.
  [[nodiscard]] const void** row_check_slot() noexcept { return entry_ ? &entry_->row_check : nullptr; }

  // The connection state this lease keeps alive.
  [[nodiscard]] const detail::state_ref& owner() const noexcept { return owner_; }

  // Resets the statement and gives it back now; the lease is empty afterwards.
  void release() noexcept {
    if (stmt_) give_back();
  }

 private:
  // Out of line: the check above inlines into every lease's end (most are already empty).
  [[gnu::noinline]] void give_back() noexcept {
    sqlite3_reset(stmt_);
    if (entry_) {
      entry_->busy = false;
      entry_ = nullptr;
    } else {
      sqlite3_finalize(stmt_);
    }
    stmt_ = nullptr;
    owner_.reset();
  }

  detail::state_ref owner_;
  detail::cache_entry* entry_ = nullptr;
};

// A prepared statement it owns (from connection::prepare). It keeps the connection's state
// alive, as a lease does.
class statement : public statement_base {
 public:
  statement() = default;
  statement(detail::connection_state& owner, detail::statement_ptr stmt) noexcept
      : statement_base(stmt.release(), &owner.in_snapshot), owner_(&owner) {}
  statement(statement&& other) noexcept
      : statement_base(std::exchange(other.stmt_, nullptr), other.read_only_), owner_(std::move(other.owner_)) {}
  statement& operator=(statement&& other) noexcept {
    if (this != &other) {
      sqlite3_finalize(stmt_);
      stmt_ = std::exchange(other.stmt_, nullptr);
      read_only_ = other.read_only_;
      owner_ = std::move(other.owner_);
    }
    return *this;
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { sqlite3_finalize(stmt_); }  // before owner_ lets the connection go

 private:
  detail::state_ref owner_;
};

namespace detail {

inline statement_lease lease_entry(connection_state& s, cache_entry& entry, std::string_view text) {
  if (!entry.busy) return statement_lease(s, entry);
  return statement_lease(s, s.prepare(text, 0));
}

// Borrows the cached statement for run-time text `sql`, preparing it on first use.
inline statement_lease lease_text(connection_state& s, std::string_view sql) {
  if (auto it = s.by_text.find(sql); it != s.by_text.end()) {
    s.by_recency.splice(s.by_recency.begin(), s.by_recency, it->second);
    return lease_entry(s, it->second->entry, sql);
  }
  if (s.capacity == 0) return statement_lease(s, s.prepare(sql, 0));
  auto stmt = s.prepare(sql, SQLITE_PREPARE_PERSISTENT);
  s.evict_to(s.capacity - 1);
  auto& added = s.by_recency.emplace_front();
  added.text.assign(sql);
  added.entry.stmt = std::move(stmt);
  s.by_text.emplace(added.text, s.by_recency.begin());
  return statement_lease(s, added.entry);
}

// The slow paths of lease_slot: the first use of a slot on this connection, a slot another
// copy of the library numbered, or a statement already leased.
[[gnu::noinline]] inline statement_lease lease_slot_slow(connection_state& s, std::string_view text, std::size_t slot) {
  auto& slots = s.slots;
  if (slot < slots.size() && slots[slot]) {
    auto& entry = *slots[slot];
    if (entry.key == text.data()) return lease_entry(s, entry, text);
    return lease_text(s, text);  // another copy of the library numbered this slot: fall back to text
  }
  if (slot >= slots.size()) slots.resize(slot + 1);
  auto entry = std::make_unique<cache_entry>();
  entry->key = text.data();
  entry->stmt = s.prepare(text, SQLITE_PREPARE_PERSISTENT);
  slots[slot] = std::move(entry);
  return statement_lease(s, *slots[slot]);
}

// Borrows by compile-time text and slot; see sql_constant. The common case (the slot's
// statement, prepared and free) inlines.
inline statement_lease lease_slot(connection_state& s, std::string_view text, std::size_t slot) {
  if (slot < s.slots.size()) [[likely]] {
    if (cache_entry* entry = s.slots[slot].get(); entry && entry->key == text.data() && !entry->busy) [[likely]]
      return statement_lease(s, *entry);
  }
  return lease_slot_slow(s, text, slot);
}

template <const auto& Text>
statement_lease lease_constant(connection_state& s) {
  return lease_slot(s, sql_constant<Text>::text, sql_constant<Text>::slot());
}

// Runs the cached statement for compile-time SQL to its end (BEGIN, COMMIT, a PRAGMA).
template <const auto& Text>
void run_constant(connection_state& s) {
  auto stmt = lease_constant<Text>(s);
  stmt.run();
}

}  // namespace detail

class connection {
 public:
  // Opens (by default creating) the database file at `path` (a std::filesystem::path
  // converts); ":memory:" opens a private in-memory database. Throws cpm::open_error naming
  // the path.
  static connection open(const std::string& path, const open_options& options = {}) {
    return connection(path, options);
  }
  static connection open_memory(const open_options& options = {}) { return connection(":memory:", options); }

  // A connection that is not open (as a moved-from one).
  connection() = default;
  connection(connection&&) noexcept = default;
  connection& operator=(connection&&) noexcept = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() = default;

  // False for a moved-from or closed connection; every member but this one and close() then
  // throws cpm::usage_error.
  [[nodiscard]] bool is_open() const noexcept { return static_cast<bool>(state_); }

  // Gives up this connection's hold on the database: the handle closes now, or when the last
  // lease, range or transaction made from it ends.
  void close() noexcept { state_ = detail::state_ref(); }

  // Runs a script of one or more statements (no results).
  void exec(std::string_view script) { state().exec(script); }

  // Prepares a statement the caller owns (not cached).
  [[nodiscard]] statement prepare(std::string_view sql) { return statement(state(), state().prepare(sql, 0)); }

  // Borrows the cached statement for compile-time SQL, preparing it on first use.
  template <const auto& Text>
  [[nodiscard]] statement_lease cached(sql_constant<Text> key) {
    return detail::lease_slot(state(), key.text, key.slot());
  }

  // Borrows the cached statement for `sql`, keyed by its text (see
  // open_options::statement_cache_capacity).
  [[nodiscard]] statement_lease cached(std::string_view sql) { return detail::lease_text(state(), sql); }

  // Borrows by compile-time text and slot; see sql_constant.
  [[nodiscard]] statement_lease lease(std::string_view text, std::size_t slot) {
    return detail::lease_slot(state(), text, slot);
  }

  // Finalizes every cached statement not leased right now.
  void clear_cache() {
    auto& s = state();
    for (auto& entry : s.slots)
      if (entry && !entry->busy) entry.reset();
    s.evict_to(0);
  }

  // How many statements are cached by run-time text now, and at most.
  [[nodiscard]] std::size_t text_cache_size() { return state().by_text.size(); }
  [[nodiscard]] std::size_t statement_cache_capacity() { return state().capacity; }
  void set_statement_cache_capacity(std::size_t capacity) {
    auto& s = state();
    s.capacity = capacity;
    s.evict_to(capacity);
  }

  [[nodiscard]] std::int64_t last_insert_rowid() { return sqlite3_last_insert_rowid(state().db); }
  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  [[nodiscard]] std::int64_t changes() { return sqlite3_changes64(state().db); }
  [[nodiscard]] std::int64_t total_changes() { return sqlite3_total_changes64(state().db); }
  // True inside BEGIN ... COMMIT (autocommit is off).
  [[nodiscard]] bool in_transaction() { return state().in_transaction(); }
  // True while a cpm::read_snapshot is active on this connection.
  [[nodiscard]] bool in_snapshot() { return state().in_snapshot; }
  [[nodiscard]] bool is_read_only() { return state().read_only; }
  [[nodiscard]] bool is_memory() { return state().path == ":memory:"; }
  // The path as given to open; ":memory:" for in-memory databases.
  [[nodiscard]] const std::string& path() { return state().path; }
  // How many statements this connection has prepared (cached or not).
  [[nodiscard]] std::size_t prepare_count() { return state().prepares; }

  // The busy timeout it was opened with (open_options::busy_timeout).
  [[nodiscard]] std::chrono::milliseconds busy_timeout() { return std::chrono::milliseconds(state().busy_timeout_ms); }
  [[nodiscard]] sqlite3* native() { return state().db; }

  // The state shared with leases, ranges and transactions (see the top of this file).
  [[nodiscard]] detail::state_ref share() { return detail::state_ref(&state()); }
  // True while something made from this connection is alive: a range not yet at its end, a
  // statement, a transaction or a read snapshot (each keeps the database handle open). Counted,
  // not searched: the cost does not grow with the statements the connection has cached.
  [[nodiscard]] bool has_dependents() { return state().refs > 1; }

  // Switches the journal mode (WAL persists in the file). Throws when SQLite keeps another.
  void set_journal_mode(journal_mode mode) {
    if (mode == journal_mode::keep) return;
    static constexpr std::string_view modes[] = {"wal", "delete", "truncate", "persist", "memory", "off"};
    std::string_view want = modes[static_cast<int>(mode)];
    // Switching the journal mode reads, then needs an exclusive lock: while another connection
    // holds the write lock (migrating a new database that several threads or processes open
    // together, say) SQLite answers SQLITE_BUSY without calling the busy handler, which could
    // deadlock there. Retried here, up to the busy timeout.
    std::string got;
    for (int waited = 0, pause = 1;; waited += pause, pause = pause < 32 ? pause * 2 : pause) {
      try {
        got = pragma("PRAGMA journal_mode=" + std::string(want));
        break;
      } catch (const busy_error&) {
        if (waited >= state().busy_timeout_ms) throw;
        sqlite3_sleep(pause);
      }
    }
    if (got != want) throw_open("journal_mode stayed '" + got + "' instead of '" + std::string(want) + "'");
  }

 private:
  connection(std::string path, const open_options& options) : state_(new detail::connection_state) {
    auto& s = *state_;
    s.path = std::move(path);
    s.read_only = options.read_only;
    s.capacity = options.statement_cache_capacity;
    const bool memory = s.path == ":memory:";
    int flags = options.read_only ? SQLITE_OPEN_READONLY
                                  : SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0);
    flags |= options.sqlite_mutex ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_EXRESCODE
    flags |= SQLITE_OPEN_EXRESCODE;
#endif
    int rc = sqlite3_open_v2(s.path.c_str(), &s.db, flags, options.vfs.empty() ? nullptr : options.vfs.c_str());
    if (rc != SQLITE_OK) fail_open(rc);
    sqlite3_extended_result_codes(s.db, 1);
    sqlite3_busy_timeout(s.db, static_cast<int>(options.busy_timeout.count()));
    s.busy_timeout_ms = static_cast<int>(options.busy_timeout.count());
    try {
      // Neither of these reads the file.
      pragma("PRAGMA foreign_keys=ON");
      if (pragma("PRAGMA foreign_keys") != "1") throw_open("foreign keys cannot be enabled");
      // The caller's pragmas run before anything reads the file: some only take full effect
      // then (locking_mode=EXCLUSIVE keeps the WAL index in heap memory only if it is set
      // before the first read). They may switch foreign keys off again.
      for (const auto& statement : options.pragmas) exec(statement);
      // Reading the schema makes a file that is not a database fail here, not later.
      pragma("PRAGMA schema_version");
      if (!memory && !options.read_only) set_journal_mode(options.journal);
      if (!memory && options.synchronous != synchronous_mode::keep) {
        static constexpr std::string_view modes[] = {"OFF", "NORMAL", "FULL", "EXTRA"};
        pragma("PRAGMA synchronous=" + std::string(modes[static_cast<int>(options.synchronous)]));
      }
    } catch (const open_error&) {
      throw;
    } catch (const busy_error&) {
      throw;  // another connection holds a lock: worth a retry, unlike the other open failures
    } catch (const sqlite_error& e) {
      throw open_error(e.extended_code(), e.sqlite_message(), s.path);
    }
  }

  detail::connection_state& state() const {
    if (!state_) [[unlikely]]
      not_open();
    return *state_;
  }
  [[noreturn, gnu::cold]] static void not_open() {
    throw usage_error("cpm: the connection is not open (it was moved from or closed)");
  }

  // Runs one statement and returns its first column of its first row as text ("" if none).
  std::string pragma(const std::string& sql) {
    statement stmt(state(), detail::prepare(state().db, sql, 0));
    std::string value;
    if (stmt.step()) {
      const unsigned char* text = sqlite3_column_text(stmt.native(), 0);
      if (text) value = reinterpret_cast<const char*>(text);
    }
    stmt.reset();
    return value;
  }

  [[noreturn]] void fail_open(int rc) {
    auto& s = *state_;
    std::string message = s.db ? sqlite3_errmsg(s.db) : sqlite3_errstr(rc);
    int code = s.db ? sqlite3_extended_errcode(s.db) : rc;
    throw open_error(code, message, s.path);
  }
  [[noreturn]] void throw_open(const std::string& message) {
    throw open_error(SQLITE_ERROR, message, state_->path);
  }

  detail::state_ref state_;
};

}  // namespace cpm
