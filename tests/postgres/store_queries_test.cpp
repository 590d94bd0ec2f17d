// The store's query patterns on PostgreSQL (cpm/postgres/store_queries.hpp) on a populated
// store schema: the same results as a reference computed in C++ from the tables' rows (and, for
// user_repositories, as the original system's LEFT JOIN ... OR query), and EXPLAIN plans that
// read the big tables through their indexes only: no Seq Scan, with the planner left to its own
// choices (enable_seqscan stays on; the tables are large enough, 20,000 users and repositories,
// 4,000 organizations, 40,000 memberships and grants, for an index to win on cost; with 400
// organizations of 50 repositories and 100 members the planner rightly reads that table, and
// users for an organization's members, whole and hashes them), after ANALYZE, both as a custom
// plan (the parameters' values known) and as the generic plan a prepared statement settles on.
#include "pg_support.hpp"

#include <cpm/postgres/store_queries.hpp>
#include <cpm/postgres/store_schema.hpp>

#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

using Catch::Matchers::Contains;

namespace {

constexpr int users = 20000;
constexpr int organizations = 4000;
constexpr int repositories = 20000;

// Every user is in two organizations (one in 50 an owner, one in 10 an admin), holds two direct
// grants and one key (users.public_key mirrors it, with a comment for one user in 3); every
// organization has 5 repositories and 10 members.
void populate(cpm::pg::connection& db) {
  (void)cpm::pg::migrate_store(db);
  db.exec(fmt::format(R"sql(
    INSERT INTO users (username, email, public_key)
      SELECT 'user' || u, 'user' || u || '@example.org', '' FROM generate_series(1, {0}) AS u;
    INSERT INTO organizations (name, description) SELECT 'org' || o, '' FROM generate_series(1, {1}) AS o;
    INSERT INTO repositories (name, org_id, path, description)
      SELECT 'repo' || r, 1 + r % {1}, '/git/org' || (1 + r % {1}) || '/repo' || r, ''
      FROM generate_series(1, {2}) AS r;
    INSERT INTO org_members (org_id, user_id, role)
      SELECT 1 + (u * 7 + k * 13) % {1}, u,
             CASE WHEN k = 0 AND u % 50 = 0 THEN 'owner' WHEN u % 10 = 0 THEN 'admin' ELSE 'member' END
      FROM generate_series(1, {0}) AS u, generate_series(0, 1) AS k;
    INSERT INTO repo_access (repo_id, user_id, access_level)
      SELECT 1 + (u * 31 + k * 17) % {2}, u, CASE k WHEN 0 THEN 'read' ELSE 'admin' END
      FROM generate_series(1, {0}) AS u, generate_series(0, 1) AS k;
    INSERT INTO user_keys (user_id, name, public_key, fingerprint)
      SELECT u, 'default', 'ssh-ed25519 AAAA' || md5('key' || u), 'SHA256:' || md5('fp' || u)
      FROM generate_series(1, {0}) AS u;
    UPDATE users SET public_key = 'ssh-ed25519 AAAA' || md5('key' || id) || CASE WHEN id % 3 = 0 THEN ' old@laptop' ELSE '' END;
    INSERT INTO ssh_keys (name, public_key, private_key_path)
      SELECT 'k' || i, 'ssh-ed25519 K' || i, '/k' || i FROM generate_series(1, 5) AS i;
    INSERT INTO servers (name, host, is_neighbor, ssh_key_id)
      SELECT 's' || i, 'h.example.org', i % 10 = 0, 1 + i % 5 FROM generate_series(1, 50) AS i;
    ANALYZE;
  )sql",
                      users, organizations, repositories));
}

// The plan of `sql` run with `args` (SQL literals), as a custom or as the generic plan.
std::string plan_of(cpm::pg::connection& db, std::string_view sql, std::string_view args, bool generic) {
  db.exec(generic ? "SET plan_cache_mode = force_generic_plan" : "SET plan_cache_mode = force_custom_plan");
  db.exec("PREPARE explained AS " + std::string(sql));
  std::string text;
  for (const auto& line : db.query<std::string>("EXPLAIN (COSTS OFF) EXECUTE explained(" + std::string(args) + ")"))
    text += line + "\n";
  db.exec("DEALLOCATE explained");
  db.exec("RESET plan_cache_mode");
  return text;
}

bool reads_by_index(const std::string& plan, std::string_view index) {
  auto has = [&](std::string_view what) {
    const std::string needle = std::string(what) + std::string(index);
    for (auto at = plan.find(needle); at != std::string::npos; at = plan.find(needle, at + 1)) {
      const char next = at + needle.size() < plan.size() ? plan[at + needle.size()] : '\n';
      if (next == ' ' || next == '\n') return true;
    }
    return false;
  };
  return has("Index Scan using ") || has("Index Only Scan using ") || has("Bitmap Index Scan on ");
}

bool seq_scan(const std::string& plan) { return plan.find("Seq Scan") != std::string::npos; }

struct tables {
  std::map<std::int64_t, std::int64_t> repo_org;                      // repository -> organization
  std::map<std::int64_t, std::set<std::int64_t>> user_orgs;           // user -> organizations
  std::map<std::int64_t, std::map<std::int64_t, std::string>> roles;  // organization -> user -> role
  std::map<std::int64_t, std::vector<std::int64_t>> grants;           // user -> repositories
  std::map<std::pair<std::int64_t, std::int64_t>, std::string> grant_level;
};

tables read_tables(cpm::pg::connection& db) {
  tables t;
  for (auto [id, org] : db.query<std::tuple<std::int64_t, std::int64_t>>("SELECT id, org_id FROM repositories"))
    t.repo_org[id] = org;
  for (auto [org, user, role] :
       db.query<std::tuple<std::int64_t, std::int64_t, std::string>>("SELECT org_id, user_id, role FROM org_members")) {
    t.user_orgs[user].insert(org);
    t.roles[org][user] = role;
  }
  for (auto [repo, user, level] : db.query<std::tuple<std::int64_t, std::int64_t, std::string>>(
           "SELECT repo_id, user_id, access_level FROM repo_access")) {
    t.grants[user].push_back(repo);
    t.grant_level[{user, repo}] = level;
  }
  return t;
}

// user_repositories by its definition: the repositories of the user's organizations, and
// those granted directly; each once, by id.
std::vector<std::int64_t> expected_repositories(const tables& t, std::int64_t user) {
  std::set<std::int64_t> ids;
  auto orgs = t.user_orgs.count(user) ? t.user_orgs.at(user) : std::set<std::int64_t>{};
  for (const auto& [repo, org] : t.repo_org)
    if (orgs.count(org)) ids.insert(repo);
  if (t.grants.count(user))
    for (auto repo : t.grants.at(user)) ids.insert(repo);
  return {ids.begin(), ids.end()};
}

constexpr std::int64_t sample_users[] = {1, 2, 50, 777, 10000, 19999, 20000};

}  // namespace

TEST_CASE("the store's query patterns give the reference results on PostgreSQL", "[pg][store_queries]") {
  pg_test::scratch s;
  auto db = s.open();
  populate(db);
  const auto t = read_tables(db);
  // A user with no membership and no grant reaches nothing.
  db.exec("INSERT INTO users (id, username, email) VALUES (900000, 'loner', 'l@example.org')");

  for (std::int64_t user : sample_users) {
    INFO("user " << user);
    std::vector<std::int64_t> got;
    for (const auto& r : db.query<cpm::repository>(cpm::pg::store_sql::user_repositories<>.view(), user)) {
      CHECK(r.org_id == t.repo_org.at(r.id));
      got.push_back(r.id);
    }
    std::sort(got.begin(), got.end());
    CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());  // each once
    CHECK(got == expected_repositories(t, user));
    CHECK(got.size() >= 10);  // two organizations of 5 repositories, and grants
    // The original system's query agrees.
    auto original = db.query<std::int64_t>(
        "SELECT DISTINCT r.id FROM repositories r LEFT JOIN org_members om ON r.org_id = om.org_id "
        "LEFT JOIN repo_access ra ON r.id = ra.repo_id WHERE om.user_id = $1 OR ra.user_id = $1 ORDER BY r.id",
        user);
    CHECK(original == got);

    // The user's organizations, by name, with roles.
    std::vector<std::tuple<std::int64_t, std::string>> orgs;
    for (auto org : t.user_orgs.at(user)) orgs.emplace_back(org, t.roles.at(org).at(user));
    std::sort(orgs.begin(), orgs.end(), [](const auto& a, const auto& b) {
      return "org" + std::to_string(std::get<0>(a)) < "org" + std::to_string(std::get<0>(b));
    });
    std::vector<std::tuple<std::int64_t, std::string>> got_orgs;
    for (const auto& m : db.query<cpm::membership_info>(cpm::pg::store_sql::user_organizations<>.view(), user))
      got_orgs.emplace_back(m.org_id, m.role == cpm::org_role::owner   ? "owner"
                                       : m.role == cpm::org_role::admin ? "admin"
                                                                        : "member");
    CHECK(got_orgs == orgs);

    // By id, by name (exact, and regardless of case), by key and by fingerprint.
    const std::string name = "user" + std::to_string(user);
    auto by_id = db.query_optional<cpm::user>(cpm::pg::store_sql::user_by_id<>.view(), user);
    REQUIRE(by_id);
    CHECK(by_id->username == name);
    CHECK(db.query_one<cpm::user>(cpm::pg::store_sql::user_by_name<>.view(), name).id == user);
    CHECK_FALSE(db.query_optional<cpm::user>(cpm::pg::store_sql::user_by_name<>.view(), "USER" + std::to_string(user)));
    CHECK(db.query_one<cpm::user>(cpm::pg::store_sql::user_by_name_nocase<>.view(), "USER" + std::to_string(user)).id ==
          user);
    auto fingerprint = db.query_one<std::string>("SELECT 'SHA256:' || md5('fp' || $1::bigint)", user);
    auto key = db.query_one<std::string>("SELECT 'ssh-ed25519 AAAA' || md5('key' || $1::bigint)", user);
    CHECK(db.query_one<cpm::user>(cpm::pg::store_sql::user_by_fingerprint<>.view(), fingerprint).id == user);
    CHECK(db.query_one<cpm::user>(cpm::pg::store_sql::user_by_key<>.view(), key).id == user);

    // The effective access to a granted repository and to one of the user's organizations.
    for (auto repo : t.grants.at(user)) {
      int expected = t.grant_level.at({user, repo}) == "admin" ? 3 : 1;
      const auto org = t.repo_org.at(repo);
      if (t.user_orgs.at(user).count(org)) {
        const auto& role = t.roles.at(org).at(user);
        expected = std::max(expected, role == "member" ? 1 : 3);
      }
      CHECK(db.query_one<std::optional<int>>(cpm::pg::store_sql::access_level_of<>.view(), user, repo) == expected);
    }
  }
  CHECK(db.query<cpm::repository>(cpm::pg::store_sql::user_repositories<>.view(), std::int64_t{900000}).empty());

  // users.public_key written by the original system: the key, then perhaps a comment; a longer
  // key that starts with the same characters is another key.
  for (std::int64_t user : {3, 777, 20000}) {
    INFO("user " << user);
    auto key = db.query_one<std::string>("SELECT 'ssh-ed25519 AAAA' || md5('key' || $1::bigint)", user);
    if (user == 777)
      db.execute("INSERT INTO users (id, username, email, public_key) VALUES (900001, 'longer', 'x', $1)", key + "A");
    CHECK(db.query_one<cpm::user>(cpm::pg::store_sql::user_by_original_key<>.view(), key).id == user);
  }
  CHECK(db.query_one<cpm::user>(cpm::pg::store_sql::user_by_original_key<>.view(), std::string("ssh-ed25519 AAAA") +
                                    db.query_one<std::string>("SELECT md5('key777')") + "A")
            .id == 900001);
  CHECK_FALSE(db.query_optional<cpm::user>(cpm::pg::store_sql::user_by_original_key<>.view(), std::string("ssh-ed25519 AAAB")));

  // A user's first key, and users.public_key mirroring it.
  db.exec("INSERT INTO user_keys (user_id, name, public_key, fingerprint) VALUES (777, 'second', 'ssh-ed25519 B', 'SHA256:b')");
  auto first = db.query_one<cpm::user_key>(cpm::pg::store_sql::first_user_key<>.view(), std::int64_t{777});
  CHECK(first.name == "default");
  CHECK(first.user_id == 777);
  CHECK_FALSE(db.query_optional<cpm::user_key>(cpm::pg::store_sql::first_user_key<>.view(), std::int64_t{900000}));
  CHECK(db.execute(cpm::pg::store_sql::mirror_public_key<>.view(), std::int64_t{777}) == 1);
  CHECK(db.query_one<std::string>("SELECT public_key FROM users WHERE id = 777") == first.public_key);
  CHECK(db.execute(cpm::pg::store_sql::mirror_public_key<>.view(), std::int64_t{900000}) == 1);
  CHECK(db.query_one<std::string>("SELECT public_key FROM users WHERE id = 900000").empty());

  // The organizations a user is the only owner of.
  struct org_row {
    std::int64_t id;
    std::string name;
  };
  for (std::int64_t user : sample_users) {  // owners there share their organization with others
    std::vector<std::int64_t> expected;
    for (auto org : t.user_orgs.at(user)) {
      const auto& members = t.roles.at(org);
      if (members.at(user) != "owner") continue;
      bool other = false;
      for (const auto& [member, role] : members) other = other || (member != user && role == "owner");
      if (!other) expected.push_back(org);
    }
    std::vector<std::int64_t> got;
    for (const auto& o : db.query<org_row>(cpm::pg::store_sql::sole_owner_of<>.view(), user)) got.push_back(o.id);
    CHECK(got == expected);
  }

  db.exec("INSERT INTO organizations (id, name) VALUES (900000, 'zz-sole'), (900001, 'zz-shared');"
          "INSERT INTO org_members (org_id, user_id, role) VALUES (900000, 777, 'owner'), (900001, 777, 'owner'),"
          " (900001, 778, 'owner'), (900000, 779, 'admin')");
  auto sole = db.query<org_row>(cpm::pg::store_sql::sole_owner_of<>.view(), std::int64_t{777});
  REQUIRE(sole.size() == 1);
  CHECK(sole[0].id == 900000);
  CHECK(sole[0].name == "zz-sole");
  // The tables' sizes.
  auto counts = db.query_one<cpm::store_counts>(cpm::by_position, cpm::pg::store_sql::store_counts<>.view());
  CHECK(counts.users == users + 2);
  CHECK(counts.user_keys == users + 1);
  CHECK(counts.organizations == organizations + 2);
  CHECK(counts.org_members == 2 * users + 4);
  CHECK(counts.repositories == repositories);
  CHECK(counts.repo_access == 2 * users);
  CHECK(counts.ssh_keys == 5);
  CHECK(counts.servers == 50);
  CHECK_FALSE(db.query_one<std::optional<int>>(cpm::pg::store_sql::access_level_of<>.view(), std::int64_t{900000},
                                               std::int64_t{1}));
  CHECK_FALSE(db.query_optional<cpm::user>(cpm::pg::store_sql::user_by_fingerprint<>.view(), std::string("SHA256:none")));

  // An organization's members: owners, admins, members, each by username (bytewise).
  for (std::int64_t org : {1, 7, 4000}) {
    INFO("organization " << org);
    std::vector<std::tuple<int, std::string, std::int64_t>> expected;
    for (const auto& [user, role] : t.roles.at(org))
      expected.emplace_back(role == "owner" ? 0 : role == "admin" ? 1 : 2, "user" + std::to_string(user), user);
    std::sort(expected.begin(), expected.end());
    std::vector<std::int64_t> want, got;
    for (const auto& e : expected) want.push_back(std::get<2>(e));
    for (const auto& m : db.query<cpm::member_info>(cpm::pg::store_sql::org_members<>.view(), org)) got.push_back(m.user_id);
    CHECK(got == want);
    CHECK(got.size() >= 5);
  }

  // A repository by path and by organization and name.
  for (std::int64_t repo : {1, 4321, 20000}) {
    const auto org = t.repo_org.at(repo);
    const auto path = "/git/org" + std::to_string(org) + "/repo" + std::to_string(repo);
    CHECK(db.query_one<cpm::repository>(cpm::pg::store_sql::repository_by_path<>.view(), path).id == repo);
    CHECK(db.query_one<cpm::repository>(cpm::pg::store_sql::repository_by_full_name<>.view(),
                                        "org" + std::to_string(org), "repo" + std::to_string(repo))
              .id == repo);
  }
  CHECK_FALSE(db.query_optional<cpm::repository>(cpm::pg::store_sql::repository_by_path<>.view(), std::string("/nowhere")));
}

TEST_CASE("the store's query patterns read the big tables by index, never a Seq Scan", "[pg][store_queries]") {
  pg_test::scratch s;
  auto db = s.open();
  populate(db);
  const bool generic = GENERATE(false, true);
  INFO((generic ? "the generic plan" : "a custom plan"));
  using namespace cpm::pg::store_sql;

  struct expectation {
    std::string_view name;
    std::string_view sql;
    std::string_view args;
    std::vector<std::string_view> indexes;
  };
  const expectation cases[] = {
      {"user_repositories", user_repositories<>.view(), "777",
       {"idx_org_members_user_id", "idx_repo_access_user_id", "idx_repositories_org_id", "repositories_pkey",
        "org_members_org_id_user_id_key"}},
      {"org_members", org_members<>.view(), "7", {"org_members_org_id_user_id_key", "users_pkey"}},
      {"user_by_id", user_by_id<>.view(), "777", {"users_pkey"}},
      {"user_by_name", user_by_name<>.view(), "'user777'", {"users_username_key"}},
      {"user_by_name_nocase", user_by_name_nocase<>.view(), "'USER777'", {"idx_users_username_nocase"}},
      {"user_by_key", user_by_key<>.view(), "'ssh-ed25519 AAAA0'", {"user_keys_public_key_key", "users_pkey"}},
      {"user_by_fingerprint", user_by_fingerprint<>.view(), "'SHA256:x'", {"user_keys_fingerprint_key", "users_pkey"}},
      {"repository_by_path", repository_by_path<>.view(), "'/git/org2/repo1'", {"idx_repositories_path"}},
      {"repository_by_full_name", repository_by_full_name<>.view(), "'org2', 'repo1'",
       {"organizations_name_key", "repositories_org_id_name_key"}},
      {"user_organizations", user_organizations<>.view(), "777", {"idx_org_members_user_id", "organizations_pkey"}},
      {"access_level_of", access_level_of<>.view(), "777, 1",
       {"repo_access_repo_id_user_id_key", "org_members_org_id_user_id_key", "repositories_pkey"}},
      {"user_by_original_key", user_by_original_key<>.view(), "'ssh-ed25519 AAAA0'", {"idx_users_public_key"}},
      {"first_user_key", first_user_key<>.view(), "777", {"user_keys_user_id_name_key"}},
      {"mirror_public_key (EXPLAIN without ANALYZE: not run)", mirror_public_key<>.view(), "777",
       {"users_pkey", "user_keys_user_id_name_key"}},
      {"sole_owner_of", sole_owner_of<>.view(), "50",
       {"idx_org_members_user_id", "org_members_org_id_user_id_key", "organizations_pkey"}},
  };
  for (const auto& c : cases) {
    auto plan = plan_of(db, c.sql, c.args, generic);
    INFO(c.name << "\n" << plan);
    CHECK_FALSE(seq_scan(plan));
    for (auto index : c.indexes) {
      INFO("index " << index);
      CHECK(reads_by_index(plan, index));
    }
  }
  // user_repositories neither sorts nor deduplicates: UNION ALL, an anti-join by index.
  auto plan = plan_of(db, user_repositories<>.view(), "777", generic);
  INFO(plan);
  CHECK_THAT(plan, !Contains("Sort") && !Contains("Unique") && !Contains("HashAggregate"));
  CHECK_THAT(plan, Contains("Append") && Contains("Anti Join"));
}

TEST_CASE("the plan check can fail: the original query and a dropped index both scan", "[pg][store_queries]") {
  pg_test::scratch s;
  auto db = s.open();
  populate(db);
  // The original system's GetUserRepositories cannot use an index on either side of its OR.
  auto original = plan_of(db,
                          "SELECT DISTINCT r.* FROM repositories r LEFT JOIN org_members om ON r.org_id = om.org_id "
                          "LEFT JOIN repo_access ra ON r.id = ra.repo_id WHERE om.user_id = $1 OR ra.user_id = $1",
                          "777", false);
  INFO(original);
  CHECK(seq_scan(original));
  // Without idx_org_members_user_id the membership half of user_repositories reads all of
  // org_members (rolled back: PostgreSQL's DDL is transactional).
  {
    cpm::pg::transaction tx(db);
    db.exec("DROP INDEX idx_org_members_user_id");
    auto plan = plan_of(db, cpm::pg::store_sql::user_repositories<>.view(), "777", false);
    INFO(plan);
    CHECK_FALSE(reads_by_index(plan, "idx_org_members_user_id"));
    CHECK_THAT(plan, Contains("Seq Scan on org_members om"));
  }
  CHECK(db.query_one<bool>("SELECT to_regclass('idx_org_members_user_id') IS NOT NULL"));
}
