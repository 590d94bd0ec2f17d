// Field and type names at compile time, and what model_info derives from a model: the
// defaults (table, columns, rowid key) and every override (model_traits, cpm_table).
// Most facts are static_asserts: this file fails to compile when one of them breaks.
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

struct plain {
  std::int64_t id = 0;
  std::string username;
  std::optional<std::string> email;
};

template <class T>
struct box {
  T value{};
  std::int32_t weight = 0;
};

struct with_keyword {
  std::int64_t id = 0;
  std::string order;
  std::int32_t group = 0;
};

struct personne {
  std::int64_t id = 0;
  std::string prénom;
  std::int32_t âge = 0;
};

struct no_id {
  std::string code;
  std::int32_t amount = 0;
};

struct text_key {
  std::string slug;
  std::string title;
};

struct renamed {
  std::int64_t id = 0;
  std::string username;
  std::optional<std::chrono::sys_seconds> created_at;
};

struct member_named {
  static constexpr std::string_view cpm_table = "memberships";
  std::int64_t id = 0;
  std::int64_t org_id = 0;
};

struct both_named {
  static constexpr std::string_view cpm_table = "from_member";
  std::int64_t id = 0;
};

}  // namespace

namespace outer::inner {
struct nested_model {
  std::int64_t id = 0;
  double score = 0;
};
}  // namespace outer::inner

template <>
struct cpm::model_traits<renamed> {
  static constexpr std::string_view table = "users";
  static constexpr std::array<std::string_view, 3> columns{"user_id", "login", "created"};
  static constexpr auto defaults = std::tuple{&renamed::created_at};
};

template <>
struct cpm::model_traits<text_key> {
  static constexpr auto primary_key = &text_key::slug;
};

template <>
struct cpm::model_traits<both_named> {
  static constexpr std::string_view table = "from_traits";
};

namespace names = cpm::detail;

// ---- field names ------------------------------------------------------------------------------

static_assert(names::field_name<plain, 0> == "id");
static_assert(names::field_name<plain, 1> == "username");
static_assert(names::field_name<plain, 2> == "email");

static_assert(names::field_name<outer::inner::nested_model, 0> == "id");
static_assert(names::field_name<outer::inner::nested_model, 1> == "score");

static_assert(names::field_name<box<std::string>, 0> == "value");
static_assert(names::field_name<box<std::string>, 1> == "weight");
static_assert(names::field_name<box<box<int>>, 1> == "weight");

static_assert(names::field_name<with_keyword, 1> == "order");
static_assert(names::field_name<with_keyword, 2> == "group");

static_assert(names::field_name<personne, 1> == "prénom");
static_assert(names::field_name<personne, 2> == "âge");

// ---- type names -------------------------------------------------------------------------------

static_assert(names::type_name<plain> == "plain");
static_assert(names::type_name<outer::inner::nested_model> == "nested_model");
static_assert(names::type_name<box<int>> == "box");
static_assert(names::type_name<box<outer::inner::nested_model>> == "box");
static_assert(names::type_name<personne> == "personne");

// ---- the defaults -----------------------------------------------------------------------------

static_assert(cpm::model_info<plain>::table == "plain");
static_assert(cpm::model_info<plain>::columns == std::array<std::string_view, 3>{"id", "username", "email"});
static_assert(cpm::model_info<plain>::has_primary_key && cpm::model_info<plain>::primary_key == 0);
static_assert(cpm::model_info<plain>::rowid_key);
static_assert(cpm::model_info<plain>::defaulted_count == 0);
static_assert(cpm::field_index<&plain::email> == 2);
static_assert(cpm::field_index<&plain::id> == 0);

static_assert(cpm::model_info<outer::inner::nested_model>::table == "nested_model");
static_assert(cpm::model_info<box<std::string>>::table == "box");
static_assert(!cpm::model_info<box<std::string>>::has_primary_key);

static_assert(!cpm::model_info<no_id>::has_primary_key);
static_assert(cpm::model_info<no_id>::primary_key == cpm::model_info<no_id>::size);
static_assert(!cpm::model_info<no_id>::rowid_key);

// ---- the overrides ----------------------------------------------------------------------------

static_assert(cpm::model_info<renamed>::table == "users");
static_assert(cpm::model_info<renamed>::columns ==
              std::array<std::string_view, 3>{"user_id", "login", "created"});
// The key is found by field name, whatever its column is called.
static_assert(cpm::model_info<renamed>::primary_key == 0 && cpm::model_info<renamed>::rowid_key);
static_assert(cpm::model_info<renamed>::defaulted == std::array<bool, 3>{false, false, true});
static_assert(cpm::model_info<renamed>::defaulted_count == 1);

static_assert(cpm::model_info<text_key>::primary_key == 0);
static_assert(cpm::model_info<text_key>::has_primary_key);
static_assert(!cpm::model_info<text_key>::rowid_key, "a text key is no rowid");

static_assert(cpm::model_info<member_named>::table == "memberships");
static_assert(cpm::model_info<member_named>::size == 2, "a static member is no field");
static_assert(both_named::cpm_table == "from_member" && cpm::model_info<both_named>::table == "from_traits",
              "model_traits wins over cpm_table");

TEST_CASE("field names come from the declaration for plain, namespaced and template models", "[names]") {
  // The same facts as the static_asserts above, checked at run time too so a failure reads well.
  CHECK(cpm::model_info<plain>::columns[1] == "username");
  CHECK(cpm::model_info<outer::inner::nested_model>::columns[1] == "score");
  CHECK(cpm::model_info<box<double>>::columns[0] == "value");
  CHECK(cpm::detail::type_name<box<double>> == "box");
}

TEST_CASE("field names of a struct local to a function", "[names]") {
  struct local_model {
    std::int64_t id = 0;
    std::string local_field;
  };
  static_assert(cpm::detail::field_name<local_model, 0> == "id");
  static_assert(cpm::detail::field_name<local_model, 1> == "local_field");
  static_assert(cpm::detail::type_name<local_model> == "local_model");
  STATIC_REQUIRE(cpm::model_info<local_model>::table == "local_model");

  // A lambda's local type too.
  auto make = [] {
    struct in_lambda {
      std::int32_t deep_field = 0;
    };
    return in_lambda{};
  };
  using in_lambda = decltype(make());
  STATIC_REQUIRE(cpm::detail::field_name<in_lambda, 0> == "deep_field");
  STATIC_REQUIRE(cpm::detail::type_name<in_lambda> == "in_lambda");
}

TEST_CASE("non-ASCII field names are read as UTF-8", "[names]") {
  CHECK(cpm::model_info<personne>::columns[1] == "pr\xc3\xa9nom");
  CHECK(cpm::model_info<personne>::columns[2] == "\xc3\xa2ge");
  // The SQL quotes them like any other identifier, and SQLite takes them.
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE personne(id INTEGER PRIMARY KEY, \"prénom\" TEXT NOT NULL, \"âge\" INTEGER NOT NULL)");
  auto stored = cpm::insert(db, personne{.id = 0, .prénom = "Zoë", .âge = 31});
  auto back = cpm::get<personne>(db, stored.id);
  REQUIRE(back);
  CHECK(back->prénom == "Zoë");
  CHECK(back->âge == 31);
}

TEST_CASE("a field named like an SQL keyword is quoted in the generated SQL and works", "[names]") {
  STATIC_REQUIRE(cpm::sql_text::select_all<with_keyword> ==
                 R"(SELECT "id", "order", "group" FROM "with_keyword" ORDER BY "id")");
  auto db = cpm::connection::open_memory();
  db.exec(R"(CREATE TABLE with_keyword(id INTEGER PRIMARY KEY, "order" TEXT NOT NULL, "group" INTEGER NOT NULL))");
  auto stored = cpm::insert(db, with_keyword{.id = 0, .order = "desc", .group = 7});
  auto found = cpm::find_one<&with_keyword::order>(db, "desc");
  REQUIRE(found);
  CHECK(found->id == stored.id);
  CHECK(found->group == 7);
}

TEST_CASE("model_traits overrides table and column names in the SQL that runs", "[names][traits]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE users(user_id INTEGER PRIMARY KEY, login TEXT NOT NULL, "
          "created TEXT NOT NULL DEFAULT '2020-02-02 02:02:02')");
  auto stored = cpm::insert(db, renamed{.id = 0, .username = "alice", .created_at = std::nullopt});
  CHECK(stored.id == 1);
  CHECK(stored.username == "alice");
  REQUIRE(stored.created_at);
  using namespace std::chrono;
  CHECK(*stored.created_at == sys_days{2020y / February / 2} + 2h + 2min + 2s);
  auto stmt = db.prepare("SELECT login FROM users WHERE user_id = 1");
  REQUIRE(stmt.step());
  CHECK(stmt.column<std::string>(0) == "alice");
}

TEST_CASE("a non-integer primary key set by model_traits is used as given", "[names][traits]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE text_key(slug TEXT PRIMARY KEY, title TEXT NOT NULL)");
  (void)cpm::insert(db, text_key{.slug = "hello-world", .title = "Hello"});
  auto got = cpm::get<text_key>(db, "hello-world");
  REQUIRE(got);
  CHECK(got->title == "Hello");
  CHECK(cpm::remove<text_key>(db, std::string("hello-world")));
  CHECK_FALSE(cpm::get<text_key>(db, "hello-world"));
}

TEST_CASE("the static member cpm_table names the table", "[names][traits]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE memberships(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL)");
  auto stored = cpm::insert(db, member_named{.id = 0, .org_id = 9});
  CHECK(stored.id == 1);
  CHECK(cpm::count<member_named>(db) == 1);
}
