// cpm: the store's models against the store's tables.
//
//   cpm::check_store_schema(store.db());  // throws cpm::schema_mismatch naming every difference
//
// The schema is the original system's DDL (cpm/store/schema.hpp), not generated from the
// models, so this is what says they still agree: every field has a column of a compatible
// type and nullability (its DATETIME columns are NUMERIC, which keeps cpm's timestamp text;
// BOOLEAN is NUMERIC too, which keeps integers), every key is INTEGER PRIMARY KEY, and every
// timestamp the database fills in has its DEFAULT.
#pragma once

#include <cpm/schema/check.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/store/models.hpp>

#include <utility>
#include <vector>

namespace cpm {

// Every difference between cpm's store models and their tables in `db`.
template <class = void>  // instantiated where it is called, not in every TU that includes cpm
[[nodiscard]] std::vector<schema_difference> store_schema_differences(connection& db) {
  return schema_differences<user, user_key, organization, repository, ssh_key, server, org_member, repo_access>(db);
}

// Throws cpm::schema_mismatch when the store's tables in `db` differ from its models.
template <class = void>
void check_store_schema(connection& db) {
  auto found = store_schema_differences(db);
  if (!found.empty()) throw schema_mismatch(std::move(found));
}

}  // namespace cpm
