// Reads never coerce silently (issue 10): each C++ type reads only the storage classes that
// hold its values without loss, and anything else is a cpm::value_error of a precise kind whose
// message names the column, the stored storage class and value, and the C++ type.
#include <cpm/query.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono;
using kind = cpm::value_error::kind;

enum class color { red, green, blue };                      // stored by name (enum_names below)
enum class shade { light, dark };                           // stored as its integer
enum class offset : std::int16_t { low = -5, mid = 10, top = 127, bottom = -128 };
enum class wide_flag : std::uint8_t { off = 0, on = 200 };  // 200 lies outside the probed range
enum class user_id : std::int64_t {};                       // a strong integer type: no enumerators
enum class tiny_id : std::int8_t {};

}  // namespace

template <>
struct cpm::enum_names<color> {
  static constexpr std::array values{std::pair{color::red, std::string_view{"red"}},
                                     std::pair{color::green, std::string_view{"green"}},
                                     std::pair{color::blue, std::string_view{"blue"}}};
};

namespace {

// Reads `expression` (SQL) as T, from a column named "stored".
template <class T>
T read_as(const std::string& expression) {
  auto db = cpm::connection::open_memory();
  return cpm::query<T>(db, "SELECT " + expression + " AS stored").one();
}

// The value_error reading `expression` as T throws.
template <class T>
cpm::value_error read_error(const std::string& expression) {
  try {
    (void)read_as<T>(expression);
  } catch (const cpm::value_error& e) {
    return e;
  }
  FAIL("reading " << expression << " did not throw cpm::value_error");
  throw std::logic_error("unreachable");
}

// Reading `expression` as T throws a value_error of kind `k` naming the column "stored", whose
// message contains every one of `parts` (the stored value, the C++ type, ...).
template <class T>
void expect_error(const std::string& expression, kind k, std::initializer_list<std::string_view> parts) {
  INFO("SELECT " << expression);
  cpm::value_error e = read_error<T>(expression);
  INFO("message: " << e.what());
  CHECK(e.what_kind() == k);
  CHECK(e.column() == "stored");
  CHECK_THAT(e.what(), Catch::StartsWith("column 'stored': "));
  for (std::string_view part : parts) CHECK_THAT(e.what(), Catch::Contains(std::string(part)));
}

constexpr auto mismatch = kind::type_mismatch;
constexpr auto out_of_range = kind::out_of_range;

}  // namespace

// ---- integers ---------------------------------------------------------------------------------

TEST_CASE("an integer read refuses TEXT with type_mismatch instead of reading 0 or a number prefix", "[conversion]") {
  expect_error<std::int64_t>("'abc'", mismatch, {"TEXT 'abc'", "std::int64_t", "INTEGER"});
  expect_error<std::int64_t>("'12abc'", mismatch, {"TEXT '12abc'", "std::int64_t"});
  expect_error<std::int32_t>("'12'", mismatch, {"TEXT '12'", "std::int32_t"});
  expect_error<std::uint16_t>("''", mismatch, {"TEXT ''", "std::uint16_t"});
}

TEST_CASE("an integer read refuses a BLOB with type_mismatch", "[conversion]") {
  expect_error<std::int64_t>("x'0102ff'", mismatch, {"BLOB x'0102ff'", "std::int64_t"});
  expect_error<std::uint8_t>("zeroblob(40)", mismatch, {"BLOB x'00000000000000000000000000000000...' (40 bytes)",
                                                         "std::uint8_t"});
}

TEST_CASE("an integer read refuses a REAL with a fraction instead of truncating it", "[conversion]") {
  expect_error<std::int32_t>("3.7", mismatch, {"REAL 3.7", "std::int32_t", "fraction"});
  expect_error<std::int64_t>("-0.5", mismatch, {"REAL -0.5", "std::int64_t"});
  expect_error<std::uint64_t>("1e-300", mismatch, {"REAL 1e-300", "std::uint64_t"});
}

TEST_CASE("an integer read takes a REAL with an integral value in range, as SQLite converts it losslessly",
          "[conversion]") {
  CHECK(read_as<std::int64_t>("3.0") == 3);
  CHECK(read_as<std::int64_t>("-0.0") == 0);
  CHECK(read_as<std::int64_t>("1e15") == 1'000'000'000'000'000);
  CHECK(read_as<std::int64_t>("-9223372036854775808.0") == std::numeric_limits<std::int64_t>::min());
  CHECK(read_as<std::int8_t>("-128.0") == -128);
  CHECK(read_as<std::uint8_t>("255.0") == 255);
  // ...but not one out of the type's range, nor one with a fraction.
  expect_error<std::int8_t>("300.0", out_of_range, {"REAL 300", "std::int8_t", "-128..127"});
  expect_error<std::uint32_t>("-1.0", out_of_range, {"REAL -1", "std::uint32_t"});
  expect_error<std::int64_t>("2.5", mismatch, {"REAL 2.5", "std::int64_t"});
}

TEST_CASE("a REAL beyond int64 is out_of_range instead of saturating to INT64_MAX", "[conversion]") {
  expect_error<std::int64_t>("1e30", out_of_range, {"REAL 1e+30", "std::int64_t"});
  expect_error<std::int64_t>("-1e30", out_of_range, {"REAL -1e+30", "std::int64_t"});
  expect_error<std::int64_t>("9223372036854775808.0", out_of_range, {"REAL 9.223372036854776e+18", "std::int64_t"});
  expect_error<std::uint64_t>("1e30", out_of_range, {"REAL 1e+30", "std::uint64_t"});
  expect_error<std::int64_t>("9e999", out_of_range, {"REAL inf", "std::int64_t"});
}

TEST_CASE("an INTEGER outside the C++ type's range is out_of_range naming the stored value and the type",
          "[conversion]") {
  expect_error<std::int8_t>("300", out_of_range, {"INTEGER 300", "std::int8_t", "-128..127"});
  expect_error<std::uint64_t>("-1", out_of_range, {"INTEGER -1", "std::uint64_t", "0..18446744073709551615"});
  expect_error<std::int32_t>("2147483648", out_of_range, {"INTEGER 2147483648", "std::int32_t"});
}

// ---- bool -------------------------------------------------------------------------------------

TEST_CASE("bool reads INTEGER 0 and 1, and any other integer is out_of_range", "[conversion]") {
  CHECK(read_as<bool>("0") == false);
  CHECK(read_as<bool>("1") == true);
  CHECK(read_as<std::optional<bool>>("1") == std::optional<bool>{true});
  expect_error<bool>("2", out_of_range, {"INTEGER 2", "bool", "not 0 or 1"});
  expect_error<bool>("-1", out_of_range, {"INTEGER -1", "bool", "not 0 or 1"});
}

TEST_CASE("bool refuses TEXT, REAL and BLOB with type_mismatch instead of reading 'true' as false", "[conversion]") {
  expect_error<bool>("'true'", mismatch, {"TEXT 'true'", "bool"});
  expect_error<bool>("'1'", mismatch, {"TEXT '1'", "bool"});
  expect_error<bool>("1.0", mismatch, {"REAL 1", "bool"});
  expect_error<bool>("x'01'", mismatch, {"BLOB x'01'", "bool"});
}

// ---- floating point ---------------------------------------------------------------------------

TEST_CASE("floating point reads INTEGER and REAL, and refuses TEXT and BLOB with type_mismatch", "[conversion]") {
  CHECK(read_as<double>("2.5") == 2.5);
  CHECK(read_as<double>("3") == 3.0);
  CHECK(read_as<float>("-4") == -4.0f);
  expect_error<double>("'1.5'", mismatch, {"TEXT '1.5'", "double"});
  expect_error<float>("'abc'", mismatch, {"TEXT 'abc'", "float"});
  expect_error<double>("x'00'", mismatch, {"BLOB x'00'", "double"});
}

// ---- text and blobs ---------------------------------------------------------------------------

TEST_CASE("std::string reads TEXT only: INTEGER, REAL and BLOB are type_mismatch", "[conversion]") {
  CHECK(read_as<std::string>("'abc'") == "abc");
  CHECK(read_as<std::string>("''").empty());
  expect_error<std::string>("7", mismatch, {"INTEGER 7", "std::string"});
  expect_error<std::string>("1.5", mismatch, {"REAL 1.5", "std::string"});
  expect_error<std::string>("x'6869'", mismatch, {"BLOB x'6869'", "std::string"});
}

TEST_CASE("a blob reads BLOB and the exact bytes of TEXT, and refuses numbers with type_mismatch", "[conversion]") {
  CHECK(read_as<std::vector<std::byte>>("x'00ff'") == std::vector<std::byte>{std::byte{0x00}, std::byte{0xff}});
  CHECK(read_as<std::vector<std::byte>>("'hi'") == std::vector<std::byte>{std::byte{'h'}, std::byte{'i'}});
  CHECK(read_as<std::vector<std::byte>>("x''").empty());
  expect_error<std::vector<std::byte>>("7", mismatch, {"INTEGER 7", "std::vector<std::byte>"});
  expect_error<std::vector<std::byte>>("0.25", mismatch, {"REAL 0.25", "std::vector<std::byte>"});
}

TEST_CASE("long text in a message is shortened", "[conversion]") {
  expect_error<std::int64_t>("replace(hex(zeroblob(50)), '0', 'a')", mismatch,
                             {"TEXT '" + std::string(64, 'a') + "...' (100 bytes)", "std::int64_t"});
}

// ---- NULL ---------------------------------------------------------------------------------------

TEST_CASE("NULL into a type that cannot hold it is null_value naming the target type", "[conversion]") {
  expect_error<std::int64_t>("NULL", kind::null_value, {"NULL", "std::int64_t", "std::optional"});
  expect_error<bool>("NULL", kind::null_value, {"NULL", "bool"});
  expect_error<double>("NULL", kind::null_value, {"NULL", "double"});
  expect_error<std::string>("NULL", kind::null_value, {"NULL", "std::string"});
  expect_error<std::vector<std::byte>>("NULL", kind::null_value, {"NULL", "std::vector<std::byte>"});
  expect_error<sys_seconds>("NULL", kind::null_value, {"NULL", "std::chrono::sys_seconds"});
  expect_error<shade>("NULL", kind::null_value, {"NULL", "shade"});
  expect_error<color>("NULL", kind::null_value, {"NULL", "color"});
}

TEST_CASE("std::optional reads NULL as empty and refuses what its value type refuses", "[conversion]") {
  CHECK_FALSE(read_as<std::optional<std::int64_t>>("NULL").has_value());
  CHECK(read_as<std::optional<std::int64_t>>("5") == std::optional<std::int64_t>{5});
  expect_error<std::optional<std::int64_t>>("'abc'", mismatch, {"TEXT 'abc'", "std::int64_t"});
  expect_error<std::optional<std::string>>("42", mismatch, {"INTEGER 42", "std::string"});
}

// ---- time points ------------------------------------------------------------------------------

TEST_CASE("time points refuse REAL and BLOB with type_mismatch", "[conversion][time]") {
  expect_error<sys_seconds>("1705314600.0", mismatch, {"REAL 1705314600", "std::chrono::sys_seconds", "TEXT"});
  expect_error<sys_time<nanoseconds>>("x'01'", mismatch,
                                      {"BLOB x'01'", "std::chrono::sys_time<std::chrono::nanoseconds>"});
  expect_error<sys_days>("0.5", mismatch, {"REAL 0.5", "std::chrono::sys_days"});
}

TEST_CASE("time points read INTEGER as Unix seconds, floored to the Duration", "[conversion][time]") {
  sys_seconds t = sys_days{2024y / January / 15} + 10h + 30min;
  CHECK(read_as<sys_seconds>("1705314600") == t);
  CHECK(read_as<sys_time<milliseconds>>("1705314600") == t);
  CHECK(read_as<sys_time<nanoseconds>>("1705314600") == t);
  CHECK(read_as<sys_days>("1705314600") == sys_days{2024y / January / 15});
  CHECK(read_as<sys_seconds>("-1") == sys_seconds{-1s});
  // One second before the epoch is on 1969-12-31, as the same time read from text is.
  CHECK(read_as<sys_days>("-1") == sys_days{1969y / December / 31});
  CHECK(read_as<sys_days>("'1969-12-31 23:59:59'") == sys_days{1969y / December / 31});
}

TEST_CASE("sys_time<nanoseconds> reads times inside its range, to the nanosecond at both ends", "[conversion][time]") {
  CHECK(read_as<sys_time<nanoseconds>>("'2262-04-11 23:47:16.854775807'") == sys_time<nanoseconds>::max());
  CHECK(read_as<sys_time<nanoseconds>>("'1677-09-21 00:12:43.145224192'") == sys_time<nanoseconds>::min());
  CHECK(read_as<sys_time<nanoseconds>>("'2024-01-15 10:30:00.123456789'") ==
        sys_days{2024y / January / 15} + 10h + 30min + 123456789ns);
  CHECK(read_as<sys_time<nanoseconds>>("9223372036") == floor<seconds>(sys_time<nanoseconds>::max()));
  CHECK(read_as<sys_time<nanoseconds>>("-9223372036") == sys_time<nanoseconds>{-9223372036s});
  // Outside it, out_of_range (this used to overflow): see the next test case.
  expect_error<sys_time<nanoseconds>>("'2262-04-11 23:47:16.854775808'", out_of_range,
                                      {"TEXT '2262-04-11 23:47:16.854775808'"});
}

TEST_CASE("sys_time<nanoseconds> outside its ±292 years is out_of_range, from text and from integer seconds",
          "[conversion][time]") {
  constexpr std::string_view ns_type = "std::chrono::sys_time<std::chrono::nanoseconds>";
  expect_error<sys_time<nanoseconds>>("'2500-01-01 00:00:00'", out_of_range, {"TEXT '2500-01-01 00:00:00'", ns_type});
  expect_error<sys_time<nanoseconds>>("'1600-01-01'", out_of_range, {"TEXT '1600-01-01'", ns_type});
  expect_error<sys_time<nanoseconds>>("'1677-09-21 00:12:43.145224191'", out_of_range,
                                      {"TEXT '1677-09-21 00:12:43.145224191'", ns_type});
  expect_error<sys_time<nanoseconds>>("'9999-12-31T23:59:59-05:00'", out_of_range, {ns_type});
  expect_error<sys_time<nanoseconds>>("9223372037", out_of_range, {"INTEGER 9223372037", ns_type});
  expect_error<sys_time<nanoseconds>>("-9223372037", out_of_range, {"INTEGER -9223372037", ns_type});
  expect_error<sys_time<nanoseconds>>("16725225600", out_of_range, {"INTEGER 16725225600", ns_type});
}

TEST_CASE("time points of every Duration refuse what their representation cannot hold", "[conversion][time]") {
  using int32_seconds = duration<std::int32_t>;
  using unsigned_seconds = duration<std::uint32_t>;
  using coarse = duration<std::int64_t, std::ratio<3, 2>>;  // 1.5 s
  // Microseconds and milliseconds overflow only for integer seconds far beyond year 9999.
  expect_error<sys_time<microseconds>>("9223372036854775807", out_of_range,
                                       {"INTEGER 9223372036854775807", "std::chrono::sys_time<std::chrono::microseconds>"});
  expect_error<sys_time<milliseconds>>("-9223372036854775808", out_of_range,
                                       {"INTEGER -9223372036854775808", "std::chrono::sys_time<std::chrono::milliseconds>"});
  CHECK(read_as<sys_time<milliseconds>>("'9999-12-31 23:59:59.999'") ==
        sys_days{9999y / December / 31} + 23h + 59min + 59s + 999ms);
  // A 32-bit count of seconds ends in 2038; an unsigned one cannot go before 1970.
  CHECK(read_as<sys_time<int32_seconds>>("2147483647") == sys_time<int32_seconds>::max());
  expect_error<sys_time<int32_seconds>>("2147483648", out_of_range, {"INTEGER 2147483648"});
  expect_error<sys_time<int32_seconds>>("'2100-01-01 00:00:00'", out_of_range, {"TEXT '2100-01-01 00:00:00'"});
  expect_error<sys_time<unsigned_seconds>>("-1", out_of_range, {"INTEGER -1"});
  expect_error<sys_time<unsigned_seconds>>("'1969-12-31 23:59:59'", out_of_range, {"TEXT '1969-12-31 23:59:59'"});
  // Days never overflow from 64-bit seconds; a period of 1.5 s is floored.
  CHECK(read_as<sys_days>("9223372036854775807") == sys_days{days{106751991167300}});
  CHECK(read_as<sys_time<coarse>>("3") == sys_time<coarse>{coarse{2}});
  CHECK(read_as<sys_time<coarse>>("'1970-01-01 00:00:01.6'") == sys_time<coarse>{coarse{1}});
  CHECK(read_as<sys_time<coarse>>("-1") == sys_time<coarse>{coarse{-1}});
  // Floating-point ticks hold any of these.
  CHECK(read_as<sys_time<duration<double>>>("5") == sys_time<duration<double>>{duration<double>{5.0}});
}

// ---- enums ------------------------------------------------------------------------------------

TEST_CASE("a named enum reads TEXT only: an INTEGER is type_mismatch", "[conversion][enum]") {
  CHECK(read_as<color>("'blue'") == color::blue);
  expect_error<color>("1", mismatch, {"INTEGER 1", "color", "enum_names"});
  expect_error<color>("1.0", mismatch, {"REAL 1", "color"});
  expect_error<color>("'purple'", kind::bad_enum, {"TEXT 'purple'", "color"});
}

TEST_CASE("an enum without names reads only an integer that names an enumerator: others are bad_enum",
          "[conversion][enum]") {
  CHECK(read_as<shade>("0") == shade::light);
  CHECK(read_as<shade>("1") == shade::dark);
  expect_error<shade>("7", kind::bad_enum, {"INTEGER 7", "shade", "-128..127", "cpm::enum_names"});
  expect_error<shade>("-1", kind::bad_enum, {"INTEGER -1", "shade"});
  expect_error<shade>("4294967296", kind::bad_enum, {"INTEGER 4294967296", "shade"});
  // Gaps and both ends of the probed range.
  CHECK(read_as<offset>("-5") == offset::low);
  CHECK(read_as<offset>("10") == offset::mid);
  CHECK(read_as<offset>("127") == offset::top);
  CHECK(read_as<offset>("-128") == offset::bottom);
  expect_error<offset>("0", kind::bad_enum, {"INTEGER 0", "offset"});
  expect_error<offset>("128", kind::bad_enum, {"INTEGER 128", "offset"});
  // Not an integer at all.
  expect_error<shade>("'1'", mismatch, {"TEXT '1'", "shade", "INTEGER"});
  expect_error<shade>("1.0", mismatch, {"REAL 1", "shade"});
}

TEST_CASE("an enum value outside the probed range -128..127 is bad_enum, with what to do about it",
          "[conversion][enum]") {
  CHECK(read_as<wide_flag>("0") == wide_flag::off);
  expect_error<wide_flag>("200", kind::bad_enum,
                          {"INTEGER 200", "wide_flag", "-128..127", "cpm::enum_names", "cpm::value_traits"});
}

TEST_CASE("an enum with no enumerators (a strong integer type) reads any integer of its underlying type, and no text",
          "[conversion][enum]") {
  CHECK(read_as<user_id>("123456789012") == user_id{123456789012});
  CHECK(read_as<user_id>("-7") == user_id{-7});
  CHECK(read_as<tiny_id>("-100") == tiny_id{-100});
  expect_error<tiny_id>("300", out_of_range, {"INTEGER 300", "std::int8_t"});
  expect_error<user_id>("'5'", mismatch, {"TEXT '5'", "std::int64_t"});
}

// ---- binding ----------------------------------------------------------------------------------

TEST_CASE("a char array binds its text up to the first NUL, not all N bytes", "[conversion][bind]") {
  auto db = cpm::connection::open_memory();
  char name[16] = "bob";
  CHECK(cpm::query<std::int64_t>(db, "SELECT length(CAST(? AS BLOB))", name).one() == 3);
  CHECK(cpm::query<std::string>(db, "SELECT ?", name).one() == "bob");
  char full[3] = {'a', 'b', 'c'};  // no NUL: all three
  CHECK(cpm::query<std::string>(db, "SELECT ?", full).one() == "abc");
  char empty[8] = {};
  CHECK(cpm::query<std::string>(db, "SELECT ? || '|'", empty).one() == "|");
  CHECK(cpm::query<std::string>(db, "SELECT typeof(?)", empty).one() == "text");
  CHECK(cpm::query<std::string>(db, "SELECT ?", "literal").one() == "literal");
}
