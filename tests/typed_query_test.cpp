// Typed queries (issue 16): predicates over member pointers, ordering, limit and offset,
// count and exists, projections, UPDATE and DELETE where a predicate holds; the SQL of every
// shape at compile time, each shape prepared once per connection.
#include <cpm/query.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
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

struct account {
  std::int64_t id = 0;
  std::string login;
};

// A projection: fields named and typed like some of item's.
struct item_name {
  std::string name;
  std::int32_t rank = 0;
};

using cpm::col;
using id_list = std::vector<std::int64_t>;

cpm::connection make_db() {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, rank INTEGER NOT NULL, "
          "name TEXT NOT NULL, note TEXT)");
  auto add = [&](std::int64_t owner, std::int32_t rank, std::string name, std::optional<std::string> note) {
    (void)cpm::insert(db, item{0, owner, rank, std::move(name), std::move(note)});
  };
  add(1, 10, "apple", "fruit");      // id 1
  add(1, 20, "banana", std::nullopt);  // id 2
  add(2, 10, "cherry", "fruit");     // id 3
  add(2, 30, "apricot", std::nullopt);  // id 4
  add(3, 10, "date", "dried");       // id 5
  return db;
}

template <class Query>
id_list ids(cpm::connection& db, const Query& q) {
  id_list out;
  for (const item& i : q.rows(db)) out.push_back(i.id);
  return out;
}

constexpr auto items = cpm::from<item>;

// The SQL of each operator, exactly.
#define CPM_COLUMNS R"("id", "owner", "rank", "name", "note")"
#define CPM_SELECT "SELECT " CPM_COLUMNS R"( FROM "item")"

static_assert(decltype(items)::sql == CPM_SELECT R"( ORDER BY "id")");
static_assert(decltype(items.where(col<&item::owner> == 1))::sql == CPM_SELECT R"( WHERE "owner" = ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::owner> != 1))::sql == CPM_SELECT R"( WHERE "owner" <> ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::rank> < 1))::sql == CPM_SELECT R"( WHERE "rank" < ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::rank> <= 1))::sql == CPM_SELECT R"( WHERE "rank" <= ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::rank> > 1))::sql == CPM_SELECT R"( WHERE "rank" > ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::rank> >= 1))::sql == CPM_SELECT R"( WHERE "rank" >= ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::note> == "x"))::sql == CPM_SELECT R"( WHERE "note" IS ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::note> != "x"))::sql ==
              CPM_SELECT R"( WHERE "note" IS NOT ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::note>.is_null()))::sql ==
              CPM_SELECT R"( WHERE "note" IS NULL ORDER BY "id")");
static_assert(decltype(items.where(col<&item::note>.is_not_null()))::sql ==
              CPM_SELECT R"( WHERE "note" IS NOT NULL ORDER BY "id")");
static_assert(decltype(items.where(col<&item::name>.like("a%")))::sql ==
              CPM_SELECT R"( WHERE "name" LIKE ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::note>.glob("f*")))::sql ==
              CPM_SELECT R"( WHERE "note" GLOB ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::rank>.between(1, 2)))::sql ==
              CPM_SELECT R"( WHERE "rank" BETWEEN ? AND ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::id>.in({1, 2})))::sql ==
              CPM_SELECT R"( WHERE "id" IN (?, ?, ?, ?, ?, ?, ?, ?) ORDER BY "id")");
static_assert(decltype(items.where(col<&item::owner> == 1 && col<&item::rank> > 2))::sql ==
              CPM_SELECT R"( WHERE "owner" = ? AND "rank" > ? ORDER BY "id")");
static_assert(decltype(items.where(col<&item::owner> == 1 || col<&item::rank> > 2))::sql ==
              CPM_SELECT R"( WHERE "owner" = ? OR "rank" > ? ORDER BY "id")");
static_assert(decltype(items.where(!(col<&item::owner> == 1)))::sql ==
              CPM_SELECT R"( WHERE NOT ("owner" = ?) ORDER BY "id")");
// OR inside AND keeps its parentheses; AND inside OR needs none.
static_assert(decltype(items.where(col<&item::owner> == 1 && (col<&item::rank> > 2 || col<&item::note>.is_null())))::sql ==
              CPM_SELECT R"( WHERE "owner" = ? AND ("rank" > ? OR "note" IS NULL) ORDER BY "id")");
static_assert(decltype(items.where((col<&item::owner> == 1 && col<&item::rank> > 2) || col<&item::id> == 3))::sql ==
              CPM_SELECT R"( WHERE "owner" = ? AND "rank" > ? OR "id" = ? ORDER BY "id")");
// where(a).where(b) is a AND b.
static_assert(decltype(items.where(col<&item::owner> == 1).where(col<&item::rank> > 2))::sql ==
              CPM_SELECT R"( WHERE "owner" = ? AND "rank" > ? ORDER BY "id")");
static_assert(decltype(items.order_by(cpm::desc<&item::rank>, cpm::asc<&item::name>))::sql ==
              CPM_SELECT R"( ORDER BY "rank" DESC, "name")");
static_assert(decltype(items.order_by(cpm::desc<&item::rank>).order_by(cpm::asc<&item::id>))::sql ==
              CPM_SELECT R"( ORDER BY "rank" DESC, "id")");
static_assert(decltype(items.limit(2))::sql == CPM_SELECT R"( ORDER BY "id" LIMIT ?)");
static_assert(decltype(items.limit(2).offset(1))::sql == CPM_SELECT R"( ORDER BY "id" LIMIT ? OFFSET ?)");
static_assert(decltype(items.offset(1))::sql == CPM_SELECT R"( ORDER BY "id" LIMIT -1 OFFSET ?)");
static_assert(decltype(items.select<item_name>())::sql == R"(SELECT "name", "rank" FROM "item" ORDER BY "id")");
static_assert(decltype(items.where(col<&item::owner> == 1))::count_sql ==
              R"(SELECT count(*) FROM "item" WHERE "owner" = ?)");
static_assert(decltype(items)::count_sql == R"(SELECT count(*) FROM "item")");
static_assert(decltype(items.where(col<&item::owner> == 1))::exists_sql ==
              R"(SELECT EXISTS (SELECT 1 FROM "item" WHERE "owner" = ?))");
static_assert(decltype(items.where(col<&item::owner> == 1))::remove_sql == R"(DELETE FROM "item" WHERE "owner" = ?)");
static_assert(decltype(items.where(col<&item::owner> == 1))::update_sql<&item::rank, &item::note> ==
              R"(UPDATE "item" SET "rank" = ?, "note" = ? WHERE "owner" = ?)");

// What compiles: values the field's type is made from without narrowing, fields of one model.
template <class P>
concept usable_predicate = requires(P p) { items.where(p); };
static_assert(usable_predicate<decltype(col<&item::owner> == 1)>);

}  // namespace

TEST_CASE("where with each comparison operator returns the rows it holds for, in key order", "[typed]") {
  auto db = make_db();
  CHECK(ids(db, items.where(col<&item::owner> == 1)) == id_list{1, 2});
  CHECK(ids(db, items.where(col<&item::owner> != 1)) == id_list{3, 4, 5});
  CHECK(ids(db, items.where(col<&item::rank> < 20)) == id_list{1, 3, 5});
  CHECK(ids(db, items.where(col<&item::rank> <= 20)) == id_list{1, 2, 3, 5});
  CHECK(ids(db, items.where(col<&item::rank> > 10)) == id_list{2, 4});
  CHECK(ids(db, items.where(col<&item::rank> >= 30)) == id_list{4});
  CHECK(ids(db, items.where(col<&item::name> == std::string("date"))) == id_list{5});
  CHECK(ids(db, items.where(col<&item::name> == std::string_view("cherry"))) == id_list{3});
}

TEST_CASE("== and != on an optional field are IS and IS NOT: nullopt finds the NULLs", "[typed]") {
  auto db = make_db();
  CHECK(ids(db, items.where(col<&item::note> == "fruit")) == id_list{1, 3});
  CHECK(ids(db, items.where(col<&item::note> == std::nullopt)) == id_list{2, 4});
  CHECK(ids(db, items.where(col<&item::note> != "fruit")) == id_list{2, 4, 5});
  CHECK(ids(db, items.where(col<&item::note> != std::nullopt)) == id_list{1, 3, 5});
  CHECK(ids(db, items.where(col<&item::note>.is_null())) == id_list{2, 4});
  CHECK(ids(db, items.where(col<&item::note>.is_not_null())) == id_list{1, 3, 5});
}

TEST_CASE("like, glob and between match as SQLite does", "[typed]") {
  auto db = make_db();
  CHECK(ids(db, items.where(col<&item::name>.like("AP%"))) == id_list{1, 4});  // LIKE ignores ASCII case
  CHECK(ids(db, items.where(col<&item::name>.glob("a*"))) == id_list{1, 4});
  CHECK(ids(db, items.where(col<&item::name>.glob("A*"))).empty());  // GLOB does not
  CHECK(ids(db, items.where(col<&item::note>.like("f%"))) == id_list{1, 3});  // never a NULL
  CHECK(ids(db, items.where(col<&item::rank>.between(15, 30))) == id_list{2, 4});
  CHECK(ids(db, items.where(col<&item::name>.between("b", "d"))) == id_list{2, 3});
}

TEST_CASE("in matches any value of a list, duplicates, empty lists and long lists work", "[typed]") {
  auto db = make_db();
  CHECK(ids(db, items.where(col<&item::id>.in({5, 1, 5, 99}))) == id_list{1, 5});
  CHECK(ids(db, items.where(col<&item::name>.in(std::vector<std::string>{"date", "apple"}))) == id_list{1, 5});
  CHECK(ids(db, items.where(col<&item::id>.in(std::vector<std::int64_t>{}))).empty());
  CHECK(ids(db, items.where(!col<&item::id>.in(std::vector<std::int64_t>{}))) == id_list{1, 2, 3, 4, 5});
  CHECK(ids(db, items.where(!col<&item::id>.in({2, 3}))) == id_list{1, 4, 5});
  CHECK(ids(db, items.where(col<&item::note>.in({"dried"}) || col<&item::note>.is_null())) == id_list{2, 4, 5});
  for (std::size_t size : {9u, 64u, 65u, 512u, 513u, 4096u}) {
    std::vector<std::int64_t> many;
    for (std::size_t i = 0; i < size; ++i) many.push_back(static_cast<std::int64_t>(i) + 4);  // 4, 5, 6, ...
    CHECK(ids(db, items.where(col<&item::id>.in(many))) == id_list{4, 5});
    CHECK(items.where(col<&item::id>.in(many) && col<&item::owner>.in({3})).count(db) == 1);
  }
  std::vector<std::int64_t> beyond(4097);  // one JSON array (tests/typed_in_list_test.cpp)
  for (std::size_t i = 0; i < beyond.size(); ++i) beyond[i] = static_cast<std::int64_t>(i);
  CHECK(items.where(col<&item::id>.in(beyond)).count(db) == 5);
}

TEST_CASE("&&, || and ! combine predicates with SQL's precedence", "[typed]") {
  auto db = make_db();
  CHECK(ids(db, items.where(col<&item::owner> == 1 && col<&item::rank> > 10)) == id_list{2});
  CHECK(ids(db, items.where(col<&item::owner> == 3 || col<&item::rank> == 30)) == id_list{4, 5});
  CHECK(ids(db, items.where(!(col<&item::owner> == 1))) == id_list{3, 4, 5});
  CHECK(ids(db, items.where(col<&item::owner> == 2 && (col<&item::rank> == 30 || col<&item::note>.is_not_null()))) ==
        id_list{3, 4});
  CHECK(ids(db, items.where((col<&item::owner> == 2 && col<&item::rank> == 30) || col<&item::owner> == 3)) ==
        id_list{4, 5});
  CHECK(ids(db, items.where(!(col<&item::owner> == 1 || col<&item::owner> == 2))) == id_list{5});
  CHECK(ids(db, items.where(col<&item::owner> == 2).where(col<&item::rank> == 10)) == id_list{3});
}

TEST_CASE("order_by sorts by several fields ascending or descending, limit and offset page", "[typed]") {
  auto db = make_db();
  CHECK(ids(db, items.order_by(cpm::desc<&item::rank>, cpm::asc<&item::name>)) == id_list{4, 2, 1, 3, 5});
  CHECK(ids(db, items.order_by(cpm::asc<&item::rank>, cpm::desc<&item::id>)) == id_list{5, 3, 1, 2, 4});
  CHECK(ids(db, items.order_by(cpm::desc<&item::rank>).limit(2)) == id_list{4, 2});
  CHECK(ids(db, items.order_by(cpm::desc<&item::rank>).limit(2).offset(1)) == id_list{2, 1});
  CHECK(ids(db, items.offset(3)) == id_list{4, 5});
  CHECK(ids(db, items.where(col<&item::rank> == 10).order_by(cpm::desc<&item::name>).limit(2)) == id_list{5, 3});
  auto top = items.order_by(cpm::desc<&item::rank>).first(db);
  REQUIRE(top);
  CHECK(top->name == "apricot");
  CHECK_FALSE(items.where(col<&item::owner> == 42).first(db));
}

TEST_CASE("count and exists look at the rows the predicate holds for", "[typed]") {
  auto db = make_db();
  CHECK(items.count(db) == 5);
  CHECK(items.where(col<&item::rank> == 10).count(db) == 3);
  CHECK(items.where(col<&item::rank> == 11).count(db) == 0);
  CHECK(items.where(col<&item::name>.like("b%")).exists(db));
  CHECK_FALSE(items.where(col<&item::name>.like("z%")).exists(db));
}

TEST_CASE("a projection reads only the columns its fields name", "[typed]") {
  auto db = make_db();
  auto names = items.where(col<&item::owner> == 2).select<item_name>().rows(db).to_vector();
  REQUIRE(names.size() == 2);
  CHECK(names[0].name == "cherry");
  CHECK(names[0].rank == 10);
  CHECK(names[1].name == "apricot");
  CHECK(names[1].rank == 30);
  // Only the named columns are read: the statement has two.
  auto stmt = db.cached(decltype(items.select<item_name>())::sql);
  CHECK(stmt.column_count() == 2);
}

TEST_CASE("update sets the chosen fields where the predicate holds and returns the rows changed", "[typed]") {
  auto db = make_db();
  CHECK(items.where(col<&item::owner> == 1).update(db, cpm::set<&item::rank>(99), cpm::set<&item::note>("x")) == 2);
  CHECK(ids(db, items.where(col<&item::rank> == 99 && col<&item::note> == "x")) == id_list{1, 2});
  CHECK(items.where(col<&item::owner> == 42).update(db, cpm::set<&item::rank>(0)) == 0);
  CHECK(items.where(col<&item::id>.in({3, 4})).update(db, cpm::set<&item::note>(std::nullopt)) == 2);
  CHECK(ids(db, items.where(col<&item::note>.is_null())) == id_list{3, 4});
  CHECK(items.update(db, cpm::set<&item::owner>(7)) == 5);  // no predicate: every row
  CHECK(items.where(col<&item::owner> == 7).count(db) == 5);
}

TEST_CASE("remove deletes the rows the predicate holds for and returns how many", "[typed]") {
  auto db = make_db();
  CHECK(items.where(col<&item::note>.is_null()).remove(db) == 2);
  CHECK(ids(db, items) == id_list{1, 3, 5});
  CHECK(items.where(col<&item::owner> == 42).remove(db) == 0);
  CHECK(items.where(col<&item::name>.in({"apple", "date"})).remove(db) == 2);
  CHECK(ids(db, items) == id_list{3});
}

TEST_CASE("each typed query shape is prepared once per connection and reused", "[typed]") {
  auto db = make_db();
  auto by_owner = [&](std::int64_t owner) { return ids(db, items.where(col<&item::owner> == owner)); };
  (void)by_owner(1);
  const std::size_t after_first = db.prepare_count();
  CHECK(by_owner(2) == id_list{3, 4});
  CHECK(by_owner(3) == id_list{5});
  (void)items.where(col<&item::owner> == 1).count(db);
  const std::size_t after_count = db.prepare_count();
  CHECK(after_count == after_first + 1);
  (void)items.where(col<&item::owner> == 2).count(db);
  (void)items.where(col<&item::owner> == 3).exists(db);
  (void)items.where(col<&item::owner> == 3).exists(db);
  (void)items.where(col<&item::owner> == 9).update(db, cpm::set<&item::rank>(1));
  (void)items.where(col<&item::owner> == 9).update(db, cpm::set<&item::rank>(2));
  CHECK(db.prepare_count() == after_count + 2);
  // An IN list: one statement per size class, reused by every list of that class.
  (void)ids(db, items.where(col<&item::id>.in({1, 2})));
  const std::size_t after_in = db.prepare_count();
  (void)ids(db, items.where(col<&item::id>.in({3, 4})));
  CHECK(db.prepare_count() == after_in);
  (void)ids(db, items.where(col<&item::id>.in(std::vector<std::int64_t>(20, 1))));  // one value after dedup
  CHECK(db.prepare_count() == after_in + 1);
  (void)ids(db, items.where(col<&item::id>.in({1, 2, 3, 4, 5, 6, 7, 8, 9})));
  CHECK(db.prepare_count() == after_in + 2);
  (void)ids(db, items.where(col<&item::id>.in({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})));
  CHECK(db.prepare_count() == after_in + 2);
}

TEST_CASE("rows of a typed query outlive the query object and its values", "[typed]") {
  auto db = make_db();
  cpm::rows<item> r = [&] {
    std::string name = "banana";
    return items.where(col<&item::name> == name).rows(db);
  }();
  std::string filler(64, 'x');  // reuses the stack the name was on
  id_list out;
  for (const item& i : r) out.push_back(i.id);
  CHECK(out == id_list{2});
}

TEST_CASE("a predicate's values bind through the field's mapping", "[typed]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE account(id INTEGER PRIMARY KEY, login TEXT NOT NULL)");
  (void)cpm::insert(db, account{0, "alice"});
  (void)cpm::insert(db, account{0, "bob"});
  const auto accounts = cpm::from<account>;
  CHECK(accounts.where(col<&account::login> > "alice").first(db)->login == "bob");
  std::int32_t small = 2;  // an int32 for an int64 key: widened, not narrowed
  CHECK(accounts.where(col<&account::id> == small).first(db)->login == "bob");
}

namespace {

struct org {
  std::int64_t id = 0;
  std::string name;
};

struct repo {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
};

cpm::connection make_join_db() {
  auto db = cpm::connection::open_memory();
  db.exec(R"(
    CREATE TABLE org(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE repo(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES org(id), name TEXT NOT NULL);
    INSERT INTO org(id, name) VALUES (1, 'acme'), (2, 'globex'), (3, 'empty');
    INSERT INTO repo(id, org_id, name) VALUES (1, 2, 'zeta'), (2, 1, 'alpha'), (3, 2, 'beta'), (4, 1, 'gamma');
  )");
  return db;
}

constexpr auto repos_with_org = cpm::join<&repo::org_id, &org::id>;

static_assert(decltype(repos_with_org)::sql ==
              R"(SELECT "repo"."id", "repo"."org_id", "repo"."name", "org"."id", "org"."name" FROM "repo" )"
              R"(JOIN "org" ON "repo"."org_id" = "org"."id" ORDER BY "repo"."id", "org"."id")");
static_assert(decltype(repos_with_org.where(col<&org::name> == "acme").where(col<&repo::name>.like("a%"))
                           .order_by(cpm::desc<&repo::name>)
                           .limit(1))::sql ==
              R"(SELECT "repo"."id", "repo"."org_id", "repo"."name", "org"."id", "org"."name" FROM "repo" )"
              R"(JOIN "org" ON "repo"."org_id" = "org"."id" WHERE "org"."name" = ? AND "repo"."name" LIKE ? )"
              R"(ORDER BY "repo"."name" DESC LIMIT ?)");
static_assert(decltype(repos_with_org.where(col<&org::id>.in({1})))::count_sql ==
              R"(SELECT count(*) FROM "repo" JOIN "org" ON "repo"."org_id" = "org"."id" WHERE "org"."id" IN )"
              R"((?, ?, ?, ?, ?, ?, ?, ?))");

}  // namespace

TEST_CASE("join yields both rows of each matching pair, lazily, in the left then right key order", "[typed][join]") {
  auto db = make_join_db();
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto& [r, o] : repos_with_org.rows(db)) pairs.emplace_back(r.name, o.name);
  CHECK(pairs == std::vector<std::pair<std::string, std::string>>{
                     {"zeta", "globex"}, {"alpha", "acme"}, {"beta", "globex"}, {"gamma", "acme"}});
  // Each side read in full.
  auto first = repos_with_org.first(db);
  REQUIRE(first);
  CHECK(first->first.id == 1);
  CHECK(first->first.org_id == 2);
  CHECK(first->second.id == 2);
  CHECK(first->second.name == "globex");
}

TEST_CASE("a join is refined by predicates and order over either model", "[typed][join]") {
  auto db = make_join_db();
  std::vector<std::string> names;
  for (const cpm::joined<repo, org>& row :
       repos_with_org.where(col<&org::name> == "acme").order_by(cpm::desc<&repo::name>).rows(db))
    names.push_back(row.first.name);
  CHECK(names == std::vector<std::string>{"gamma", "alpha"});
  CHECK(repos_with_org.where(col<&org::name> == "globex").where(col<&repo::name> == "beta").count(db) == 1);
  CHECK(repos_with_org.where(col<&org::id>.in({1, 2})).count(db) == 4);
  CHECK_FALSE(repos_with_org.where(col<&org::name> == "empty").exists(db));  // an inner join
  auto last = repos_with_org.order_by(cpm::asc<&org::name>, cpm::asc<&repo::name>).offset(3).first(db);
  REQUIRE(last);
  CHECK(last->first.name == "zeta");
}

namespace {

struct profile {
  std::int64_t id = 0;
  std::optional<std::string> key;  // stored as '' when empty (none_as_empty)
};

}  // namespace

template <>
struct cpm::model_traits<profile> {
  static constexpr auto none_as_empty = std::tuple{&profile::key};
};

TEST_CASE("on a none_as_empty field, nullopt and IS NULL find the rows stored as ''", "[typed]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE profile(id INTEGER PRIMARY KEY, key TEXT NOT NULL)");
  (void)cpm::insert(db, profile{0, "k1"});
  (void)cpm::insert(db, profile{0, std::nullopt});  // stored as ''
  const auto profiles = cpm::from<profile>;
  static_assert(decltype(profiles.where(col<&profile::key>.is_null()))::count_sql ==
                R"(SELECT count(*) FROM "profile" WHERE coalesce("key", '') = '')");
  CHECK(profiles.where(col<&profile::key>.is_null()).first(db)->id == 2);
  CHECK(profiles.where(col<&profile::key>.is_not_null()).first(db)->id == 1);
  CHECK(profiles.where(col<&profile::key> == std::nullopt).first(db)->id == 2);
  CHECK(profiles.where(col<&profile::key> != std::nullopt).count(db) == 1);
  CHECK(profiles.where(col<&profile::key> == "k1").update(db, cpm::set<&profile::key>(std::nullopt)) == 1);
  CHECK(profiles.where(col<&profile::key>.is_null()).count(db) == 2);
}

TEST_CASE("on a none_as_empty field that also holds NULLs, every comparison sees '' and NULL alike as none",
          "[typed]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE profile(id INTEGER PRIMARY KEY, key TEXT)");
  db.exec("INSERT INTO profile(id, key) VALUES (1, 'k1'), (2, ''), (3, NULL)");  // 2 and 3 read as none
  const auto profiles = cpm::from<profile>;
  static_assert(decltype(profiles.where(col<&profile::key> == std::nullopt))::count_sql ==
                R"(SELECT count(*) FROM "profile" WHERE coalesce("key", '') IS ?)");
  static_assert(decltype(profiles.where(col<&profile::key> < "a"))::count_sql ==
                R"(SELECT count(*) FROM "profile" WHERE nullif("key", '') < ?)");
  auto ids = [&](const auto& q) {
    std::vector<std::int64_t> out;
    for (const profile& p : q.rows(db)) out.push_back(p.id);
    return out;
  };
  using id_list = std::vector<std::int64_t>;
  CHECK(ids(profiles.where(col<&profile::key>.is_null())) == id_list{2, 3});
  CHECK(ids(profiles.where(col<&profile::key> == std::nullopt)) == id_list{2, 3});
  CHECK(ids(profiles.where(col<&profile::key> != std::nullopt)) == id_list{1});
  CHECK(ids(profiles.where(col<&profile::key> != "k1")) == id_list{2, 3});
  CHECK(ids(profiles.where(col<&profile::key> == "k1")) == id_list{1});
  // The others never match none, as they never match a NULL.
  CHECK(ids(profiles.where(col<&profile::key> < "z")) == id_list{1});
  CHECK(ids(profiles.where(col<&profile::key>.like("%"))) == id_list{1});
  CHECK(ids(profiles.where(col<&profile::key>.between("", "z"))) == id_list{1});
  CHECK(ids(profiles.where(!(col<&profile::key> >= "a"))).empty());
}

namespace {

struct profile_key {  // a projection: no model_traits of its own
  std::optional<std::string> key;
};

}  // namespace

TEST_CASE("a projection reads a none_as_empty field of its model as the model does", "[typed]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE profile(id INTEGER PRIMARY KEY, key TEXT)");
  db.exec("INSERT INTO profile(id, key) VALUES (1, 'k1'), (2, ''), (3, NULL)");
  std::vector<std::optional<std::string>> keys;
  for (const profile_key& p : cpm::from<profile>.select<profile_key>().rows(db)) keys.push_back(p.key);
  CHECK(keys == std::vector<std::optional<std::string>>{"k1", std::nullopt, std::nullopt});
  auto second = cpm::from<profile>.where(col<&profile::id> == 2).select<profile_key>().first(db);
  REQUIRE(second);
  CHECK_FALSE(second->key);
}
