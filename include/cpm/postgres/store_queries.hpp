// cpm: the store's query patterns on PostgreSQL, against the schema of
// cpm/postgres/store_schema.hpp.
//
// The same queries as cpm/store/queries.hpp, with the same results, in PostgreSQL's dialect
// ($1 placeholders). The column lists are generated from the store's models (as on SQLite), so
// that the text cannot drift from the structs it fills: run them with
// connection::query<cpm::repository>(cpm::pg::store_sql::user_repositories<>.view(), user_id)
// (variable templates, as on SQLite, so that the text is built only where it is used).
// Each is answered from indexes; tests/postgres/store_query_plan_test.cpp asserts their
// EXPLAIN on a populated schema.
#pragma once

#include <cpm/detail/fixed_string.hpp>
#include <cpm/query/detail/sql_text.hpp>
#include <cpm/store/models.hpp>

namespace cpm::pg::store_sql {

using cpm::detail::make_sql;
using cpm::detail::qualified_column_list;
using cpm::detail::select_from;

// Repositories a user reaches through organization membership or a direct grant, each once:
// a UNION ALL of two indexed lookups (org_members by user_id, repo_access by user_id), the
// second leaving out the repositories of the user's organizations (a point lookup in
// UNIQUE (org_id, user_id)). No order.
template <class = void>
inline constexpr auto user_repositories = make_sql([](auto& out) {
  out << "SELECT ";
  qualified_column_list<repository>(out, "r");
  out << " FROM org_members AS om JOIN repositories AS r ON r.org_id = om.org_id WHERE om.user_id = $1"
         " UNION ALL SELECT ";
  qualified_column_list<repository>(out, "r");
  out << " FROM repo_access AS ra JOIN repositories AS r ON r.id = ra.repo_id WHERE ra.user_id = $1"
         " AND NOT EXISTS (SELECT 1 FROM org_members AS m WHERE m.org_id = r.org_id AND m.user_id = $1)";
});

// Members of an organization with their roles: owners, then admins, then members; by username
// (bytewise: the column is COLLATE "C", as SQLite's BINARY).
template <class = void>
inline constexpr auto org_members = make_sql([](auto& out) {
  out << "SELECT u.id AS user_id, u.username, u.email, om.role, om.joined_at"
         " FROM org_members AS om JOIN users AS u ON u.id = om.user_id WHERE om.org_id = $1"
         " ORDER BY CASE om.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.username";
});

// A user by id, by username (exact), by username regardless of ASCII case (the unique index
// on lower(username)).
template <class = void>
inline constexpr auto user_by_id = make_sql([](auto& out) {
  select_from<user>(out);
  out << " WHERE \"id\" = $1";
});
template <class = void>
inline constexpr auto user_by_name = make_sql([](auto& out) {
  select_from<user>(out);
  out << " WHERE \"username\" = $1";
});
template <class = void>
inline constexpr auto user_by_name_nocase = make_sql([](auto& out) {
  select_from<user>(out);
  out << " WHERE lower(\"username\") = lower($1)";
});

// The user holding a key, found by the key ("type base64") or by its fingerprint: one lookup
// in a UNIQUE index of user_keys, one in users' primary key.
template <class = void>
inline constexpr auto user_by_key = make_sql([](auto& out) {
  out << "SELECT ";
  qualified_column_list<user>(out, "u");
  out << " FROM user_keys AS k JOIN users AS u ON u.id = k.user_id WHERE k.public_key = $1";
});
template <class = void>
inline constexpr auto user_by_fingerprint = make_sql([](auto& out) {
  out << "SELECT ";
  qualified_column_list<user>(out, "u");
  out << " FROM user_keys AS k JOIN users AS u ON u.id = k.user_id WHERE k.fingerprint = $1";
});

// A repository by its disk path (UNIQUE idx_repositories_path), and by "organization/name"
// (the organization's UNIQUE name, then UNIQUE (org_id, name)).
template <class = void>
inline constexpr auto repository_by_path = make_sql([](auto& out) {
  select_from<repository>(out);
  out << " WHERE \"path\" = $1";
});
template <class = void>
inline constexpr auto repository_by_full_name = make_sql([](auto& out) {
  out << "SELECT ";
  qualified_column_list<repository>(out, "r");
  out << " FROM organizations AS o JOIN repositories AS r ON r.org_id = o.id WHERE o.name = $1 AND r.name = $2";
});

// The organizations a user belongs to, with the role in each, by name.
template <class = void>
inline constexpr auto user_organizations = make_sql([](auto& out) {
  out << "SELECT o.id AS org_id, o.name, om.role, om.joined_at"
         " FROM org_members AS om JOIN organizations AS o ON o.id = om.org_id WHERE om.user_id = $1 ORDER BY o.name";
});

// The effective access of a user ($1) to a repository ($2): 3 admin, 2 write, 1 read, NULL
// none; point lookups in the UNIQUE indexes.
template <class = void>
inline constexpr auto access_level_of = make_sql([](auto& out) {
  out << "SELECT max(level) FROM ("
         "SELECT CASE ra.access_level WHEN 'admin' THEN 3 WHEN 'write' THEN 2 WHEN 'read' THEN 1 END AS level"
         " FROM repo_access AS ra WHERE ra.repo_id = $2 AND ra.user_id = $1"
         " UNION ALL "
         "SELECT CASE om.role WHEN 'owner' THEN 3 WHEN 'admin' THEN 3 WHEN 'member' THEN 1 END"
         " FROM org_members AS om"
         " WHERE om.org_id = (SELECT r.org_id FROM repositories AS r WHERE r.id = $2) AND om.user_id = $1) AS levels";
});

// A key the original system wrote into users.public_key (so not in user_keys): the line
// starts with the key and goes on, if at all, with whitespace and a comment. Every such line
// sorts in [key, key || '!') bytewise (no base64 character sorts below '!'; the column is
// COLLATE "C", so the range is bytewise as on SQLite): one range of idx_users_public_key.
template <class = void>
inline constexpr auto user_by_original_key = make_sql([](auto& out) {
  select_from<user>(out);
  out << " WHERE \"public_key\" >= $1 AND \"public_key\" < $1 || '!' LIMIT 1";
});

// A user's first (oldest) key.
template <class = void>
inline constexpr auto first_user_key = make_sql([](auto& out) {
  select_from<user_key>(out);
  out << " WHERE \"user_id\" = $1 ORDER BY \"id\" LIMIT 1";
});

// users.public_key mirrors the user's first key ("type base64"), '' when the user has none.
template <class = void>
inline constexpr auto mirror_public_key = make_sql([](auto& out) {
  out << "UPDATE users SET public_key = coalesce((SELECT k.public_key"
         " FROM user_keys AS k WHERE k.user_id = $1 ORDER BY k.id LIMIT 1), '') WHERE id = $1";
});

// The organizations of which the user is the only owner, by name.
template <class = void>
inline constexpr auto sole_owner_of = make_sql([](auto& out) {
  out << "SELECT o.id, o.name FROM org_members AS om JOIN organizations AS o ON o.id = om.org_id"
         " WHERE om.user_id = $1 AND om.role = 'owner' AND NOT EXISTS (SELECT 1 FROM org_members AS other"
         " WHERE other.org_id = om.org_id AND other.role = 'owner' AND other.user_id <> om.user_id) ORDER BY o.name";
});

// How many rows each of the store's tables holds (cpm::store_counts, by position).
template <class = void>
inline constexpr auto store_counts = make_sql([](auto& out) {
  out << "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_keys), (SELECT count(*) FROM organizations),"
         " (SELECT count(*) FROM org_members), (SELECT count(*) FROM repositories), (SELECT count(*) FROM repo_access),"
         " (SELECT count(*) FROM ssh_keys), (SELECT count(*) FROM servers)";
});

}  // namespace cpm::pg::store_sql
