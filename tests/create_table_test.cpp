// CREATE TABLE from the models: the text, spelled out by static_assert for every kind of field
// and constraint, then tables made from it in SQLite, with rows going through insert, get and
// find and the constraints refusing what they must.
#include <cpm/query.hpp>
#include <cpm/schema.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace {

// ---- plain fields ---------------------------------------------------------------------------

struct note {
  std::int64_t id = 0;
  std::string text{};
  bool pinned = false;
  double weight = 0;
  std::int32_t rank = 0;
  std::uint8_t small = 0;
};

// ---- optional fields, enums, time points, blobs -------------------------------------------------

enum class color { red, green };
enum class level : std::uint8_t { low = 1, high = 2 };  // no names: stored as its integer

struct item {
  std::int64_t id = 0;
  std::optional<std::string> label{};
  std::chrono::sys_seconds made{};
  std::optional<std::chrono::sys_time<std::chrono::milliseconds>> seen{};
  std::vector<std::byte> data{};
  std::optional<std::vector<std::byte>> thumb{};
  color hue = color::red;
  std::optional<level> grade{};
  float ratio = 0;
  std::optional<std::uint64_t> big{};
};

// ---- user value types ------------------------------------------------------------------------

struct email {
  std::string text;
};
struct cents {
  std::int64_t value = 0;
};

struct contact {
  std::int64_t id = 0;
  email address{};
  std::optional<email> backup{};
  cents balance{};
};

// ---- defaults --------------------------------------------------------------------------------

struct account {
  std::int64_t id = 0;
  std::string username{};
  std::optional<std::chrono::sys_seconds> created_at{};
  std::optional<std::int64_t> karma{};
  int port = 22;  // always written by cpm; the DEFAULT serves other writers
};

// ---- non-integer key, renamed columns, identifiers that need quotes -----------------------------

struct setting {
  std::string key{};
  std::string value{};
};

struct odd {
  std::int64_t id = 0;
  std::string label{};
  std::int64_t order = 0;
};

// No key at all.
struct event {
  std::string name{};
  std::int64_t at = 0;
};

// ---- unique and foreign keys: an organization, its repositories, grants, servers and keys ------

enum class permission { read, write, admin };

struct org {
  std::int64_t id = 0;
  std::string name{};
  std::optional<std::chrono::sys_seconds> created_at{};
};

struct repo {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name{};
  std::string path{};
};

struct person {
  std::int64_t id = 0;
  std::string login{};
};

struct grant {
  std::int64_t id = 0;
  std::int64_t repo_id = 0;
  std::int64_t person_id = 0;
  permission level = permission::read;
};

struct key {
  std::int64_t id = 0;
  std::string name{};
};

struct host {
  std::int64_t id = 0;
  std::string name{};
  std::optional<std::int64_t> key_id{};
  std::optional<std::string> owner_login{};  // references a unique field, not a key
};

}  // namespace

template <>
struct cpm::enum_names<color> {
  static constexpr std::array values{std::pair{color::red, std::string_view{"red"}},
                                     std::pair{color::green, std::string_view{"green"}}};
};
template <>
struct cpm::enum_names<permission> {
  static constexpr std::array values{std::pair{permission::read, std::string_view{"read"}},
                                     std::pair{permission::write, std::string_view{"write"}},
                                     std::pair{permission::admin, std::string_view{"admin"}}};
};

// Stored as another mapped type: the column takes that type's.
template <>
struct cpm::value_traits<email> : cpm::converted_value<email, std::string> {
  static std::string to_stored(const email& e) { return e.text; }
  static email from_stored(std::string s) { return email{std::move(s)}; }
};

// Mapped by hand, naming its SQL type.
template <>
struct cpm::value_traits<cents> {
  static constexpr std::string_view sql_type = "NUMERIC";
  static void bind(const cpm::parameter& p, const cents& c) { p.integer(c.value); }
  static void read(const cpm::field& f, cents& out) { out.value = f.integer(); }
};

template <>
struct cpm::model_traits<account> {
  static constexpr std::string_view table = "accounts";
  static constexpr auto defaults = std::tuple{&account::created_at, &account::karma};
  static constexpr auto default_values = std::tuple{cpm::sql_default<&account::created_at>{"CURRENT_TIMESTAMP"},
                                                    cpm::sql_default<&account::karma>{"0"},
                                                    cpm::sql_default<&account::port>{"22"}};
};

template <>
struct cpm::model_traits<setting> {
  static constexpr auto primary_key = &setting::key;
  static constexpr std::array<std::string_view, 2> columns{"name", "value"};
};

template <>
struct cpm::model_traits<odd> {
  static constexpr std::string_view table = "odd table";
  static constexpr std::array<std::string_view, 3> columns{"id", R"(say "hi")", "order"};
  static constexpr auto unique = std::tuple{cpm::unique_key<&odd::label, &odd::order>{}};
};

template <>
struct cpm::model_traits<org> {
  static constexpr std::string_view table = "orgs";
  static constexpr auto defaults = std::tuple{&org::created_at};
  static constexpr auto default_values = std::tuple{cpm::sql_default<&org::created_at>{"CURRENT_TIMESTAMP"}};
  static constexpr auto unique = std::tuple{cpm::unique_key<&org::name>{}};
};

template <>
struct cpm::model_traits<repo> {
  static constexpr std::string_view table = "repos";
  static constexpr auto unique = std::tuple{cpm::unique_key<&repo::org_id, &repo::name>{}, cpm::unique_key<&repo::path>{}};
  static constexpr auto foreign_keys =
      std::tuple{cpm::foreign_key<&repo::org_id, &org::id>{.on_delete = cpm::fk_action::cascade}};
};

template <>
struct cpm::model_traits<person> {
  static constexpr auto unique = std::tuple{cpm::unique_key<&person::login>{}};
};

template <>
struct cpm::model_traits<grant> {
  static constexpr auto unique = std::tuple{cpm::unique_key<&grant::repo_id, &grant::person_id>{}};
  static constexpr auto foreign_keys =
      std::tuple{cpm::foreign_key<&grant::repo_id, &repo::id>{.on_delete = cpm::fk_action::cascade},
                 cpm::foreign_key<&grant::person_id, &person::id>{.on_delete = cpm::fk_action::restrict,
                                                                  .on_update = cpm::fk_action::cascade}};
};

template <>
struct cpm::model_traits<host> {
  static constexpr auto foreign_keys =
      std::tuple{cpm::foreign_key<&host::key_id, &key::id>{.on_delete = cpm::fk_action::set_null},
                 cpm::foreign_key<&host::owner_login, &person::login>{.on_update = cpm::fk_action::cascade}};
};

// ---- the text ----------------------------------------------------------------------------------

static_assert(cpm::create_table_sql<note> ==
              R"(CREATE TABLE "note" ("id" INTEGER PRIMARY KEY, "text" TEXT NOT NULL, "pinned" INTEGER NOT NULL, )"
              R"("weight" REAL NOT NULL, "rank" INTEGER NOT NULL, "small" INTEGER NOT NULL))");

static_assert(cpm::create_table_sql<item> ==
              R"(CREATE TABLE "item" ("id" INTEGER PRIMARY KEY, "label" TEXT, "made" TEXT NOT NULL, "seen" TEXT, )"
              R"("data" BLOB NOT NULL, "thumb" BLOB, "hue" TEXT NOT NULL, "grade" INTEGER, "ratio" REAL NOT NULL, )"
              R"("big" INTEGER))");

static_assert(cpm::create_table_sql<contact> ==
              R"(CREATE TABLE "contact" ("id" INTEGER PRIMARY KEY, "address" TEXT NOT NULL, "backup" TEXT, )"
              R"("balance" NUMERIC NOT NULL))");

static_assert(cpm::create_table_sql<account> ==
              R"(CREATE TABLE "accounts" ("id" INTEGER PRIMARY KEY, "username" TEXT NOT NULL, )"
              R"("created_at" TEXT DEFAULT CURRENT_TIMESTAMP, "karma" INTEGER DEFAULT 0, )"
              R"("port" INTEGER NOT NULL DEFAULT 22))");

static_assert(cpm::create_table_sql<setting> ==
              R"(CREATE TABLE "setting" ("name" TEXT PRIMARY KEY NOT NULL, "value" TEXT NOT NULL))");

static_assert(cpm::create_table_sql<odd> ==
              R"(CREATE TABLE "odd table" ("id" INTEGER PRIMARY KEY, "say ""hi""" TEXT NOT NULL, )"
              R"("order" INTEGER NOT NULL, UNIQUE ("say ""hi""", "order")))");

static_assert(cpm::create_table_sql<event> ==
              R"(CREATE TABLE "event" ("name" TEXT NOT NULL, "at" INTEGER NOT NULL))");

static_assert(cpm::create_table_sql<org> ==
              R"(CREATE TABLE "orgs" ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL UNIQUE, )"
              R"("created_at" TEXT DEFAULT CURRENT_TIMESTAMP))");

static_assert(cpm::create_table_sql<repo> ==
              R"(CREATE TABLE "repos" ("id" INTEGER PRIMARY KEY, )"
              R"("org_id" INTEGER NOT NULL REFERENCES "orgs" ("id") ON DELETE CASCADE, )"
              R"("name" TEXT NOT NULL, "path" TEXT NOT NULL UNIQUE, UNIQUE ("org_id", "name")))");

static_assert(cpm::create_table_sql<grant> ==
              R"(CREATE TABLE "grant" ("id" INTEGER PRIMARY KEY, )"
              R"("repo_id" INTEGER NOT NULL REFERENCES "repos" ("id") ON DELETE CASCADE, )"
              R"("person_id" INTEGER NOT NULL REFERENCES "person" ("id") ON DELETE RESTRICT ON UPDATE CASCADE, )"
              R"("level" TEXT NOT NULL, UNIQUE ("repo_id", "person_id")))");

static_assert(cpm::create_table_sql<host> ==
              R"(CREATE TABLE "host" ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL, )"
              R"("key_id" INTEGER REFERENCES "key" ("id") ON DELETE SET NULL, )"
              R"("owner_login" TEXT REFERENCES "person" ("login") ON UPDATE CASCADE))");

// ---- in SQLite ---------------------------------------------------------------------------------

namespace {

template <class... Models>
cpm::connection db_with() {
  auto db = cpm::connection::open_memory();
  (db.exec(cpm::create_table_sql<Models>), ...);
  return db;
}

}  // namespace

TEST_CASE("every generated CREATE TABLE runs, and its table matches its model", "[create_table]") {
  auto db = db_with<note, item, contact, account, setting, odd, event, org, repo, person, grant, key, host>();
  CHECK_NOTHROW(cpm::check_schema<note, item, contact, account, setting, odd, event, org, repo, person, grant, key, host>(db));
  // An integer id is the rowid: sqlite_schema has no index for it, and 0 lets SQLite choose.
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM pragma_index_list('note') WHERE origin = 'pk'").one() == 0);
  CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM pragma_index_list('setting') WHERE origin = 'pk'").one() == 1);
}

TEST_CASE("rows of every field kind round-trip through tables made from their models", "[create_table]") {
  using namespace std::chrono;
  auto db = db_with<note, item, contact, account, setting, odd>();

  note n = cpm::insert(db, note{.text = "hello", .pinned = true, .weight = 1.5, .rank = -3, .small = 200});
  CHECK(n.id == 1);
  CHECK(cpm::get<note>(db, n.id)->small == 200);

  const std::vector<std::byte> bytes{std::byte{0}, std::byte{1}, std::byte{255}};
  item full{.label = "x",
            .made = sys_days{2024y / March / 1} + 12h,
            .seen = sys_time<milliseconds>{sys_days{2024y / March / 2}} + 1500ms,
            .data = bytes,
            .thumb = std::vector<std::byte>{},
            .hue = color::green,
            .grade = level::high,
            .ratio = 0.25f,
            .big = std::uint64_t{1} << 62};
  item stored = cpm::insert(db, full);
  auto back = cpm::get<item>(db, stored.id);
  REQUIRE(back);
  CHECK(back->label == "x");
  CHECK(back->made == full.made);
  CHECK(back->seen == full.seen);
  CHECK(back->data == bytes);
  CHECK(back->thumb == std::vector<std::byte>{});
  CHECK(back->hue == color::green);
  CHECK(back->grade == level::high);
  CHECK(back->ratio == 0.25f);
  CHECK(back->big == std::uint64_t{1} << 62);
  // Stored as the mapping binds them: time points and named enums as text, the rest as is.
  CHECK(cpm::query<std::string>(db, "SELECT typeof(made) || typeof(hue) || typeof(grade) || typeof(data) FROM item")
            .one() == "texttextintegerblob");
  item empty = cpm::insert(db, item{});
  CHECK_FALSE(cpm::get<item>(db, empty.id)->label);
  CHECK_FALSE(cpm::get<item>(db, empty.id)->big);

  contact c = cpm::insert(db, contact{.address = {"a@example.org"}, .balance = {1234}});
  CHECK(cpm::get<contact>(db, c.id)->address.text == "a@example.org");
  CHECK(cpm::get<contact>(db, c.id)->balance.value == 1234);
  CHECK_FALSE(cpm::get<contact>(db, c.id)->backup);

  // The database fills in the defaults cpm leaves out.
  account a = cpm::insert(db, account{.username = "alice"});
  CHECK(a.created_at);
  CHECK(a.karma == 0);
  CHECK(a.port == 22);
  CHECK(cpm::execute(db, "INSERT INTO accounts(username) VALUES ('bob')") == 1);  // another writer: port defaults
  CHECK(cpm::find_one<&account::username>(db, "bob")->port == 22);

  // A text key, under its own column name.
  (void)cpm::insert(db, setting{.key = "theme", .value = "dark"});
  CHECK(cpm::get<setting>(db, std::string("theme"))->value == "dark");
  CHECK_THROWS_AS(cpm::insert(db, setting{.key = "theme", .value = "light"}), cpm::unique_violation);

  // Quoted identifiers work in every generated statement.
  odd o = cpm::insert(db, odd{.label = "q", .order = 1});
  CHECK(cpm::find_one<&odd::order>(db, 1)->id == o.id);
}

TEST_CASE("tables made from related models enforce their foreign keys and unique keys", "[create_table]") {
  auto db = db_with<org, repo, person, grant, key, host>();

  org acme = cpm::insert(db, org{.name = "acme"});
  CHECK(acme.created_at);  // DEFAULT CURRENT_TIMESTAMP
  repo tools = cpm::insert(db, repo{.org_id = acme.id, .name = "tools", .path = "/srv/tools"});
  person ann = cpm::insert(db, person{.login = "ann"});
  grant g = cpm::insert(db, grant{.repo_id = tools.id, .person_id = ann.id, .level = permission::write});
  CHECK(cpm::find<&grant::repo_id>(db, tools.id).one().level == permission::write);

  SECTION("a dangling reference is refused") {
    CHECK_THROWS_AS(cpm::insert(db, repo{.org_id = 999, .name = "x", .path = "/x"}), cpm::foreign_key_violation);
    CHECK_THROWS_AS(cpm::insert(db, grant{.repo_id = tools.id, .person_id = 999}), cpm::foreign_key_violation);
    CHECK_THROWS_AS(cpm::insert(db, host{.name = "h", .key_id = 7}), cpm::foreign_key_violation);
    CHECK_THROWS_AS(cpm::insert(db, host{.name = "h", .owner_login = "nobody"}), cpm::foreign_key_violation);
    CHECK(cpm::count<repo>(db) == 1);
  }

  SECTION("unique keys, single and composite, are refused twice") {
    CHECK_THROWS_AS(cpm::insert(db, org{.name = "acme"}), cpm::unique_violation);
    try {
      (void)cpm::insert(db, repo{.org_id = acme.id, .name = "tools", .path = "/elsewhere"});
      FAIL("must throw");
    } catch (const cpm::unique_violation& e) {
      CHECK(e.table() == "repos");
      CHECK(e.columns() == std::vector<std::string>{"org_id", "name"});
    }
    CHECK_THROWS_AS(cpm::insert(db, repo{.org_id = acme.id, .name = "other", .path = "/srv/tools"}),
                    cpm::unique_violation);
    CHECK_THROWS_AS(cpm::insert(db, grant{.repo_id = tools.id, .person_id = ann.id}), cpm::unique_violation);
    // The same name in another organization is another repository.
    org beta = cpm::insert(db, org{.name = "beta"});
    CHECK_NOTHROW(cpm::insert(db, repo{.org_id = beta.id, .name = "tools", .path = "/srv/beta/tools"}));
  }

  SECTION("the declared actions run") {
    key k = cpm::insert(db, key{.name = "deploy"});
    host h = cpm::insert(db, host{.name = "h", .key_id = k.id, .owner_login = "ann"});
    // ON UPDATE CASCADE: renaming the person follows into the host.
    CHECK(cpm::execute(db, "UPDATE person SET login = 'anna' WHERE id = ?", ann.id) == 1);
    CHECK(cpm::get<host>(db, h.id)->owner_login == "anna");
    // ON DELETE RESTRICT: a person with grants stays. (SQLite reports a RESTRICT action with
    // the extended code SQLITE_CONSTRAINT_TRIGGER, which cpm maps to constraint_error.)
    CHECK_THROWS_AS(cpm::remove<person>(db, ann.id), cpm::constraint_error);
    CHECK(cpm::get<person>(db, ann.id));
    // ON DELETE SET NULL.
    CHECK(cpm::remove<key>(db, k.id));
    CHECK_FALSE(cpm::get<host>(db, h.id)->key_id);
    // ON DELETE CASCADE, two levels down.
    CHECK(cpm::remove<org>(db, acme.id));
    CHECK(cpm::count<repo>(db) == 0);
    CHECK_FALSE(cpm::get<grant>(db, g.id));
  }
}
