// EXPLAIN QUERY PLAN of every hot query of the store, on a database with data, before and
// after ANALYZE: each is answered from indexes, none scans a table. The original system's
// GetUserRepositories, by contrast, scans repositories.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

// A store with enough rows for the planner's choices to be the real ones: 300 users, 20
// organizations, 400 repositories, memberships, grants, keys and servers.
cpm::store populated_store() {
  auto store = cpm::store::open_memory();
  cpm::transaction tx(store.db());
  for (int i = 0; i < 300; ++i)
    (void)store.create_user({.username = fmt::format("u{}", i),
                             .email = fmt::format("u{}@example.org", i),
                             .public_key = cpm_test::ssh_key(static_cast<std::uint32_t>(i))});
  for (int i = 0; i < 20; ++i) (void)store.create_organization({.name = fmt::format("o{}", i)}, 1 + i);
  for (int i = 0; i < 400; ++i)
    (void)store.create_repository(
        {.name = fmt::format("r{}", i), .org_id = 1 + i % 20, .path = fmt::format("/git/r{}", i)}, 1 + i % 300);
  for (int i = 0; i < 900; ++i) {
    std::int64_t org = 1 + i % 20, user = 21 + (i * 7) % 280;
    if (!store.org_membership(org, user)) (void)store.add_org_member(org, user, cpm::org_role::member);
    (void)store.grant_access(1 + (i * 13) % 400, 1 + (i * 11) % 300, cpm::access_level::write);
  }
  for (int i = 0; i < 5; ++i)
    (void)store.create_ssh_key(
        {.name = fmt::format("k{}", i), .public_key = cpm_test::ssh_key(1000 + i), .private_key_path = "/k"});
  for (int i = 0; i < 50; ++i)
    (void)store.create_server({.name = fmt::format("s{}", i), .host = "h.example.org", .is_neighbor = i % 10 == 0,
                               .ssh_key_id = 1 + i % 5});
  tx.commit();
  return store;
}

// No step of the plan reads a whole table (or a whole index).
bool scans_nothing(const cpm::query_plan& plan) {
  for (const auto& step : plan.steps)
    if (step.what == cpm::plan_step::kind::scan) return false;
  return true;
}

template <class Model, auto Member>
std::string_view where_sql() {
  return cpm::detail::select_where_sql<Model, cpm::field_index<Member>>.view();
}

}  // namespace

TEST_CASE("the hot queries of the store search indexes and scan nothing, before and after ANALYZE", "[query_plan]") {
  auto store = populated_store();
  auto& db = store.db();
  const bool analyzed = GENERATE(false, true);
  if (analyzed) db.exec("ANALYZE");
  INFO((analyzed ? "after ANALYZE" : "without statistics"));

  {
    INFO("user_repositories: membership by idx_org_members_user_id, grants by idx_repo_access_user_id");
    auto plan = cpm::explain(db, cpm::detail::user_repositories_sql<>.view());
    INFO(plan.text());
    CHECK(plan.searches("om", "idx_org_members_user_id"));
    CHECK(plan.searches("ra", "idx_repo_access_user_id"));
    CHECK(plan.searches("r", "idx_repositories_org_id"));
    CHECK(plan.searches("r", "rowid"));
    CHECK(plan.searches("m", "sqlite_autoindex_org_members_1"));  // NOT EXISTS: UNIQUE(org_id, user_id)
    CHECK_FALSE(plan.uses_temp_btree());  // UNION ALL, no ORDER BY: nothing sorted or deduplicated
    CHECK(scans_nothing(plan));
  }
  {
    INFO("access_level: point lookups in the UNIQUE indexes and the repository by rowid");
    auto plan = cpm::explain(db, cpm::detail::access_level_sql<>.view());
    INFO(plan.text());
    CHECK(plan.searches("ra", "sqlite_autoindex_repo_access_1"));
    CHECK(plan.searches("om", "sqlite_autoindex_org_members_1"));
    CHECK(plan.searches("r", "rowid"));
    CHECK(scans_nothing(plan));
    for (const auto& step : plan.steps) {
      if (step.table == "ra") CHECK_THAT(step.detail, Catch::Contains("repo_id=? AND user_id=?"));
      if (step.table == "om") CHECK_THAT(step.detail, Catch::Contains("org_id=? AND user_id=?"));
    }
  }
  {
    INFO("org_members: the organization's rows by its UNIQUE index, each user by rowid");
    auto plan = cpm::explain(db, cpm::detail::org_members_sql<>.view());
    INFO(plan.text());
    CHECK(plan.searches("om", "sqlite_autoindex_org_members_1"));
    CHECK(plan.searches("u", "rowid"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("user_by_public_key: the UNIQUE key of user_keys, the user by rowid");
    auto plan = cpm::explain(db, cpm::detail::user_by_key_sql<>.view());
    INFO(plan.text());
    CHECK(plan.searches("k", "sqlite_autoindex_user_keys_1"));
    CHECK(plan.searches("u", "rowid"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("user_by_public_key, a key the original system wrote: one range of idx_users_public_key");
    auto plan = cpm::explain(db, cpm::detail::user_by_original_key_sql<>.view());
    INFO(plan.text());
    CHECK(plan.searches("users", "idx_users_public_key"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("user_by_fingerprint: the UNIQUE fingerprint of user_keys, the user by rowid");
    auto plan = cpm::explain(db, cpm::detail::user_by_fingerprint_sql<>.view());
    INFO(plan.text());
    CHECK(plan.searches("k", "sqlite_autoindex_user_keys_2"));
    CHECK(plan.searches("u", "rowid"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("repository_by_path: idx_repositories_path");
    auto plan = cpm::explain(db, where_sql<cpm::repository, &cpm::repository::path>());
    INFO(plan.text());
    CHECK(plan.searches("repositories", "idx_repositories_path"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("repository_by_full_name: the organization by its UNIQUE name, the repository by UNIQUE(org_id, name)");
    auto plan = cpm::explain(db, cpm::detail::repository_by_full_name_sql<>.view());
    INFO(plan.text());
    CHECK(plan.searches("o", "sqlite_autoindex_organizations_1"));
    CHECK(plan.searches("r", "sqlite_autoindex_repositories_1"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("user_organizations: the user's memberships by idx_org_members_user_id, each organization by rowid");
    auto plan = cpm::explain(db, cpm::detail::user_organizations_sql<>.view());
    INFO(plan.text());
    CHECK(plan.searches("om", "idx_org_members_user_id"));
    CHECK(plan.searches("o", "rowid"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("user_by_name: the UNIQUE index on username");
    auto plan = cpm::explain(db, where_sql<cpm::user, &cpm::user::username>());
    INFO(plan.text());
    CHECK(plan.searches("users", "sqlite_autoindex_users_1"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("organization, SSH key and server by name: their UNIQUE indexes");
    auto org = cpm::explain(db, where_sql<cpm::organization, &cpm::organization::name>());
    auto key = cpm::explain(db, where_sql<cpm::ssh_key, &cpm::ssh_key::name>());
    auto server = cpm::explain(db, where_sql<cpm::server, &cpm::server::name>());
    CHECK(org.searches("organizations", "sqlite_autoindex_organizations_1"));
    CHECK(key.searches("ssh_keys", "sqlite_autoindex_ssh_keys_1"));
    CHECK(server.searches("servers", "sqlite_autoindex_servers_1"));
    CHECK(scans_nothing(org));
    CHECK(scans_nothing(key));
    CHECK(scans_nothing(server));
  }
  {
    INFO("org_repositories: the index on org_id, already in id order");
    auto plan = cpm::explain(db, where_sql<cpm::repository, &cpm::repository::org_id>());
    INFO(plan.text());
    CHECK(plan.searches("repositories", "idx_repositories_org_id"));
    CHECK_FALSE(plan.uses_temp_btree());
    CHECK(scans_nothing(plan));
  }
  {
    INFO("repository_by_name: the UNIQUE index on (org_id, name)");
    auto plan = cpm::explain(db, "SELECT id FROM repositories WHERE org_id = ?1 AND name = ?2");
    INFO(plan.text());
    CHECK(plan.searches("repositories", "sqlite_autoindex_repositories_1"));
    CHECK(scans_nothing(plan));
    // The store's own text, by running it: it answers from the index too.
    auto store_plan = cpm::explain(
        db, std::string(cpm::sql_text::select_all<cpm::repository>.substr(
                0, cpm::sql_text::select_all<cpm::repository>.find(" ORDER BY"))) +
                " WHERE \"org_id\" = ?1 AND \"name\" = ?2");
    CHECK(store_plan.searches("repositories", "sqlite_autoindex_repositories_1"));
  }
  {
    INFO("org_membership, repo_grant, revoke_access (typed queries): the UNIQUE indexes on (org_id, user_id) and "
         "(repo_id, user_id), no sort");
    using cpm::col;
    using membership = decltype(cpm::from<cpm::org_member>.where(col<&cpm::org_member::org_id> == 1 &&
                                                                 col<&cpm::org_member::user_id> == 1));
    using grant = decltype(cpm::from<cpm::repo_access>.where(col<&cpm::repo_access::repo_id> == 1 &&
                                                             col<&cpm::repo_access::user_id> == 1));
    for (std::string_view sql : {membership::sql, grant::sql, grant::remove_sql}) {
      auto plan = cpm::explain(db, std::string(sql));
      INFO(sql << "\n" << plan.text());
      CHECK((plan.searches("org_members", "sqlite_autoindex_org_members_1") ||
             plan.searches("repo_access", "sqlite_autoindex_repo_access_1")));
      CHECK_FALSE(plan.uses_temp_btree());
      CHECK(scans_nothing(plan));
    }
  }
  {
    INFO("neighbor_servers: idx_servers_is_neighbor");
    auto plan = cpm::explain(db, where_sql<cpm::server, &cpm::server::is_neighbor>());
    INFO(plan.text());
    CHECK(plan.searches("servers", "idx_servers_is_neighbor"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("repository grants: the UNIQUE index on (repo_id, user_id) serves lookups by repo_id");
    auto plan = cpm::explain(db, where_sql<cpm::repo_access, &cpm::repo_access::repo_id>());
    INFO(plan.text());
    CHECK(plan.searches("repo_access", "sqlite_autoindex_repo_access_1"));
    CHECK(scans_nothing(plan));
  }
  {
    INFO("get by id: a rowid lookup, for every model");
    for (auto sql : {cpm::sql_text::select_by_key<cpm::user>, cpm::sql_text::select_by_key<cpm::organization>,
                     cpm::sql_text::select_by_key<cpm::repository>, cpm::sql_text::select_by_key<cpm::ssh_key>,
                     cpm::sql_text::select_by_key<cpm::server>, cpm::sql_text::select_by_key<cpm::org_member>,
                     cpm::sql_text::select_by_key<cpm::repo_access>}) {
      auto plan = cpm::explain(db, sql);
      INFO(sql << "\n" << plan.text());
      REQUIRE(plan.steps.size() == 1);
      CHECK(plan.steps[0].primary_key);
      CHECK(scans_nothing(plan));
    }
  }
  {
    INFO("a page: a rowid range in key order, no sort");
    for (auto sql : {cpm::detail::select_page_sql<cpm::user>.view(), cpm::detail::select_page_sql<cpm::repository>.view(),
                     cpm::detail::select_page_sql<cpm::repo_access>.view()}) {
      auto plan = cpm::explain(db, sql);
      INFO(sql << "\n" << plan.text());
      REQUIRE(plan.steps.size() == 1);
      CHECK(plan.steps[0].what == cpm::plan_step::kind::search);
      CHECK(plan.steps[0].primary_key);
      CHECK_THAT(plan.steps[0].detail, Catch::Contains("rowid>?"));
      CHECK_FALSE(plan.uses_temp_btree());
    }
  }
}

TEST_CASE("the original system's GetUserRepositories scans repositories, which is why it was rewritten",
          "[query_plan]") {
  auto store = populated_store();
  auto& db = store.db();
  const bool analyzed = GENERATE(false, true);
  if (analyzed) db.exec("ANALYZE");
  constexpr std::string_view original = R"sql(
      SELECT DISTINCT r.*
      FROM repositories r
      LEFT JOIN org_members om ON r.org_id = om.org_id
      LEFT JOIN repo_access ra ON r.id = ra.repo_id
      WHERE om.user_id = ? OR ra.user_id = ?)sql";
  auto plan = cpm::explain(db, original);
  INFO(plan.text());
  CHECK(plan.scans("r"));
  auto rewritten = cpm::explain(db, cpm::detail::user_repositories_sql<>.view());
  CHECK_FALSE(rewritten.scans("r"));

  // Both give the same repositories.
  for (std::int64_t user : {1, 5, 40, 150, 299}) {
    INFO("user " << user);
    std::vector<std::int64_t> a, b;
    for (const auto& r : cpm::query<cpm::repository>(db, std::string(original) + " ORDER BY r.id", user, user)) a.push_back(r.id);
    for (const auto& r : store.user_repositories(user)) b.push_back(r.id);
    std::sort(b.begin(), b.end());  // user_repositories gives each once, in no particular order
    CHECK(std::adjacent_find(b.begin(), b.end()) == b.end());
    CHECK(a == b);
    CHECK_FALSE(b.empty());
  }
}

TEST_CASE("without idx_org_members_user_id the membership half of user_repositories would scan", "[query_plan]") {
  // The index the original schema lacked earns its place: drop it and the plan degrades.
  auto store = populated_store();
  auto& db = store.db();
  db.exec("DROP INDEX idx_org_members_user_id");
  auto plan = cpm::explain(db, cpm::detail::user_repositories_sql<>.view());
  INFO(plan.text());
  CHECK_FALSE(plan.searches("om", "idx_org_members_user_id"));
  CHECK_FALSE(scans_nothing(plan));
}
