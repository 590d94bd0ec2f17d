// Values go to the server and come back unchanged, in PostgreSQL's binary format; what does not
// fit throws the cpm::value_error the SQLite side throws.
#include "pg_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace {

enum class level : std::int32_t { read = 1, write = 2, admin = 3 };
enum class stage { draft, review, done };

}  // namespace

template <>
struct cpm::enum_names<stage> {
  static constexpr std::array values{std::pair{stage::draft, std::string_view{"draft"}},
                                     std::pair{stage::review, std::string_view{"review"}},
                                     std::pair{stage::done, std::string_view{"done"}}};
};

namespace {

struct account {
  std::int64_t id = 0;
  std::string login;
  std::optional<std::string> email;
  bool active = false;
  double balance = 0;
  level access = level::read;
  std::chrono::sys_time<std::chrono::microseconds> created{};
  std::vector<std::byte> avatar;
};

template <class T>
T echo(cpm::pg::connection& db, const std::string& sql, const T& value) {
  return db.query_one<T>(sql, value);
}

}  // namespace

TEST_CASE("integers round-trip at their limits, each as its own PostgreSQL type", "[pg][values]") {
  pg_test::scratch s;
  auto db = s.open();
  CHECK(echo<std::int64_t>(db, "SELECT $1", std::numeric_limits<std::int64_t>::min()) ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(echo<std::int64_t>(db, "SELECT $1", std::numeric_limits<std::int64_t>::max()) ==
        std::numeric_limits<std::int64_t>::max());
  CHECK(echo<int>(db, "SELECT $1", std::numeric_limits<int>::min()) == std::numeric_limits<int>::min());
  CHECK(echo<std::int16_t>(db, "SELECT $1", std::int16_t{-32768}) == -32768);
  CHECK(db.query_one<std::string>("SELECT pg_typeof($1)::text", std::int64_t{1}) == "bigint");
  CHECK(db.query_one<std::string>("SELECT pg_typeof($1)::text", 1) == "integer");
  CHECK(db.query_one<std::string>("SELECT pg_typeof($1)::text", std::int16_t{1}) == "smallint");
  CHECK(db.query_one<std::string>("SELECT pg_typeof($1)::text", true) == "boolean");
  CHECK(db.query_one<std::string>("SELECT pg_typeof($1)::text", 1.5) == "double precision");
  // An INT4 column widens into int64, an INT2 into int.
  CHECK(db.query_one<std::int64_t>("SELECT 7::int4") == 7);
  CHECK(db.query_one<int>("SELECT (-7)::int2") == -7);
  // uint64 beyond INT8 is refused before anything is sent.
  CHECK_THROWS_MATCHES(db.query_one<std::int64_t>("SELECT $1", std::numeric_limits<std::uint64_t>::max()),
                       cpm::value_error, Catch::Matchers::Predicate<cpm::value_error>([](const cpm::value_error& e) {
                         return e.what_kind() == cpm::value_error::kind::out_of_range && e.column() == "parameter $1";
                       }));
}

TEST_CASE("an INT8 that does not fit the C++ type is the SQLite side's value_error out_of_range", "[pg][values]") {
  pg_test::scratch s;
  auto db = s.open();
  try {
    (void)db.query_one<int>("SELECT 5000000000::int8 AS big");
    FAIL("no error");
  } catch (const cpm::value_error& e) {
    CHECK(e.what_kind() == cpm::value_error::kind::out_of_range);
    CHECK(e.column() == "big");
    CHECK_THAT(e.what(), Catch::Matchers::Contains("INT8 5000000000") && Catch::Matchers::Contains("std::int32_t"));
  }
  CHECK_THROWS_MATCHES(db.query_one<std::uint8_t>("SELECT -1"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::out_of_range; }));
  // NULL into a type that cannot hold it, and a type the C++ type does not read.
  CHECK_THROWS_MATCHES(db.query_one<std::int64_t>("SELECT NULL::int8"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::null_value; }));
  // Text: an empty value is "", NULL is refused (std::string) or none (std::optional).
  CHECK_THROWS_MATCHES(db.query_one<std::string>("SELECT NULL::text"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::null_value; }));
  CHECK(db.query_one<std::string>("SELECT ''::text").empty());
  CHECK(db.query_one<std::optional<std::string>>("SELECT ''::text") == std::optional<std::string>(""));
  CHECK_FALSE(db.query_one<std::optional<std::string>>("SELECT NULL::text").has_value());
  CHECK_THROWS_MATCHES(db.query_one<std::string>("SELECT 7::int8"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::type_mismatch; }));
  CHECK_THROWS_MATCHES(db.query_one<std::int64_t>("SELECT 'x'::text"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::type_mismatch; }));
  CHECK_THROWS_AS(db.query_one<double>("SELECT 1.5::numeric"), cpm::value_error);
  // A C++ int64 into an INTEGER column: the server refuses it, as a value_error too.
  db.exec("CREATE TABLE narrow (n INTEGER)");
  try {
    db.execute("INSERT INTO narrow (n) VALUES ($1)", std::int64_t{5'000'000'000});
    FAIL("no error");
  } catch (const cpm::value_error& e) {
    CHECK(e.what_kind() == cpm::value_error::kind::out_of_range);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("SQLSTATE 22003"));
  }
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM narrow") == 0);
}

TEST_CASE("hostile strings round-trip byte for byte", "[pg][values]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE notes (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body TEXT NOT NULL)");
  std::string every_byte;  // every byte but NUL, as one string is not UTF-8: kept to valid sequences below
  for (int c = 1; c < 128; ++c) every_byte += static_cast<char>(c);
  const std::vector<std::string> hostile{
      "",
      " ",
      "'; DROP TABLE notes; --",
      "Robert'); DROP TABLE students;--",
      "\"double\" 'single' `back` \\backslash\\ \\x00 \\0 $1 $$ $tag$",
      "E'\\n' %s %n {} {0}",
      "line\nbreak\r\ncrlf\ttab\x1b[31mansi\x7f",
      every_byte,
      "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88",
      "\xe2\x80\xae right-to-left override \xef\xbb\xbf BOM \xe2\x80\x8b zero width",
      std::string(1 << 20, 'x') + "\xf0\x9f\x98\x80",
  };
  for (const auto& text : hostile) {
    auto id = db.query_one<std::int64_t>("INSERT INTO notes (body) VALUES ($1) RETURNING id", text);
    auto back = db.query_one<std::string>("SELECT body FROM notes WHERE id = $1", id);
    CHECK(back.size() == text.size());
    CHECK(back == text);
    CHECK(db.query_one<std::int64_t>("SELECT octet_length(body) FROM notes WHERE id = $1", id) ==
          static_cast<std::int64_t>(text.size()));
    // As a string_view and a const char* too (those are copied or passed through).
    CHECK(db.query_one<std::string>("SELECT $1::text", std::string_view(text)) == text);
    CHECK(db.query_one<std::string>("SELECT $1::text", text.c_str()) == text);
  }
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM notes") == static_cast<std::int64_t>(hostile.size()));
}

TEST_CASE("text cannot hold NUL or invalid UTF-8: a value_error, nothing stored", "[pg][values]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE notes (body TEXT)");
  std::string with_nul("before\0after", 12);
  try {
    db.execute("INSERT INTO notes (body) VALUES ($1)", with_nul);
    FAIL("no error");
  } catch (const cpm::value_error& e) {
    CHECK(e.column() == "parameter $1");
    CHECK_THAT(e.what(), Catch::Matchers::Contains("NUL byte at offset 6"));
  }
  // Invalid UTF-8: the server refuses it (SQLSTATE 22021), as a value_error.
  try {
    db.execute("INSERT INTO notes (body) VALUES ($1)", std::string("bad \xff\xfe bytes"));
    FAIL("no error");
  } catch (const cpm::value_error& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("SQLSTATE 22021"));
  }
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM notes") == 0);
}

TEST_CASE("bytea round-trips every byte value, empty is not NULL", "[pg][values]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE blobs (id INT PRIMARY KEY, data BYTEA)");
  std::vector<std::byte> all;
  for (int rep = 0; rep < 3; ++rep)
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<std::byte>(b));
  db.execute("INSERT INTO blobs VALUES ($1, $2)", 1, all);
  db.execute("INSERT INTO blobs VALUES ($1, $2)", 2, std::vector<std::byte>{});
  // (Static, so zero-initialised: g++ 12 at -O3 warns that an empty optional<vector> temporary
  // "may be used uninitialized" in its destructor, a known false positive.)
  static const std::optional<std::vector<std::byte>> no_data;
  db.execute("INSERT INTO blobs VALUES ($1, $2)", 3, no_data);
  CHECK(db.query_one<std::vector<std::byte>>("SELECT data FROM blobs WHERE id = 1") == all);
  CHECK(db.query_one<std::int64_t>("SELECT length(data) FROM blobs WHERE id = 1") == 768);
  CHECK(db.query_one<std::vector<std::byte>>("SELECT data FROM blobs WHERE id = 2").empty());
  CHECK(db.query_one<bool>("SELECT data IS NULL FROM blobs WHERE id = 2") == false);
  CHECK_FALSE(db.query_one<std::optional<std::vector<std::byte>>>("SELECT data FROM blobs WHERE id = 3").has_value());
  std::span<const std::byte> view(all.data(), 10);
  CHECK(db.query_one<std::vector<std::byte>>("SELECT $1::bytea", view) ==
        std::vector<std::byte>(all.begin(), all.begin() + 10));
}

TEST_CASE("bool, double and optionals round-trip", "[pg][values]") {
  pg_test::scratch s;
  auto db = s.open();
  CHECK(echo<bool>(db, "SELECT $1", true));
  CHECK_FALSE(echo<bool>(db, "SELECT $1", false));
  for (double d : {0.0, -0.0, 1.0 / 3.0, -1e308, 5e-324, std::numeric_limits<double>::infinity()}) {
    double back = echo<double>(db, "SELECT $1", d);
    CHECK(back == d);
    CHECK(std::signbit(back) == std::signbit(d));
  }
  CHECK(std::isnan(echo<double>(db, "SELECT $1", std::numeric_limits<double>::quiet_NaN())));
  CHECK(db.query_one<double>("SELECT 42::int8") == 42.0);
  CHECK(db.query_one<float>("SELECT 1.5::float4") == 1.5f);
  CHECK(echo<std::optional<std::int64_t>>(db, "SELECT $1", std::nullopt) == std::nullopt);
  CHECK(echo<std::optional<std::int64_t>>(db, "SELECT $1", 9) == 9);
  CHECK(db.query_one<std::string>("SELECT pg_typeof($1)::text", std::optional<std::int64_t>{}) == "bigint");
  CHECK(db.query_one<std::optional<std::string>>("SELECT $1::text", std::nullopt) == std::nullopt);
  CHECK(echo<std::optional<std::string>>(db, "SELECT $1::text", std::optional<std::string>("x")) == "x");
}

TEST_CASE("timestamps are TIMESTAMPTZ in UTC, to the microsecond", "[pg][values]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("SET TIME ZONE 'America/New_York'");  // binary values do not depend on it
  using namespace std::chrono;
  using micro_time = sys_time<microseconds>;
  const micro_time cases[] = {
      micro_time{},                                                               // 1970-01-01
      sys_days{year{2000} / 1 / 1} + microseconds{0},                             // PostgreSQL's epoch
      sys_days{year{1999} / 12 / 31} + hours{23} + minutes{59} + seconds{59} + microseconds{999'999},
      sys_days{year{1901} / 3 / 4} + microseconds{1},
      sys_days{year{2262} / 4 / 11} + microseconds{123'456},
      sys_days{year{1} / 1 / 1} + microseconds{0},
  };
  for (auto t : cases) {
    CHECK(echo<micro_time>(db, "SELECT $1", t) == t);
  }
  auto t = sys_days{year{2024} / 2 / 29} + hours{13} + minutes{5} + seconds{7} + microseconds{250'001};
  CHECK(db.query_one<std::string>("SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')", t) ==
        "2024-02-29 13:05:07.250001");
  CHECK(db.query_one<std::string>("SELECT pg_typeof($1)::text", t) == "timestamp with time zone");
  // Finer time points are floored to the microsecond; coarser ones read floored too.
  sys_time<nanoseconds> fine = sys_days{year{2024} / 1 / 1} + nanoseconds{1'999};
  CHECK(db.query_one<sys_time<nanoseconds>>("SELECT $1", fine) == sys_days{year{2024} / 1 / 1} + nanoseconds{1'000});
  CHECK(db.query_one<sys_seconds>("SELECT '1969-12-31 23:59:59.5+00'::timestamptz") ==
        sys_seconds{seconds{-1}});
  CHECK(db.query_one<sys_days>("SELECT '2024-03-01'::date") == sys_days{year{2024} / 3 / 1});
  CHECK(db.query_one<sys_seconds>("SELECT '2024-03-01 12:00:00'::timestamp") ==
        sys_days{year{2024} / 3 / 1} + hours{12});
  CHECK_THROWS_MATCHES(db.query_one<sys_seconds>("SELECT 'infinity'::timestamptz"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::out_of_range; }));
  // Outside sys_time<nanoseconds> (1677..2262): out_of_range, not a wrapped value.
  CHECK_THROWS_MATCHES(db.query_one<sys_time<nanoseconds>>("SELECT '3000-01-01'::timestamptz"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::out_of_range; }));
}

TEST_CASE("a TIMESTAMP column holds time points as UTC, whatever zone the session was given", "[pg][values]") {
  pg_test::scratch s;
  ::setenv("PGTZ", "America/New_York", 1);  // libpq sends it as the session's TimeZone
  auto db = s.open();
  ::unsetenv("PGTZ");
  CHECK(db.query_one<std::string>("SHOW TimeZone") == "UTC");
  db.exec("CREATE TABLE moment(id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL)");
  using namespace std::chrono;
  sys_seconds t = sys_days{year{2023} / 11 / 14} + hours{22} + minutes{13} + seconds{20};
  CHECK(db.execute("INSERT INTO moment(id, at) VALUES (1, $1)", t) == 1);
  CHECK(db.query_one<sys_seconds>("SELECT at FROM moment WHERE id = 1") == t);
  CHECK(db.query_one<std::string>("SELECT at::text FROM moment WHERE id = 1") == "2023-11-14 22:13:20");
}

TEST_CASE("enums: the underlying integer, or their name with cpm::enum_names", "[pg][values]") {
  pg_test::scratch s;
  auto db = s.open();
  CHECK(db.query_one<std::string>("SELECT pg_typeof($1)::text", level::admin) == "integer");
  CHECK(echo<level>(db, "SELECT $1", level::write) == level::write);
  CHECK(db.query_one<std::int64_t>("SELECT $1::int8", level::admin) == 3);
  CHECK(echo<stage>(db, "SELECT $1::text", stage::review) == stage::review);
  CHECK(db.query_one<std::string>("SELECT $1::text", stage::done) == "done");
  CHECK_THROWS_MATCHES(db.query_one<level>("SELECT 9"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::bad_enum; }));
  CHECK_THROWS_MATCHES(db.query_one<stage>("SELECT 'shipped'::text"), cpm::value_error,
                       Catch::Matchers::Predicate<cpm::value_error>(
                           [](const cpm::value_error& e) { return e.what_kind() == cpm::value_error::kind::bad_enum; }));
}

TEST_CASE("rows: models by column name, tuples and by_position by place", "[pg][values][rows]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec(R"(CREATE TABLE account (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, login TEXT NOT NULL, email TEXT,
      active BOOLEAN NOT NULL, balance DOUBLE PRECISION NOT NULL, access INTEGER NOT NULL,
      created TIMESTAMPTZ NOT NULL, avatar BYTEA NOT NULL))");
  using namespace std::chrono;
  account a{0, "ada", std::nullopt, true, 12.5, level::admin,
            sys_days{year{2023} / 5 / 17} + microseconds{42}, {std::byte{0}, std::byte{255}}};
  a.id = db.query_one<std::int64_t>(
      "INSERT INTO account (login, email, active, balance, access, created, avatar) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
      a.login, a.email, a.active, a.balance, a.access, a.created, a.avatar);
  auto rows = db.query<account>("SELECT id, login, email, active, balance, access, created, avatar FROM account");
  REQUIRE(rows.size() == 1);
  const account& b = rows[0];
  CHECK(b.id == a.id);
  CHECK(b.login == a.login);
  CHECK(b.email == a.email);
  CHECK(b.active == a.active);
  CHECK(b.balance == a.balance);
  CHECK(b.access == a.access);
  CHECK(b.created == a.created);
  CHECK(b.avatar == a.avatar);
  // Column names are checked against the fields (ignoring case); by_position skips that.
  CHECK_THROWS_AS(db.query<account>("SELECT id, email, login, active, balance, access, created, avatar FROM account"),
                  cpm::column_name_mismatch);
  CHECK_THROWS_AS(db.query<account>("SELECT id, login FROM account"), cpm::column_count_mismatch);
  auto pos = db.query_one<account>(cpm::by_position, "SELECT 1::int8, 'x', NULL, false, 0.5::float8, 1, now(), '\\x00'::bytea");
  CHECK(pos.login == "x");
  auto t = db.query_one<std::tuple<std::int64_t, std::string, std::optional<std::string>>>(
      "SELECT id, login, email FROM account WHERE login = $1", std::string("ada"));
  CHECK(std::get<0>(t) == a.id);
  CHECK(std::get<1>(t) == "ada");
  CHECK_FALSE(std::get<2>(t).has_value());
  CHECK_FALSE(db.query_optional<std::int64_t>("SELECT id FROM account WHERE login = $1", std::string("nobody")));
  CHECK_THROWS_AS(db.query_one<std::int64_t>("SELECT id FROM account WHERE login = $1", std::string("nobody")),
                  cpm::not_found);
  CHECK_THROWS_AS(db.query_one<std::int64_t>("SELECT generate_series(1, 2)"), cpm::usage_error);
  CHECK(db.execute("UPDATE account SET balance = balance + $1", 1.0) == 1);
  CHECK(db.execute("DELETE FROM account WHERE id = $1", a.id + 1) == 0);
}
