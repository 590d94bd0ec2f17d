// cpm-db: the database itself: init, migrate, status, backup, restore, check. The work is
// done by the library (cpm::store, cpm::backup_to_directory, cpm::restore, cpm::check); this
// file only reports it.
#include "commands.hpp"
#include "output.hpp"

#include <cpm/cpm.hpp>
#include <fmt/core.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace cpmdb {

namespace {

std::string step_name(int version) {
  for (const auto& step : cpm::store_migrations())
    if (step.version == version) return std::string(step.name);
  return {};
}

json migration_json(const std::string& path, const cpm::migration_report& r) {
  json applied = json::array();
  for (int v : r.applied) applied.push_back({{"version", v}, {"name", step_name(v)}});
  return {{"path", path}, {"from", r.from}, {"to", r.to}, {"target", cpm::store::target_version()}, {"applied", applied}};
}

void print_applied(const cpm::migration_report& r) {
  for (int v : r.applied) fmt::print("applied {}: {}\n", v, step_name(v));
}

// The file starts with SQLite's header ("SQLite format 3" and a NUL).
bool is_sqlite_file(const std::string& path) {
  char header[16] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return true;  // unreadable: let SQLite say why
  const std::size_t n = std::fread(header, 1, sizeof header, f);
  std::fclose(f);
  return n == sizeof header && std::string_view(header, sizeof header) == std::string_view("SQLite format 3\0", 16);
}

// The file's header says it is in WAL mode (its read and write versions are 2).
bool wal_header(const std::string& path) {
  unsigned char header[20] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  const std::size_t n = std::fread(header, 1, sizeof header, f);
  std::fclose(f);
  return n == sizeof header && header[18] == 2 && header[19] == 2;
}

std::string quoted_identifier(const std::string& name) {
  std::string out = "\"";
  for (char ch : name) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// The backup's progress: a bar redrawn in place on a terminal, otherwise a line at every
// tenth of the way (and when the copy starts over).
class progress_report {
 public:
  progress_report(bool quiet) : quiet_(quiet), terminal_(::isatty(STDERR_FILENO) == 1) {}

  void operator()(int remaining, int total) {
    if (quiet_ || total <= 0) return;
    const int done = total - remaining;
    const int percent = static_cast<int>(100LL * done / total);
    if (remaining > last_remaining_ && last_remaining_ >= 0 && !terminal_)
      fmt::print(stderr, "backup: the database changed; the copy started over\n");
    last_remaining_ = remaining;
    if (terminal_) {
      constexpr int width = 30;
      const int filled = percent * width / 100;
      fmt::print(stderr, "\rbackup [{}{}] {:3}%  {}/{} pages", std::string(filled, '#'), std::string(width - filled, '.'),
                 percent, done, total);
      drawn_ = true;
    } else if (percent / 10 > last_tenth_ || remaining == 0) {
      last_tenth_ = percent / 10;
      fmt::print(stderr, "backup: {}% ({}/{} pages)\n", percent, done, total);
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
  bool drawn_ = false;
  int last_tenth_ = -1;
  int last_remaining_ = -1;
};

}  // namespace

int init(const common& c) {
  const std::string path = database_path(c);
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      throw failure("not_a_database", fmt::format("'{}' is {}, not a database file: give the path of the file to create", path,
                                                  kind_of_file(st)));
    if (st.st_size > 0 && !is_sqlite_file(path))
      throw failure("not_a_database", fmt::format("'{}' is a file of {} bytes that is not an SQLite database; cpm-db init "
                                                  "never overwrites a file",
                                                  path, st.st_size));
    if (st.st_size > 0)
      throw failure("already_exists",
                    fmt::format("a database already exists at '{}' (use 'cpm-db migrate' to update it)", path));
  }
  cpm::store_options options;
  options.migrate = false;
  auto s = cpm::store::open(path, options);
  auto report = s.migrate();
  if (c.json) {
    auto doc = migration_json(path, report);
    doc["created"] = true;
    print_json(doc);
  } else {
    fmt::print("created {} at schema version {}\n", path, report.to);
    print_applied(report);
  }
  return 0;
}

int migrate(const common& c) {
  const std::string path = database_path(c);
  require_database(path);
  cpm::store_options options;
  options.migrate = false;
  auto s = cpm::store::open(path, options);  // refuses a database newer than this code
  const int current = s.schema_version();
  if (!c.json) fmt::print("{}: schema version {}, target version {}\n", path, current, cpm::store::target_version());
  auto report = s.migrate();
  if (c.json) print_json(migration_json(path, report));
  else if (report.applied.empty()) fmt::print("nothing to do: the schema is current\n");
  else print_applied(report);
  return 0;
}

int status(const common& c) {
  const std::string path = database_path(c);
  auto source = open_for_reading(path);
  cpm::connection& db = source.db;  // (a name, not a structured binding: lambdas below capture it)
  const std::string& opened = source.opened;
  const int version = cpm::store_schema_version(db);
  const int target = cpm::store::target_version();
  const char* state = version == target ? "current" : version < target ? "behind" : "newer";
  auto pragma = [&](const char* sql) { return cpm::query<std::string>(db, sql).one(); };
  // Read as immutable, SQLite reports no WAL; the file's header still says (byte 18: 2 is WAL).
  const std::string journal = opened == "immutable" && wal_header(path) ? "wal" : pragma("PRAGMA journal_mode");
  const auto page_size = cpm::query<std::int64_t>(db, "PRAGMA page_size").one();
  const auto pages = cpm::query<std::int64_t>(db, "PRAGMA page_count").one();

  json tables = json::object();
  std::vector<std::vector<std::string>> rows;
  auto names = cpm::query<std::string>(db,
                                       "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                                       "ESCAPE '\\' ORDER BY name")
                   .to_vector();
  for (const auto& name : names) {
    auto count = cpm::query<std::int64_t>(db, "SELECT count(*) FROM " + quoted_identifier(name)).one();
    tables[name] = count;
    rows.push_back({name, std::to_string(count)});
  }
  if (c.json) {
    print_json({{"path", path},
                {"bytes", page_size * pages},
                {"page_size", page_size},
                {"pages", pages},
                {"journal_mode", journal},
                {"opened", opened},
                {"schema_version", version},
                {"code_version", target},
                {"schema", state},
                {"tables", tables}});
    return 0;
  }
  fmt::print("database:       {}\n", path);
  fmt::print("size:           {} bytes ({} pages of {})\n", page_size * pages, pages, page_size);
  fmt::print("journal mode:   {}\n", journal);
  if (opened != "read-write")
    fmt::print("opened:         {}\n", opened == "read-only" ? "read-only (this user cannot write it)"
                                                            : "immutable (read-only, without locks: this user cannot write beside it)");
  fmt::print("schema version: {} (this cpm-db: {}; {})\n", version, target,
             version == target ? "current"
             : version < target ? "behind: run 'cpm-db migrate'"
                                : "newer than this cpm-db: upgrade it");
  if (rows.empty()) {
    fmt::print("tables:         none\n");
  } else {
    fmt::print("tables:\n");
    for (auto& row : rows) row[0] = "  " + row[0];
    print_table({"  TABLE", "ROWS"}, rows);
  }
  return 0;
}

int backup(const common& c, const backup_args& a) {
  const std::string path = database_path(c);
  auto db = open_for_reading(path).db;
  cpm::backup_options options;
  options.pages_per_step = a.pages;
  options.pause_between_steps = std::chrono::milliseconds(a.pause_ms);
  progress_report progress(a.quiet || c.json);
  cpm::backup_result r;
  try {
    r = cpm::backup_to_directory(db, a.output, [&](int remaining, int total) { progress(remaining, total); }, options);
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();
  // backup_to_directory ran PRAGMA integrity_check on the copy before naming it; it threw otherwise.
  if (c.json) {
    print_json({{"path", r.path},
                {"pages", r.pages},
                {"page_size", r.page_size},
                {"bytes", r.bytes},
                {"steps", r.steps},
                {"restarts", r.restarts},
                {"snapshot", r.snapshot},
                {"integrity_check", "ok"}});
  } else {
    fmt::print("wrote {} ({} pages, {} bytes); integrity_check: ok\n", r.path, r.pages, r.bytes);
  }
  return 0;
}

int restore(const common& c, const std::string& file) {
  const std::string path = database_path(c);
  cpm::restore_result r;
  try {
    r = cpm::restore(path, file);
  } catch (const cpm::schema_too_new& e) {
    throw failure("refused", fmt::format("refusing to restore '{}': it is at schema version {}, newer than this cpm-db knows ({})",
                              file, e.database_version(), e.code_version()));
  }
  const int target = cpm::store::target_version();
  if (c.json) {
    print_json({{"target", r.target},
                {"source", r.source},
                {"replaced", or_null(r.replaced)},
                {"schema_version", r.schema_version},
                {"code_version", target}});
    return 0;
  }
  fmt::print("restored {} from {} (schema version {})\n", r.target, r.source, r.schema_version);
  if (r.replaced) fmt::print("the database it replaced is kept as {}\n", *r.replaced);
  else fmt::print("there was no database at {} before\n", r.target);
  if (r.schema_version < target) fmt::print("run 'cpm-db migrate' to bring it to schema version {}\n", target);
  return 0;
}

int check(const common& c) {
  const std::string path = database_path(c);
  auto db = open_for_reading(path).db;
  auto r = cpm::check(db);
  if (c.json) {
    json fk = json::array();
    for (const auto& v : r.foreign_key_violations) fk.push_back({{"table", v.table}, {"rowid", v.rowid}, {"parent", v.parent}});
    print_json({{"path", path},
                {"ok", r.ok()},
                {"schema_version", r.schema_version},
                {"integrity_check", r.integrity_problems},
                {"foreign_key_check", fk}});
  } else {
    fmt::print("database:          {} (schema version {})\n", path, r.schema_version);
    fmt::print("integrity_check:   {}\n", r.integrity_problems.empty() ? std::string("ok")
                                                                         : fmt::format("{} problem(s)", r.integrity_problems.size()));
    fmt::print("foreign_key_check: {}\n", r.foreign_key_violations.empty()
                                              ? std::string("ok")
                                              : fmt::format("{} row(s) pointing nowhere", r.foreign_key_violations.size()));
    for (const auto& line : r.findings()) fmt::print("  {}\n", line);
  }
  if (!r.ok()) throw failure("check_failed", fmt::format("check found {} problem(s) in '{}'", r.problem_count(), path));
  return 0;
}

}  // namespace cpmdb
