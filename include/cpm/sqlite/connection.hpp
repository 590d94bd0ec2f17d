// cpm: a connection to one SQLite database, with its statement cache.
//
// Every connection runs PRAGMA foreign_keys=ON and sets a busy timeout; file databases also
// get journal_mode=WAL and synchronous=NORMAL (all configurable through open_options).
//
// Threading contract: a connection, and everything made from it, is used by one thread at a
// time. It is opened with SQLITE_OPEN_NOMUTEX (SQLite's "multi-thread" mode), so SQLite takes
// no mutex on each call; pass threading::serialized to get SQLite's own locking back.
// Use one connection per thread for concurrent work.
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
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cpm {

enum class journal_mode { wal, rollback, truncate, persist, memory, off, keep };
enum class synchronous_mode { off, normal, full, extra, keep };
enum class threading { single, serialized };

struct open_options {
  bool create = true;      // create the file when it does not exist
  bool read_only = false;  // open read-only (the file must exist)
  std::chrono::milliseconds busy_timeout{5000};
  journal_mode journal = journal_mode::wal;                  // file databases only
  synchronous_mode synchronous = synchronous_mode::normal;   // file databases only
  threading threads = threading::single;
  // Statements run on open before the file is first read (so locking_mode=EXCLUSIVE works),
  // after foreign keys are switched on; journal and synchronous above are applied after them.
  std::vector<std::string> pragmas{};  // e.g. "PRAGMA cache_size=-65536"
  std::string vfs{};  // the name of a registered sqlite3_vfs to open with; empty: the default one
};

// SQL known at compile time: `cpm::sql<"SELECT ...">`. Statements made from it are cached
// on each connection in a slot of their own, found without hashing the text.
template <detail::fixed_string Text>
struct sql_constant {
  static constexpr std::string_view text = Text.view();
  static std::size_t slot() noexcept;
};

template <detail::fixed_string Text>
inline constexpr sql_constant<Text> sql{};

namespace detail {

inline std::atomic<std::size_t> next_statement_slot{0};

struct cache_entry {
  const char* key = nullptr;  // identity of the compile-time text this slot holds
  statement_ptr stmt;
  bool busy = false;          // leased right now
};

struct connection_state {
  sqlite3* db = nullptr;
  std::string path;
  bool read_only = false;
  std::size_t prepares = 0;
  std::size_t savepoints = 0;  // names handed out so far
  std::vector<std::unique_ptr<cache_entry>> slots;
  std::unordered_map<std::string, std::unique_ptr<cache_entry>> by_text;

  connection_state() = default;
  connection_state(const connection_state&) = delete;
  connection_state& operator=(const connection_state&) = delete;
  ~connection_state() {
    slots.clear();
    by_text.clear();
    sqlite3_close_v2(db);
  }

  statement_ptr prepare(std::string_view sql, unsigned flags) {
    auto stmt = detail::prepare(db, sql, flags);
    ++prepares;
    return stmt;
  }
};

}  // namespace detail

template <detail::fixed_string Text>
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
  statement_lease(detail::cache_entry& entry) noexcept : statement_base(entry.stmt.get()), entry_(&entry) {
    entry.busy = true;
  }
  statement_lease(detail::statement_ptr own) noexcept : statement_base(own.release()) {}

  statement_lease(statement_lease&& other) noexcept
      : statement_base(std::exchange(other.stmt_, nullptr)), entry_(std::exchange(other.entry_, nullptr)) {}
  statement_lease& operator=(statement_lease&& other) noexcept {
    if (this != &other) {
      release();
      stmt_ = std::exchange(other.stmt_, nullptr);
      entry_ = std::exchange(other.entry_, nullptr);
    }
    return *this;
  }
  statement_lease(const statement_lease&) = delete;
  statement_lease& operator=(const statement_lease&) = delete;
  ~statement_lease() { release(); }

  // True when this lease holds the connection's cached statement (not a private one).
  [[nodiscard]] bool is_cached() const noexcept { return entry_ != nullptr; }

 private:
  void release() noexcept {
    if (!stmt_) return;
    sqlite3_reset(stmt_);
    if (entry_) {
      entry_->busy = false;
      entry_ = nullptr;
    } else {
      sqlite3_finalize(stmt_);
    }
    stmt_ = nullptr;
  }

  detail::cache_entry* entry_ = nullptr;
};

class connection {
 public:
  // Opens (by default creating) the database file at `path` (a std::filesystem::path
  // converts); ":memory:" opens a private in-memory database. Throws cpm::open_error naming
  // the path.
  static connection open(const std::string& path, const open_options& options = {}) {
    return connection(path, options);
  }
  static connection open_memory(const open_options& options = {}) { return connection(":memory:", options); }

  connection(connection&&) noexcept = default;
  connection& operator=(connection&&) noexcept = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() = default;

  // Runs a script of one or more statements (no results).
  void exec(std::string_view script) {
    std::string text(script);
    int rc = sqlite3_exec(state_->db, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) detail::throw_sqlite(state_->db, rc, script);
  }

  // Prepares a statement the caller owns (not cached).
  [[nodiscard]] statement prepare(std::string_view sql) { return statement(state_->prepare(sql, 0)); }

  // Borrows the cached statement for compile-time SQL, preparing it on first use.
  template <detail::fixed_string Text>
  [[nodiscard]] statement_lease cached(sql_constant<Text> key) {
    return lease(key.text, key.slot());
  }

  // Borrows the cached statement for `sql`, keyed by its text.
  [[nodiscard]] statement_lease cached(std::string_view sql) {
    auto it = state_->by_text.find(std::string(sql));
    if (it == state_->by_text.end()) {
      auto entry = std::make_unique<detail::cache_entry>();
      entry->stmt = state_->prepare(sql, SQLITE_PREPARE_PERSISTENT);
      it = state_->by_text.emplace(std::string(sql), std::move(entry)).first;
    }
    return lease_entry(*it->second, sql);
  }

  // Borrows by compile-time text and slot; see sql_constant.
  [[nodiscard]] statement_lease lease(std::string_view text, std::size_t slot) {
    auto& slots = state_->slots;
    if (slot < slots.size() && slots[slot]) {
      auto& entry = *slots[slot];
      if (entry.key == text.data()) return lease_entry(entry, text);
      return cached(text);  // another copy of the library numbered this slot: fall back to text
    }
    if (slot >= slots.size()) slots.resize(slot + 1);
    auto entry = std::make_unique<detail::cache_entry>();
    entry->key = text.data();
    entry->stmt = state_->prepare(text, SQLITE_PREPARE_PERSISTENT);
    slots[slot] = std::move(entry);
    return lease_entry(*slots[slot], text);
  }

  // Finalizes every cached statement not leased right now.
  void clear_cache() noexcept {
    for (auto& entry : state_->slots)
      if (entry && !entry->busy) entry.reset();
    std::erase_if(state_->by_text, [](const auto& item) { return !item.second->busy; });
  }

  [[nodiscard]] std::int64_t last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(state_->db); }
  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  [[nodiscard]] std::int64_t changes() const noexcept { return sqlite3_changes64(state_->db); }
  [[nodiscard]] std::int64_t total_changes() const noexcept { return sqlite3_total_changes64(state_->db); }
  // True inside BEGIN ... COMMIT (autocommit is off).
  [[nodiscard]] bool in_transaction() const noexcept { return sqlite3_get_autocommit(state_->db) == 0; }
  [[nodiscard]] bool is_read_only() const noexcept { return state_->read_only; }
  [[nodiscard]] bool is_memory() const noexcept { return state_->path == ":memory:"; }
  // The path as given to open; ":memory:" for in-memory databases.
  [[nodiscard]] const std::string& path() const noexcept { return state_->path; }
  // How many statements this connection has prepared (cached or not).
  [[nodiscard]] std::size_t prepare_count() const noexcept { return state_->prepares; }
  // A name no other savepoint of this connection uses.
  [[nodiscard]] std::string next_savepoint_name() { return fmt::format("cpm_sp_{}", ++state_->savepoints); }

  [[nodiscard]] sqlite3* native() const noexcept { return state_->db; }

  // Switches the journal mode (WAL persists in the file). Throws when SQLite keeps another.
  void set_journal_mode(journal_mode mode) {
    if (mode == journal_mode::keep) return;
    static constexpr std::string_view modes[] = {"wal", "delete", "truncate", "persist", "memory", "off"};
    std::string_view want = modes[static_cast<int>(mode)];
    std::string got = pragma("PRAGMA journal_mode=" + std::string(want));
    if (got != want) throw_open("journal_mode stayed '" + got + "' instead of '" + std::string(want) + "'");
  }

 private:
  connection(std::string path, const open_options& options) : state_(std::make_unique<detail::connection_state>()) {
    state_->path = std::move(path);
    state_->read_only = options.read_only;
    const bool memory = state_->path == ":memory:";
    int flags = options.read_only ? SQLITE_OPEN_READONLY
                                  : SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0);
    flags |= options.threads == threading::single ? SQLITE_OPEN_NOMUTEX : SQLITE_OPEN_FULLMUTEX;
#ifdef SQLITE_OPEN_EXRESCODE
    flags |= SQLITE_OPEN_EXRESCODE;
#endif
    int rc = sqlite3_open_v2(state_->path.c_str(), &state_->db, flags,
                             options.vfs.empty() ? nullptr : options.vfs.c_str());
    if (rc != SQLITE_OK) fail_open(rc);
    sqlite3_extended_result_codes(state_->db, 1);
    sqlite3_busy_timeout(state_->db, static_cast<int>(options.busy_timeout.count()));
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
      throw open_error(e.extended_code(), e.sqlite_message(), state_->path);
    }
  }

  // Runs one statement and returns its first column of its first row as text ("" if none).
  std::string pragma(const std::string& sql) {
    statement stmt(detail::prepare(state_->db, sql, 0));
    std::string value;
    if (stmt.step()) {
      const unsigned char* text = sqlite3_column_text(stmt.native(), 0);
      if (text) value = reinterpret_cast<const char*>(text);
    }
    stmt.reset();
    return value;
  }

  [[noreturn]] void fail_open(int rc) {
    std::string message = state_->db ? sqlite3_errmsg(state_->db) : sqlite3_errstr(rc);
    int code = state_->db ? sqlite3_extended_errcode(state_->db) : rc;
    throw open_error(code, message, state_->path);
  }
  [[noreturn]] void throw_open(const std::string& message) {
    throw open_error(SQLITE_ERROR, message, state_->path);
  }

  statement_lease lease_entry(detail::cache_entry& entry, std::string_view text) {
    if (!entry.busy) return statement_lease(entry);
    return statement_lease(state_->prepare(text, 0));
  }

  std::unique_ptr<detail::connection_state> state_;
};

}  // namespace cpm
