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

}  // namespace cpm::detail
