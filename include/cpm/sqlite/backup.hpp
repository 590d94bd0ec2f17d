// cpm: online backup and integrity check of any SQLite database (knows no cpm tables).
//
//   auto db = cpm::connection::open("app.db");
//   cpm::backup_result r = cpm::backup(db, "/backups/app-1.db",
//       [](int remaining, int total) { fmt::print("{}/{} pages left\n", remaining, total); });
//   std::vector<std::string> problems = cpm::integrity_check(db);   // empty: "ok"
//
// cpm::backup copies the database through SQLite's backup API while other connections (and
// other processes) keep reading and writing it:
//   - On a WAL database it reads one snapshot for the whole copy (a read transaction, which
//     blocks no writer), so the copy is consistent and never has to start over however busy
//     the writers are. The WAL grows meanwhile: a checkpoint cannot pass an open snapshot.
//   - On a rollback-journal database a read lock would stop writers from committing, so it
//     copies `pages_per_step` pages at a time without one. When another connection writes in
//     between, SQLite starts the copy over (a "restart"); after `max_restarts` of them the
//     rest is copied in one step, which holds the read lock only for that step.
//   - SQLITE_BUSY and SQLITE_LOCKED are retried after `retry_sleep`, until no step has made
//     progress for `busy_timeout`; then cpm::busy_error.
// The copy is written to a temporary file in the destination's directory, switched to
// rollback-journal mode (one self-contained file), checked with PRAGMA integrity_check,
// synced, and only then renamed to the destination, without ever replacing a file already
// there (cpm::destination_exists). A backup that fails leaves nothing under the final name,
// and its temporary file is removed.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/sqlite/transaction.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cpm {

// A file system operation failed: what was being done, the path, and the system's reason.
class file_error : public error {
 public:
  file_error(std::string operation, std::string path, int err)
      : error(detail::message("cpm: cannot {} '{}': {}", operation, path, std::strerror(err))),
        operation_(std::move(operation)),
        path_(std::move(path)),
        errno_(err) {}
  [[nodiscard]] const std::string& operation() const noexcept { return operation_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] int error_number() const noexcept { return errno_; }

 private:
  std::string operation_;
  std::string path_;
  int errno_;
};

// A backup was asked to write where a file already is; nothing was written or replaced.
class destination_exists : public error {
 public:
  explicit destination_exists(std::string path)
      : error(detail::message("cpm: '{}' already exists; a backup never replaces a file", path)), path_(std::move(path)) {}
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// PRAGMA integrity_check found problems in the database at `path` (its messages, in order).
class integrity_check_failed : public error {
 public:
  integrity_check_failed(std::string path, std::vector<std::string> problems)
      : error(describe(path, problems)), path_(std::move(path)), problems_(std::move(problems)) {}
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  static std::string describe(const std::string& path, const std::vector<std::string>& problems) {
    std::string text = detail::message("cpm: '{}' failed PRAGMA integrity_check with {} problem(s)", path, problems.size());
    for (std::size_t i = 0; i < problems.size() && i < 3; ++i) text += (i ? "; " : ": ") + problems[i];
    if (problems.size() > 3) text += "; ...";
    return text;
  }
  std::string path_;
  std::vector<std::string> problems_;
};

// Called after every step of a backup with the pages still to copy and the pages in all.
// `remaining` goes back up when the copy restarts.
using backup_progress = std::function<void(int remaining, int total)>;

struct backup_options {
  int pages_per_step = 256;                        // pages copied per step; -1: all in one step
  std::chrono::milliseconds pause_between_steps{0};  // a sleep after each step, to throttle the I/O
  std::chrono::milliseconds retry_sleep{10};       // the wait after SQLITE_BUSY / SQLITE_LOCKED
  std::chrono::milliseconds busy_timeout{30000};   // give up when no step succeeded for this long
  bool snapshot = true;                            // WAL sources: copy from one read snapshot
  int max_restarts = 3;                            // then copy the rest in one step
};

struct backup_result {
  std::string path{};        // the file written
  int pages = 0;             // pages copied: the database's size in pages
  int page_size = 0;         // bytes per page
  std::uintmax_t bytes = 0;  // the backup file's size
  int steps = 0;             // backup steps that copied pages
  int restarts = 0;          // times the copy started over because another connection wrote
  int busy_retries = 0;      // steps retried after SQLITE_BUSY / SQLITE_LOCKED
  bool snapshot = false;     // copied from one read snapshot (consistent as of its start)
};

// The problems PRAGMA integrity_check(max_problems) reports, one per line of its output (its
// "*** in database main ***" headings left out); empty when it says "ok". A database too
// damaged for the check to run reports SQLite's error as its one problem.
inline std::vector<std::string> integrity_check(connection& db, int max_problems = 100) {
  std::vector<std::string> problems;
  try {
    auto stmt = db.prepare(detail::message("PRAGMA integrity_check({})", max_problems > 0 ? max_problems : 100));
    while (stmt.step()) {
      const auto text = stmt.column<std::string>(0);
      if (text == "ok") continue;
      for (std::size_t start = 0; start <= text.size();) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.rfind("*** in database ", 0) != 0) problems.push_back(std::move(line));
        start = end + 1;
      }
    }
  } catch (const corrupt_error& e) {
    problems.push_back(e.sqlite_message());
  }
  return problems;
}

namespace detail {

// A file descriptor closed at scope exit.
class unique_fd {
 public:
  explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

inline bool path_exists(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0;
}

// The directory part of `path` ("." when it has none).
inline std::string directory_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

inline std::string file_name_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Creates the missing directories of `dir` itself (mode 0700).
inline void make_directories(const std::string& dir) {
  std::string walk;
  for (std::size_t at = 0; at <= dir.size(); ++at) {
    if (at == dir.size() || (dir[at] == '/' && at > 0)) {
      walk = dir.substr(0, at);
      if (::mkdir(walk.c_str(), 0700) != 0 && errno != EEXIST) throw file_error("create directory", walk, errno);
    }
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) throw file_error("open directory", dir, errno);
  if (!S_ISDIR(st.st_mode)) throw file_error("use as a directory", dir, ENOTDIR);
}

inline void fsync_fd(int fd, const std::string& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) throw file_error("sync", path, errno);
  }
}

inline void fsync_path(const std::string& path, bool directory = false) {
  unique_fd fd(::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC));
  if (!fd) throw file_error("open", path, errno);
  fsync_fd(fd.get(), path);
}

// Makes a new, empty file of mode 0600 named "<dir>/.<stem>-XXXXXX" and returns its path.
inline std::string make_temp_file(const std::string& dir, const std::string& stem) {
  std::string pattern = dir + "/." + stem + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0) throw file_error("create a temporary file in", dir, errno);
  ::close(fd);
  return std::string(buf.data());
}

// Removes a database file and whatever SQLite may have made beside it.
inline void remove_database_files(const std::string& path) noexcept {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
}

// Removes the files of a temporary database at scope exit, unless released.
class temp_database_guard {
 public:
  explicit temp_database_guard(std::string path) : path_(std::move(path)) {}
  temp_database_guard(const temp_database_guard&) = delete;
  temp_database_guard& operator=(const temp_database_guard&) = delete;
  ~temp_database_guard() {
    if (!path_.empty()) remove_database_files(path_);
  }
  void release() noexcept { path_.clear(); }

 private:
  std::string path_;
};

// Renames `from` to `to` unless `to` exists; false (and `from` left as it was) when it does.
// link(2) then unlink(2) makes the no-replace check and the rename one atomic step.
inline bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) {
    ::unlink(from.c_str());
    return true;
  }
  int err = errno;
  if (err == EEXIST) return false;
  if (err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == EMLINK) {
    // A file system without hard links: check, then rename (not atomic against a racing writer).
    if (path_exists(to)) return false;
    if (::rename(from.c_str(), to.c_str()) == 0) return true;
    err = errno;
  }
  throw file_error("rename '" + from + "' to", to, err);
}

inline std::string pragma_text(connection& db, const char* sql) {
  auto stmt = db.prepare(sql);
  std::string value;
  if (stmt.step()) value = stmt.column<std::optional<std::string>>(0).value_or("");
  stmt.reset();
  return value;
}

inline int pragma_int(connection& db, const char* sql) {
  auto stmt = db.prepare(sql);
  int value = 0;
  if (stmt.step()) value = stmt.column<int>(0);
  stmt.reset();
  return value;
}

struct backup_deleter {
  void operator()(sqlite3_backup* b) const noexcept { sqlite3_backup_finish(b); }
};

// Copies `source` into the (empty, private) database `dest` with the backup API; fills the
// counters of `result`.
inline void copy_pages(connection& source, connection& dest, const backup_progress& progress,
                       const backup_options& options, backup_result& result) {
  using clock = std::chrono::steady_clock;
  std::unique_ptr<sqlite3_backup, backup_deleter> handle(
      sqlite3_backup_init(dest.native(), "main", source.native(), "main"));
  if (!handle) throw_sqlite(dest.native(), sqlite3_errcode(dest.native()));
  int pages = options.pages_per_step == 0 ? 1 : options.pages_per_step;
  int previous_remaining = -1;
  auto last_success = clock::now();
  for (;;) {
    int rc = sqlite3_backup_step(handle.get(), pages);
    int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      ++result.busy_retries;
      if (clock::now() - last_success >= options.busy_timeout)
        throw busy_error(rc, detail::message("the source stayed locked for {} ms; backup gave up", options.busy_timeout.count()),
                         {});
      sqlite3_sleep(static_cast<int>(options.retry_sleep.count()));  // not <thread>: it is heavy to include
      continue;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
      auto* raw = handle.release();
      sqlite3_backup_finish(raw);
      throw_sqlite(dest.native(), rc);
    }
    ++result.steps;
    last_success = clock::now();
    const int remaining = sqlite3_backup_remaining(handle.get());
    const int total = sqlite3_backup_pagecount(handle.get());
    // Without a restart each step leaves fewer pages to copy than the one before.
    if (rc == SQLITE_OK && previous_remaining >= 0 && remaining >= previous_remaining) ++result.restarts;
    previous_remaining = remaining;
    result.pages = total;
    if (progress) progress(remaining, total);
    if (rc == SQLITE_DONE) break;
    if (pages > 0 && result.restarts >= options.max_restarts) pages = -1;
    if (options.pause_between_steps.count() > 0) sqlite3_sleep(static_cast<int>(options.pause_between_steps.count()));
  }
  int rc = sqlite3_backup_finish(handle.release());
  if (rc != SQLITE_OK) throw_sqlite(dest.native(), rc);
}

}  // namespace detail

// Copies the database of `source` to a new file at `destination`; see the top of this file.
// Throws cpm::destination_exists when a file is there (before or at the end of the copy),
// cpm::integrity_check_failed when the copy fails PRAGMA integrity_check, cpm::busy_error
// when the source stays locked, cpm::file_error for file system failures, and
// cpm::usage_error when `source` is inside a write transaction.
inline backup_result backup(connection& source, const std::string& destination, const backup_progress& progress = {},
                            const backup_options& options = {}) {
  if (sqlite3_txn_state(source.native(), "main") == SQLITE_TXN_WRITE)
    throw usage_error("cpm: backup cannot copy a database its own connection is writing; commit first");
  if (destination.empty()) throw usage_error("cpm: backup needs a destination path");
  if (detail::path_exists(destination)) throw destination_exists(destination);

  const std::string dir = detail::directory_of(destination);
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) throw file_error("write a backup into", dir, errno);
  if (!S_ISDIR(st.st_mode)) throw file_error("write a backup into", dir, ENOTDIR);

  backup_result result;
  result.path = destination;
  const std::string temp = detail::make_temp_file(dir, detail::file_name_of(destination) + ".tmp");
  detail::temp_database_guard cleanup(temp);

  open_options private_file;
  private_file.create = false;
  private_file.journal = journal_mode::keep;
  private_file.synchronous = synchronous_mode::full;
  {
    auto dest = connection::open(temp, private_file);
    std::optional<read_snapshot> snapshot;
    const auto state = sqlite3_txn_state(source.native(), "main");
    if (state == SQLITE_TXN_READ) {
      result.snapshot = true;  // the caller's own read transaction
    } else if (options.snapshot && detail::pragma_text(source, "PRAGMA journal_mode") == "wal") {
      snapshot.emplace(source);
      (void)detail::pragma_int(source, "SELECT count(*) FROM sqlite_schema");  // starts the read transaction
      result.snapshot = true;
    }
    detail::copy_pages(source, dest, progress, options, result);
  }

  // A fresh connection reads the header the copy wrote (a WAL source's says "WAL") and makes
  // the file a self-contained rollback-journal database.
  {
    open_options check_file = private_file;
    check_file.journal = journal_mode::rollback;
    auto copy = connection::open(temp, check_file);
    if (auto problems = integrity_check(copy); !problems.empty())
      throw integrity_check_failed(destination, std::move(problems));
    result.page_size = detail::pragma_int(copy, "PRAGMA page_size");
    result.pages = detail::pragma_int(copy, "PRAGMA page_count");
  }
  detail::fsync_path(temp);
  if (!detail::rename_no_replace(temp, destination)) throw destination_exists(destination);
  cleanup.release();
  detail::fsync_path(dir, true);
  if (::stat(destination.c_str(), &st) == 0) result.bytes = static_cast<std::uintmax_t>(st.st_size);
  return result;
}

}  // namespace cpm
