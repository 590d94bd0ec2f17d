// The store's suite on both backends: one source per feature (tests/store_*_test.cpp,
// access_control_test.cpp, access_level_test.cpp), compiled twice.
//
//   - into cpm_tests (tests/CMakeLists.txt), where each CPM_STORE_TEST_CASE runs on an SQLite
//     store in memory (TestType = on_sqlite);
//   - into cpm_pg_tests (tests/postgres/CMakeLists.txt, which defines CPM_STORE_TESTS_ON_POSTGRES),
//     where the same case runs on cpm::pg::store, in a schema of the test's own on the test
//     server (TestType = on_postgres).
//
// A test writes `TestType backend; auto& store = backend.store;` and uses the helpers below
// where the two backends differ in type (lists: cpm::rows<T> on SQLite, std::vector<T> on
// PostgreSQL; connections: cpm::connection or cpm::pg::connection). Catch2 appends the type to
// the name ("... - on_sqlite", "... - on_postgres"), so names stay unique per executable.
//
// Tests about SQLite itself (files, PRAGMAs, the original system's file) stay plain TEST_CASEs
// inside `#if !CPM_STORE_TESTS_POSTGRES`, each saying why. A PostgreSQL difference of the
// library that a test reveals is marked with CPM_STORE_PG_KNOWN_DIFFERENCE at the top of the
// test (it returns early on PostgreSQL only, with a WARN naming the difference).
#pragma once

#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>
#include <support.hpp>

#ifdef CPM_STORE_TESTS_ON_POSTGRES
#define CPM_STORE_TESTS_POSTGRES 1
#include "pg_support.hpp"

#include <cpm/postgres.hpp>
#else
#define CPM_STORE_TESTS_POSTGRES 0
#endif

#include <cstdint>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- the backends ------------------------------------------------------------------------------

// An SQLite store in memory.
struct on_sqlite {
  static constexpr bool is_postgres = false;
  using store_type = cpm::store;
  using transaction = cpm::transaction;
  using read_snapshot = cpm::read_snapshot;

  // One database that several stores (connections) open, as several processes would: a file.
  struct shared_database {
    cpm_test::temp_dir dir;
    std::string path = (dir / "cpm.db").string();
    [[nodiscard]] cpm::store open() const { return cpm::store::open(path); }
  };

  cpm::store store = cpm::store::open_memory();
};

#if CPM_STORE_TESTS_POSTGRES
// A PostgreSQL store (migrated on construction) in a schema of its own, dropped at the end.
struct on_postgres {
  static constexpr bool is_postgres = true;
  using store_type = cpm::pg::store;
  using transaction = cpm::pg::transaction;
  using read_snapshot = cpm::pg::read_snapshot;

  // One database that several stores (connections) open: a schema, each open() a new session.
  struct shared_database {
    pg_test::scratch scratch;
    [[nodiscard]] cpm::pg::store open() const { return cpm::pg::store(scratch.open()); }
  };

  pg_test::scratch scratch;
  cpm::pg::store store{scratch.open()};
};
#define CPM_STORE_BACKENDS on_postgres
#else
#define CPM_STORE_BACKENDS on_sqlite
#endif

// A test case of the store's suite: run on the backend this translation unit is compiled for.
#define CPM_STORE_TEST_CASE(name, tags) TEMPLATE_TEST_CASE(name, tags, CPM_STORE_BACKENDS)

// At the top of a CPM_STORE_TEST_CASE whose PostgreSQL run shows a difference of the library
// (reported, not hidden): on PostgreSQL the test stops here with a warning naming it; on SQLite
// it runs in full.
#define CPM_STORE_PG_KNOWN_DIFFERENCE(what)                                   \
  do {                                                                        \
    if constexpr (TestType::is_postgres) {                                    \
      WARN("skipped on PostgreSQL, a known difference of the library: " what); \
      return;                                                                 \
    }                                                                         \
  } while (false)

namespace cpm_test {

// ---- lists: cpm::rows<T> (an input range without size()) or std::vector<T> -----------------------

// How many rows a list holds.
template <class Range>
std::size_t count_of(Range&& rows) {
  std::size_t n = 0;
  for (const auto& r : rows) {
    (void)r;
    ++n;
  }
  return n;
}

// The first row of a list; throws when it is empty.
template <class Range>
auto first_of(Range&& rows) {
  for (auto& r : rows) return r;
  throw std::runtime_error("the list is empty");
}

// The rows of a list, as a vector.
template <class Range>
auto list_of(Range&& rows) {
  std::vector<std::remove_cvref_t<std::ranges::range_reference_t<Range>>> out;
  for (auto&& r : rows) out.push_back(std::move(r));
  return out;
}

// ---- SQL on either connection -----------------------------------------------------------------

// `sql` with its ? placeholders written $1, $2, ... (the tests' SQL has no '?' in literals).
inline std::string pg_placeholders(std::string_view sql) {
  std::string out;
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

// The single value of a query with ? placeholders, on SQLite.
template <class T, class... Args>
T scalar(cpm::connection& db, std::string_view sql, const Args&... args) {
  return cpm::query<T>(db, std::string(sql), args...).one();
}

// How many rows the model's table holds.
template <class T>
std::int64_t count_of_model(cpm::connection& db) {
  return cpm::count<T>(db);
}

// The rows of tables that break a foreign key: SQLite checks them only with foreign keys on.
inline bool no_foreign_key_violations(cpm::connection& db) { return cpm::foreign_key_violations(db).empty(); }

// A mark that moves whenever the connection writes a row (compare two marks: equal, nothing
// was written in between).
inline std::string write_mark(cpm::connection& db) { return std::to_string(db.total_changes()); }

#if CPM_STORE_TESTS_POSTGRES

template <class T, class... Args>
T scalar(cpm::pg::connection& db, std::string_view sql, const Args&... args) {
  return db.query_one<T>(pg_placeholders(sql), args...);
}

template <class T>
std::int64_t count_of_model(cpm::pg::connection& db) {
  return cpm::pg::count<T>(db);
}

// PostgreSQL checks every foreign key on every write, always: a violation cannot be stored. The
// query looks anyway, for each foreign key of the schema, for a referencing row with no row to
// refer to.
inline bool no_foreign_key_violations(cpm::pg::connection& db) {
  const std::pair<const char*, const char*> checks[] = {
      {"repositories", "org_id = (SELECT id FROM organizations o WHERE o.id = t.org_id)"},
      {"repo_access", "repo_id = (SELECT id FROM repositories r WHERE r.id = t.repo_id)"},
      {"repo_access", "user_id = (SELECT id FROM users u WHERE u.id = t.user_id)"},
      {"org_members", "org_id = (SELECT id FROM organizations o WHERE o.id = t.org_id)"},
      {"org_members", "user_id = (SELECT id FROM users u WHERE u.id = t.user_id)"},
      {"user_keys", "user_id = (SELECT id FROM users u WHERE u.id = t.user_id)"},
      {"servers", "ssh_key_id IS NULL OR ssh_key_id = (SELECT id FROM ssh_keys k WHERE k.id = t.ssh_key_id)"},
  };
  for (const auto& [table, ok] : checks) {
    auto n = db.query_one<std::int64_t>(std::string("SELECT count(*) FROM ") + table + " t WHERE NOT (" + ok +
                                        ") OR (" + ok + ") IS NULL");
    if (n != 0) return false;
  }
  return true;
}

// Every sequence's state: an INSERT sent to the server moves its table's identity sequence,
// even when it fails or is rolled back (sequences are not transactional); an UPDATE or DELETE
// does not, and dump() below shows those.
inline std::string write_mark(cpm::pg::connection& db) {
  auto rows = db.query<std::string>(
      "SELECT sequencename || '=' || coalesce(last_value::text, 'none') FROM pg_sequences "
      "WHERE schemaname = current_schema() ORDER BY sequencename");
  std::string out;
  for (const auto& r : rows) out += r + ";";
  return out;
}

// SELECT count(*) FROM <table>.
inline std::int64_t count_rows(cpm::pg::connection& db, std::string_view table) {
  return db.query_one<std::int64_t>("SELECT count(*) FROM \"" + std::string(table) + "\"");
}

// The names of the objects of one type ('table', 'index', 'trigger') of the current schema.
inline std::vector<std::string> schema_names(cpm::pg::connection& db, std::string_view type) {
  std::string sql;
  if (type == "table") {
    sql = "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1";
  } else if (type == "index") {
    sql = "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1";
  } else if (type == "trigger") {
    sql = "SELECT DISTINCT trigger_name::text FROM information_schema.triggers "
          "WHERE trigger_schema = current_schema() ORDER BY 1";
  } else {
    throw std::invalid_argument("schema_names: no such type");
  }
  return db.query<std::string>(sql);
}

inline bool has_schema_object(cpm::pg::connection& db, std::string_view type, std::string_view name) {
  for (const auto& n : schema_names(db, type))
    if (n == name) return true;
  return false;
}

// The whole content of the schema as text: its tables, columns, indexes and triggers, and every
// table's rows in key order, to compare before and after an operation that must change nothing.
inline std::string dump(cpm::pg::connection& db) {
  std::string out;
  for (const auto& line : db.query<std::string>(
           "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(column_default, '') "
           "FROM information_schema.columns WHERE table_schema = current_schema() "
           "ORDER BY table_name, ordinal_position"))
    out += line + "\n";
  for (const auto& line : db.query<std::string>(
           "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname"))
    out += line + "\n";
  for (const auto& line : db.query<std::string>(
           "SELECT trigger_name || ' ' || event_manipulation || ' ' || event_object_table "
           "FROM information_schema.triggers WHERE trigger_schema = current_schema() ORDER BY 1"))
    out += line + "\n";
  for (const auto& table : schema_names(db, "table")) {
    for (const auto& row :
         db.query<std::string>("SELECT CAST(t AS text) FROM \"" + table + "\" t ORDER BY CAST(t AS text)"))
      out += table + ": " + row + "\n";
  }
  return out;
}

#endif

}  // namespace cpm_test
