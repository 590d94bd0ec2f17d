// Whether SQLite copies a bound value is decided per value: text a value_traits builds, and an
// argument converted to the field's type, are copied; only bytes that live inside the caller's
// own object are bound without a copy, and only while the statement runs inside the call.
// Each case here was a heap-use-after-free under ASan once.
#include <cpm/query.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace {

// Stored as "tag:<text>": the bound string is built inside bind and dies when bind returns.
struct tag {
  std::string text;
  bool operator==(const tag&) const = default;
};

struct tagged {
  std::int64_t id = 0;
  tag label;
};

struct item {
  std::int64_t id = 0;
  std::string name;
};

struct event {
  std::int64_t id = 0;
  std::chrono::sys_time<std::chrono::milliseconds> at;
};

}  // namespace

template <>
struct cpm::value_traits<tag> {
  static void bind(const cpm::parameter& p, const tag& t) { p.text("tag:" + t.text + std::string(40, '.')); }
  static void read(const cpm::field& f, tag& out) {
    std::string_view s = f.text();
    out.text = std::string(s.substr(4, s.size() - 44));
  }
};

TEST_CASE("a value_traits that binds a string it builds is copied, not left dangling", "[binding]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE tagged(id INTEGER PRIMARY KEY, label TEXT NOT NULL)");
  auto stored = cpm::insert(db, tagged{0, tag{"release"}});
  CHECK(stored.label == tag{"release"});
  CHECK(cpm::query<std::string>(db, "SELECT label FROM tagged").one() == "tag:release" + std::string(40, '.'));
  auto found = cpm::find_one<&tagged::label>(db, tag{"release"});
  REQUIRE(found);
  CHECK(found->id == stored.id);
  CHECK(cpm::update(db, tagged{stored.id, tag{"final"}}));
  CHECK(cpm::get<tagged>(db, stored.id)->label == tag{"final"});
  CHECK(cpm::find<&tagged::label>(db, tag{"final"}).to_vector().size() == 1);
}

TEST_CASE("an argument converted to the field's type is copied before the statement runs", "[binding]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  (void)cpm::insert(db, item{0, std::string(64, 'x')});  // long: no small-string buffer
  const std::string wanted(64, 'x');
  auto found = cpm::find_one<&item::name>(db, std::cref(wanted));
  REQUIRE(found);
  CHECK(found->id == 1);
  auto range = cpm::find<&item::name>(db, std::cref(wanted));
  CHECK(range.to_vector().size() == 1);
}

TEST_CASE("a lazy find copies its text argument, which may die before the first row is read", "[binding]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  (void)cpm::insert(db, item{0, std::string(50, 'n')});
  auto range = [&] {
    std::string temporary(50, 'n');
    return cpm::find<&item::name>(db, temporary);
  }();
  CHECK(range.to_vector().size() == 1);
}

TEST_CASE("find binds through the field's mapping: an equal time point of another precision matches",
          "[binding]") {
  using namespace std::chrono;
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE event(id INTEGER PRIMARY KEY, at TEXT NOT NULL)");
  const sys_seconds noon = sys_days{2024y / 1 / 15} + 12h;
  (void)cpm::insert(db, event{0, time_point_cast<milliseconds>(noon)});
  CHECK(cpm::query<std::string>(db, "SELECT at FROM event").one() == "2024-01-15 12:00:00.000");
  auto found = cpm::find_one<&event::at>(db, noon);  // a sys_seconds for a millisecond field
  REQUIRE(found);
  CHECK(found->at == noon);
  CHECK(cpm::find<&event::at>(db, noon).to_vector().size() == 1);
}

TEST_CASE("find_in with std::nullopt in the list finds the NULL rows too, as find(nullopt) does", "[binding]") {
  struct entry {
    std::int64_t id = 0;
    std::optional<std::int64_t> owner;
  };
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE entry(id INTEGER PRIMARY KEY, owner INTEGER)");
  (void)cpm::insert(db, entry{0, 1});
  (void)cpm::insert(db, entry{0, std::nullopt});
  (void)cpm::insert(db, entry{0, 2});
  (void)cpm::insert(db, entry{0, std::nullopt});
  auto ids = [](cpm::rows<entry> r) {
    std::vector<std::int64_t> out;
    for (const entry& e : r) out.push_back(e.id);
    std::sort(out.begin(), out.end());
    return out;
  };
  using list = std::vector<std::optional<std::int64_t>>;
  CHECK(ids(cpm::find_in<&entry::owner>(db, list{1, std::nullopt})) == std::vector<std::int64_t>{1, 2, 4});
  CHECK(ids(cpm::find_in<&entry::owner>(db, list{std::nullopt})) == std::vector<std::int64_t>{2, 4});
  CHECK(ids(cpm::find_in<&entry::owner>(db, list{2})) == std::vector<std::int64_t>{3});
  CHECK(ids(cpm::find<&entry::owner>(db, std::nullopt)) == std::vector<std::int64_t>{2, 4});
}
