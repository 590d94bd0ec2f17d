// cpm: the store on PostgreSQL: every operation of cpm::store, on a cpm::pg::connection.
//
//   auto store = cpm::pg::store::open("postgresql://cpm@db.internal/cpm");  // migrated on open
//   auto alice = store.create_user({.username = "alice", .email = "alice@example.org"});
//   for (const cpm::repository& r : store.user_repositories(alice.id)) ...
//
// cpm::pg::store is cpm::basic_store<cpm::pg::connection>: the same class, the same
// operations, validation, typed errors (cpm::already_exists, cpm::record_not_found,
// cpm::last_owner, ...) and transactions (each write in one; a savepoint inside a caller's
// cpm::pg::transaction) as on SQLite, over the schema of cpm/postgres/store_schema.hpp and the
// queries of cpm/postgres/store_queries.hpp. Lists are std::vector<T> (cpm::rows<T> on
// SQLite): read at once, so that the connection is free while they are used. open() takes a
// libpq connection string or URI, and migrates the schema unless options.migrate is false.
// SQLite's file maintenance (backups, integrity checks, journal modes) does not apply.
#pragma once

#include <cpm/postgres/connection.hpp>
#include <cpm/postgres/crud.hpp>
#include <cpm/postgres/migration.hpp>
#include <cpm/postgres/store_queries.hpp>
#include <cpm/postgres/store_schema.hpp>
#include <cpm/postgres/transaction.hpp>
#include <cpm/postgres/typed_query.hpp>
#include <cpm/store/store.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpm {

namespace detail {

template <>
struct store_backend<pg::connection> {
  static constexpr bool sqlite = false;
  template <class T>
  using rows = std::vector<T>;
  using transaction = pg::transaction;

  static pg::connection open(const std::string& conninfo) { return pg::connection::open(conninfo); }
  static migration_report migrate(pg::connection& db) { return pg::migrate_store(db); }
  static int schema_version(pg::connection& db) { return pg::store_schema_version(db); }

  static std::optional<user> user_by_key(pg::connection& db, std::string_view key) {
    return db.query_optional<user>(by_position, pg::store_sql::user_by_key<>.view(), key);
  }
  static std::optional<user> user_by_original_key(pg::connection& db, std::string_view key) {
    return db.query_optional<user>(by_position, pg::store_sql::user_by_original_key<>.view(), key);
  }
  static std::optional<user> user_by_fingerprint(pg::connection& db, std::string_view fingerprint) {
    return db.query_optional<user>(by_position, pg::store_sql::user_by_fingerprint<>.view(), fingerprint);
  }
  static std::vector<member_info> org_members(pg::connection& db, std::int64_t org_id) {
    return db.query<member_info>(by_position, pg::store_sql::org_members<>.view(), org_id);
  }
  static std::vector<membership_info> user_organizations(pg::connection& db, std::int64_t user_id) {
    return db.query<membership_info>(by_position, pg::store_sql::user_organizations<>.view(), user_id);
  }
  static std::optional<repository> repository_by_full_name(pg::connection& db, std::string_view org,
                                                           std::string_view name) {
    return db.query_optional<repository>(by_position, pg::store_sql::repository_by_full_name<>.view(), org, name);
  }
  static std::vector<repository> user_repositories(pg::connection& db, std::int64_t user_id) {
    return db.query<repository>(by_position, pg::store_sql::user_repositories<>.view(), user_id);
  }
  static std::optional<int> access_level(pg::connection& db, std::int64_t user_id, std::int64_t repo_id) {
    return db.query_one<std::optional<int>>(pg::store_sql::access_level_of<>.view(), user_id, repo_id);
  }
  static store_counts counts(pg::connection& db) {
    return db.query_one<store_counts>(by_position, pg::store_sql::store_counts<>.view());
  }
  static std::optional<user_key> first_user_key(pg::connection& db, std::int64_t user_id) {
    return db.query_optional<user_key>(by_position, pg::store_sql::first_user_key<>.view(), user_id);
  }
  static void mirror_public_key(pg::connection& db, std::int64_t user_id) {
    db.execute(pg::store_sql::mirror_public_key<>.view(), user_id);
  }
  template <class Row>
  static std::vector<Row> sole_owner_of(pg::connection& db, std::int64_t user_id) {
    return db.query<Row>(by_position, pg::store_sql::sole_owner_of<>.view(), user_id);
  }
};

}  // namespace detail

namespace pg {

// The store over one PostgreSQL connection.
using store = basic_store<connection>;

}  // namespace pg

}  // namespace cpm
