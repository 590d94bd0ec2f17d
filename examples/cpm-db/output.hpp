// cpm-db: what the command files share: finding and opening the database, JSON for the
// models, aligned text tables, times as text.
#pragma once

#include "commands.hpp"

#include <cpm/cpm.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpmdb {

using json = nlohmann::ordered_json;  // keys stay in the order they are written

// --db, else $CPMDB_PATH (when set and not empty), else ~/.cpm/cpm.db. An empty --db is an
// error, not the default.
inline std::string database_path(const common& c) {
  if (c.db) {
    if (c.db->empty()) throw failure("--db is empty: give the path of the database file", exit_usage);
    return *c.db;
  }
  if (const char* env = std::getenv("CPMDB_PATH"); env && *env) return env;
  return cpm::default_database_path();
}

// What is at `path` when it is not a regular file: "a directory", "a named pipe", ...
inline std::string kind_of_file(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISFIFO(st.st_mode)) return "a named pipe";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  return "not a regular file";
}

// A database file must already be there (only init makes one).
inline void require_database(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    throw failure("no_database", fmt::format("no database at '{}' (create one with 'cpm-db init')", path));
  if (!S_ISREG(st.st_mode))
    throw failure("not_a_database", fmt::format("'{}' is {}, not a database file", path, kind_of_file(st)));
}

// `path` as an SQLite URI "file:/abs/path" (percent-encoded), to open it with parameters.
inline std::string file_uri(const std::string& path) {
  std::string absolute = path;
  if (char* real = ::realpath(path.c_str(), nullptr)) {
    absolute = real;
    std::free(real);
  }
  std::string out = "file:";
  for (unsigned char ch : absolute) {
    if (std::isalnum(ch) || std::string_view("/._~-").find(static_cast<char>(ch)) != std::string_view::npos) out += static_cast<char>(ch);
    else out += fmt::format("%{:02X}", ch);
  }
  return out;
}

// A database opened to be read as it is (status, check, backup), and how it was opened.
struct reading {
  cpm::connection db;
  std::string opened;  // "read-write", "read-only" or "immutable"
};

// Opens the database as it is: no migration, no change of journal mode. A database this user
// cannot write (a read-only file, directory or file system) is opened read-only; when SQLite
// cannot even do that (a WAL database needs its -shm file, which a read-only directory cannot
// hold), it is read as immutable (SQLite's immutable=1: no locks, no -shm), unless a
// write-ahead log holds changes that reading it so would miss, which is then said.
inline reading open_for_reading(const std::string& path) {
  require_database(path);
  cpm::open_options options;
  options.create = false;
  options.journal = cpm::journal_mode::keep;
  auto refused = [](const cpm::sqlite_error& e) { return e.code() == SQLITE_READONLY || e.code() == SQLITE_CANTOPEN; };
  std::string why;
  if (::access(path.c_str(), W_OK) == 0) {
    try {
      return {cpm::connection::open(path, options), "read-write"};
    } catch (const cpm::sqlite_error& e) {
      if (!refused(e)) throw;
      why = e.what();
    }
  }
  options.read_only = true;
  try {
    return {cpm::connection::open(path, options), "read-only"};
  } catch (const cpm::sqlite_error& e) {
    if (!refused(e)) throw;
    why = e.what();
  }
  struct stat wal{};
  if (::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0)
    throw failure("read_only", fmt::format("cannot read '{}': this user cannot write beside it, and its write-ahead log "
                                           "'{}-wal' holds changes that SQLite reads only through a '-shm' file it cannot "
                                           "make there; run as the database's owner ({})",
                                           path, path, why));
  try {
    return {cpm::connection::open(file_uri(path) + "?immutable=1", options), "immutable"};
  } catch (const cpm::sqlite_error& e) {
    throw failure("read_only", fmt::format("cannot read '{}' read-only: {}", path, why.empty() ? e.what() : why));
  }
}

// Opens the store on an existing database at the current schema version.
inline cpm::store open_store(const common& c) {
  const std::string path = database_path(c);
  require_database(path);
  cpm::store_options options;
  options.migrate = false;
  auto s = cpm::store::open(path, options);
  if (s.schema_version() < cpm::store::target_version())
    throw failure("schema", fmt::format("'{}' is at schema version {}, this cpm-db needs {}: run 'cpm-db migrate'", path,
                              s.schema_version(), cpm::store::target_version()));
  return s;
}

// "YYYY-MM-DD HH:MM:SS" (UTC), as the database stores it.
inline std::string time_text(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}
inline std::string time_text(const std::optional<cpm::timestamp>& t) { return t ? time_text(*t) : std::string(); }

template <class T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}
inline json or_null(const std::optional<cpm::timestamp>& t) { return t ? json(time_text(*t)) : json(nullptr); }

inline void print_json(const json& document) { fmt::print("{}\n", document.dump(2)); }

// Columns padded to their widest cell; the last column is not padded.
inline void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    fmt::print("{}\n", out);
  };
  line(header);
  for (const auto& row : rows) line(row);
}

// The key's type and the start of its blob, enough to tell keys apart in a table.
inline std::string short_key(std::string_view key) {
  return key.size() <= 32 ? std::string(key) : std::string(key.substr(0, 32)) + "...";
}

inline json to_json(const cpm::user& u) {
  return {{"id", u.id}, {"username", u.username}, {"email", u.email}, {"public_key", or_null(u.public_key)},
          {"created_at", or_null(u.created_at)}};
}

inline json to_json(const cpm::organization& o) {
  return {{"id", o.id}, {"name", o.name}, {"description", or_null(o.description)}, {"created_at", or_null(o.created_at)}};
}

inline json to_json(const cpm::ssh_key& k) {
  return {{"id", k.id},
          {"name", k.name},
          {"public_key", k.public_key},
          {"private_key_path", k.private_key_path},
          {"created_at", or_null(k.created_at)}};
}

}  // namespace cpmdb
