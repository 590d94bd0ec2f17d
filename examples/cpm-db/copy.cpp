// cpm-db copy: a whole cpm database into an empty one, SQLite to PostgreSQL and back (or
// between two of a kind). The rows go through the store's models (cpm::all<T>, cpm::insert on
// SQLite; cpm::pg::all<T>, cpm::pg::insert on PostgreSQL), ids included, table by table in
// the order of the foreign keys, all in one transaction on the target, which is checked
// (rows per table, and foreign_key_check on SQLite) before it commits.
#include "commands.hpp"
#include "output.hpp"

#include <cpm/cpm.hpp>
#include <fmt/core.h>

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpmdb {

namespace {

// The store's tables in the order of their foreign keys (a table after those it refers to),
// with their row counts.
using table_counts = std::array<std::pair<std::string_view, std::int64_t>, 8>;

table_counts by_table(const cpm::store_counts& c) {
  return {{{"users", c.users},
           {"user_keys", c.user_keys},
           {"organizations", c.organizations},
           {"org_members", c.org_members},
           {"repositories", c.repositories},
           {"repo_access", c.repo_access},
           {"ssh_keys", c.ssh_keys},
           {"servers", c.servers}}};
}

std::int64_t total_rows(const table_counts& counts) {
  std::int64_t n = 0;
  for (const auto& [table, rows] : counts) n += rows;
  return n;
}

// ---- the few things each backend does its own way ------------------------------------------

template <class T>
std::vector<T> all_rows(cpm::connection& db) {
  std::vector<T> out;
  for (auto&& row : cpm::all<T>(db)) out.push_back(std::move(row));
  return out;
}
template <class T>
T insert_row(cpm::connection& db, const T& row) {
  return cpm::insert(db, row);
}
void set_null(cpm::connection& db, std::string_view table, std::string_view column, std::int64_t id) {
  cpm::execute(db, fmt::format("UPDATE {} SET {} = NULL WHERE id = ?", table, column), id);
}
// The source is read in one snapshot, so that what is copied is one state of it.
cpm::read_snapshot read_consistently(cpm::connection& db) { return cpm::read_snapshot(db); }
cpm::transaction write_transaction(cpm::connection& db) { return cpm::transaction(db); }
std::int64_t store_tables_in(cpm::connection& db) {
  return cpm::query<std::int64_t>(db,
                                  "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('users', "
                                  "'user_keys', 'organizations', 'org_members', 'repositories', 'repo_access', "
                                  "'ssh_keys', 'servers')")
      .one();
}
// Rows whose foreign key points nowhere: SQLite checks them only when asked.
std::int64_t dangling_rows(cpm::connection& db) {
  return cpm::query<std::int64_t>(db, "SELECT count(*) FROM pragma_foreign_key_check").one();
}
void after_rows(cpm::connection&) {}  // AUTOINCREMENT follows the largest id inserted by itself

#ifdef CPM_DB_POSTGRES
template <class T>
std::vector<T> all_rows(cpm::pg::connection& db) {
  return cpm::pg::all<T>(db);
}
template <class T>
T insert_row(cpm::pg::connection& db, const T& row) {
  return cpm::pg::insert(db, row);
}
void set_null(cpm::pg::connection& db, std::string_view table, std::string_view column, std::int64_t id) {
  db.execute(fmt::format("UPDATE {} SET {} = NULL WHERE id = $1", table, column), id);
}
cpm::pg::transaction read_consistently(cpm::pg::connection& db) {
  return cpm::pg::transaction(db, cpm::pg::isolation::repeatable_read);
}
cpm::pg::transaction write_transaction(cpm::pg::connection& db) { return cpm::pg::transaction(db); }
std::int64_t store_tables_in(cpm::pg::connection& db) {
  return db.query_one<std::int64_t>(
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN "
      "('users', 'user_keys', 'organizations', 'org_members', 'repositories', 'repo_access', 'ssh_keys', 'servers')");
}
std::int64_t dangling_rows(cpm::pg::connection&) { return 0; }  // the server checks every foreign key as it writes
// Each identity column's next value follows the largest id copied (1 for an empty table).
void after_rows(cpm::pg::connection& db) {
  for (std::string_view table : {"users", "user_keys", "organizations", "org_members", "repositories", "repo_access",
                                 "ssh_keys", "servers"})
    (void)db.query_one<std::int64_t>(fmt::format(
        "SELECT setval(pg_get_serial_sequence('{0}', 'id'), coalesce(max(id), 0) + 1, false) FROM {0}", table));
}
#endif

// ---- copying ---------------------------------------------------------------------------------

// Copies every row of T's table; `step` is called after each row. A timestamp the source
// holds as none (`stamp`, a column with a DEFAULT that an insert would fill in) is set back
// to none, so that the copy holds exactly what the source does.
template <class T, class From, class To, class Step, class Stamp = std::nullptr_t>
std::int64_t copy_table(From& from, To& to, Step& step, Stamp stamp = nullptr, std::string_view stamp_column = {}) {
  std::int64_t n = 0;
  for (const T& row : all_rows<T>(from)) {
    T stored;
    try {
      stored = insert_row(to, row);
    } catch (const cpm::value_error& e) {  // text that is not UTF-8 or holds a NUL byte, on PostgreSQL
      throw failure("database", fmt::format("the target cannot store a value of {} row id {}: {}",
                                            cpm::model_traits<T>::table, row.id, e.what()));
    }
    if constexpr (!std::is_same_v<Stamp, std::nullptr_t>) {
      if (!(row.*stamp) && (stored.*stamp)) set_null(to, cpm::model_traits<T>::table, stamp_column, stored.id);
    }
    ++n;
    step();
  }
  return n;
}

std::string names_with_rows(const table_counts& counts) {
  std::string out;
  for (const auto& [table, rows] : counts)
    if (rows > 0) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", table, rows);
  return out;
}

// Opens the target: an empty database (a new SQLite file, or a PostgreSQL database or schema
// without cpm's tables) is brought to the current schema; one that holds cpm tables must be
// at the current schema and hold no rows.
template <class Store>
void prepare_target(Store& target, const std::string& shown) {
  const int version = target.schema_version();
  const int wanted = Store::target_version();
  if (version > wanted) throw failure("schema", fmt::format("the target '{}' is at schema version {}, newer than this cpm-db ({})",
                                                             shown, version, wanted));
  if (version == 0 && store_tables_in(target.db()) > 0)
    throw failure("not_empty", fmt::format("the target '{}' already holds cpm tables (of no schema version cpm knows); "
                                           "copy writes only into an empty database",
                                           shown));
  if (version > 0 && version < wanted)
    throw failure("schema", fmt::format("the target '{}' is at schema version {}; copy writes into an empty database at "
                                        "version {} or a new one: give an empty database",
                                        shown, version, wanted));
  if (version == 0) (void)target.migrate();
  const auto counts = by_table(target.counts());
  if (total_rows(counts) > 0)
    throw failure("not_empty", fmt::format("the target '{}' is not empty ({}): copy writes only into an empty database, "
                                           "and changed nothing",
                                           shown, names_with_rows(counts)));
}

template <class Source, class Target>
int copy_store(const common& c, const copy_args& a, Source& source, const std::string& from, Target& target,
               const std::string& to) {
  prepare_target(target, to);
  auto snapshot = read_consistently(source.db());
  const auto expected = by_table(source.counts());
  const std::int64_t total = total_rows(expected);

  progress_report progress(a.quiet || c.json, "copy", "rows");
  std::int64_t done = 0;
  int shown_percent = -1;
  auto step = [&] {
    ++done;
    const int percent = static_cast<int>(100 * done / total);
    if (percent != shown_percent || done == total) {
      shown_percent = percent;
      progress(total - done, total);
    }
  };

  table_counts copied{};
  try {
    auto tx = write_transaction(target.db());
    auto& from_db = source.db();
    auto& to_db = target.db();
    copied[0] = {"users", copy_table<cpm::user>(from_db, to_db, step, &cpm::user::created_at, "created_at")};
    copied[1] = {"user_keys", copy_table<cpm::user_key>(from_db, to_db, step, &cpm::user_key::created_at, "created_at")};
    copied[2] = {"organizations",
                 copy_table<cpm::organization>(from_db, to_db, step, &cpm::organization::created_at, "created_at")};
    copied[3] = {"org_members", copy_table<cpm::org_member>(from_db, to_db, step, &cpm::org_member::joined_at, "joined_at")};
    copied[4] = {"repositories",
                 copy_table<cpm::repository>(from_db, to_db, step, &cpm::repository::created_at, "created_at")};
    copied[5] = {"repo_access", copy_table<cpm::repo_access>(from_db, to_db, step)};
    copied[6] = {"ssh_keys", copy_table<cpm::ssh_key>(from_db, to_db, step, &cpm::ssh_key::created_at, "created_at")};
    copied[7] = {"servers", copy_table<cpm::server>(from_db, to_db, step, &cpm::server::created_at, "created_at")};
    after_rows(to_db);

    // Before the commit: the target holds as many rows per table as the source, and no row
    // that points nowhere.
    const auto written = by_table(target.counts());
    for (std::size_t i = 0; i < written.size(); ++i) {
      if (written[i].second != expected[i].second || copied[i].second != expected[i].second)
        throw failure("check_failed", fmt::format("the copy of {} holds {} row(s) where the source holds {}; nothing was "
                                                  "written to '{}'",
                                                  expected[i].first, written[i].second, expected[i].second, to));
    }
    if (const auto dangling = dangling_rows(to_db); dangling > 0)
      throw failure("check_failed", fmt::format("foreign_key_check found {} row(s) of the copy pointing nowhere; nothing "
                                                "was written to '{}'",
                                                dangling, to));
    tx.commit();
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();

  const int version = target.schema_version();
  if (c.json) {
    json tables = json::object();
    for (const auto& [table, rows] : copied) tables[std::string(table)] = rows;
    print_json({{"source", from}, {"target", to}, {"schema_version", version}, {"rows", total}, {"tables", tables}});
    return 0;
  }
  fmt::print("copied {} row(s) from {} to {} (schema version {})\n", total, from, to, version);
  std::vector<std::vector<std::string>> rows;
  for (const auto& [table, n] : copied) rows.push_back({"  " + std::string(table), std::to_string(n)});
  print_table({"  TABLE", "ROWS"}, rows);
  return 0;
}

// The same SQLite file as source and target.
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// Runs `f` on the target store --to names (opened unmigrated: prepare_target decides).
template <class F>
int with_target(const std::string& to, F&& f) {
  cpm::store_options options;
  options.migrate = false;
  if (is_postgres(to)) {
#ifdef CPM_DB_POSTGRES
    auto s = cpm::pg::store::open(to, options);
    return f(s);
#else
    no_postgres(to);
#endif
  }
  struct stat st{};
  if (::stat(to.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      throw failure("not_a_database", fmt::format("the target '{}' is {}, not a database file", to, kind_of_file(st)));
    if (st.st_size > 0 && !is_sqlite_file(to))
      throw failure("not_a_database",
                    fmt::format("the target '{}' is a file of {} bytes that is not an SQLite database; copy never "
                                "overwrites a file",
                                to, st.st_size));
  }
  auto s = cpm::store::open(to, options);
  return f(s);
}

}  // namespace

int copy(const common& c, const copy_args& a) {
  if (a.to.empty()) throw failure("--to is empty: give the target database's path or connection string", exit_usage);
  const std::string from = database_path(c);
  if (!is_postgres(from) && !is_postgres(a.to) && same_file(from, a.to))
    throw failure(fmt::format("--to names the source database itself ('{}'): give another database", a.to), exit_usage);
  return with_store(c, [&](auto& source) {
    return with_target(a.to, [&](auto& target) {
      return copy_store(c, a, source, shown_database(from), target, shown_database(a.to));
    });
  });
}

}  // namespace cpmdb
