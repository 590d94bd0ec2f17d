// cpm-db: what the command files share: finding and opening the database (an SQLite file, or
// with CPM_DB_POSTGRES a PostgreSQL database), JSON for the models, aligned text tables, times
// as text, the progress report.
#pragma once

#include "commands.hpp"

#include <cpm/cpm.hpp>
#ifdef CPM_DB_POSTGRES
#include <cpm/postgres.hpp>
#endif
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
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

// --db names a PostgreSQL database when it is a URI (postgresql://... or postgres://...) or a
// libpq key=value connection string: one that starts with one of libpq's connection keywords
// and '=' ("host=/run/postgresql dbname=cpm", "dbname=cpm"). Anything else is an SQLite file's
// path (write "./host=x" for a file that would read as a connection string).
inline bool is_postgres(std::string_view db) {
  if (db.starts_with("postgresql://") || db.starts_with("postgres://")) return true;
  const auto eq = db.find('=');
  if (eq == std::string_view::npos) return false;
  std::string_view key = db.substr(0, eq);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  static constexpr std::string_view keywords[] = {
      "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service", "options",
      "application_name", "connect_timeout", "sslmode", "sslrootcert", "sslcert", "sslkey", "target_session_attrs",
      "channel_binding", "gssencmode", "client_encoding", "fallback_application_name", "keepalives"};
  for (auto k : keywords)
    if (key == k) return true;
  return false;
}

// A connection string as it may be printed: its password replaced by "***".
inline std::string shown_database(const std::string& db) {
  if (!is_postgres(db)) return db;
  static const std::regex uri_password(R"(^(postgres(?:ql)?://[^:@/?]*):[^@/?]*@)");
  static const std::regex query_password(R"(([?&]password=)[^&]*)");
  static const std::regex keyword_password(R"((^|\s)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*))");
  std::string out = std::regex_replace(db, uri_password, "$1:***@");
  out = std::regex_replace(out, query_password, "$1***");
  return std::regex_replace(out, keyword_password, "$1$2***");
}

// `text` quoted for a POSIX shell, when it needs it.
inline std::string shell_quoted(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_") ==
                           std::string::npos)
    return text;
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
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

// The file starts with SQLite's header ("SQLite format 3" and a NUL).
inline bool is_sqlite_file(const std::string& path) {
  char header[16] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return true;  // unreadable: let SQLite say why
  const std::size_t n = std::fread(header, 1, sizeof header, f);
  std::fclose(f);
  return n == sizeof header && std::string_view(header, sizeof header) == std::string_view("SQLite format 3\0", 16);
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

// A build without libpq: --db names a PostgreSQL database, which this cpm-db cannot reach.
[[noreturn]] inline void no_postgres(const std::string& db) {
  throw failure("unsupported",
                fmt::format("'{}' is a PostgreSQL connection string, but this cpm-db was built without PostgreSQL "
                            "support (libpq); build it where pkg-config finds libpq (Debian: libpq-dev)",
                            shown_database(db)),
                exit_usage);
}

#ifdef CPM_DB_POSTGRES
// Opens the store on an existing PostgreSQL database at the current schema version.
inline cpm::pg::store open_pg_store(const std::string& conninfo) {
  cpm::store_options options;
  options.migrate = false;
  auto s = cpm::pg::store::open(conninfo, options);
  const int version = s.schema_version();
  const int target = cpm::pg::store::target_version();
  if (version == 0)
    throw failure("no_database", fmt::format("no cpm database at '{}' (create one with 'cpm-db init')", shown_database(conninfo)));
  if (version > target) throw cpm::schema_too_new(std::string(cpm::pg::store_component), version, target);
  if (version < target)
    throw failure("schema", fmt::format("'{}' is at schema version {}, this cpm-db needs {}: run 'cpm-db migrate'",
                                        shown_database(conninfo), version, target));
  return s;
}
#endif

// Runs `f` on the store --db names: cpm::store on an SQLite file, cpm::pg::store on a
// PostgreSQL database (is_postgres), each at the current schema version. `f` is generic
// (auto&): the command's body is written once for both.
template <class F>
int with_store(const common& c, F&& f) {
  const std::string db = database_path(c);
  if (is_postgres(db)) {
#ifdef CPM_DB_POSTGRES
    auto s = open_pg_store(db);
    return f(s);
#else
    no_postgres(db);
#endif
  }
  auto s = open_store(c);
  return f(s);
}

// The progress of a long copy (backup's pages, copy's rows) on stderr: a bar redrawn in place
// on a terminal, otherwise a line at every tenth of the way (and when the copy starts over).
class progress_report {
 public:
  progress_report(bool quiet, std::string what = "backup", std::string unit = "pages")
      : quiet_(quiet), terminal_(::isatty(STDERR_FILENO) == 1), what_(std::move(what)), unit_(std::move(unit)) {}

  void operator()(std::int64_t remaining, std::int64_t total) {
    if (quiet_ || total <= 0) return;
    const std::int64_t done = total - remaining;
    const int percent = static_cast<int>(100 * done / total);
    if (remaining > last_remaining_ && last_remaining_ >= 0 && !terminal_)
      fmt::print(stderr, "{}: the database changed; the copy started over\n", what_);
    last_remaining_ = remaining;
    if (terminal_) {
      constexpr int width = 30;
      const int filled = percent * width / 100;
      fmt::print(stderr, "\r{} [{}{}] {:3}%  {}/{} {}", what_, std::string(static_cast<std::size_t>(filled), '#'),
                 std::string(static_cast<std::size_t>(width - filled), '.'), percent, done, total, unit_);
      drawn_ = true;
    } else if (percent / 10 > last_tenth_ || remaining == 0) {
      last_tenth_ = percent / 10;
      fmt::print(stderr, "{}: {}% ({}/{} {})\n", what_, percent, done, total, unit_);
    }
    std::fflush(stderr);
  }

  // Ends the bar's line, so that what follows starts on a line of its own.
  void finish() {
    if (drawn_) fmt::print(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool quiet_;
  bool terminal_;
  std::string what_;
  std::string unit_;
  bool drawn_ = false;
  int last_tenth_ = -1;
  std::int64_t last_remaining_ = -1;
};

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
