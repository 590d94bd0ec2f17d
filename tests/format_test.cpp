// Printing models with fmt: fmt::format("{}", model) for every kind of field.
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

}  // namespace

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

TEST_CASE("only types cpm can map are printable as models", "[format]") {
  STATIC_REQUIRE(fmt::is_formattable<user>::value);
  STATIC_REQUIRE(fmt::is_formattable<everything>::value);
  STATIC_REQUIRE_FALSE(fmt::is_formattable<with_base>::value);  // Boost.PFR cannot see a base's fields
  STATIC_REQUIRE_FALSE(fmt::is_formattable<unmapped_field>::value);
  STATIC_REQUIRE_FALSE(fmt::is_formattable<std::vector<std::byte>>::value);
}
