// The value mapping: a round trip for every mapped type, with edges, and every read error.
#include <cpm/query.hpp>
#include <cpm/sqlite.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono;
using namespace std::string_literals;

enum class color { red, green, blue };
enum class level : std::int8_t { low = -1, high = 1 };

}  // namespace

template <>
struct cpm::enum_names<color> {
  static constexpr std::array values{std::pair{color::red, std::string_view{"red"}},
                                     std::pair{color::green, std::string_view{"green"}},
                                     std::pair{color::blue, std::string_view{"blue"}}};
};

namespace {

struct email {
  std::string text;
  bool operator==(const email&) const = default;
};

}  // namespace

template <>
struct cpm::value_traits<email> : cpm::converted_value<email, std::string> {
  static std::string to_stored(const email& e) { return "mailto:" + e.text; }
  static email from_stored(std::string s) { return email{s.substr(7)}; }
};

namespace {

class scratch {
 public:
  scratch() { db_.exec("CREATE TABLE v(x)"); }

  // Stores `value`, reads it back as T.
  template <class T, class In = T>
  T roundtrip(const In& value) {
    store(value);
    return read<T>();
  }
  template <class In>
  void store(const In& value) {
    db_.exec("DELETE FROM v");
    auto insert = db_.prepare("INSERT INTO v(x) VALUES (?)");
    insert.bind(value);
    insert.run();
  }
  void store_sql(const std::string& literal) {
    db_.exec("DELETE FROM v; INSERT INTO v(x) VALUES (" + literal + ")");
  }
  template <class T>
  T read() {
    auto select = db_.prepare("SELECT x AS value_column FROM v");
    REQUIRE(select.step());
    return select.column<T>(0);
  }
  std::string stored_type() {
    auto select = db_.prepare("SELECT typeof(x) FROM v");
    REQUIRE(select.step());
    return select.column<std::string>(0);
  }
  std::string stored_text() {
    auto select = db_.prepare("SELECT CAST(x AS TEXT) FROM v");
    REQUIRE(select.step());
    return select.column<std::string>(0);
  }

 private:
  cpm::connection db_ = cpm::connection::open_memory();
};

}  // namespace

TEST_CASE("integers of every width round-trip, including the int64 edges", "[value]") {
  scratch s;
  CHECK(s.roundtrip<std::int64_t>(std::numeric_limits<std::int64_t>::min()) == std::numeric_limits<std::int64_t>::min());
  CHECK(s.roundtrip<std::int64_t>(std::numeric_limits<std::int64_t>::max()) == std::numeric_limits<std::int64_t>::max());
  CHECK(s.roundtrip<std::int8_t>(std::int8_t{-128}) == -128);
  CHECK(s.roundtrip<std::uint8_t>(std::uint8_t{255}) == 255);
  CHECK(s.roundtrip<std::int16_t>(std::int16_t{-32768}) == -32768);
  CHECK(s.roundtrip<std::uint16_t>(std::uint16_t{65535}) == 65535);
  CHECK(s.roundtrip<std::int32_t>(std::numeric_limits<std::int32_t>::min()) == std::numeric_limits<std::int32_t>::min());
  CHECK(s.roundtrip<std::uint32_t>(std::numeric_limits<std::uint32_t>::max()) == std::numeric_limits<std::uint32_t>::max());
  CHECK(s.roundtrip<std::uint64_t>(std::uint64_t{9'223'372'036'854'775'807ULL}) == 9'223'372'036'854'775'807ULL);
  CHECK(s.roundtrip<int>(0) == 0);
  CHECK(s.stored_type() == "integer");
}

TEST_CASE("an integer that does not fit the C++ type throws value_error, never truncates", "[value][errors]") {
  scratch s;
  s.store(std::int64_t{300});
  CHECK_THROWS_AS(s.read<std::int8_t>(), cpm::value_error);
  CHECK_THROWS_AS(s.read<std::uint8_t>(), cpm::value_error);
  s.store(std::int64_t{-1});
  CHECK_THROWS_AS(s.read<std::uint64_t>(), cpm::value_error);
  CHECK_THROWS_AS(s.read<unsigned>(), cpm::value_error);
  s.store(std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1);
  try {
    (void)s.read<std::int32_t>();
    FAIL("must throw");
  } catch (const cpm::value_error& e) {
    CHECK(e.what_kind() == cpm::value_error::kind::out_of_range);
    CHECK(e.column() == "value_column");
    CHECK_THAT(e.what(), Catch::Contains("2147483648"));
  }
}

TEST_CASE("a uint64 above INT64_MAX cannot be bound", "[value][errors]") {
  scratch s;
  CHECK_THROWS_AS(s.store(std::numeric_limits<std::uint64_t>::max()), cpm::value_error);
}

TEST_CASE("bool and floating point round-trip", "[value]") {
  scratch s;
  CHECK(s.roundtrip<bool>(true) == true);
  CHECK(s.stored_text() == "1");
  CHECK(s.roundtrip<bool>(false) == false);
  CHECK(s.roundtrip<double>(0.0) == 0.0);
  CHECK(s.roundtrip<double>(-1.5e300) == -1.5e300);
  CHECK(s.roundtrip<float>(3.25f) == 3.25f);
  CHECK(s.stored_type() == "real");
}

TEST_CASE("text round-trips: empty, embedded NUL bytes, multi-byte UTF-8", "[value]") {
  scratch s;
  CHECK(s.roundtrip<std::string>(""s) == "");
  CHECK(s.stored_type() == "text");
  std::string with_nul("a\0b\0", 4);
  CHECK(s.roundtrip<std::string>(with_nul) == with_nul);
  CHECK(s.roundtrip<std::string>("zoë · 東京 · 🚀"s) == "zoë · 東京 · 🚀");
  CHECK(s.roundtrip<std::string>(std::string_view("view")) == "view");
  CHECK(s.roundtrip<std::string>("literal") == "literal");
  const char* pointer = "pointer";
  CHECK(s.roundtrip<std::string>(pointer) == "pointer");
  std::string big(1 << 20, 'q');
  CHECK(s.roundtrip<std::string>(big) == big);
}

TEST_CASE("blobs round-trip: empty and every byte value", "[value]") {
  scratch s;
  std::vector<std::byte> all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::byte>(i));
  CHECK(s.roundtrip<std::vector<std::byte>>(all) == all);
  CHECK(s.stored_type() == "blob");
  CHECK(s.roundtrip<std::vector<std::byte>>(std::vector<std::byte>{}).empty());
  CHECK(s.stored_type() == "blob");
  std::span<const std::byte> view(all.data(), 3);
  CHECK(s.roundtrip<std::vector<std::byte>>(view).size() == 3);
}

TEST_CASE("optional maps NULL both ways", "[value]") {
  scratch s;
  CHECK_FALSE(s.roundtrip<std::optional<std::string>>(std::optional<std::string>{}).has_value());
  CHECK(s.stored_type() == "null");
  CHECK(s.roundtrip<std::optional<std::string>>(std::optional<std::string>{""}) == std::optional<std::string>{""});
  CHECK(s.roundtrip<std::optional<std::int64_t>>(std::optional<std::int64_t>{0}) == std::optional<std::int64_t>{0});
  CHECK_FALSE(s.roundtrip<std::optional<std::int64_t>>(std::nullopt).has_value());
  CHECK_FALSE(s.roundtrip<std::optional<std::vector<std::byte>>>(std::nullopt).has_value());
}

TEST_CASE("NULL read into a non-optional type throws value_error naming the column", "[value][errors]") {
  scratch s;
  s.store(std::nullopt);
  auto expect_null_error = [&](auto read) {
    try {
      read();
      FAIL("must throw");
    } catch (const cpm::value_error& e) {
      CHECK(e.what_kind() == cpm::value_error::kind::null_value);
      CHECK(e.column() == "value_column");
    }
  };
  expect_null_error([&] { (void)s.read<std::int64_t>(); });
  expect_null_error([&] { (void)s.read<std::string>(); });
  expect_null_error([&] { (void)s.read<double>(); });
  expect_null_error([&] { (void)s.read<std::vector<std::byte>>(); });
  expect_null_error([&] { (void)s.read<sys_seconds>(); });
}

TEST_CASE("time points are written like CURRENT_TIMESTAMP, in UTC", "[value][time]") {
  scratch s;
  sys_seconds t = sys_days{2024y / January / 15} + 10h + 30min + 5s;
  s.store(t);
  CHECK(s.stored_text() == "2024-01-15 10:30:05");
  CHECK(s.read<sys_seconds>() == t);

  auto ms = time_point_cast<milliseconds>(t) + 123ms;
  s.store(ms);
  CHECK(s.stored_text() == "2024-01-15 10:30:05.123");
  CHECK(s.read<sys_time<milliseconds>>() == ms);

  auto us = time_point_cast<microseconds>(t) + 7us;
  s.store(us);
  CHECK(s.stored_text() == "2024-01-15 10:30:05.000007");
  CHECK(s.read<sys_time<microseconds>>() == us);

  auto ns = time_point_cast<nanoseconds>(t) + 999'999'999ns;
  s.store(ns);
  CHECK(s.stored_text() == "2024-01-15 10:30:05.999999999");
  CHECK(s.read<sys_time<nanoseconds>>() == ns);

  sys_days day = 2000y / February / 29;
  s.store(day);
  CHECK(s.stored_text() == "2000-02-29");
  CHECK(s.read<sys_days>() == day);
}

TEST_CASE("timestamps written by SQLite and by the Go driver are read in every layout", "[value][time]") {
  scratch s;
  sys_seconds base = sys_days{2024y / January / 15} + 10h + 30min;
  struct layout {
    const char* sql;
    sys_time<nanoseconds> expected;
  };
  const layout layouts[] = {
      {"CURRENT_TIMESTAMP", {}},
      {"'2024-01-15 10:30:00'", base},
      {"'2024-01-15T10:30:00'", base},
      {"'2024-01-15 10:30'", base},
      {"'2024-01-15T10:30'", base},
      {"'2024-01-15'", sys_days{2024y / January / 15}},
      {"'2024-01-15 10:30:00.5'", base + 500ms},
      {"'2024-01-15 10:30:00.123456789'", base + 123456789ns},
      {"'2024-01-15T10:30:00Z'", base},
      {"'2024-01-15T10:30:00.25Z'", base + 250ms},
      {"'2024-01-15 12:30:00+02:00'", base},
      {"'2024-01-15 05:00:00.000000001-05:30'", base + 1ns},
      {"'2024-01-15T12:30:00+0200'", base},
      {"'2024-01-15 10:30:00 +00:00'", base},
      {"1705314600", base},
  };
  for (const auto& l : layouts) {
    INFO(l.sql);
    s.store_sql(l.sql);
    if (std::string_view(l.sql) == "CURRENT_TIMESTAMP") {
      auto now = floor<seconds>(system_clock::now());
      auto read = s.read<sys_seconds>();
      CHECK(abs(read - now) <= 5s);
    } else {
      CHECK(s.read<sys_time<nanoseconds>>() == l.expected);
      CHECK(s.read<sys_seconds>() == floor<seconds>(l.expected));
    }
  }
}

TEST_CASE("text that is no timestamp throws value_error naming the column", "[value][time][errors]") {
  scratch s;
  for (const char* bad : {"'yesterday'", "'2024-13-01 00:00:00'", "'2024-02-30'", "'2024-01-15 25:00:00'",
                          "'2024-01-15 10:30:00 trailing'", "'2024-01-15 10:30:00.'", "''", "'2024-01-15 10:30:00+2'"}) {
    INFO(bad);
    s.store_sql(bad);
    try {
      (void)s.read<sys_seconds>();
      FAIL("must throw");
    } catch (const cpm::value_error& e) {
      CHECK(e.what_kind() == cpm::value_error::kind::bad_timestamp);
      CHECK(e.column() == "value_column");
    }
  }
}

TEST_CASE("named enums are stored as text, others as their integer", "[value][enum]") {
  scratch s;
  CHECK(s.roundtrip<color>(color::green) == color::green);
  CHECK(s.stored_text() == "green");
  CHECK(s.roundtrip<level>(level::low) == level::low);
  CHECK(s.stored_text() == "-1");
  s.store_sql("'purple'");
  try {
    (void)s.read<color>();
    FAIL("must throw");
  } catch (const cpm::value_error& e) {
    CHECK(e.what_kind() == cpm::value_error::kind::bad_enum);
    CHECK_THAT(e.what(), Catch::Contains("purple"));
  }
  CHECK_THROWS_AS(s.store(static_cast<color>(9)), cpm::value_error);
  s.store_sql("300");
  CHECK_THROWS_AS(s.read<level>(), cpm::value_error);
}

TEST_CASE("converted_value stores a type as another mapped type", "[value]") {
  scratch s;
  CHECK(s.roundtrip<email>(email{"a@b.c"}) == email{"a@b.c"});
  CHECK(s.stored_text() == "mailto:a@b.c");
  CHECK(s.roundtrip<std::optional<email>>(std::optional<email>{}) == std::nullopt);
}

namespace {

struct event {
  std::int64_t id = 0;
  sys_seconds at{};
};

// The first column of every row `sql` returns, as text.
std::vector<std::string> stored_rows(cpm::connection& db, const std::string& sql) {
  std::vector<std::string> out;
  auto select = db.prepare(sql);
  while (select.step()) out.push_back(select.column<std::string>(0));
  return out;
}

template <class Bind>
void expect_out_of_range(Bind bind, const std::string& parameter = "parameter 1") {
  try {
    bind();
    FAIL("a time point outside 0000..9999 was bound");
  } catch (const cpm::value_error& e) {
    CHECK(e.what_kind() == cpm::value_error::kind::out_of_range);
    CHECK(e.column() == parameter);
  }
}

}  // namespace

TEST_CASE("a time point outside the years 0000..9999 is refused with value_error, and nothing is written",
          "[value][time][errors]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE event(id INTEGER PRIMARY KEY, at TEXT NOT NULL);"
          "INSERT INTO event(at) VALUES ('2024-01-15 10:30:05');");
  const std::vector<std::string> before{"2024-01-15 10:30:05"};
  const auto rows = [&] { return stored_rows(db, "SELECT at FROM event ORDER BY id"); };

  // The last second of 9999 and the first of year 0 are written; one step past either is not.
  const sys_seconds last = sys_days{9999y / December / 31} + 23h + 59min + 59s;
  const sys_seconds first = sys_days{0y / January / 1};
  const sys_seconds year_10000 = last + 1s;
  const sys_seconds year_minus_1 = first - 1s;
  REQUIRE(static_cast<int>(year_month_day{floor<days>(year_10000)}.year()) == 10000);
  REQUIRE(static_cast<int>(year_month_day{floor<days>(year_minus_1)}.year()) == -1);

  auto insert = db.prepare("INSERT INTO event(at) VALUES (?)");
  SECTION("through a statement, for every duration") {
    expect_out_of_range([&] { insert.bind(year_10000); });
    expect_out_of_range([&] { insert.bind(year_minus_1); });
    expect_out_of_range([&] { insert.bind(sys_days{10000y / January / 1}); });
    expect_out_of_range([&] { insert.bind(sys_days{-1y / December / 31}); });
    expect_out_of_range([&] { insert.bind(time_point_cast<milliseconds>(year_10000) + 5ms); });
    expect_out_of_range([&] { insert.bind(time_point_cast<microseconds>(year_minus_1)); });
    expect_out_of_range([&] { insert.bind_ref(1, year_10000); });
    CHECK(rows() == before);

    insert.bind(last);
    insert.run();
    insert.bind(first);
    insert.run();
    CHECK(rows() == std::vector<std::string>{"2024-01-15 10:30:05", "9999-12-31 23:59:59", "0000-01-01 00:00:00"});
  }
  SECTION("through cpm::insert of a model") {
    // id 0 is left to the database, but still bound as parameter 1.
    expect_out_of_range([&] { (void)cpm::insert(db, event{0, year_10000}); }, "parameter 2");
    expect_out_of_range([&] { (void)cpm::insert(db, event{0, year_minus_1}); }, "parameter 2");
    CHECK_FALSE(db.in_transaction());
    CHECK(rows() == before);
    CHECK(cpm::insert(db, event{0, last}).at == last);
    CHECK(rows() == std::vector<std::string>{"2024-01-15 10:30:05", "9999-12-31 23:59:59"});
  }
}

TEST_CASE("an empty string_view, whose data pointer is null, binds empty text and never NULL", "[value][text]") {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE v(n INTEGER, x)");
  const std::string_view empty{};
  REQUIRE(empty.data() == nullptr);  // the case under test: SQLite binds a null pointer as NULL
  auto insert = db.prepare("INSERT INTO v(n, x) VALUES (?, ?)");
  auto add = [&](int n, auto bind_x) {
    insert.bind_at(1, n);
    bind_x();
    insert.run();
  };
  add(1, [&] { insert.bind_at(2, empty); });
  add(2, [&] { insert.bind_ref(2, empty); });
  add(3, [&] { insert.bind_at(2, std::optional<std::string_view>{empty}); });
  add(4, [&] { insert.bind_ref(2, std::optional<std::string_view>{empty}); });
  insert.bind(5, empty);
  insert.run();
  insert.bind_refs(6, empty);
  insert.run();
  auto cached = db.cached("INSERT INTO v(n, x) VALUES (?, ?)");
  cached.bind_refs(7, empty);
  cached.run();

  CHECK(stored_rows(db, "SELECT n || ':' || typeof(x) || ':' || coalesce(length(x), '-') FROM v ORDER BY n") ==
        std::vector<std::string>{"1:text:0", "2:text:0", "3:text:0", "4:text:0", "5:text:0", "6:text:0",
                                 "7:text:0"});
  CHECK(stored_rows(db, "SELECT CAST(count(*) AS TEXT) FROM v WHERE x = ''") == std::vector<std::string>{"7"});
}
