// Typed queries on PostgreSQL: every shape's SQL in PostgreSQL's dialect at compile time, and
// every shape run on both backends, the same rows in an SQLite database and on the server,
// with the same results.
#include "pg_support.hpp"

#include <cpm/query.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

struct item {
  std::int64_t id = 0;
  std::int64_t owner = 0;
  std::int32_t rank = 0;
  std::string name;
  std::optional<std::string> note;
};

struct item_name {
  std::string name;
  std::int32_t rank = 0;
};

struct org {
  std::int64_t id = 0;
  std::string name;
};

struct repo {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
};

using cpm::col;
using id_list = std::vector<std::int64_t>;

constexpr auto items = cpm::from<item>;

template <class Q>
using pg_sql = cpm::pg::typed_sql<Q>;

// The SQL of each operator on PostgreSQL, exactly.
#define CPM_PG_SELECT R"(SELECT "id", "owner", "rank", "name", "note" FROM "item")"

static_assert(pg_sql<decltype(items)>::select == CPM_PG_SELECT R"( ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1))>::select ==
              CPM_PG_SELECT R"( WHERE "owner" = $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::owner> != 1))>::select ==
              CPM_PG_SELECT R"( WHERE "owner" <> $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::rank> < 1))>::select ==
              CPM_PG_SELECT R"( WHERE "rank" < $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::rank> <= 1))>::select ==
              CPM_PG_SELECT R"( WHERE "rank" <= $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::rank> > 1))>::select ==
              CPM_PG_SELECT R"( WHERE "rank" > $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::rank> >= 1))>::select ==
              CPM_PG_SELECT R"( WHERE "rank" >= $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::note> == "x"))>::select ==
              CPM_PG_SELECT R"( WHERE "note" IS NOT DISTINCT FROM $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::note> != "x"))>::select ==
              CPM_PG_SELECT R"( WHERE "note" IS DISTINCT FROM $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::note>.is_null()))>::select ==
              CPM_PG_SELECT R"( WHERE "note" IS NULL ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::note>.is_not_null()))>::select ==
              CPM_PG_SELECT R"( WHERE "note" IS NOT NULL ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::name>.like("a%")))>::select ==
              CPM_PG_SELECT R"( WHERE "name" ~ $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::note>.glob("f*")))>::select ==
              CPM_PG_SELECT R"( WHERE "note" ~ $1 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::rank>.between(1, 2)))>::select ==
              CPM_PG_SELECT R"( WHERE "rank" BETWEEN $1 AND $2 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::id>.in({1, 2})))>::select ==
              CPM_PG_SELECT R"( WHERE "id" = ANY($1) ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1 && col<&item::rank> > 2))>::select ==
              CPM_PG_SELECT R"( WHERE "owner" = $1 AND "rank" > $2 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1 || col<&item::rank> > 2))>::select ==
              CPM_PG_SELECT R"( WHERE "owner" = $1 OR "rank" > $2 ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(!(col<&item::owner> == 1)))>::select ==
              CPM_PG_SELECT R"( WHERE NOT ("owner" = $1) ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1 &&
                                          (col<&item::rank> > 2 || col<&item::id>.in({1}))))>::select ==
              CPM_PG_SELECT R"( WHERE "owner" = $1 AND ("rank" > $2 OR "id" = ANY($3)) ORDER BY "id")");
static_assert(pg_sql<decltype(items.order_by(cpm::desc<&item::rank>, cpm::asc<&item::name>))>::select ==
              CPM_PG_SELECT R"( ORDER BY "rank" DESC, "name")");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1).limit(2))>::select ==
              CPM_PG_SELECT R"( WHERE "owner" = $1 ORDER BY "id" LIMIT $2)");
static_assert(pg_sql<decltype(items.limit(2).offset(1))>::select == CPM_PG_SELECT R"( ORDER BY "id" LIMIT $1 OFFSET $2)");
static_assert(pg_sql<decltype(items.offset(1))>::select == CPM_PG_SELECT R"( ORDER BY "id" OFFSET $1)");
static_assert(pg_sql<decltype(items.select<item_name>())>::select == R"(SELECT "name", "rank" FROM "item" ORDER BY "id")");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1))>::count ==
              R"(SELECT count(*) FROM "item" WHERE "owner" = $1)");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1))>::exists ==
              R"(SELECT EXISTS (SELECT 1 FROM "item" WHERE "owner" = $1))");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1))>::remove == R"(DELETE FROM "item" WHERE "owner" = $1)");
static_assert(pg_sql<decltype(items.where(col<&item::owner> == 1))>::update<&item::rank, &item::note> ==
              R"(UPDATE "item" SET "rank" = $1, "note" = $2 WHERE "owner" = $3)");
static_assert(pg_sql<decltype(cpm::join<&repo::org_id, &org::id>.where(col<&org::name> == "a"))>::select ==
              R"(SELECT "repo"."id", "repo"."org_id", "repo"."name", "org"."id", "org"."name" FROM "repo" )"
              R"(JOIN "org" ON "repo"."org_id" = "org"."id" WHERE "org"."name" = $1 ORDER BY "repo"."id", "org"."id")");
// The SQLite text of the same shapes is unchanged by the second dialect.
static_assert(decltype(items.where(col<&item::note> == "x").limit(2))::sql ==
              CPM_PG_SELECT R"( WHERE "note" IS ? ORDER BY "id" LIMIT ?)");

// The same rows on both backends.
struct both {
  pg_test::scratch scratch;
  cpm::connection lite = cpm::connection::open_memory();
  cpm::pg::connection pg = scratch.open();

  both() {
    lite.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, rank INTEGER NOT NULL, "
              "name TEXT NOT NULL, note TEXT)");
    pg.exec(R"(CREATE TABLE item(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, owner BIGINT NOT NULL,
                                 rank INTEGER NOT NULL, name TEXT COLLATE "C" NOT NULL, note TEXT COLLATE "C"))");
    add(1, 10, "apple", "fruit");         // id 1
    add(1, 20, "banana", std::nullopt);   // id 2
    add(2, 10, "cherry", "fruit");        // id 3
    add(2, 30, "apricot", std::nullopt);  // id 4
    add(3, 10, "date", "dried");          // id 5
  }
  void add(std::int64_t owner, std::int32_t rank, std::string name, std::optional<std::string> note) {
    item row{0, owner, rank, std::move(name), std::move(note)};
    auto a = cpm::insert(lite, row);
    auto b = cpm::pg::insert(pg, row);
    REQUIRE(a.id == b.id);
  }

  // The ids the query yields on SQLite; checks that PostgreSQL yields the same.
  template <class Q>
  id_list ids(const Q& q) {
    id_list on_lite;
    for (const item& i : q.rows(lite)) on_lite.push_back(i.id);
    id_list on_pg;
    for (const item& i : q.rows(pg)) on_pg.push_back(i.id);
    CHECK(on_pg == on_lite);
    return on_lite;
  }
  template <class Q>
  std::int64_t count(const Q& q) {
    std::int64_t n = q.count(lite);
    CHECK(q.count(pg) == n);
    CHECK(q.exists(pg) == (n > 0));
    CHECK(q.exists(lite) == (n > 0));
    return n;
  }
};

}  // namespace

TEST_CASE("pg: each comparison operator returns the same rows as on SQLite", "[pg][typed]") {
  both db;
  CHECK(db.ids(items.where(col<&item::owner> == 1)) == id_list{1, 2});
  CHECK(db.ids(items.where(col<&item::owner> != 1)) == id_list{3, 4, 5});
  CHECK(db.ids(items.where(col<&item::rank> < 20)) == id_list{1, 3, 5});
  CHECK(db.ids(items.where(col<&item::rank> <= 20)) == id_list{1, 2, 3, 5});
  CHECK(db.ids(items.where(col<&item::rank> > 10)) == id_list{2, 4});
  CHECK(db.ids(items.where(col<&item::rank> >= 30)) == id_list{4});
  CHECK(db.ids(items.where(col<&item::name> == std::string_view("cherry"))) == id_list{3});
  CHECK(db.ids(items.where(col<&item::rank>.between(15, 30))) == id_list{2, 4});
  CHECK(db.ids(items.where(col<&item::name>.between("b", "d"))) == id_list{2, 3});
  CHECK(db.ids(items.where(col<&item::owner> == 1 && col<&item::rank> > 10)) == id_list{2});
  CHECK(db.ids(items.where(col<&item::owner> == 3 || col<&item::rank> > 20)) == id_list{4, 5});
  CHECK(db.ids(items.where(!(col<&item::owner> == 1) && (col<&item::rank> == 10 || col<&item::note>.is_null()))) ==
        id_list{3, 4, 5});
}

TEST_CASE("pg: == and != on an optional field find NULLs as IS and IS NOT do on SQLite", "[pg][typed]") {
  both db;
  CHECK(db.ids(items.where(col<&item::note> == "fruit")) == id_list{1, 3});
  CHECK(db.ids(items.where(col<&item::note> == std::nullopt)) == id_list{2, 4});
  CHECK(db.ids(items.where(col<&item::note> != "fruit")) == id_list{2, 4, 5});
  CHECK(db.ids(items.where(col<&item::note> != std::nullopt)) == id_list{1, 3, 5});
  CHECK(db.ids(items.where(col<&item::note>.is_null())) == id_list{2, 4});
  CHECK(db.ids(items.where(col<&item::note>.is_not_null())) == id_list{1, 3, 5});
}

TEST_CASE("pg: like ignores ASCII case and has no escape character, as SQLite's", "[pg][typed]") {
  both db;
  db.add(9, 0, R"(50% off_a\b)", "x");   // id 6
  db.add(9, 0, R"(50 percent)", "x");    // id 7
  db.add(9, 0, "\xC3\x89T\xC3\x89", "x");  // id 8: "ÉTÉ"
  CHECK(db.ids(items.where(col<&item::name>.like("AP%"))) == id_list{1, 4});
  CHECK(db.ids(items.where(col<&item::name>.like("_pple"))) == id_list{1});
  CHECK(db.ids(items.where(col<&item::note>.like("f%"))) == id_list{1, 3});  // never a NULL
  CHECK(db.ids(items.where(col<&item::name>.like(R"(50\%%)"))).empty());   // \ is no escape: a literal \ after 50
  CHECK(db.ids(items.where(col<&item::name>.like(R"(%a\b)"))) == id_list{6});
  CHECK(db.ids(items.where(col<&item::name>.like("50%"))) == id_list{6, 7});
  CHECK(db.ids(items.where(col<&item::name>.like("%t\xC3\x89"))) == id_list{8});  // ASCII T either case
}

namespace {

struct phrase {
  std::int64_t id = 0;
  std::string text;
};

}  // namespace

TEST_CASE("pg: like folds no case beyond ASCII and reads regular-expression characters as themselves", "[pg][typed]") {
  // A column in the database's collation (C.UTF-8 here), in which PostgreSQL's own ILIKE would
  // fold "É" to "é".
  both db;
  db.lite.exec("CREATE TABLE phrase(id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
  db.pg.exec("CREATE TABLE phrase(id BIGINT PRIMARY KEY, text TEXT NOT NULL)");
  const char* texts[] = {"\xC3\xA9t\xC3\xA9",       // 1: "été"
                         "\xC3\x89T\xC3\x89",       // 2: "ÉTÉ"
                         "a.c(d)[e]^$*+?{1}|\\",  // 3
                         "abc(d)[e]^$*+?{1}|\\",  // 4
                         "line\nbreak"};           // 5
  std::int64_t id = 0;
  for (const char* text : texts) {
    (void)cpm::insert(db.lite, phrase{++id, text});
    (void)cpm::pg::insert(db.pg, phrase{id, text});
  }
  auto matches = [&](std::string pattern) {
    auto q = cpm::from<phrase>.where(col<&phrase::text>.like(pattern));
    id_list on_lite;
    for (const phrase& p : q.rows(db.lite)) on_lite.push_back(p.id);
    id_list on_pg;
    for (const phrase& p : q.rows(db.pg)) on_pg.push_back(p.id);
    CHECK(on_pg == on_lite);
    return on_pg;
  };
  CHECK(matches("\xC3\xA9t\xC3\xA9") == id_list{1});  // not "ÉTÉ"
  CHECK(matches("\xC3\xA9T_") == id_list{1});          // _ is one character
  CHECK(matches("A.C(D)[E]^$*+?{1}|\\") == id_list{3});
  CHECK(matches("a_c(%)[e]^$*+?{_}|\\") == id_list{3, 4});
  CHECK(matches("LINE%BREAK") == id_list{5});
  CHECK(matches("").empty());
  CHECK(cpm::pg::like_to_regex("a_%.") == R"(^[aA]..*\.$)");
}

TEST_CASE("pg: glob matches the same strings as SQLite's GLOB, pattern by pattern", "[pg][typed]") {
  both db;
  const std::vector<std::string> names{
      "a.c",  "abc", "a+c", "a(c)", "a|c",  "x$y", "^z", "[b]", "b]", "a\\c", "a c",   "A-C", "a-c",  "-",
      "aaa",  "a\nc", "",   "?",    "*",    "a*c", "{1}", "é",  "éa", "日本", "q.w.e", "ÀB", "Z",   "a]c"};
  for (const auto& n : names) db.add(7, 0, n, std::nullopt);
  const std::vector<std::string> patterns{
      "a?c",   "a*",     "*c",     "a.c",  "a+c",  "a(c)", "a|c",  "x$y",   "^z",     "[[]b]", "[]]*",   "[^]]*",
      "[a-c]*", "[^a-c]*", "a[-]c", "[-]",  "[a-]*", "a\\c", "a c",  "[A-C]-[A-C]", "*[$^]*", "?",  "[?]", "[*]",
      "a[*]c", "{1}",     "é",      "?a",   "??",   "日*",  "*.*.*", "[À-Ö]B", "[",     "[]",    "[^]",   "a[bc", "[+-/]*", "[^!-/]*", "[a-a]*",
      "",       "*",      "a\nc",   "a?c*", "[z-a]*", "[a-c-e]*", "a]c", "[]a]*", "[z-a]", "[^z-a]", "[é-ü]*", "[^-]", "[\\]", "a\\c"};
  for (const auto& p : patterns) {
    INFO("pattern: " << p);
    (void)db.ids(items.where(col<&item::owner> == 7 && col<&item::name>.glob(p)));
  }
}

TEST_CASE("pg: in binds one array of any length, an empty list matches nothing and NOT of it everything", "[pg][typed]") {
  both db;
  CHECK(db.ids(items.where(col<&item::id>.in({5, 1, 5, 99}))) == id_list{1, 5});
  CHECK(db.ids(items.where(col<&item::name>.in(std::vector<std::string>{"date", "apple", "it's"}))) == id_list{1, 5});
  CHECK(db.ids(items.where(col<&item::id>.in(std::vector<std::int64_t>{}))).empty());
  CHECK(db.ids(items.where(!col<&item::id>.in(std::vector<std::int64_t>{}))) == id_list{1, 2, 3, 4, 5});
  CHECK(db.ids(items.where(!col<&item::id>.in({2, 3}))) == id_list{1, 4, 5});
  CHECK(db.ids(items.where(col<&item::note>.in({"dried"}) || col<&item::note>.is_null())) == id_list{2, 4, 5});
  CHECK(db.ids(items.where(!col<&item::note>.in({"dried"}))) == id_list{1, 3});  // NULL notes: neither
  CHECK(db.ids(items.where(col<&item::rank>.in({20, 30}) && col<&item::owner>.in({1, 2}))) == id_list{2, 4});
  std::vector<std::int64_t> many;
  for (std::int64_t i = 4; i < 4000; ++i) many.push_back(i);
  CHECK(db.ids(items.where(col<&item::id>.in(many))) == id_list{4, 5});
  // Beyond what one SQLite statement may hold: one array parameter on PostgreSQL.
  std::vector<std::int64_t> huge;
  for (std::int64_t i = 3; i < 40'003; ++i) huge.push_back(i);
  auto before = db.pg.prepare_count();
  CHECK(items.where(col<&item::id>.in(huge)).count(db.pg) == 3);
  CHECK(items.where(!col<&item::id>.in(huge)).count(db.pg) == 2);
  CHECK(db.pg.prepare_count() == before + 2);
}

TEST_CASE("pg: order_by, limit, offset, first and projections as on SQLite", "[pg][typed]") {
  both db;
  CHECK(db.ids(items.order_by(cpm::desc<&item::rank>, cpm::asc<&item::name>)) == id_list{4, 2, 1, 3, 5});
  CHECK(db.ids(items.order_by(cpm::desc<&item::rank>).limit(2)) == id_list{4, 2});
  CHECK(db.ids(items.limit(2).offset(1)) == id_list{2, 3});
  CHECK(db.ids(items.offset(3)) == id_list{4, 5});
  CHECK(db.ids(items.limit(-1).offset(4)) == id_list{5});  // a negative limit is none
  CHECK(db.ids(items.where(col<&item::rank> == 10).limit(0)).empty());

  auto first = items.where(col<&item::owner> == 2).first(db.pg);
  REQUIRE(first);
  CHECK(first->name == "cherry");
  CHECK(items.where(col<&item::owner> == 2).offset(1).first(db.pg)->name == "apricot");
  CHECK_FALSE(items.where(col<&item::owner> == 2).limit(0).first(db.pg));
  CHECK_FALSE(items.where(col<&item::owner> == 99).first(db.pg));

  std::vector<std::pair<std::string, std::int32_t>> lite;
  for (const item_name& n : items.where(col<&item::owner> == 1).select<item_name>().rows(db.lite)) lite.emplace_back(n.name, n.rank);
  std::vector<std::pair<std::string, std::int32_t>> pg;
  for (const item_name& n : items.where(col<&item::owner> == 1).select<item_name>().rows(db.pg)) pg.emplace_back(n.name, n.rank);
  CHECK(pg == lite);
  CHECK(pg == std::vector<std::pair<std::string, std::int32_t>>{{"apple", 10}, {"banana", 20}});
}

TEST_CASE("pg: count and exists agree with SQLite", "[pg][typed]") {
  both db;
  CHECK(db.count(items) == 5);
  CHECK(db.count(items.where(col<&item::rank> == 10)) == 3);
  CHECK(db.count(items.where(col<&item::note> == std::nullopt && col<&item::rank> > 20)) == 1);
  CHECK(db.count(items.where(col<&item::owner> == 42)) == 0);
}

TEST_CASE("pg: update and remove where a predicate holds change the same rows as on SQLite", "[pg][typed]") {
  both db;
  auto where = items.where(col<&item::id>.in({3, 4}) || col<&item::name>.like("d%"));
  CHECK(where.update(db.pg, cpm::set<&item::note>(std::nullopt), cpm::set<&item::rank>(7)) == 3);
  CHECK(where.update(db.lite, cpm::set<&item::note>(std::nullopt), cpm::set<&item::rank>(7)) == 3);
  CHECK(db.ids(items.where(col<&item::rank> == 7 && col<&item::note>.is_null())) == id_list{3, 4, 5});
  CHECK(items.where(col<&item::owner> == 42).update(db.pg, cpm::set<&item::rank>(1)) == 0);
  CHECK(items.where(col<&item::name>.in({"apple", "date"})).remove(db.pg) == 2);
  CHECK(items.where(col<&item::name>.in({"apple", "date"})).remove(db.lite) == 2);
  CHECK(db.ids(items) == id_list{2, 3, 4});
}

TEST_CASE("pg: a join yields both rows, as on SQLite", "[pg][typed]") {
  both db;
  for (auto* sql : {"CREATE TABLE org(id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
                    "CREATE TABLE repo(id BIGINT PRIMARY KEY, org_id BIGINT NOT NULL REFERENCES org(id), name TEXT NOT NULL)",
                    "INSERT INTO org(id, name) VALUES (1, 'acme'), (2, 'globex'), (3, 'empty')",
                    "INSERT INTO repo(id, org_id, name) VALUES (1, 2, 'zeta'), (2, 1, 'alpha'), (3, 2, 'beta'), (4, 1, 'gamma')"}) {
    db.lite.exec(sql);
    db.pg.exec(sql);
  }
  auto q = cpm::join<&repo::org_id, &org::id>.where(col<&org::name> == "globex").order_by(cpm::asc<&repo::name>);
  auto read = [&](auto& conn) {
    std::vector<std::string> out;
    for (auto& [r, o] : q.rows(conn)) out.push_back(r.name + "@" + o.name + "#" + std::to_string(o.id));
    return out;
  };
  CHECK(read(db.pg) == read(db.lite));
  CHECK(read(db.pg) == std::vector<std::string>{"beta@globex#2", "zeta@globex#2"});
  CHECK(cpm::join<&repo::org_id, &org::id>.where(col<&org::id>.in({1, 3})).count(db.pg) == 2);
  auto pair = cpm::join<&repo::org_id, &org::id>.where(col<&repo::name> == "gamma").first(db.pg);
  REQUIRE(pair);
  CHECK(pair->first.id == 4);
  CHECK(pair->second.name == "acme");
}

TEST_CASE("pg: a typed query shape is prepared once per connection and reused", "[pg][typed]") {
  both db;
  auto before = db.pg.prepare_count();
  for (std::int64_t owner = 1; owner <= 3; ++owner) {
    (void)items.where(col<&item::owner> == owner && col<&item::rank> > 0).count(db.pg);
    for (const item& i : items.where(col<&item::id>.in(std::vector<std::int64_t>(owner * 100, owner))).rows(db.pg)) (void)i;
  }
  CHECK(db.pg.prepare_count() == before + 2);
}

namespace {

struct badge {
  std::int64_t id = 0;
  std::int64_t item_id = 0;
  std::optional<std::string> label;  // stored as '' when empty (none_as_empty)
};

}  // namespace

template <>
struct cpm::model_traits<badge> {
  static constexpr auto none_as_empty = std::tuple{&badge::label};
};

namespace {

// The badge table on both backends, with one badge labelled and one stored as ''.
void add_badges(both& db) {
  db.lite.exec("CREATE TABLE badge(id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, label TEXT NOT NULL)");
  db.pg.exec(R"(CREATE TABLE badge(id BIGINT PRIMARY KEY, item_id BIGINT NOT NULL, label TEXT COLLATE "C" NOT NULL))");
  for (auto* sql : {"INSERT INTO badge(id, item_id, label) VALUES (1, 1, 'gold'), (2, 3, '')"}) {
    db.lite.exec(sql);
    db.pg.exec(sql);
  }
}

}  // namespace

TEST_CASE("pg: a join reads a none_as_empty field stored as '' as none, as on SQLite", "[pg][typed]") {
  both db;
  add_badges(db);
  auto q = cpm::join<&badge::item_id, &item::id>.order_by(cpm::asc<&badge::id>);
  auto labels = [&](auto& conn) {
    std::vector<std::optional<std::string>> out;
    for (auto& [b, i] : q.rows(conn)) out.push_back(b.label);
    return out;
  };
  CHECK(labels(db.pg) == labels(db.lite));
  CHECK(labels(db.pg) == std::vector<std::optional<std::string>>{"gold", std::nullopt});
  auto first = q.where(col<&badge::id> == 2).first(db.pg);
  REQUIRE(first);
  CHECK_FALSE(first->first.label);
}

namespace {

struct badge_label {  // a projection: no model_traits of its own
  std::optional<std::string> label;
};

}  // namespace

TEST_CASE("pg: a projection reads a none_as_empty field of its model as the model does, as on SQLite", "[pg][typed]") {
  both db;
  add_badges(db);
  auto q = cpm::from<badge>.select<badge_label>();
  auto labels = [&](auto& conn) {
    std::vector<std::optional<std::string>> out;
    for (const badge_label& b : q.rows(conn)) out.push_back(b.label);
    return out;
  };
  CHECK(labels(db.pg) == labels(db.lite));
  CHECK(labels(db.pg) == std::vector<std::optional<std::string>>{"gold", std::nullopt});
  auto second = cpm::from<badge>.where(col<&badge::id> == 2).select<badge_label>().first(db.pg);
  REQUIRE(second);
  CHECK_FALSE(second->label);
}

TEST_CASE("pg: update setting a none_as_empty field to none stores '', as on SQLite", "[pg][typed]") {
  both db;
  add_badges(db);
  const auto badges = cpm::from<badge>;
  CHECK(badges.where(col<&badge::id> == 1).update(db.pg, cpm::set<&badge::label>(std::nullopt)) == 1);
  CHECK(badges.where(col<&badge::id> == 1).update(db.lite, cpm::set<&badge::label>(std::nullopt)) == 1);
  CHECK(db.pg.query_one<std::string>("SELECT label FROM badge WHERE id = 1").empty());
  CHECK(badges.where(col<&badge::label> == std::nullopt).count(db.pg) == 2);
  CHECK(badges.where(col<&badge::label> == std::nullopt).count(db.lite) == 2);
}

TEST_CASE("pg: a negative offset is no offset, as on SQLite", "[pg][typed]") {
  both db;
  CHECK(db.ids(items.offset(-1)) == id_list{1, 2, 3, 4, 5});
  CHECK(db.ids(items.limit(2).offset(-5)) == id_list{1, 2});
  CHECK(items.offset(-1).first(db.pg)->id == 1);
}
