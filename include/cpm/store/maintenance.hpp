// cpm: backup, restore and check of the cpm database.
//
//   auto r = cpm::backup_to_directory(store, "/var/backups/cpm");   // .../cpm-20240115-103000.db
//   cpm::check_result c = cpm::check(store.db());                   // c.ok(), c.findings()
//   cpm::restore("/home/git/.cpm/cpm.db", "/var/backups/cpm/cpm-20240115-103000.db");
//
// backup_to_directory is cpm::backup (cpm/sqlite/backup.hpp: online, consistent, verified,
// never replacing a file) under the name cpm-YYYYMMDD-HHMMSS.db, in UTC.
//
// check runs PRAGMA integrity_check and PRAGMA foreign_key_check and reports everything they
// found; it changes nothing.
//
// restore replaces the database at `target` with a backup file, after the file passed
// integrity_check and foreign_key_check, proved to be a cpm database, and proved not newer
// than this code (cpm::schema_too_new). The copy is made in the target's directory with mode
// 0600, synced, and renamed over the target in one atomic step; the database it replaces is
// kept beside it as <target>.replaced-YYYYMMDD-HHMMSS.
//
// Precondition: no other process has the target open. restore checks what it can: it takes
// the current database out of WAL mode and holds an exclusive lock on it while the files are
// swapped, which fails (cpm::database_in_use) while another connection has it open in WAL
// mode, as cpm's connections do, or is writing it. A process that opened a rollback-journal
// database and is idle holds no lock and cannot be seen; it would go on using the replaced file.
// Leaving WAL mode checkpoints the write-ahead log into the database file and deletes it, so the
// side copy is complete and no stale -wal can be applied to the restored file. When the current
// database cannot be opened at all (it is not a database any more), it is set aside as it is,
// its -wal and -journal renamed along with it.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/schema/migration.hpp>
#include <cpm/sqlite/backup.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/store/schema.hpp>
#include <cpm/store/store.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cpm {

// The database is open in another connection or process, so restore would pull it away from
// under it; nothing was changed.
class database_in_use : public error {
 public:
  explicit database_in_use(std::string path)
      : error(detail::message("cpm: '{}' is open in another process; stop it before restoring", path)),
        path_(std::move(path)) {}
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// restore refused a backup file; nothing was changed. what() names the file and the reason.
class restore_refused : public error {
 public:
  enum class reason {
    not_a_file,       // missing, or not a regular file
    unfinished,       // a -wal or -journal beside it: in use, or not closed cleanly
    not_a_database,   // SQLite cannot open it
    damaged,          // PRAGMA integrity_check found problems (problems())
    foreign_keys,     // PRAGMA foreign_key_check found rows pointing nowhere (problems())
    not_cpm,          // a database, but not one with cpm's tables
    same_file,        // the backup file is the target itself
  };

  restore_refused(std::string path, reason why, std::string detail, std::vector<std::string> problems = {})
      : error(detail::message("cpm: refusing to restore '{}': {}", path, detail)),
        path_(std::move(path)),
        reason_(why),
        problems_(std::move(problems)) {}
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] reason why() const noexcept { return reason_; }
  [[nodiscard]] const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::string path_;
  reason reason_;
  std::vector<std::string> problems_;
};

// What check found.
struct check_result {
  int schema_version = 0;                    // the store's (cpm::store_schema_version)
  int code_version = 0;                      // the version this code migrates to
  std::vector<std::string> integrity_problems{};  // PRAGMA integrity_check, without its "ok"
  std::vector<foreign_key_check_error::violation> foreign_key_violations{};  // PRAGMA foreign_key_check

  [[nodiscard]] bool ok() const noexcept { return integrity_problems.empty() && foreign_key_violations.empty(); }
  [[nodiscard]] std::size_t problem_count() const noexcept {
    return integrity_problems.size() + foreign_key_violations.size();
  }
  // One line per problem: "integrity_check: ..." and "foreign_key_check: ...".
  [[nodiscard]] std::vector<std::string> findings() const {
    std::vector<std::string> lines;
    for (const auto& p : integrity_problems) lines.push_back("integrity_check: " + p);
    for (const auto& v : foreign_key_violations)
      lines.push_back(detail::message("foreign_key_check: {} row {} refers to a row of {} that does not exist", v.table,
                                      v.rowid, v.parent));
    return lines;
  }
};

struct restore_options {
  std::optional<std::chrono::sys_seconds> now{};  // the time in the side copy's name (default: now)
  std::chrono::milliseconds busy_timeout{2000};  // how long to wait for the current database's lock
};

struct restore_result {
  std::string target{};                // the database restored
  std::string source{};                // the backup file it came from
  std::optional<std::string> replaced{};  // the side copy of the database it replaced, if there was one
  int schema_version = 0;              // the restored database's version
  bool replaced_was_locked = false;    // the replaced database was locked (so not in use) while swapped
};

namespace detail {

// "YYYYMMDD-HHMMSS" in UTC.
inline std::string utc_stamp(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return detail::message("{:04}{:02}{:02}-{:02}{:02}{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                         static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                         hms.seconds().count());
}

inline std::chrono::sys_seconds now_seconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// Copies the bytes of `from` into the open file `to_fd` and syncs it.
inline void copy_file_contents(const std::string& from, int to_fd, const std::string& to) {
  unique_fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) throw file_error("read", from, errno);
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw file_error("read", from, errno);
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(to_fd, buf.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        throw file_error("write", to, errno);
      }
      done += w;
    }
  }
  fsync_fd(to_fd, to);
}

inline bool nonempty_file(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

// Opens the verified copy and refuses it unless it is a sound cpm database this code can use.
inline int verify_restorable(const std::string& copy, const std::string& shown) {
  open_options opts;
  opts.create = false;
  opts.journal = journal_mode::rollback;  // one self-contained file; cpm switches it to WAL on open
  opts.synchronous = synchronous_mode::full;
  std::optional<connection> db;
  try {
    db.emplace(connection::open(copy, opts));
  } catch (const sqlite_error& e) {
    if (e.code() == SQLITE_CORRUPT)
      throw restore_refused(shown, restore_refused::reason::damaged,
                            detail::message("it is damaged ({})", sqlite3_errstr(e.code())), {e.sqlite_message()});
    if (e.code() != SQLITE_NOTADB && e.code() != SQLITE_CANTOPEN) throw;
    throw restore_refused(shown, restore_refused::reason::not_a_database,
                          detail::message("it is not an SQLite database ({})", sqlite3_errstr(e.code())));
  }
  if (auto problems = integrity_check(*db); !problems.empty()) {
    std::string message =
        detail::message("PRAGMA integrity_check found {} problem(s), first: {}", problems.size(), problems.front());
    throw restore_refused(shown, restore_refused::reason::damaged, std::move(message), std::move(problems));
  }
  if (auto found = foreign_key_violations(*db); !found.empty()) {
    std::vector<std::string> problems;
    for (const auto& v : found) problems.push_back(detail::message("{} row {} -> {}", v.table, v.rowid, v.parent));
    std::string message = detail::message("PRAGMA foreign_key_check found {} row(s) pointing nowhere, first: {}",
                                          problems.size(), problems.front());
    throw restore_refused(shown, restore_refused::reason::foreign_keys, std::move(message), std::move(problems));
  }
  const int version = store_schema_version(*db);
  const int code = target_version(store_migrations());
  if (version > code) throw schema_too_new(std::string(store_component), version, code);
  for (const auto& table : original_tables)
    if (!table_exists(*db, table.name))
      throw restore_refused(shown, restore_refused::reason::not_cpm,
                            detail::message("it is not a cpm database (it has no table '{}')", table.name));
  try {
    check_adoptable(*db);
  } catch (const adoption_error& e) {
    throw restore_refused(shown, restore_refused::reason::not_cpm,
                          detail::message("it is not a cpm database (table '{}' has no column '{}')", e.table(), e.column()));
  }
  return version;
}

// Locks the current database for the swap: out of WAL mode (checkpointing and deleting its
// log) and an exclusive lock held until the connection closes. nullopt when it is no database
// SQLite can open; cpm::database_in_use when another connection holds it.
inline std::optional<connection> lock_for_replacement(const std::string& target, std::chrono::milliseconds timeout) {
  open_options opts;
  opts.create = false;
  opts.journal = journal_mode::keep;
  opts.synchronous = synchronous_mode::full;
  opts.busy_timeout = timeout;
  try {
    auto db = connection::open(target, opts);
    db.set_journal_mode(journal_mode::rollback);
    db.exec("BEGIN EXCLUSIVE");  // writes nothing, so no journal is made; released by close
    return db;
  } catch (const busy_error&) {
    throw database_in_use(target);
  } catch (const open_error& e) {
    if (e.code() == SQLITE_BUSY || e.code() == SQLITE_LOCKED) throw database_in_use(target);
    if (e.code() == SQLITE_NOTADB || e.code() == SQLITE_CORRUPT) return std::nullopt;
    throw;
  } catch (const corrupt_error&) {
    return std::nullopt;
  }
}

// "<target>.replaced-<stamp>", or with "-2", "-3", ... when that name is taken.
inline std::string side_copy_name(const std::string& target, std::chrono::sys_seconds when, int attempt) {
  std::string name = target + ".replaced-" + utc_stamp(when);
  if (attempt > 1) name += detail::message("-{}", attempt);
  return name;
}

// Keeps the current database under a new name: a hard link to it (or a copy where the file
// system has none). Returns the name.
inline std::string keep_side_copy(const std::string& target, std::chrono::sys_seconds when) {
  for (int attempt = 1; attempt <= 100; ++attempt) {
    std::string side = side_copy_name(target, when, attempt);
    if (::link(target.c_str(), side.c_str()) == 0) return side;
    int err = errno;
    if (err == EEXIST) continue;
    if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP && err != EMLINK) throw file_error("link '" + target + "' to", side, err);
    unique_fd out(::open(side.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out) {
      if (errno == EEXIST) continue;
      throw file_error("create", side, errno);
    }
    copy_file_contents(target, out.get(), side);
    return side;
  }
  throw file_error("find a free side-copy name for", target, EEXIST);
}

}  // namespace detail

// "cpm-YYYYMMDD-HHMMSS.db" for the UTC time `when`.
inline std::string backup_file_name(std::chrono::sys_seconds when) { return "cpm-" + detail::utc_stamp(when) + ".db"; }

// Backs the database up into `directory` (made, mode 0700, when missing) as
// backup_file_name(now); cpm::destination_exists when that name is taken.
inline backup_result backup_to_directory(connection& db, const std::string& directory, const backup_progress& progress = {},
                                         const backup_options& options = {},
                                         std::optional<std::chrono::sys_seconds> now = {}) {
  if (directory.empty()) throw usage_error("cpm: backup_to_directory needs a directory");
  detail::make_directories(directory);
  std::string dir = directory;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return backup(db, dir + "/" + backup_file_name(now.value_or(detail::now_seconds())), progress, options);
}

// (Templates on the store's connection only so that the store class is instantiated where
// they are called, not in every translation unit that includes cpm.)
template <class Connection>
backup_result backup_to_directory(basic_store<Connection>& s, const std::string& directory,
                                  const backup_progress& progress = {}, const backup_options& options = {},
                                  std::optional<std::chrono::sys_seconds> now = {}) {
  return backup_to_directory(s.db(), directory, progress, options, now);
}

// integrity_check plus foreign_key_check; changes nothing.
inline check_result check(connection& db) {
  check_result result;
  result.schema_version = store_schema_version(db);
  result.code_version = target_version(store_migrations());
  result.integrity_problems = integrity_check(db);
  try {
    result.foreign_key_violations = foreign_key_violations(db);
  } catch (const corrupt_error& e) {
    result.integrity_problems.push_back("foreign_key_check could not run: " + e.sqlite_message());
  }
  return result;
}

template <class Connection>
check_result check(basic_store<Connection>& s) {
  return check(s.db());
}

// Replaces the database at `target` with `backup_file`; see the top of this file. Throws
// cpm::restore_refused (the file is not sound, not cpm's, or the target itself),
// cpm::schema_too_new, cpm::database_in_use, or cpm::file_error; in each case the target is
// as it was.
inline restore_result restore(const std::string& target, const std::string& backup_file, const restore_options& options = {}) {
  using reason = restore_refused::reason;
  const auto when = options.now.value_or(detail::now_seconds());
  restore_result result;
  result.target = target;
  result.source = backup_file;

  struct stat source_stat{};
  if (::stat(backup_file.c_str(), &source_stat) != 0)
    throw restore_refused(backup_file, reason::not_a_file, detail::message("cannot read it ({})", std::strerror(errno)));
  if (!S_ISREG(source_stat.st_mode)) throw restore_refused(backup_file, reason::not_a_file, "it is not a regular file");
  for (const char* suffix : {"-wal", "-journal"})
    if (detail::nonempty_file(backup_file + suffix))
      throw restore_refused(backup_file, reason::unfinished,
                            detail::message("it has a {} file beside it (open elsewhere, or not closed cleanly); "
                                            "open and close it once with sqlite3 first",
                                            suffix + 1));
  struct stat target_stat{};
  const bool target_exists = ::stat(target.c_str(), &target_stat) == 0;
  if (target_exists && target_stat.st_dev == source_stat.st_dev && target_stat.st_ino == source_stat.st_ino)
    throw restore_refused(backup_file, reason::same_file, "it is the database to be replaced");
  if (target_exists && !S_ISREG(target_stat.st_mode)) throw file_error("replace", target, EISDIR);

  // The copy, in the target's directory so that the rename is atomic.
  const std::string dir = detail::directory_of(target);
  detail::make_directories(dir);
  const std::string temp = detail::make_temp_file(dir, detail::file_name_of(target) + ".restore");
  detail::temp_database_guard cleanup(temp);
  {
    detail::unique_fd out(::open(temp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!out) throw file_error("open", temp, errno);
    if (::fchmod(out.get(), 0600) != 0) throw file_error("set the mode of", temp, errno);
    detail::copy_file_contents(backup_file, out.get(), temp);
  }
  result.schema_version = detail::verify_restorable(temp, backup_file);
  detail::fsync_path(temp);

  std::optional<connection> hold;
  if (target_exists) {
    hold = detail::lock_for_replacement(target, options.busy_timeout);
    result.replaced_was_locked = hold.has_value();
    result.replaced = detail::keep_side_copy(target, when);
    if (!hold) {
      // Unopenable: its log and journal belong to the side copy, never to the restored file.
      for (const char* suffix : {"-wal", "-journal"}) {
        const std::string from = target + suffix;
        if (detail::path_exists(from) && ::rename(from.c_str(), (*result.replaced + suffix).c_str()) != 0)
          throw file_error("move '" + from + "' to", *result.replaced + suffix, errno);
      }
    }
  }
  // The old file's shared-memory index, if any is left, is stale; removed while the old file
  // is still the target (and locked), never after the restored file may have made its own.
  ::unlink((target + "-shm").c_str());
  if (::rename(temp.c_str(), target.c_str()) != 0) throw file_error("rename '" + temp + "' to", target, errno);
  cleanup.release();
  detail::fsync_path(dir, true);
  hold.reset();  // ends the exclusive lock on the replaced file (now the side copy)
  return result;
}

}  // namespace cpm
