// The SQL text cpm generates, spelled out: every statement is a compile-time constant, so a
// reader sees here exactly what runs. Checked by static_assert, then once against SQLite.
#include <cpm/query.hpp>
#include <cpm/reflect.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace {

struct account {
  std::int64_t id = 0;
  std::string username;
  std::optional<std::string> email;
  std::optional<std::chrono::sys_seconds> created_at;
  std::optional<std::int64_t> karma;
};

// Columns renamed, one of them needing its quote doubled.
struct odd {
  std::int64_t id = 0;
  std::string label;
};

struct keyless {
  std::string code;
  std::int32_t amount = 0;
};

}  // namespace

template <>
struct cpm::model_traits<account> {
  static constexpr std::string_view table = "accounts";
  static constexpr auto defaults = std::tuple{&account::created_at, &account::karma};
};

template <>
struct cpm::model_traits<odd> {
  static constexpr std::string_view table = "odd table";
  static constexpr std::array<std::string_view, 2> columns{"id", R"(say "hi")"};
};

namespace {

namespace d = cpm::detail;
namespace text = cpm::sql_text;

template <const auto& Sql>  // by reference: the text stays out of the mangled name
constexpr std::string_view view_of = Sql.view();

constexpr unsigned keep_all = 0b00;
constexpr unsigned omit_created = 0b01;
constexpr unsigned omit_karma = 0b10;
constexpr unsigned omit_both = 0b11;

}  // namespace

// ---- the public constants -----------------------------------------------------------------------

static_assert(text::select_all<account> ==
              R"(SELECT "id", "username", "email", "created_at", "karma" FROM "accounts" ORDER BY "id")");
static_assert(text::select_by_key<account> ==
              R"(SELECT "id", "username", "email", "created_at", "karma" FROM "accounts" WHERE "id" = ?)");
static_assert(text::insert<account> ==
              R"(INSERT INTO "accounts" ("id", "username", "email", "created_at", "karma") VALUES (?, ?, ?, ?, ?))"
              R"( RETURNING "id", "username", "email", "created_at", "karma")");
static_assert(text::update<account> ==
              R"(UPDATE "accounts" SET "username" = ?, "email" = ?, "created_at" = coalesce(?, "created_at"), )"
              R"("karma" = coalesce(?, "karma") WHERE "id" = ?)");
static_assert(text::remove<account> == R"(DELETE FROM "accounts" WHERE "id" = ?)");
static_assert(text::count<account> == R"(SELECT count(*) FROM "accounts")");

// ---- insert variants: defaulted fields left empty are left out -----------------------------------

static_assert(view_of<d::insert_sql<account, omit_created, true>> ==
              R"(INSERT INTO "accounts" ("id", "username", "email", "karma") VALUES (?, ?, ?, ?))"
              R"( RETURNING "id", "username", "email", "created_at", "karma")");
static_assert(view_of<d::insert_sql<account, omit_karma, true>> ==
              R"(INSERT INTO "accounts" ("id", "username", "email", "created_at") VALUES (?, ?, ?, ?))"
              R"( RETURNING "id", "username", "email", "created_at", "karma")");
static_assert(view_of<d::insert_sql<account, omit_both, false>> ==
              R"(INSERT INTO "accounts" ("id", "username", "email") VALUES (?, ?, ?))");
static_assert(view_of<d::insert_sql<account, keep_all, false>> ==
              R"(INSERT INTO "accounts" ("id", "username", "email", "created_at", "karma") VALUES (?, ?, ?, ?, ?))");

// ---- upsert -------------------------------------------------------------------------------------

static_assert(view_of<d::upsert_sql<account, keep_all, 1>> ==
              R"(INSERT INTO "accounts" ("id", "username", "email", "created_at", "karma") VALUES (?, ?, ?, ?, ?))"
              R"( ON CONFLICT ("username") DO UPDATE SET "email" = excluded."email", )"
              R"("created_at" = excluded."created_at", "karma" = excluded."karma")"
              R"( RETURNING "id", "username", "email", "created_at", "karma")");
static_assert(view_of<d::upsert_sql<account, omit_both, 1, 2>> ==
              R"(INSERT INTO "accounts" ("id", "username", "email") VALUES (?, ?, ?))"
              R"( ON CONFLICT ("username", "email") DO UPDATE SET "username" = excluded."username")"
              R"( RETURNING "id", "username", "email", "created_at", "karma")");

// ---- queries ------------------------------------------------------------------------------------

static_assert(view_of<d::select_where_sql<account, 1>> ==
              R"(SELECT "id", "username", "email", "created_at", "karma" FROM "accounts" WHERE "username" = ?)"
              R"( ORDER BY "id")");
// Optional columns compare with IS, so that an empty optional finds NULL.
static_assert(view_of<d::select_where_sql<account, 2>> ==
              R"(SELECT "id", "username", "email", "created_at", "karma" FROM "accounts" WHERE "email" IS ?)"
              R"( ORDER BY "id")");
static_assert(view_of<d::select_in_sql<account, 0, 3>> ==
              R"(SELECT "id", "username", "email", "created_at", "karma" FROM "accounts" WHERE "id" IN (?, ?, ?))"
              R"( ORDER BY "id")");
static_assert(view_of<d::select_page_sql<account>> ==
              R"(SELECT "id", "username", "email", "created_at", "karma" FROM "accounts" WHERE "id" > ?)"
              R"( ORDER BY "id" LIMIT ?)");
static_assert(view_of<d::patch_sql<account, 2, 4>> ==
              R"(UPDATE "accounts" SET "email" = CASE WHEN ? THEN ? ELSE "email" END, )"
              R"("karma" = CASE WHEN ? THEN ? ELSE "karma" END WHERE "id" = ?)");

// ---- quoting and models without a key -----------------------------------------------------------

static_assert(text::select_all<odd> == R"(SELECT "id", "say ""hi""" FROM "odd table" ORDER BY "id")");
static_assert(text::update<odd> == R"(UPDATE "odd table" SET "say ""hi""" = ? WHERE "id" = ?)");
static_assert(text::select_all<keyless> == R"(SELECT "code", "amount" FROM "keyless")", "no key, no ORDER BY");
static_assert(text::insert<keyless> ==
              R"(INSERT INTO "keyless" ("code", "amount") VALUES (?, ?) RETURNING "code", "amount")");

TEST_CASE("the generated SQL text is what the connection prepares", "[sql_text]") {
  auto db = cpm::connection::open_memory();
  db.exec(R"(CREATE TABLE "odd table"(id INTEGER PRIMARY KEY, "say ""hi""" TEXT NOT NULL))");
  auto stored = cpm::insert(db, odd{.id = 0, .label = "quoted"});
  auto stmt = db.prepare(R"(SELECT "say ""hi""" FROM "odd table" WHERE id = ?)");
  stmt.bind(stored.id);
  REQUIRE(stmt.step());
  CHECK(stmt.column<std::string>(0) == "quoted");
  // The statement cpm leased for the lookup carries exactly the constant's text.
  auto lease = d::lease<d::select_by_key_sql<odd>>(db);
  CHECK(lease.sql() == text::select_by_key<odd>);
}

TEST_CASE("every generated statement of a model prepares against its table", "[sql_text]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE accounts(id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT, "
          "created_at TEXT DEFAULT CURRENT_TIMESTAMP, karma INTEGER DEFAULT 10, UNIQUE(username, email))");
  for (std::string_view sql :
       {text::select_all<account>, text::select_by_key<account>, text::insert<account>, text::update<account>,
        text::remove<account>, text::count<account>, view_of<d::insert_sql<account, omit_both, false>>,
        view_of<d::upsert_sql<account, keep_all, 1>>, view_of<d::upsert_sql<account, omit_both, 1, 2>>,
        view_of<d::select_where_sql<account, 2>>, view_of<d::select_in_sql<account, 0, 3>>,
        view_of<d::select_page_sql<account>>, view_of<d::patch_sql<account, 2, 4>>}) {
    INFO(sql);
    CHECK_NOTHROW(db.prepare(sql));
  }
}
