// The code of docs/errors.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <cstdio>
#include <string>

namespace {

// [snippet:ladder]
// Turns any cpm error into an exit code and a one-line message, most specific first.
int report(const std::exception& failure) {
  try {
    throw;
  } catch (const cpm::validation_error& e) {  // refused before any write
    fmt::print(stderr, "invalid {}: {}\n", e.field(), e.problem());
    return 2;
  } catch (const cpm::already_exists& e) {
    fmt::print(stderr, "{} {} is taken\n", e.entity(), e.value());
    return 3;
  } catch (const cpm::not_found& e) {  // record_not_found carries entity() and key()
    fmt::print(stderr, "{}\n", e.what());
    return 4;
  } catch (const cpm::busy_error& e) {  // another process held the lock past the busy timeout
    fmt::print(stderr, "database busy, try again: {}\n", e.sqlite_message());
    return 5;
  } catch (const cpm::sqlite_error& e) {  // anything else SQLite refused: code, message, SQL
    fmt::print(stderr, "sqlite error {}: {} (in {})\n", e.extended_code(), e.sqlite_message(), e.sql());
    return 6;
  } catch (const cpm::error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 7;
  }
  (void)failure;
}
// [end:ladder]

template <class F>
int run(F&& f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    return report(e);
  }
}

}  // namespace

int main() {
  auto store = cpm::store::open_memory();
  auto alice = store.create_user({.username = "alice", .email = "alice@example.org"});
  CHECK(run([&] { store.create_user({.username = "bad name", .email = "x@example.org"}); }) == 2);
  CHECK(run([&] { store.create_user({.username = "alice", .email = "x@example.org"}); }) == 3);
  CHECK(run([&] { store.add_org_member(42, alice.id, cpm::org_role::member); }) == 4);
  CHECK(run([&] { store.db().exec("INSERT INTO users(username, email) VALUES ('alice', 'y')"); }) == 6);

  // [snippet:constraint]
  try {
    store.db().exec("INSERT INTO users(username, email) VALUES ('alice', 'again@example.org')");
  } catch (const cpm::unique_violation& e) {
    fmt::print("{}.{} must be unique\n", e.table(), e.columns().front());  // users.username
  }
  // [end:constraint]
  return 0;
}
