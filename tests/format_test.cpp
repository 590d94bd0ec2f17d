// Printing models with fmt: fmt::format("{}", model) for every kind of field, for the types
// opted in with cpm::model_formatter (and any model through cpm::format_model); an aggregate
// not opted in prints as it did without cpm, and a formatter of the program's own is used.
#include <cpm/reflect.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono;

enum class mood { calm, angry };
enum class tier : std::int16_t { low = -1, high = 7 };

}  // namespace

template <>
struct cpm::enum_names<mood> {
  static constexpr std::array values{std::pair{mood::calm, std::string_view{"calm"}},
                                     std::pair{mood::angry, std::string_view{"angry"}}};
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
  std::optional<sys_time<milliseconds>> created_at;
  mood feeling = mood::calm;
  tier level = tier::low;
};

struct user {
  std::int64_t id = 0;
  std::string username;
  std::optional<std::string> public_key;
};

// A model with a formatter of its own keeps it.
struct custom {
  std::int64_t id = 0;
};

template <class T>
struct wrapper {
  T inner{};
};

// Not models: asking fmt about them must neither compile them into a formatter nor stop the build.
struct with_base : user {
  std::int32_t extra = 0;
};
struct unmapped_field {
  std::vector<int> values;
};
struct with_bit_field {
  std::uint32_t flags : 4;
};

// A model not opted in.
struct quiet {
  std::int64_t id = 0;
};

}  // namespace

// Aggregates of a program's own that cpm could map but that are none of its business: they
// print with the program's formatter, or not at all.
namespace geo {
struct point {
  double x = 0;
  double y = 0;
};
struct extent {
  double width = 0;
  double height = 0;
};
template <class T>
concept planar = requires(const T& t) {
  t.x;
  t.y;
};
}  // namespace geo

template <class T>
  requires geo::planar<T>
struct fmt::formatter<T> : fmt::formatter<std::string_view> {
  auto format(const T& p, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "({}, {})", p.x, p.y);
  }
};

template <>
struct fmt::formatter<everything> : cpm::model_formatter<everything> {};
template <>
struct fmt::formatter<user> : cpm::model_formatter<user> {};
template <class T>
struct fmt::formatter<wrapper<T>> : cpm::model_formatter<wrapper<T>> {};

template <>
struct fmt::formatter<custom> : fmt::formatter<std::string_view> {
  auto format(const custom& c, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "custom #{}", c.id);
  }
};

TEST_CASE("fmt prints a model as its type name and each field by name", "[format]") {
  user u{1, "alice", std::nullopt};
  CHECK(fmt::format("{}", u) == R"(user{id: 1, username: "alice", public_key: null})");
  u.public_key = "ssh-ed25519 AAAA";
  CHECK(fmt::format("{}", u) == R"(user{id: 1, username: "alice", public_key: "ssh-ed25519 AAAA"})");
  CHECK(fmt::format("{}", wrapper<std::int32_t>{-3}) == "wrapper{inner: -3}");
}

TEST_CASE("fmt prints every field kind", "[format]") {
  everything e{
      .id = 9,
      .small = -2147483647 - 1,
      .port = 65535,
      .active = true,
      .ratio = -0.125,
      .name = "tab\there \"quoted\"",
      .nickname = std::nullopt,
      .payload = std::vector<std::byte>(3),
      .thumbnail = std::vector<std::byte>{},
      .born = sys_days{2024y / January / 15} + 10h + 30min,
      .created_at = sys_time<milliseconds>{sys_days{2024y / January / 15} + 10h + 30min + 5s + 7ms},
      .feeling = mood::angry,
      .level = tier::high,
  };
  CHECK(fmt::format("{}", e) ==
        "everything{id: 9, small: -2147483648, port: 65535, active: true, ratio: -0.125, "
        R"(name: "tab\there \"quoted\"", nickname: null, payload: <3 bytes>, thumbnail: <0 bytes>, )"
        "born: 2024-01-15 10:30:00, created_at: 2024-01-15 10:30:05.007, feeling: angry, level: 7}");

  e.thumbnail.reset();
  e.created_at.reset();
  e.feeling = static_cast<mood>(5);  // no name: printed as its integer
  e.level = tier::low;
  e.active = false;
  CHECK_THAT(fmt::format("{}", e),
             Catch::EndsWith("thumbnail: null, born: 2024-01-15 10:30:00, created_at: null, feeling: 5, level: -1}") &&
                 Catch::Contains("active: false"));
}

TEST_CASE("a model with its own fmt::formatter keeps it", "[format]") {
  CHECK(fmt::format("{}", custom{42}) == "custom #42");
}

TEST_CASE("a model takes no format options", "[format][errors]") {
  CHECK_THROWS_AS(fmt::format(fmt::runtime("{:>10}"), user{}), fmt::format_error);
  CHECK(fmt::format(fmt::runtime("{}"), user{}) == R"(user{id: 0, username: "", public_key: null})");
}

TEST_CASE("only the models opted in are printable with fmt", "[format]") {
  STATIC_REQUIRE(fmt::is_formattable<user>::value);
  STATIC_REQUIRE(fmt::is_formattable<everything>::value);
  STATIC_REQUIRE(fmt::is_formattable<wrapper<std::string>>::value);
  STATIC_REQUIRE_FALSE(fmt::is_formattable<quiet>::value);
  STATIC_REQUIRE_FALSE(fmt::is_formattable<geo::extent>::value);
  STATIC_REQUIRE_FALSE(fmt::is_formattable<with_base>::value);
  STATIC_REQUIRE_FALSE(fmt::is_formattable<unmapped_field>::value);
  STATIC_REQUIRE_FALSE(fmt::is_formattable<with_bit_field>::value);
  STATIC_REQUIRE_FALSE(fmt::is_formattable<std::vector<std::byte>>::value);
}

TEST_CASE("an aggregate with a constrained formatter of the program's own uses it", "[format]") {
  // Before formatting was opted into, cpm's formatter for every mappable aggregate made this
  // one ambiguous.
  STATIC_REQUIRE(fmt::is_formattable<geo::point>::value);
  CHECK(fmt::format("{}", geo::point{1, 2}) == "(1, 2)");
}

TEST_CASE("format_model prints any model, opted in or not", "[format]") {
  CHECK(cpm::format_model(quiet{3}) == "quiet{id: 3}");
  CHECK(cpm::format_model(geo::extent{2, 0.5}) == "extent{width: 2, height: 0.5}");
  CHECK(cpm::format_model(user{1, "alice", std::nullopt}) == fmt::format("{}", user{1, "alice", std::nullopt}));
  CHECK(cpm::format_model(custom{42}) == "custom{id: 42}");  // the model's own formatter is fmt's business
}
