// The code of docs/transactions.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <cstdio>
#include <stdexcept>

namespace {

std::int64_t count_notes(cpm::connection& db) {
  return cpm::query<std::int64_t>(db, "SELECT count(*) FROM notes").one();
}

}  // namespace

int main() {
  auto db = cpm::connection::open_memory();
  db.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT NOT NULL)");

  // [snippet:guard]
  {
    cpm::transaction tx(db);  // BEGIN IMMEDIATE: takes the write lock now, not halfway through
    cpm::execute(db, "INSERT INTO notes(text) VALUES (?)", "kept");
    tx.commit();
  }
  {
    cpm::transaction tx(db);
    cpm::execute(db, "INSERT INTO notes(text) VALUES (?)", "dropped");
  }  // not committed: rolled back here
  // [end:guard]
  CHECK(count_notes(db) == 1);

  // [snippet:nested]
  cpm::with_transaction(db, [&] {
    cpm::execute(db, "INSERT INTO notes(text) VALUES (?)", "outer");
    try {
      cpm::with_transaction(db, [&] {  // a SAVEPOINT inside the outer transaction
        cpm::execute(db, "INSERT INTO notes(text) VALUES (?)", "inner");
        throw std::runtime_error("changed my mind");
      });
    } catch (const std::runtime_error&) {
      // only the inner work is undone; "outer" is still there
    }
  });  // commits "outer"
  // [end:nested]
  CHECK(count_notes(db) == 2);

  // [snippet:snapshot]
  {
    cpm::read_snapshot snapshot(db);  // one read transaction for the whole block
    auto total = cpm::query<std::int64_t>(db, "SELECT count(*) FROM notes").one();
    auto first = cpm::query<std::string>(db, "SELECT text FROM notes ORDER BY id LIMIT 1").one();
    fmt::print("{} notes, the first is '{}'\n", total, first);  // both read the same state
  }
  // [end:snapshot]
  return 0;
}
