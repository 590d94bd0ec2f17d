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

// backup, restore and check work on an SQLite file; on PostgreSQL the server's own tools do
// that work: said, with the command to run, as a failure of kind not_applicable.
[[noreturn]] void not_on_postgres(const char* command, const std::string& db) {
#ifndef CPM_DB_POSTGRES
  no_postgres(db);  // a build without PostgreSQL says that first, as for every command
#endif
  const std::string target = shell_quoted(shown_database(db));
  std::string instead;
  if (std::string_view(command) == "backup")
    instead = fmt::format("back it up with pg_dump: pg_dump --format=custom --file=cpm.dump --dbname={}", target);
  else if (std::string_view(command) == "restore")
    instead = fmt::format("restore a pg_dump archive with pg_restore into an empty database: pg_restore --single-transaction "
                          "--exit-on-error --dbname={} cpm.dump",
                          target);
  else
    instead = fmt::format("the server enforces the foreign keys and constraints on every write; check its tables and "
                          "indexes with pg_amcheck (after CREATE EXTENSION amcheck): pg_amcheck --heapallindexed {}",
                          target);
  throw failure("not_applicable",
                fmt::format("'cpm-db {}' works on SQLite database files, not on PostgreSQL; {}", command, instead));
}

#ifdef CPM_DB_POSTGRES
std::string pg_step_name(int version) {
  for (const auto& step : cpm::pg::store_migrations())
    if (step.version == version) return std::string(step.name);
  return {};
}

json pg_migration_json(const std::string& db, const cpm::migration_report& r) {
  json applied = json::array();
  for (int v : r.applied) applied.push_back({{"version", v}, {"name", pg_step_name(v)}});
  return {{"database", shown_database(db)}, {"from", r.from}, {"to", r.to}, {"target", cpm::pg::store::target_version()},
          {"applied", applied}};
}

void pg_print_applied(const cpm::migration_report& r) {
  for (int v : r.applied) fmt::print("applied {}: {}\n", v, pg_step_name(v));
}

cpm::pg::store open_pg_unmigrated(const std::string& db) {
  cpm::store_options options;
  options.migrate = false;
  return cpm::pg::store::open(db, options);
}

int pg_init(const common& c, const std::string& db) {
  auto s = open_pg_unmigrated(db);
  if (s.schema_version() > 0)
    throw failure("already_exists", fmt::format("a cpm database already exists at '{}' (use 'cpm-db migrate' to update it)",
                                                shown_database(db)));
  auto report = s.migrate();
  if (c.json) {
    auto doc = pg_migration_json(db, report);
    doc["created"] = true;
    print_json(doc);
  } else {
    fmt::print("created the cpm tables in {} at schema version {}\n", shown_database(db), report.to);
    pg_print_applied(report);
  }
  return 0;
}

int pg_migrate(const common& c, const std::string& db) {
  auto s = open_pg_unmigrated(db);
  const int current = s.schema_version();
  const int target = cpm::pg::store::target_version();
  if (current == 0)
    throw failure("no_database", fmt::format("no cpm database at '{}' (create one with 'cpm-db init')", shown_database(db)));
  if (current > target) throw cpm::schema_too_new(std::string(cpm::pg::store_component), current, target);
  if (!c.json) fmt::print("{}: schema version {}, target version {}\n", shown_database(db), current, target);
  auto report = s.migrate();
  if (c.json) print_json(pg_migration_json(db, report));
  else if (report.applied.empty()) fmt::print("nothing to do: the schema is current\n");
  else pg_print_applied(report);
  return 0;
}

int pg_status(const common& c, const std::string& db_text) {
  auto s = open_pg_unmigrated(db_text);
  cpm::pg::connection& db = s.db();
  const int version = s.schema_version();
  const int target = cpm::pg::store::target_version();
  const char* state = version == target ? "current" : version < target ? "behind" : "newer";
  const auto server_version = db.query_one<std::string>("SHOW server_version");
  const auto database = db.query_one<std::string>("SELECT current_database()::text");
  const auto schema = db.query_one<std::optional<std::string>>("SELECT current_schema()::text");
  const auto bytes = db.query_one<std::int64_t>("SELECT pg_database_size(current_database())");
  json tables = json::object();
  std::vector<std::vector<std::string>> rows;
  for (const auto& name : db.query<std::string>("SELECT table_name::text FROM information_schema.tables WHERE table_schema = "
                                                "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")) {
    const auto count = db.query_one<std::int64_t>("SELECT count(*) FROM " + quoted_identifier(name));
    tables[name] = count;
    rows.push_back({name, std::to_string(count)});
  }
  if (c.json) {
    print_json({{"database", shown_database(db_text)},
                {"backend", "postgresql"},
                {"server_version", server_version},
                {"database_name", database},
                {"schema_name", or_null(schema)},
                {"bytes", bytes},
                {"schema_version", version},
                {"code_version", target},
                {"schema", state},
                {"tables", tables}});
    return 0;
  }
  fmt::print("database:       {}\n", shown_database(db_text));
  fmt::print("server:         PostgreSQL {} (database {}, schema {})\n", server_version, database, schema.value_or("none"));
  fmt::print("size:           {} bytes (the whole database)\n", bytes);
  fmt::print("schema version: {} (this cpm-db: {}; {})\n", version, target,
             version == 0        ? "no cpm tables: run 'cpm-db init'"
             : version == target ? "current"
             : version < target  ? "behind: run 'cpm-db migrate'"
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
#endif

// The PostgreSQL form of a database command, or no_postgres in a build without it.
#ifdef CPM_DB_POSTGRES
#define CPM_DB_ON_POSTGRES(c, call)                 \
  if (const std::string db = database_path(c); is_postgres(db)) return call
#else
#define CPM_DB_ON_POSTGRES(c, call) \
  if (const std::string db = database_path(c); is_postgres(db)) no_postgres(db)
#endif

}  // namespace

int init(const common& c) {
  CPM_DB_ON_POSTGRES(c, pg_init(c, db));
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
  CPM_DB_ON_POSTGRES(c, pg_migrate(c, db));
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
  CPM_DB_ON_POSTGRES(c, pg_status(c, db));
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
  if (is_postgres(path)) not_on_postgres("backup", path);
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
  if (is_postgres(path)) not_on_postgres("restore", path);
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
  if (is_postgres(path)) not_on_postgres("check", path);
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
