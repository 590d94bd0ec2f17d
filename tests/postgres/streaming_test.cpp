// stream<Row>() reads a result one row at a time (libpq's single-row mode): rows arrive while
// the server is still producing them, and a large result is never held whole.
#include "pg_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace {

struct numbered {
  std::int64_t n = 0;
  std::string label;
};

}  // namespace

TEST_CASE("a large result streams row by row and adds up", "[pg][stream]") {
  pg_test::scratch s;
  auto db = s.open();
  constexpr std::int64_t rows = 300'000;
  std::int64_t sum = 0;
  std::int64_t seen = 0;
  auto stream = db.stream<numbered>("SELECT g AS n, 'row ' || g AS label FROM generate_series(1, $1) AS g", rows);
  for (numbered& r : stream) {
    ++seen;
    sum += r.n;
    if (r.n == 12'345) CHECK(r.label == "row 12345");
  }
  CHECK(seen == rows);
  CHECK(stream.rows_read() == static_cast<std::size_t>(rows));
  CHECK(stream.finished());
  CHECK(sum == rows * (rows + 1) / 2);
  CHECK(db.query_one<int>("SELECT 1") == 1);  // the connection is free again
}

TEST_CASE("rows arrive before the result is complete: an error at the end comes after them", "[pg][stream]") {
  pg_test::scratch s;
  auto db = s.open();
  // Row 100000 divides by zero. Read whole, the error would come before any row; streamed, the
  // first 99999 rows are read first. (What a materialising read cannot do.)
  auto stream = db.stream<std::int64_t>(
      "SELECT CASE WHEN g < 100000 THEN g ELSE g / 0 END FROM generate_series(1, 100000) AS g");
  std::int64_t seen = 0;
  try {
    for (std::int64_t v : stream) {
      ++seen;
      REQUIRE(v == seen);
    }
    FAIL("no error");
  } catch (const cpm::pg::error& e) {
    CHECK(e.sqlstate() == "22012");
  } catch (const cpm::value_error& e) {
    // division_by_zero is class 22: cpm maps the class to value_error
    auto* d = dynamic_cast<const cpm::pg::diagnostics*>(&e);
    REQUIRE(d != nullptr);
    CHECK(d->sqlstate() == "22012");
  }
  CHECK(seen == 99'999);
  CHECK(db.query_one<int>("SELECT 2") == 2);
  // The same result read whole fails before giving a row.
  CHECK_THROWS_AS(db.query<std::int64_t>("SELECT CASE WHEN g < 100000 THEN g ELSE g / 0 END FROM "
                                         "generate_series(1, 100000) AS g"),
                  cpm::value_error);
}

TEST_CASE("while a stream reads, the connection runs nothing else - leaving early frees it", "[pg][stream]") {
  pg_test::scratch s;
  auto db = s.open();
  {
    auto stream = db.stream<std::int64_t>("SELECT g FROM generate_series(1, 50000) AS g");
    auto it = stream.begin();
    CHECK(*it == 1);
    CHECK_THROWS_AS(db.query_one<int>("SELECT 1"), cpm::usage_error);
    CHECK_THROWS_AS(db.exec("SELECT 1"), cpm::usage_error);
    ++it;
    CHECK(*it == 2);
    CHECK_THROWS_AS(stream.begin(), cpm::usage_error);  // one pass
  }  // left after two rows
  CHECK(db.query_one<int>("SELECT 3") == 3);
  // An empty result, and a stream inside a transaction that then commits.
  db.exec("CREATE TABLE t (n BIGINT)");
  {
    cpm::pg::transaction tx(db);
    db.execute("INSERT INTO t SELECT g FROM generate_series(1, 1000) AS g");
    std::int64_t total = 0;
    for (auto [n, label] : db.stream<numbered>("SELECT n, 'x' AS label FROM t WHERE n > $1", std::int64_t{990}))
      total += n;
    CHECK(total == 991 + 992 + 993 + 994 + 995 + 996 + 997 + 998 + 999 + 1000);
    std::int64_t none = 0;
    for (std::int64_t n : db.stream<std::int64_t>("SELECT n FROM t WHERE n < 0")) none += n;
    CHECK(none == 0);
    tx.commit();
  }
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM t") == 1000);
  // The row shape is checked on the first row, as for query<>.
  auto bad = db.stream<numbered>("SELECT 1 AS n");
  CHECK_THROWS_AS(bad.begin(), cpm::column_count_mismatch);
  CHECK(db.query_one<int>("SELECT 4") == 4);
}

TEST_CASE("a stream moved out of its transaction's scope ends with it - the transaction is not left open",
          "[pg][stream]") {
  pg_test::scratch s;
  auto db = s.open();
  db.exec("CREATE TABLE n(i INTEGER NOT NULL); INSERT INTO n SELECT generate_series(1, 1000)");
  auto escaped = [&] {
    cpm::pg::transaction tx(db);
    (void)db.execute("INSERT INTO n VALUES (-1)");
    return db.stream<int>("SELECT i FROM n ORDER BY i");
  }();  // the transaction ends here, uncommitted: rolled back, and the stream with it
  CHECK_THROWS_AS(escaped.begin(), cpm::usage_error);
  CHECK(db.query_one<std::int64_t>("SELECT count(*) FROM n WHERE i = -1") == 0);
  // The connection is back in autocommit: another session sees what it writes now.
  (void)db.execute("INSERT INTO n VALUES (-2)");
  auto other = s.open();
  CHECK(other.query_one<std::int64_t>("SELECT count(*) FROM n WHERE i = -2") == 1);
  // A stream started later is not disturbed by the ended one's destruction.
  auto fresh = db.stream<int>("SELECT i FROM n WHERE i > 995 ORDER BY i");
  auto it = fresh.begin();
  { auto gone = std::move(escaped); }
  int total = 0;
  for (; it != fresh.end(); ++it) total += *it;
  CHECK(total == 996 + 997 + 998 + 999 + 1000);
  // The same for a read snapshot.
  auto from_snapshot = [&] {
    cpm::pg::read_snapshot snap(db);
    return db.stream<int>("SELECT i FROM n");
  }();
  CHECK_THROWS_AS(from_snapshot.begin(), cpm::usage_error);
  (void)db.execute("INSERT INTO n VALUES (-3)");
  CHECK(other.query_one<std::int64_t>("SELECT count(*) FROM n WHERE i = -3") == 1);
}
