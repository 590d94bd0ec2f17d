// Create, read, update, delete, all, count and page, on a model with a column of every mapped
// type: what is written is what is read back, and the database's own values come back too.
#include <cpm/query.hpp>

#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono;
using millis_time = sys_time<milliseconds>;

enum class mood { calm, angry, sleepy };              // stored by name
enum class tier : std::int16_t { low = -1, high = 7 };  // stored as its integer

}  // namespace

template <>
struct cpm::enum_names<mood> {
  static constexpr std::array values{std::pair{mood::calm, std::string_view{"calm"}},
                                     std::pair{mood::angry, std::string_view{"angry"}},
                                     std::pair{mood::sleepy, std::string_view{"sleepy"}}};
};

namespace {

struct everything {
  std::int64_t id = 0;
  std::int32_t small = 0;
  std::uint16_t port = 0;
  bool active = false;
  double ratio = 0;
  std::string name;
  std::optional<std::string> nickname;
  std::vector<std::byte> payload;
  std::optional<std::vector<std::byte>> thumbnail;
  sys_seconds born{};
  std::optional<millis_time> created_at;
  mood feeling = mood::calm;
  tier level = tier::low;

  bool operator==(const everything&) const = default;
};

}  // namespace

template <>
struct cpm::model_traits<everything> {
  static constexpr auto defaults = std::tuple{&everything::created_at};
};

namespace {

constexpr std::string_view schema = R"(
  CREATE TABLE everything(
    id INTEGER PRIMARY KEY,
    small INTEGER NOT NULL,
    port INTEGER NOT NULL,
    active INTEGER NOT NULL,
    ratio REAL NOT NULL,
    name TEXT NOT NULL UNIQUE,
    nickname TEXT,
    payload BLOB NOT NULL,
    thumbnail BLOB,
    born TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    feeling TEXT NOT NULL CHECK (feeling IN ('calm', 'angry', 'sleepy')),
    level INTEGER NOT NULL,
    UNIQUE(small, port)
  ))";

cpm::connection make_db() {
  auto db = cpm::connection::open_memory();
  db.exec(schema);
  return db;
}

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// A row with every field set to something other than its default.
everything full(std::string name) {
  return everything{
      .id = 0,
      .small = std::numeric_limits<std::int32_t>::min(),
      .port = 65535,
      .active = true,
      .ratio = -0.125,
      .name = std::move(name),
      .nickname = "nick",
      .payload = bytes({0, 1, 254, 255}),
      .thumbnail = bytes({9, 8, 7}),
      .born = sys_days{1999y / December / 31} + 23h + 59min + 59s,
      .created_at = millis_time{sys_days{2024y / March / 1} + 12h + 34min + 56s + 789ms},
      .feeling = mood::angry,
      .level = tier::high,
  };
}

// A minimal row: empty optionals, empty blob, zero values.
everything sparse(std::string name, std::int32_t small = 1) {
  everything e;
  e.name = std::move(name);
  e.small = small;
  return e;
}

template <class T>
T scalar(cpm::connection& db, const std::string& sql) {
  auto stmt = db.prepare(sql);
  REQUIRE(stmt.step());
  return stmt.column<T>(0);
}

}  // namespace

TEST_CASE("insert returns the stored row with the id the database chose when id is 0", "[crud][insert]") {
  auto db = make_db();
  auto first = cpm::insert(db, full("first"));
  auto second = cpm::insert(db, sparse("second", 2));
  CHECK(first.id == 1);
  CHECK(second.id == 2);
  CHECK(first.name == "first");
  CHECK(scalar<std::int64_t>(db, "SELECT count(*) FROM everything") == 2);

  auto chosen = sparse("chosen", 3);
  chosen.id = 100;
  CHECK(cpm::insert(db, chosen).id == 100);
  CHECK(cpm::insert(db, sparse("after", 4)).id == 101);
}

TEST_CASE("every mapped type round-trips through insert and get", "[crud][insert][get]") {
  auto db = make_db();
  auto written = full("all types");
  auto stored = cpm::insert(db, written);
  written.id = stored.id;
  CHECK(stored == written);
  auto read = cpm::get<everything>(db, stored.id);
  REQUIRE(read);
  CHECK(*read == written);

  // What SQLite holds: the named enum as text, the other as an integer, times as text.
  CHECK(scalar<std::string>(db, "SELECT feeling FROM everything") == "angry");
  CHECK(scalar<std::string>(db, "SELECT typeof(level) || ':' || level FROM everything") == "integer:7");
  CHECK(scalar<std::string>(db, "SELECT born FROM everything") == "1999-12-31 23:59:59");
  CHECK(scalar<std::string>(db, "SELECT created_at FROM everything") == "2024-03-01 12:34:56.789");
  CHECK(scalar<std::string>(db, "SELECT typeof(payload) || typeof(thumbnail) FROM everything") == "blobblob");
  CHECK(scalar<std::int64_t>(db, "SELECT active + port FROM everything") == 65536);
}

TEST_CASE("empty optionals and empty blobs round-trip as NULL and as an empty blob", "[crud][insert][get]") {
  auto db = make_db();
  auto written = sparse("sparse");
  written.created_at = millis_time{};  // set, so that the row compares whole
  auto stored = cpm::insert(db, written);
  written.id = stored.id;
  CHECK(stored == written);
  CHECK(scalar<std::string>(db, "SELECT typeof(nickname) || typeof(thumbnail) || typeof(payload) FROM everything") ==
        "nullnullblob");
  auto read = cpm::get<everything>(db, stored.id);
  REQUIRE(read);
  CHECK_FALSE(read->nickname);
  CHECK_FALSE(read->thumbnail);
  CHECK(read->payload.empty());
}

TEST_CASE("insert leaves an empty defaulted field to the database and returns what it stored", "[crud][insert]") {
  auto db = make_db();
  auto before = floor<seconds>(system_clock::now());
  auto stored = cpm::insert(db, sparse("defaulted"));
  auto after = system_clock::now();
  REQUIRE(stored.created_at);
  CHECK(*stored.created_at >= before - 1s);
  CHECK(*stored.created_at <= after + 1s);
  CHECK(scalar<std::string>(db, "SELECT typeof(created_at) FROM everything") == "text");
  auto read = cpm::get<everything>(db, stored.id);
  REQUIRE(read);
  CHECK(read->created_at == stored.created_at);
}

TEST_CASE("insert_all stores every row in one transaction", "[crud][insert_all]") {
  auto db = make_db();
  std::vector<everything> rows{sparse("a", 1), sparse("b", 2), full("c")};
  CHECK(cpm::insert_all(db, rows) == 3);
  CHECK_FALSE(db.in_transaction());
  CHECK(cpm::count<everything>(db) == 3);
  auto names = cpm::all<everything>(db).to_vector();
  REQUIRE(names.size() == 3);
  CHECK(names[0].name == "a");
  CHECK(names[2].name == "c");
  CHECK(names[2].nickname == "nick");
  REQUIRE(names[0].created_at);  // filled by the database
}

TEST_CASE("insert_all stores nothing when a row fails midway", "[crud][insert_all][errors]") {
  auto db = make_db();
  (void)cpm::insert(db, sparse("existing", 50));
  std::vector<everything> rows{sparse("one", 1), sparse("two", 2), sparse("existing", 3), sparse("four", 4)};
  CHECK_THROWS_AS(cpm::insert_all(db, rows), cpm::unique_violation);
  CHECK_FALSE(db.in_transaction());
  CHECK(cpm::count<everything>(db) == 1);
  CHECK_FALSE(cpm::find_one<&everything::name>(db, "one"));
}

TEST_CASE("insert_all inside a transaction rolls back only its own rows on failure", "[crud][insert_all][errors]") {
  auto db = make_db();
  cpm::transaction tx(db);
  (void)cpm::insert(db, sparse("kept", 1));
  std::vector<everything> rows{sparse("gone", 2), sparse("kept", 3)};
  CHECK_THROWS_AS(cpm::insert_all(db, rows), cpm::unique_violation);
  CHECK(db.in_transaction());
  tx.commit();
  CHECK(cpm::count<everything>(db) == 1);
  CHECK(cpm::find_one<&everything::name>(db, "kept"));
}

TEST_CASE("upsert on a single unique key inserts, then updates the same row", "[crud][upsert]") {
  auto db = make_db();
  auto inserted = cpm::upsert<&everything::name>(db, sparse("alice", 1));
  CHECK(inserted.id == 1);
  CHECK_FALSE(inserted.nickname);

  auto changed = full("alice");
  changed.small = 5;
  auto updated = cpm::upsert<&everything::name>(db, changed);
  CHECK(updated.id == inserted.id);  // the stored row keeps its id (the model's id was 0)
  CHECK(updated.nickname == "nick");
  CHECK(updated.small == 5);
  CHECK(updated.created_at == changed.created_at);
  CHECK(cpm::count<everything>(db) == 1);
  CHECK(cpm::get<everything>(db, inserted.id)->payload == changed.payload);
}

TEST_CASE("upsert leaves a stored default alone when the defaulted field is empty", "[crud][upsert]") {
  auto db = make_db();
  auto given = sparse("bob");
  given.created_at = millis_time{sys_days{2001y / January / 1}};
  (void)cpm::upsert<&everything::name>(db, given);
  auto again = cpm::upsert<&everything::name>(db, sparse("bob"));  // created_at empty
  REQUIRE(again.created_at);
  CHECK(*again.created_at == millis_time{sys_days{2001y / January / 1}});
}

TEST_CASE("upsert on a composite unique key matches on every key field", "[crud][upsert]") {
  auto db = make_db();
  auto a = sparse("a", 1);
  a.port = 80;
  auto first = cpm::upsert<&everything::small, &everything::port>(db, a);

  auto other_port = sparse("b", 1);
  other_port.port = 443;
  auto second = cpm::upsert<&everything::small, &everything::port>(db, other_port);
  CHECK(second.id != first.id);
  CHECK(cpm::count<everything>(db) == 2);

  auto same_keys = sparse("renamed", 1);
  same_keys.port = 80;
  auto third = cpm::upsert<&everything::small, &everything::port>(db, same_keys);
  CHECK(third.id == first.id);
  CHECK(third.name == "renamed");
  CHECK(cpm::count<everything>(db) == 2);
}

TEST_CASE("upsert that hits a different unique constraint throws unique_violation", "[crud][upsert][errors]") {
  auto db = make_db();
  (void)cpm::insert(db, sparse("taken", 1));
  auto upsert_by_pair = [&](const everything& e) { return cpm::upsert<&everything::small, &everything::port>(db, e); };
  CHECK_THROWS_AS(upsert_by_pair(sparse("taken", 2)), cpm::unique_violation);
  CHECK(cpm::count<everything>(db) == 1);
}

TEST_CASE("get returns the row with the key, or nothing", "[crud][get]") {
  auto db = make_db();
  auto stored = cpm::insert(db, full("x"));
  auto found = cpm::get<everything>(db, stored.id);
  REQUIRE(found);
  CHECK(found->name == "x");
  CHECK_FALSE(cpm::get<everything>(db, stored.id + 1));
  CHECK_FALSE(cpm::get<everything>(db, 0));
}

namespace {

struct article {
  std::string slug;
  std::string title;
};

}  // namespace

template <>
struct cpm::model_traits<article> {
  static constexpr auto primary_key = &article::slug;
};

TEST_CASE("a key argument of another type converts to the key type when it does not narrow", "[crud][get]") {
  auto db = make_db();
  auto stored = cpm::insert(db, sparse("x"));
  const int small_id = static_cast<int>(stored.id);
  const std::uint8_t tiny_id = static_cast<std::uint8_t>(stored.id);
  CHECK(cpm::get<everything>(db, small_id)->name == "x");
  CHECK(cpm::get<everything>(db, tiny_id)->name == "x");
  CHECK(cpm::page<everything>(db, 0, 5).to_vector().size() == 1);
  CHECK(cpm::page<everything>(db, small_id, 5).to_vector().empty());
  CHECK_FALSE(cpm::get<everything>(db, {}));  // a braced key is of the key type: id 0
  CHECK(cpm::remove<everything>(db, small_id));
  CHECK(cpm::count<everything>(db) == 0);

  db.exec("CREATE TABLE article(slug TEXT PRIMARY KEY, title TEXT NOT NULL)");
  (void)cpm::insert(db, article{"hello", "Hello"});
  CHECK(cpm::get<article>(db, "hello")->title == "Hello");
  CHECK(cpm::get<article>(db, std::string_view{"hello"})->title == "Hello");
  CHECK(cpm::get<article>(db, std::string("hello"))->title == "Hello");
  CHECK(cpm::page<article>(db, "a", 5).to_vector().size() == 1);
  CHECK(cpm::remove<article>(db, std::string_view{"hello"}));
  CHECK_FALSE(cpm::get<article>(db, "hello"));
}

TEST_CASE("update writes every field of the row with the key", "[crud][update]") {
  auto db = make_db();
  auto stored = cpm::insert(db, full("before"));
  auto other = cpm::insert(db, sparse("other", 2));
  auto changed = sparse("after", 9);
  changed.id = stored.id;
  changed.created_at = millis_time{sys_days{2030y / June / 6}};
  CHECK(cpm::update(db, changed));
  auto read = cpm::get<everything>(db, stored.id);
  REQUIRE(read);
  CHECK(*read == changed);
  CHECK_FALSE(read->nickname);  // a set field can be cleared to NULL
  CHECK_FALSE(read->thumbnail);
  CHECK(cpm::get<everything>(db, other.id)->name == "other");  // no other row touched
}

TEST_CASE("update keeps the stored value of a defaulted field left empty", "[crud][update]") {
  auto db = make_db();
  auto stored = cpm::insert(db, full("keep"));
  auto changed = stored;
  changed.created_at.reset();
  changed.ratio = 2.5;
  CHECK(cpm::update(db, changed));
  auto read = cpm::get<everything>(db, stored.id);
  REQUIRE(read);
  CHECK(read->ratio == 2.5);
  CHECK(read->created_at == stored.created_at);
}

TEST_CASE("update returns false when no row has the key", "[crud][update]") {
  auto db = make_db();
  (void)cpm::insert(db, sparse("only"));
  auto missing = sparse("missing", 2);
  missing.id = 42;
  CHECK_FALSE(cpm::update(db, missing));
  CHECK(cpm::count<everything>(db) == 1);
}

TEST_CASE("update that breaks a constraint throws and changes nothing", "[crud][update][errors]") {
  auto db = make_db();
  (void)cpm::insert(db, sparse("one", 1));
  auto two = cpm::insert(db, sparse("two", 2));
  two.name = "one";
  CHECK_THROWS_AS(cpm::update(db, two), cpm::unique_violation);
  CHECK(cpm::get<everything>(db, two.id)->name == "two");
}

TEST_CASE("remove deletes the row with the key and reports whether there was one", "[crud][remove]") {
  auto db = make_db();
  auto a = cpm::insert(db, sparse("a", 1));
  auto b = cpm::insert(db, sparse("b", 2));
  CHECK(cpm::remove<everything>(db, a.id));
  CHECK_FALSE(cpm::get<everything>(db, a.id));
  CHECK_FALSE(cpm::remove<everything>(db, a.id));
  CHECK(cpm::get<everything>(db, b.id));
  CHECK(cpm::count<everything>(db) == 1);
}

TEST_CASE("all returns every row in key order, and nothing for an empty table", "[crud][all]") {
  auto db = make_db();
  CHECK(cpm::all<everything>(db).to_vector().empty());
  for (std::int64_t id : {30, 10, 20}) {
    auto e = sparse(fmt::format("row{}", id), static_cast<std::int32_t>(id));
    e.id = id;
    (void)cpm::insert(db, e);
  }
  std::vector<std::int64_t> ids;
  for (const everything& e : cpm::all<everything>(db)) ids.push_back(e.id);
  CHECK(ids == std::vector<std::int64_t>{10, 20, 30});
}

TEST_CASE("count follows inserts and deletes", "[crud][count]") {
  auto db = make_db();
  CHECK(cpm::count<everything>(db) == 0);
  auto a = cpm::insert(db, sparse("a", 1));
  (void)cpm::insert(db, sparse("b", 2));
  CHECK(cpm::count<everything>(db) == 2);
  (void)cpm::remove<everything>(db, a.id);
  CHECK(cpm::count<everything>(db) == 1);
}

TEST_CASE("page walks the table in key order, a page at a time", "[crud][page]") {
  auto db = make_db();
  std::vector<everything> rows;
  for (int i = 1; i <= 10; ++i) rows.push_back(sparse(fmt::format("p{}", i), i));
  (void)cpm::insert_all(db, rows);
  (void)cpm::remove<everything>(db, 5);  // a gap does not shorten a page

  std::vector<std::vector<std::int64_t>> pages;
  std::int64_t after = 0;
  for (;;) {
    std::vector<std::int64_t> page;
    for (const everything& e : cpm::page<everything>(db, after, 3)) page.push_back(e.id);
    if (page.empty()) break;
    after = page.back();
    pages.push_back(page);
  }
  CHECK(pages == std::vector<std::vector<std::int64_t>>{{1, 2, 3}, {4, 6, 7}, {8, 9, 10}});
  CHECK(cpm::page<everything>(db, 10, 3).to_vector().empty());
  CHECK(cpm::page<everything>(db, 0, 0).to_vector().empty());
}
