// cpm: the hand-written queries of the store, built around the models' generated column
// lists so they cannot drift from the structs they fill.
//
// Each one is written to be answered from indexes; tests check their EXPLAIN QUERY PLAN.
// They are variable templates only so that their text is built where they are used, not in
// every translation unit that includes cpm.
#pragma once

#include <cpm/query/detail/sql_text.hpp>
#include <cpm/store/models.hpp>

namespace cpm::detail {

// Repositories a user reaches through organization membership or a direct grant, each once.
// The original system's LEFT JOIN ... WHERE om.user_id = ? OR ra.user_id = ? cannot use an
// index on either side of the OR and scans every repository; this is a UNION ALL of two
// indexed lookups (org_members by user_id, repo_access by user_id), the second leaving out
// the repositories of the user's organizations (a point lookup in UNIQUE(org_id, user_id)),
// so that each repository comes once with no temporary b-tree to sort or deduplicate.
// The rows come in no particular order (in practice: the repositories of the user's
// organizations, then those granted directly only).
template <class Repository = repository>
inline constexpr auto user_repositories_sql = make_sql([](auto& out) {
  out << "SELECT ";
  qualified_column_list<Repository>(out, "r");
  out << " FROM org_members AS om JOIN repositories AS r ON r.org_id = om.org_id WHERE om.user_id = ?1"
         " UNION ALL SELECT ";
  qualified_column_list<Repository>(out, "r");
  out << " FROM repo_access AS ra JOIN repositories AS r ON r.id = ra.repo_id WHERE ra.user_id = ?1"
         " AND NOT EXISTS (SELECT 1 FROM org_members AS m WHERE m.org_id = r.org_id AND m.user_id = ?1)";
});

// Members of an organization with their roles: owners, then admins, then members; by username.
// (Each column is named like the member_info field it fills: query<Row> checks.)
template <class = void>
inline constexpr auto org_members_sql = make_sql([](auto& out) {
  out << "SELECT u.id AS user_id, u.username, u.email, om.role, om.joined_at"
         " FROM org_members AS om JOIN users AS u ON u.id = om.user_id WHERE om.org_id = ?1"
         " ORDER BY CASE om.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.username";
});

// The effective access of a user to a repository: the higher of a direct grant and what the
// user's role in the repository's organization gives (owner, admin: admin; member: read).
// NULL when neither applies. Point lookups in UNIQUE indexes: the repository's organization
// is a scalar subquery, not a join, so that the planner cannot reorder it. (As a join, after
// ANALYZE it read every membership of the user through idx_org_members_user_id and probed
// the repository for each: as many lookups as the user has organizations.)
template <class = void>
inline constexpr auto access_level_sql = make_sql([](auto& out) {
  out << "SELECT max(level) FROM ("
         "SELECT CASE ra.access_level WHEN 'admin' THEN 3 WHEN 'write' THEN 2 WHEN 'read' THEN 1 END AS level"
         " FROM repo_access AS ra WHERE ra.repo_id = ?2 AND ra.user_id = ?1"
         " UNION ALL "
         "SELECT CASE om.role WHEN 'owner' THEN 3 WHEN 'admin' THEN 3 WHEN 'member' THEN 1 END"
         " FROM org_members AS om"
         " WHERE om.org_id = (SELECT r.org_id FROM repositories AS r WHERE r.id = ?2) AND om.user_id = ?1)";
});

// The user holding a key, found by the key ("type base64") or by its fingerprint: one lookup
// in a UNIQUE index of user_keys, one by rowid in users.
template <class User = user>
inline constexpr auto user_by_key_sql = make_sql([](auto& out) {
  out << "SELECT ";
  qualified_column_list<User>(out, "u");
  out << " FROM user_keys AS k JOIN users AS u ON u.id = k.user_id WHERE k.public_key = ?1";
});
template <class User = user>
inline constexpr auto user_by_fingerprint_sql = make_sql([](auto& out) {
  out << "SELECT ";
  qualified_column_list<User>(out, "u");
  out << " FROM user_keys AS k JOIN users AS u ON u.id = k.user_id WHERE k.fingerprint = ?1";
});

// A key the original system wrote into users.public_key (so not in user_keys): the line
// starts with the key and goes on, if at all, with whitespace and a comment. Every such line
// sorts in [key, key || '!'): no base64 character sorts below '!'. One range in
// idx_users_public_key.
template <class User = user>
inline constexpr auto user_by_original_key_sql = make_sql([](auto& out) {
  select_from<User>(out);
  out << " WHERE \"public_key\" >= ?1 AND \"public_key\" < ?1 || '!' LIMIT 1";
});

// A user's first (oldest) key.
template <class UserKey = user_key>
inline constexpr auto first_user_key_sql = make_sql([](auto& out) {
  select_from<UserKey>(out);
  out << " WHERE \"user_id\" = ?1 ORDER BY \"id\" LIMIT 1";
});

// users.public_key mirrors the user's first key ("type base64"), '' when the user has none,
// for the original system's readers.
template <class = void>
inline constexpr auto mirror_public_key_sql = make_sql([](auto& out) {
  out << "UPDATE users SET public_key = coalesce((SELECT k.public_key"
         " FROM user_keys AS k WHERE k.user_id = ?1 ORDER BY k.id LIMIT 1), '') WHERE id = ?1";
});

// A repository of an organization by its name: one lookup in UNIQUE(org_id, name).
template <class Repository = repository>
inline constexpr auto repository_by_name_sql = make_sql([](auto& out) {
  select_from<Repository>(out);
  out << " WHERE \"org_id\" = ?1 AND \"name\" = ?2";
});

// A repository by "organization/name".
template <class Repository = repository>
inline constexpr auto repository_by_full_name_sql = make_sql([](auto& out) {
  out << "SELECT ";
  qualified_column_list<Repository>(out, "r");
  out << " FROM organizations AS o JOIN repositories AS r ON r.org_id = o.id WHERE o.name = ?1 AND r.name = ?2";
});

// The organizations a user belongs to, with the role in each, by name.
template <class = void>
inline constexpr auto user_organizations_sql = make_sql([](auto& out) {
  out << "SELECT o.id AS org_id, o.name, om.role, om.joined_at"
         " FROM org_members AS om JOIN organizations AS o ON o.id = om.org_id WHERE om.user_id = ?1 ORDER BY o.name";
});

// The organizations of which the user is the only owner.
template <class = void>
inline constexpr auto sole_owner_of_sql = make_sql([](auto& out) {
  out << "SELECT o.id, o.name FROM org_members AS om JOIN organizations AS o ON o.id = om.org_id"
         " WHERE om.user_id = ?1 AND om.role = 'owner' AND NOT EXISTS (SELECT 1 FROM org_members AS other"
         " WHERE other.org_id = om.org_id AND other.role = 'owner' AND other.user_id <> om.user_id) ORDER BY o.name";
});

template <class = void>
inline constexpr auto store_counts_sql = make_sql([](auto& out) {
  out << "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_keys), (SELECT count(*) FROM organizations),"
         " (SELECT count(*) FROM org_members), (SELECT count(*) FROM repositories), (SELECT count(*) FROM repo_access),"
         " (SELECT count(*) FROM ssh_keys), (SELECT count(*) FROM servers)";
});

}  // namespace cpm::detail
