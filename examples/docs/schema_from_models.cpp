// The code of docs/schema-from-models.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

// [snippet:models]
struct org {
  std::int64_t id = 0;
  std::string name{};
  std::optional<std::chrono::sys_seconds> created_at{};
};

struct repo {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name{};
  std::optional<std::string> description{};
};

template <>
struct cpm::model_traits<org> {
  static constexpr std::string_view table = "orgs";
  static constexpr auto defaults = std::tuple{&org::created_at};  // left to the database when empty...
  static constexpr auto default_values =                           // ...which fills it in with this
      std::tuple{cpm::sql_default<&org::created_at>{"CURRENT_TIMESTAMP"}};
  static constexpr auto unique = std::tuple{cpm::unique_key<&org::name>{}};
};

template <>
struct cpm::model_traits<repo> {
  static constexpr std::string_view table = "repos";
  static constexpr auto unique = std::tuple{cpm::unique_key<&repo::org_id, &repo::name>{}};  // together
  static constexpr auto foreign_keys =
      std::tuple{cpm::foreign_key<&repo::org_id, &org::id>{.on_delete = cpm::fk_action::cascade}};
};
// [end:models]

// [snippet:create_table_sql]
static_assert(cpm::create_table_sql<org> ==
              R"(CREATE TABLE "orgs" ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL UNIQUE, )"
              R"("created_at" TEXT DEFAULT CURRENT_TIMESTAMP))");
static_assert(cpm::create_table_sql<repo> ==
              R"(CREATE TABLE "repos" ("id" INTEGER PRIMARY KEY, )"
              R"("org_id" INTEGER NOT NULL REFERENCES "orgs" ("id") ON DELETE CASCADE, )"
              R"("name" TEXT NOT NULL, "description" TEXT, UNIQUE ("org_id", "name")))");
// [end:create_table_sql]

// [snippet:sql_type]
struct money {
  std::int64_t cents = 0;
};

template <>
struct cpm::value_traits<money> {
  static constexpr std::string_view sql_type = "INTEGER";  // what create_table_sql declares
  static void bind(const cpm::parameter& p, const money& m) { p.integer(m.cents); }
  static void read(const cpm::field& f, money& out) { out.cents = f.integer(); }
};
// [end:sql_type]

struct invoice {
  std::int64_t id = 0;
  money total{};
};
static_assert(cpm::create_table_sql<invoice> ==
              R"(CREATE TABLE "invoice" ("id" INTEGER PRIMARY KEY, "total" INTEGER NOT NULL))");

// [snippet:named_row]
struct repo_count {  // filled by columns named "org" and "repos", in that order
  std::string org{};
  std::int64_t repos = 0;
};
// [end:named_row]

struct ab {
  std::int64_t a = 0;
  std::int64_t b = 0;
};

int main() try {
  auto db = cpm::connection::open_memory();

  // [snippet:migrate]
  static const cpm::migration steps[] = {
      {1, "orgs and repos", {}, [](cpm::connection& c) {
         c.exec(cpm::create_table_sql<org>);
         c.exec(cpm::create_table_sql<repo>);
       }},
  };
  cpm::migrate(db, "app", steps);
  // [end:migrate]

  org acme = cpm::insert(db, org{.name = "acme"});
  CHECK(acme.created_at.has_value());
  (void)cpm::insert(db, repo{.org_id = acme.id, .name = "tools"});
  (void)cpm::insert(db, repo{.org_id = acme.id, .name = "site"});
  (void)cpm::insert(db, org{.name = "empty"});
  bool refused = false;
  try {
    (void)cpm::insert(db, repo{.org_id = 42, .name = "stray"});
  } catch (const cpm::foreign_key_violation&) {
    refused = true;
  }
  CHECK(refused);

  // [snippet:check]
  cpm::check_schema<org, repo>(db);  // the tables match the models: nothing is thrown
  // [end:check]

  // [snippet:mismatch]
  auto old = cpm::connection::open_memory();
  old.exec("CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, created_at DATETIME)");
  try {
    cpm::check_schema<org, repo>(old);
  } catch (const cpm::schema_mismatch& e) {
    for (const cpm::schema_difference& d : e.differences()) fmt::print("{}\n", d.message());
    // table "orgs", column "name": allows NULL, but field org::name is not std::optional (...)
    // table "orgs", column "created_at": no DEFAULT, but field org::created_at is one the database fills in (...)
    // table "repos" does not exist (model repo)
  }
  // [end:mismatch]
  std::vector<cpm::schema_difference> found = cpm::schema_differences<org, repo>(old);
  CHECK(found.size() == 3);
  CHECK(found.size() == 3 && found[0].what == cpm::schema_difference::kind::nullable_column &&
        found[1].what == cpm::schema_difference::kind::missing_default &&
        found[2].what == cpm::schema_difference::kind::missing_table);
  bool thrown = false;
  try {
    cpm::check_schema<org, repo>(old);
  } catch (const cpm::schema_mismatch& e) {
    thrown = e.differences().size() == 3;
  }
  CHECK(thrown);

  // [snippet:named_query]
  std::vector<repo_count> counts =
      cpm::query<repo_count>(db, "SELECT o.name AS org, count(r.id) AS repos FROM orgs AS o "
                                 "LEFT JOIN repos AS r ON r.org_id = o.id GROUP BY o.id ORDER BY o.name")
          .to_vector();
  // [end:named_query]
  CHECK(counts.size() == 2 && counts[0].org == "acme" && counts[0].repos == 2 && counts[1].repos == 0);

  // [snippet:name_mismatch]
  try {
    (void)cpm::query<ab>(db, "SELECT 10 AS b, 20 AS a");  // struct ab { std::int64_t a, b; }
  } catch (const cpm::column_name_mismatch& e) {
    // e.index() == 0, e.expected() == "a", e.actual() == "b": refused, not swapped
    fmt::print("{}\n", e.what());
  }
  // [end:name_mismatch]
  std::string message;
  try {
    (void)cpm::query<ab>(db, "SELECT 10 AS b, 20 AS a");
  } catch (const cpm::column_name_mismatch& e) {
    message = e.what();
  }
  CHECK(message.find(R"(column 0 of the result is named "b" but field 0 of the row type is "a")") != std::string::npos);

  // [snippet:by_position]
  std::vector<repo_count> same =
      cpm::query<repo_count>(db, cpm::by_position,
                             "SELECT o.name, count(r.id) FROM orgs AS o "
                             "LEFT JOIN repos AS r ON r.org_id = o.id GROUP BY o.id ORDER BY o.name")
          .to_vector();
  // [end:by_position]
  CHECK(same.size() == 2 && same[0].org == counts[0].org && same[0].repos == counts[0].repos);

  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "unexpected: %s\n", e.what());
  return 1;
}
