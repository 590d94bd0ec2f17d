// Typed patches: a struct of std::optional fields named like some of the model's fields;
// unset fields stay unchanged, and a nullable column can be set to NULL.
#include <cpm/query.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace std::chrono;

struct repo {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> description;
  bool is_private = false;
  std::int32_t stars = 0;
  std::optional<sys_seconds> archived_at;

  bool operator==(const repo&) const = default;
};

// Any subset of fields, in any order. (The {} initializers let -Wextra accept designated
// initializers that name only some fields.)
struct repo_patch {
  std::optional<std::int32_t> stars{};
  std::optional<std::string> name{};
  std::optional<std::optional<std::string>> description{};
  std::optional<bool> is_private{};
  std::optional<std::optional<sys_seconds>> archived_at{};
};

struct rename_only {
  std::optional<std::string> name;
};

// A defaulted optional field: the database fills it in when it is left empty on insert, and
// update keeps its stored value when it is left empty. patch is how it goes back to NULL.
struct ticket {
  std::int64_t id = 0;
  std::string title;
  std::optional<std::string> label;
};

struct ticket_patch {
  std::optional<std::optional<std::string>> label{};
};

}  // namespace

template <>
struct cpm::model_traits<ticket> {
  static constexpr auto defaults = std::tuple{&ticket::label};
};

namespace {

cpm::connection make_db() {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE repo(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, "
          "is_private INTEGER NOT NULL, stars INTEGER NOT NULL, archived_at TEXT)");
  return db;
}

const sys_seconds archived = sys_days{2023y / July / 4} + 9h;

repo sample(std::string name) {
  return repo{0, std::move(name), "a description", true, 5, archived};
}

}  // namespace

TEST_CASE("a patch with no field set changes nothing but still finds the row", "[patch]") {
  auto db = make_db();
  auto stored = cpm::insert(db, sample("cpm"));
  CHECK(cpm::patch<repo>(db, stored.id, repo_patch{}));
  CHECK(cpm::get<repo>(db, stored.id) == stored);
}

TEST_CASE("a patch writes the fields it sets and leaves the others unchanged", "[patch]") {
  auto db = make_db();
  auto stored = cpm::insert(db, sample("cpm"));
  auto other = cpm::insert(db, sample("other"));
  repo_patch p;
  p.stars = 42;
  p.is_private = false;
  CHECK(cpm::patch<repo>(db, stored.id, p));

  auto expected = stored;
  expected.stars = 42;
  expected.is_private = false;
  CHECK(cpm::get<repo>(db, stored.id) == expected);
  CHECK(cpm::get<repo>(db, other.id) == other);

  CHECK(cpm::patch<repo>(db, stored.id, rename_only{.name = "renamed"}));
  expected.name = "renamed";
  CHECK(cpm::get<repo>(db, stored.id) == expected);
}

TEST_CASE("a patch sets a nullable column to NULL with an engaged empty optional", "[patch][null]") {
  auto db = make_db();
  auto stored = cpm::insert(db, sample("cpm"));
  repo_patch p;
  p.description = std::optional<std::string>{};
  p.archived_at = std::optional<sys_seconds>{};
  CHECK(cpm::patch<repo>(db, stored.id, p));
  auto read = cpm::get<repo>(db, stored.id);
  REQUIRE(read);
  CHECK_FALSE(read->description);
  CHECK_FALSE(read->archived_at);
  CHECK(read->name == "cpm");
  auto stmt = db.prepare("SELECT typeof(description) || typeof(archived_at) FROM repo");
  REQUIRE(stmt.step());
  CHECK(stmt.column<std::string>(0) == "nullnull");

  // And back to a value.
  p.description = std::optional<std::string>{"back"};
  p.archived_at.reset();  // unset: stays NULL
  CHECK(cpm::patch<repo>(db, stored.id, p));
  read = cpm::get<repo>(db, stored.id);
  CHECK(read->description == "back");
  CHECK_FALSE(read->archived_at);
}

TEST_CASE("a patch returns false when no row has the key", "[patch]") {
  auto db = make_db();
  auto stored = cpm::insert(db, sample("cpm"));
  CHECK_FALSE(cpm::patch<repo>(db, stored.id + 1, repo_patch{.stars = 1}));
  CHECK(cpm::get<repo>(db, stored.id)->stars == 5);
  CHECK_FALSE(cpm::patch<repo>(db, stored.id + 1, repo_patch{}));
}

TEST_CASE("a patch that breaks a constraint throws and changes nothing", "[patch][errors]") {
  auto db = make_db();
  (void)cpm::insert(db, sample("taken"));
  auto stored = cpm::insert(db, sample("mine"));
  repo_patch p;
  p.name = "taken";
  p.stars = 1000;
  CHECK_THROWS_AS(cpm::patch<repo>(db, stored.id, p), cpm::unique_violation);
  CHECK(cpm::get<repo>(db, stored.id) == stored);
}

TEST_CASE("the patch statement names only the patch's columns", "[patch]") {
  STATIC_REQUIRE(cpm::detail::patch_sql<repo, 2, 5>.view() ==
                 R"(UPDATE "repo" SET "description" = CASE WHEN ? THEN ? ELSE "description" END, )"
                 R"("archived_at" = CASE WHEN ? THEN ? ELSE "archived_at" END WHERE "id" = ?)");
  STATIC_REQUIRE(cpm::detail::patch_column<repo, repo_patch, 0>() == 4);  // stars
  STATIC_REQUIRE(cpm::detail::patch_column<repo, repo_patch, 4>() == 5);  // archived_at
}

TEST_CASE("a defaulted field: update keeps its stored value when empty, patch sets it to NULL", "[patch][null][update]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE ticket(id INTEGER PRIMARY KEY, title TEXT NOT NULL, label TEXT DEFAULT 'triage')");
  auto stored = cpm::insert(db, ticket{.id = 0, .title = "crash", .label = std::nullopt});
  CHECK(stored.label == "triage");  // left empty: the database's default

  // update: an empty defaulted field keeps the stored value (the documented semantics).
  auto changed = stored;
  changed.title = "crash on start";
  changed.label.reset();
  CHECK(cpm::update(db, changed));
  auto read = cpm::get<ticket>(db, stored.id);
  REQUIRE(read);
  CHECK(read->title == "crash on start");
  CHECK(read->label == "triage");

  // patch with an engaged empty optional writes NULL.
  CHECK(cpm::patch<ticket>(db, stored.id, ticket_patch{.label = std::optional<std::string>{}}));
  read = cpm::get<ticket>(db, stored.id);
  REQUIRE(read);
  CHECK_FALSE(read->label);
  CHECK(read->title == "crash on start");
  auto stmt = db.prepare("SELECT typeof(label) FROM ticket");
  REQUIRE(stmt.step());
  CHECK(stmt.column<std::string>(0) == "null");

  // and update with a value sets one again.
  changed.label = "bug";
  CHECK(cpm::update(db, changed));
  CHECK(cpm::get<ticket>(db, stored.id)->label == "bug");
}

TEST_CASE("a patch's key converts to the key type without narrowing, as get's does", "[patch]") {
  auto db = make_db();
  auto stored = cpm::insert(db, sample("cpm"));
  const int small_id = static_cast<int>(stored.id);
  CHECK(cpm::patch<repo>(db, small_id, repo_patch{.stars = 6}));
  CHECK(cpm::get<repo>(db, small_id)->stars == 6);
}
