// model_traits<T>::none_as_empty: an optional text field whose "none" is stored as '' (for
// tables other programs read into plain strings), and whose '' reads back as none.
#include <cpm/query.hpp>
#include <cpm/sqlite.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace compat {

struct note {
  std::int64_t id = 0;
  std::optional<std::string> text{};
  std::optional<std::string> nullable{};  // an ordinary optional beside it
};

struct note_text_patch {
  std::optional<std::optional<std::string>> text;
};

}  // namespace compat

template <>
struct cpm::model_traits<compat::note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto none_as_empty = std::tuple{&compat::note::text};
};

namespace {

std::string stored(cpm::connection& db, std::int64_t id) {
  return cpm::query<std::string>(db, "SELECT typeof(text) || ':' || coalesce(text, '') || '|' || typeof(nullable) "
                                     "FROM notes WHERE id = ?",
                                 id)
      .one();
}

}  // namespace

TEST_CASE("a none_as_empty field stores none as '' on insert, update, upsert and patch", "[none_as_empty]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT, nullable TEXT)");
  auto n = cpm::insert(db, compat::note{});
  CHECK(stored(db, n.id) == "text:|null");
  CHECK_FALSE(n.text.has_value());

  n.text = "hello";
  cpm::update(db, n);
  CHECK(stored(db, n.id) == "text:hello|null");
  n.text.reset();
  cpm::update(db, n);
  CHECK(stored(db, n.id) == "text:|null");

  CHECK(cpm::patch<compat::note>(db, n.id, compat::note_text_patch{std::optional<std::string>("x")}));
  CHECK(stored(db, n.id) == "text:x|null");
  CHECK(cpm::patch<compat::note>(db, n.id, compat::note_text_patch{std::optional<std::string>()}));
  CHECK(stored(db, n.id) == "text:|null");

  auto up = cpm::upsert<&compat::note::id>(db, compat::note{n.id, std::nullopt, "n"});
  CHECK(stored(db, up.id) == "text:|text");
}

TEST_CASE("a none_as_empty field reads '' and NULL as none, other text as it is", "[none_as_empty]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT, nullable TEXT)");
  db.exec("INSERT INTO notes VALUES (1, '', ''), (2, NULL, NULL), (3, ' ', 'x')");
  auto one = cpm::get<compat::note>(db, 1).value();
  CHECK_FALSE(one.text.has_value());
  CHECK(one.nullable == "");  // an ordinary optional keeps '' apart from NULL
  CHECK_FALSE(cpm::get<compat::note>(db, 2)->text.has_value());
  CHECK(cpm::get<compat::note>(db, 3)->text == " ");
  int none = 0;
  for (const auto& n : cpm::page<compat::note>(db, 0, -1)) none += n.text ? 0 : 1;
  CHECK(none == 2);
}

TEST_CASE("find, find_one and find_in with none on a none_as_empty field find the rows holding '' and NULL",
          "[none_as_empty]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT, nullable TEXT)");
  db.exec("INSERT INTO notes VALUES (1, '', NULL), (2, NULL, NULL), (3, 'a', NULL), (4, 'b', NULL)");
  auto ids = [](auto&& range) {
    std::vector<std::int64_t> out;
    for (const compat::note& n : range) out.push_back(n.id);
    return out;
  };
  using ids_t = std::vector<std::int64_t>;
  CHECK(ids(cpm::find<&compat::note::text>(db, std::nullopt)) == ids_t{1, 2});
  CHECK(ids(cpm::find<&compat::note::text>(db, std::optional<std::string>())) == ids_t{1, 2});
  CHECK(ids(cpm::find<&compat::note::text>(db, "")) == ids_t{1, 2});  // '' reads back as none
  CHECK(ids(cpm::find<&compat::note::text>(db, "a")) == ids_t{3});
  CHECK(ids(cpm::find<&compat::note::text>(db, std::string("b"))) == ids_t{4});
  CHECK(cpm::find_one<&compat::note::text>(db, std::nullopt).value().id == 1);
  CHECK(cpm::find_one<&compat::note::text>(db, "b").value().id == 4);
  CHECK(ids(cpm::find_in<&compat::note::text>(db, std::vector<std::optional<std::string>>{std::nullopt, "b"})) ==
        ids_t{4, 1, 2});  // the IN chunk, then the rows of none
  CHECK(ids(cpm::find_in<&compat::note::text>(db, std::vector<std::string>{"", "a"})) == ids_t{3, 1, 2});
  // An ordinary optional beside it keeps NULL and '' apart.
  CHECK(ids(cpm::find<&compat::note::nullable>(db, std::nullopt)) == ids_t{1, 2, 3, 4});
  CHECK(ids(cpm::find<&compat::note::nullable>(db, "")).empty());
}
