// cpm's schema against the original system's, as its architecture document lists it: the
// seven tables with the same names, columns, types, defaults, NOT NULLs, CHECKs, UNIQUEs and
// foreign-key actions; the indexes of version 2; the models naming exactly those columns.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

struct column {
  std::string name;
  std::string type;
  bool not_null = false;
  std::optional<std::string> default_value;
  int pk = 0;
  bool operator==(const column&) const = default;
};

struct foreign_key {
  std::string from;
  std::string table;
  std::string to;
  std::string on_delete;
  bool operator==(const foreign_key&) const = default;
};

std::vector<column> columns_of(cpm::connection& db, std::string_view table) {
  auto stmt = db.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid");
  stmt.bind(table);
  std::vector<column> out;
  while (stmt.step())
    out.push_back({stmt.column<std::string>(0), stmt.column<std::string>(1), stmt.column<int>(2) != 0,
                   stmt.column<std::optional<std::string>>(3), stmt.column<int>(4)});
  return out;
}

std::vector<foreign_key> foreign_keys_of(cpm::connection& db, std::string_view table) {
  auto stmt = db.prepare("SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY \"from\"");
  stmt.bind(table);
  std::vector<foreign_key> out;
  while (stmt.step())
    out.push_back({stmt.column<std::string>(0), stmt.column<std::string>(1), stmt.column<std::string>(2),
                   stmt.column<std::string>(3)});
  return out;
}

// The column lists of the table's UNIQUE constraints, e.g. {"org_id,name"}.
std::vector<std::string> unique_constraints_of(cpm::connection& db, std::string_view table) {
  auto stmt = db.prepare(
      "SELECT (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)) "
      "FROM pragma_index_list(?) AS il WHERE il.origin = 'u' ORDER BY 1");
  stmt.bind(table);
  std::vector<std::string> out;
  while (stmt.step()) out.push_back(stmt.column<std::string>(0));
  return out;
}

std::string table_sql(cpm::connection& db, std::string_view table) {
  auto stmt = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?");
  stmt.bind(table);
  REQUIRE(stmt.step());
  return stmt.column<std::string>(0);
}

const std::optional<std::string> none;
const std::optional<std::string> now = "CURRENT_TIMESTAMP";

template <class Model>
std::vector<std::string> model_columns() {
  const auto& names = cpm::model_info<Model>::columns;
  return {names.begin(), names.end()};
}

std::vector<std::string> names_of(const std::vector<column>& columns) {
  std::vector<std::string> out;
  for (const auto& c : columns) out.push_back(c.name);
  return out;
}

}  // namespace

TEST_CASE("the seven tables have the original system's columns, types, defaults and NOT NULLs", "[schema]") {
  auto store = cpm::store::open_memory();
  auto& db = store.db();
  CHECK(columns_of(db, "users") == std::vector<column>{{"id", "INTEGER", false, none, 1},
                                                       {"username", "TEXT", true, none, 0},
                                                       {"email", "TEXT", true, none, 0},
                                                       {"public_key", "TEXT", false, none, 0},
                                                       {"created_at", "DATETIME", false, now, 0}});
  CHECK(columns_of(db, "organizations") == std::vector<column>{{"id", "INTEGER", false, none, 1},
                                                               {"name", "TEXT", true, none, 0},
                                                               {"description", "TEXT", false, none, 0},
                                                               {"created_at", "DATETIME", false, now, 0}});
  CHECK(columns_of(db, "repositories") == std::vector<column>{{"id", "INTEGER", false, none, 1},
                                                              {"name", "TEXT", true, none, 0},
                                                              {"org_id", "INTEGER", true, none, 0},
                                                              {"path", "TEXT", true, none, 0},
                                                              {"description", "TEXT", false, none, 0},
                                                              {"created_at", "DATETIME", false, now, 0}});
  CHECK(columns_of(db, "ssh_keys") == std::vector<column>{{"id", "INTEGER", false, none, 1},
                                                          {"name", "TEXT", true, none, 0},
                                                          {"public_key", "TEXT", true, none, 0},
                                                          {"private_key_path", "TEXT", true, none, 0},
                                                          {"created_at", "DATETIME", false, now, 0}});
  CHECK(columns_of(db, "servers") == std::vector<column>{{"id", "INTEGER", false, none, 1},
                                                         {"name", "TEXT", true, none, 0},
                                                         {"host", "TEXT", true, none, 0},
                                                         {"port", "INTEGER", true, "22", 0},
                                                         {"is_neighbor", "BOOLEAN", true, "0", 0},
                                                         {"ssh_key_id", "INTEGER", false, none, 0},
                                                         {"created_at", "DATETIME", false, now, 0}});
  CHECK(columns_of(db, "repo_access") == std::vector<column>{{"id", "INTEGER", false, none, 1},
                                                             {"repo_id", "INTEGER", true, none, 0},
                                                             {"user_id", "INTEGER", true, none, 0},
                                                             {"access_level", "TEXT", true, none, 0}});
  CHECK(columns_of(db, "org_members") == std::vector<column>{{"id", "INTEGER", false, none, 1},
                                                             {"org_id", "INTEGER", true, none, 0},
                                                             {"user_id", "INTEGER", true, none, 0},
                                                             {"role", "TEXT", true, none, 0},
                                                             {"joined_at", "DATETIME", false, now, 0}});
  for (auto table : {"users", "organizations", "repositories", "ssh_keys", "servers", "repo_access", "org_members"}) {
    INFO(table);
    CHECK_THAT(table_sql(db, table), Catch::Contains("id INTEGER PRIMARY KEY AUTOINCREMENT"));
  }
  // No org_repos table: repositories.org_id is that relation.
  CHECK_FALSE(cpm_test::has_schema_object(db, "table", "org_repos"));
}

TEST_CASE("the tables have the original UNIQUE constraints and foreign-key actions", "[schema]") {
  auto store = cpm::store::open_memory();
  auto& db = store.db();
  CHECK(unique_constraints_of(db, "users") == std::vector<std::string>{"username"});
  CHECK(unique_constraints_of(db, "organizations") == std::vector<std::string>{"name"});
  CHECK(unique_constraints_of(db, "repositories") == std::vector<std::string>{"org_id,name"});
  CHECK(unique_constraints_of(db, "ssh_keys") == std::vector<std::string>{"name"});
  CHECK(unique_constraints_of(db, "servers") == std::vector<std::string>{"name"});
  CHECK(unique_constraints_of(db, "repo_access") == std::vector<std::string>{"repo_id,user_id"});
  CHECK(unique_constraints_of(db, "org_members") == std::vector<std::string>{"org_id,user_id"});

  CHECK(foreign_keys_of(db, "users").empty());
  CHECK(foreign_keys_of(db, "organizations").empty());
  CHECK(foreign_keys_of(db, "ssh_keys").empty());
  CHECK(foreign_keys_of(db, "repositories") == std::vector<foreign_key>{{"org_id", "organizations", "id", "CASCADE"}});
  CHECK(foreign_keys_of(db, "servers") == std::vector<foreign_key>{{"ssh_key_id", "ssh_keys", "id", "SET NULL"}});
  CHECK(foreign_keys_of(db, "repo_access") ==
        std::vector<foreign_key>{{"repo_id", "repositories", "id", "CASCADE"}, {"user_id", "users", "id", "CASCADE"}});
  CHECK(foreign_keys_of(db, "org_members") ==
        std::vector<foreign_key>{{"org_id", "organizations", "id", "CASCADE"}, {"user_id", "users", "id", "CASCADE"}});
}

TEST_CASE("the CHECK constraints on role and access_level hold", "[schema]") {
  auto store = cpm::store::open_memory();
  auto& db = store.db();
  CHECK_THAT(table_sql(db, "org_members"), Catch::Contains("CHECK(role IN ('owner', 'admin', 'member'))"));
  CHECK_THAT(table_sql(db, "repo_access"), Catch::Contains("CHECK(access_level IN ('read', 'write', 'admin'))"));
  auto u = store.create_user({.username = "u", .email = "u@example.org"});
  auto o = store.create_organization({.name = "o"});
  auto r = store.create_repository({.name = "r", .org_id = o.id, .path = "/r"});
  CHECK_THROWS_AS(cpm::execute(db, "INSERT INTO org_members(org_id, user_id, role) VALUES (?, ?, 'boss')", o.id, u.id),
                  cpm::check_violation);
  CHECK_THROWS_AS(
      cpm::execute(db, "INSERT INTO repo_access(repo_id, user_id, access_level) VALUES (?, ?, 'Admin')", r.id, u.id),
      cpm::check_violation);
  CHECK(cpm_test::count_rows(db, "org_members") == 0);
  CHECK(cpm_test::count_rows(db, "repo_access") == 0);
}

TEST_CASE("roles and access levels are stored as the original system's words", "[schema]") {
  auto store = cpm::store::open_memory();
  auto& db = store.db();
  auto u = store.create_user({.username = "u", .email = "u@example.org"});
  auto o = store.create_organization({.name = "o"});
  auto r = store.create_repository({.name = "r", .org_id = o.id, .path = "/r"});
  // (Ending with owner: the last owner of an organization cannot be demoted.)
  const std::tuple<cpm::org_role, const char*> roles[] = {
      {cpm::org_role::admin, "admin"}, {cpm::org_role::member, "member"}, {cpm::org_role::owner, "owner"}};
  const std::tuple<cpm::access_level, const char*> levels[] = {
      {cpm::access_level::read, "read"}, {cpm::access_level::write, "write"}, {cpm::access_level::admin, "admin"}};
  (void)store.add_org_member(o.id, u.id, cpm::org_role::member);
  for (const auto& [role, word] : roles) {
    (void)store.set_org_role(o.id, u.id, role);
    CHECK(cpm::query<std::string>(db, "SELECT role FROM org_members").one() == word);
  }
  for (const auto& [level, word] : levels) {
    (void)store.grant_access(r.id, u.id, level);
    CHECK(cpm::query<std::string>(db, "SELECT access_level FROM repo_access").one() == word);
  }
  // And a row written by other code in those words reads back as the enum.
  auto v = store.create_user({.username = "v", .email = "v@example.org"});
  (void)store.add_org_member(o.id, v.id, cpm::org_role::owner);
  cpm::execute(db, "UPDATE org_members SET role = 'admin' WHERE user_id = ?", u.id);
  CHECK(store.org_membership(o.id, u.id)->role == cpm::org_role::admin);
  // Access levels are ordered: more is more.
  CHECK(cpm::access_level::read < cpm::access_level::write);
  CHECK(cpm::access_level::write < cpm::access_level::admin);
}

TEST_CASE("the indexes are the original four less the redundant one, plus the two the queries need", "[schema]") {
  auto store = cpm::store::open_memory();
  auto& db = store.db();
  std::vector<std::string> created;
  auto stmt = db.prepare(
      "SELECT il.name || ' ON ' || m.name || '(' || "
      "(SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)) || ')' "
      "FROM sqlite_schema AS m, pragma_index_list(m.name) AS il WHERE m.type = 'table' AND il.origin = 'c' ORDER BY 1");
  while (stmt.step()) created.push_back(stmt.column<std::string>(0));
  CHECK(created == std::vector<std::string>{"idx_org_members_user_id ON org_members(user_id)",
                                            "idx_organizations_name_nocase ON organizations(name)",
                                            "idx_repo_access_user_id ON repo_access(user_id)",
                                            "idx_repositories_org_id ON repositories(org_id)",
                                            "idx_repositories_path ON repositories(path)",
                                            "idx_servers_is_neighbor ON servers(is_neighbor)",
                                            "idx_users_public_key ON users(public_key)",
                                            "idx_users_username_nocase ON users(username)"});
}

TEST_CASE("each model names exactly its table's columns, in order", "[schema]") {
  auto store = cpm::store::open_memory();
  auto& db = store.db();
  CHECK(cpm::model_info<cpm::user>::table == "users");
  CHECK(model_columns<cpm::user>() == names_of(columns_of(db, "users")));
  CHECK(cpm::model_info<cpm::organization>::table == "organizations");
  CHECK(model_columns<cpm::organization>() == names_of(columns_of(db, "organizations")));
  CHECK(cpm::model_info<cpm::repository>::table == "repositories");
  CHECK(model_columns<cpm::repository>() == names_of(columns_of(db, "repositories")));
  CHECK(cpm::model_info<cpm::ssh_key>::table == "ssh_keys");
  CHECK(model_columns<cpm::ssh_key>() == names_of(columns_of(db, "ssh_keys")));
  CHECK(cpm::model_info<cpm::server>::table == "servers");
  CHECK(model_columns<cpm::server>() == names_of(columns_of(db, "servers")));
  CHECK(cpm::model_info<cpm::repo_access>::table == "repo_access");
  CHECK(model_columns<cpm::repo_access>() == names_of(columns_of(db, "repo_access")));
  CHECK(cpm::model_info<cpm::org_member>::table == "org_members");
  CHECK(model_columns<cpm::org_member>() == names_of(columns_of(db, "org_members")));
}

TEST_CASE("the store's schema is the original DDL: a database made by it differs only by the version 2 indexes",
          "[schema]") {
  // Built from the original DDL and then migrated, or built by the store from nothing: the
  // same tables, word for word.
  auto fresh = cpm::store::open_memory();
  auto original = cpm::connection::open_memory();
  original.exec(cpm::original_schema_sql);
  for (auto table : {"users", "organizations", "repositories", "ssh_keys", "servers", "repo_access", "org_members"}) {
    INFO(table);
    CHECK(table_sql(fresh.db(), table) == table_sql(original, table));
  }
}
