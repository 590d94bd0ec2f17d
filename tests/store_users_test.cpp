// The store's user operations: create (one and a range), get by id, by username and by SSH
// public key, list (lazy, paged), update with user_patch, delete.
#include <cpm/ranges_v3.hpp>
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <range/v3/view/iota.hpp>
#include <range/v3/view/take.hpp>
#include <range/v3/view/transform.hpp>
#include <store_backends.hpp>
#include <store_support.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ranges>
#include <set>
#include <string>
#include <vector>

namespace {

using cpm_test::count_rows;
using cpm_test::list_of;
using cpm_test::ssh_key;
using cpm_test::text;
using cpm_test::texts;

cpm::user make_user(int i) {
  return {.username = fmt::format("user{}", i), .email = fmt::format("user{}@example.org", i)};
}

}  // namespace

CPM_STORE_TEST_CASE("create_user stores the user and returns it with its new id and creation time", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  const auto before = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto alice = store.create_user({.username = "alice", .email = "alice@example.org", .public_key = ssh_key(1)});
  auto bob = store.create_user({.username = "bob", .email = "bob@example.org"});

  CHECK(alice.id > 0);
  CHECK(bob.id > alice.id);
  CHECK(alice.username == "alice");
  CHECK(alice.email == "alice@example.org");
  CHECK(alice.public_key == ssh_key(1));
  CHECK_FALSE(bob.public_key.has_value());
  REQUIRE(alice.created_at);
  CHECK(*alice.created_at >= before);
  CHECK(*alice.created_at <= before + std::chrono::minutes(1));
  CHECK(count_rows(store.db(), "users") == 2);
}

CPM_STORE_TEST_CASE("create_user ignores the id of the struct it is given", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = store.create_user(make_user(1));
  cpm::user copy = alice;
  copy.username = "alice2";
  auto second = store.create_user(copy);
  CHECK(second.id != alice.id);
  CHECK(store.get_user(alice.id)->username == "user1");
}

CPM_STORE_TEST_CASE("get_user finds a user by id and gives nullopt for an unknown id", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = store.create_user(make_user(1));
  auto found = store.get_user(alice.id);
  REQUIRE(found);
  CHECK(found->username == "user1");
  CHECK(found->email == "user1@example.org");
  CHECK(found->created_at == alice.created_at);
  CHECK_FALSE(store.get_user(alice.id + 1));
  CHECK_FALSE(store.get_user(0));
}

CPM_STORE_TEST_CASE("user_by_name finds a user by username, exactly", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  (void)store.create_user(make_user(1));
  auto bob = store.create_user({.username = "Bob", .email = "bob@example.org"});
  auto found = store.user_by_name("Bob");
  REQUIRE(found);
  CHECK(found->id == bob.id);
  CHECK_FALSE(store.user_by_name("bob"));  // case matters
  CHECK_FALSE(store.user_by_name("nobody"));
  CHECK_FALSE(store.user_by_name(""));
}

CPM_STORE_TEST_CASE("user_by_public_key ignores the key's comment, keys are stored as 'type base64'", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = store.create_user({.username = "alice", .email = "a@example.org", .public_key = ssh_key(1, "alice@laptop")});
  (void)store.create_user({.username = "bob", .email = "b@example.org", .public_key = ssh_key(2)});
  CHECK(alice.public_key == ssh_key(1));
  CHECK(store.get_user(alice.id)->public_key == ssh_key(1));

  for (const auto& presented : {ssh_key(1), ssh_key(1, "alice@laptop"), ssh_key(1, "another comment here")}) {
    INFO(presented);
    auto found = store.user_by_public_key(presented);
    REQUIRE(found);
    CHECK(found->id == alice.id);
  }
  CHECK(store.user_by_public_key(ssh_key(2, "x"))->username == "bob");
  CHECK_FALSE(store.user_by_public_key(ssh_key(3)));
}

CPM_STORE_TEST_CASE("a public key can belong to one user only", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  (void)store.create_user({.username = "alice", .email = "a@example.org", .public_key = ssh_key(1, "laptop")});
  try {
    (void)store.create_user({.username = "bob", .email = "b@example.org", .public_key = ssh_key(1, "other")});
    FAIL("a second user got alice's key");
  } catch (const cpm::already_exists& e) {
    CHECK(e.entity() == "user");
    CHECK(e.field() == "public_key");
    CHECK(e.value() == ssh_key(1));
  }
  auto bob = store.create_user({.username = "bob", .email = "b@example.org"});
  CHECK_THROWS_AS(store.update_user(bob.id, {.public_key = std::optional<std::string>(ssh_key(1))}), cpm::already_exists);
  CHECK_FALSE(store.get_user(bob.id)->public_key);
  // Alice may set her own key again.
  auto alice = store.user_by_name("alice");
  CHECK(store.update_user(alice->id, {.public_key = std::optional<std::string>(ssh_key(1, "new comment"))}).public_key ==
        ssh_key(1));
}

#if !CPM_STORE_TESTS_POSTGRES
// SQLite only: about cpm::rows, the lazy list of the SQLite store. On PostgreSQL a list is a
// std::vector read at once (include/cpm/postgres/store.hpp), by design; its order and paging are
// tested on both backends below.
TEST_CASE("list_users is a lazy range: the query runs when iteration starts, in id order", "[store][users]") {
  auto store = cpm::store::open_memory();
  for (int i = 1; i <= 3; ++i) (void)store.create_user(make_user(i));
  auto users = store.list_users();
  static_assert(std::ranges::input_range<decltype(users)>);
  static_assert(std::ranges::view<decltype(users)>);
  (void)store.create_user(make_user(4));  // made after the range, before its first row is read
  std::vector<std::string> names;
  for (const cpm::user& u : users) names.push_back(u.username);
  CHECK(names == std::vector<std::string>{"user1", "user2", "user3", "user4"});

  // Leaving a loop early releases the statement: the store goes on working.
  for (const cpm::user& u : store.list_users()) {
    CHECK(u.username == "user1");
    break;
  }
  auto first_two = store.list_users() | ranges::views::take(2) | ranges::views::transform(&cpm::user::username);
  std::vector<std::string> two;
  for (const std::string& name : first_two) two.push_back(name);
  CHECK(two == std::vector<std::string>{"user1", "user2"});
  (void)store.create_user(make_user(5));
  CHECK(store.list_users().to_vector().size() == 5);
}
#endif

// The same list on either backend: every user, in id order; leaving a loop early leaves the
// store working.
CPM_STORE_TEST_CASE("list_users lists every user in id order, a loop may stop early", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  for (int i = 1; i <= 4; ++i) (void)store.create_user(make_user(i));
  std::vector<std::string> names;
  for (const cpm::user& u : store.list_users()) names.push_back(u.username);
  CHECK(names == std::vector<std::string>{"user1", "user2", "user3", "user4"});
  for (const cpm::user& u : store.list_users()) {
    CHECK(u.username == "user1");
    break;
  }
  (void)store.create_user(make_user(5));
  CHECK(cpm_test::count_of(store.list_users()) == 5);
}

CPM_STORE_TEST_CASE("list_users with page_request walks the whole table page by page", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  for (int i = 1; i <= 25; ++i) (void)store.create_user(make_user(i));
  // Gaps in the ids do not disturb keyset paging.
  store.delete_user(store.user_by_name("user8")->id);
  store.delete_user(store.user_by_name("user15")->id);

  std::vector<std::int64_t> seen;
  std::vector<std::size_t> sizes;
  cpm::page_request page{.after = 0, .limit = 7};
  for (;;) {
    auto rows = list_of(store.list_users(page));
    if (rows.empty()) break;
    sizes.push_back(rows.size());
    for (const auto& u : rows) seen.push_back(u.id);
    page.after = rows.back().id;
  }
  CHECK(sizes == std::vector<std::size_t>{7, 7, 7, 2});
  std::vector<std::int64_t> all;
  for (const auto& u : store.list_users()) all.push_back(u.id);
  CHECK(all.size() == 23);
  CHECK(seen == all);
  CHECK(std::set<std::int64_t>(seen.begin(), seen.end()).size() == seen.size());

  CHECK(list_of(store.list_users({.after = all.back()})).empty());
  CHECK(list_of(store.list_users({.after = 0, .limit = 0})).empty());
  CHECK(list_of(store.list_users({.after = all[4]})).size() == 18);  // limit -1: the rest
}

CPM_STORE_TEST_CASE("update_user changes the fields its patch sets and leaves the others", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = store.create_user({.username = "alice", .email = "a@example.org", .public_key = ssh_key(1)});
  auto bob = store.create_user({.username = "bob", .email = "b@example.org"});

  auto changed = store.update_user(alice.id, {.email = "alice@example.net"});
  CHECK(changed.email == "alice@example.net");
  CHECK(changed.username == "alice");
  CHECK(changed.public_key == ssh_key(1));
  CHECK(changed.created_at == alice.created_at);
  CHECK(text(store.get_user(alice.id)) == text(changed));

  changed = store.update_user(alice.id, {.username = "alice2", .public_key = std::optional<std::string>(ssh_key(2, "c"))});
  CHECK(changed.username == "alice2");
  CHECK(changed.email == "alice@example.net");
  CHECK(changed.public_key == ssh_key(2));

  SECTION("an engaged empty optional sets public_key to NULL") {
    changed = store.update_user(alice.id, {.public_key = std::optional<std::string>{}});
    CHECK_FALSE(changed.public_key.has_value());
    CHECK_FALSE(store.get_user(alice.id)->public_key.has_value());
    CHECK_FALSE(store.user_by_public_key(ssh_key(2)));
  }
  SECTION("an empty patch changes nothing") {
    auto same = store.update_user(alice.id, {});
    CHECK(text(same) == text(changed));
  }
  // The other user is untouched either way.
  CHECK(text(store.get_user(bob.id)) == text(bob));
}

CPM_STORE_TEST_CASE("update_user refuses an unknown id and a taken username, changing nothing", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = store.create_user(make_user(1));
  auto bob = store.create_user(make_user(2));
  try {
    (void)store.update_user(bob.id + 100, {.email = "x@example.org"});
    FAIL("updated a user that does not exist");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "user");
    CHECK(e.key() == std::to_string(bob.id + 100));
  }
  try {
    (void)store.update_user(bob.id, {.username = "user1", .email = "new@example.org"});
    FAIL("renamed bob to alice's name");
  } catch (const cpm::already_exists& e) {
    CHECK(e.entity() == "user");
    CHECK(e.field() == "username");
    CHECK(e.value() == "user1");
  }
  CHECK(text(store.get_user(bob.id)) == text(bob));  // the email of the refused patch was not written
  CHECK(text(store.get_user(alice.id)) == text(alice));
}

CPM_STORE_TEST_CASE("delete_user removes the user, an unknown id is record_not_found", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  auto alice = store.create_user(make_user(1));
  auto bob = store.create_user(make_user(2));
  store.delete_user(alice.id);
  CHECK_FALSE(store.get_user(alice.id));
  CHECK_FALSE(store.user_by_name("user1"));
  CHECK(store.get_user(bob.id));
  try {
    store.delete_user(alice.id);
    FAIL("deleted a user twice");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "user");
    CHECK(e.key() == std::to_string(alice.id));
  }
  CHECK(count_rows(store.db(), "users") == 1);
}

CPM_STORE_TEST_CASE("create_users stores a whole range in one transaction", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  SECTION("a vector") {
    std::vector<cpm::user> users;
    for (int i = 1; i <= 50; ++i) users.push_back(make_user(i));
    CHECK(store.create_users(users) == 50);
  }
  SECTION("a lazy view") {
    // range-v3 rather than std::views: clang++ 14 cannot instantiate libstdc++ 12's adaptors.
    auto users = ranges::views::iota(1, 51) | ranges::views::transform(make_user);
    CHECK(store.create_users(users) == 50);
  }
  CHECK(count_rows(store.db(), "users") == 50);
  CHECK(store.user_by_name("user50")->email == "user50@example.org");
  CHECK_FALSE(store.db().in_transaction());
}

CPM_STORE_TEST_CASE("create_users stores all or nothing: one bad element and none is kept", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  auto existing = store.create_user({.username = "taken", .email = "t@example.org"});
  std::vector<cpm::user> users;
  for (int i = 1; i <= 10; ++i) users.push_back(make_user(i));

  SECTION("a duplicate of an existing username") {
    users[6].username = "taken";
    CHECK_THROWS_AS(store.create_users(users), cpm::already_exists);
  }
  SECTION("a duplicate inside the range") {
    users[9].username = users[2].username;
    CHECK_THROWS_AS(store.create_users(users), cpm::already_exists);
  }
  SECTION("a duplicate inside the range that differs only in case") {
    users[9].username = "USER3";
    CHECK_THROWS_AS(store.create_users(users), cpm::already_exists);
  }
  SECTION("an invalid email in the middle") {
    users[5].email = "not an address";
    CHECK_THROWS_AS(store.create_users(users), cpm::validation_error);
  }
  SECTION("two users with one key") {
    users[1].public_key = ssh_key(7);
    users[8].public_key = ssh_key(7, "again");
    CHECK_THROWS_AS(store.create_users(users), cpm::already_exists);
  }
  CHECK(count_rows(store.db(), "users") == 1);
  CHECK(texts(list_of(store.list_users())) == std::vector<std::string>{text(existing)});
  CHECK_FALSE(store.db().in_transaction());
}

CPM_STORE_TEST_CASE("a store write inside the caller's transaction is a savepoint of it", "[store][users]") {
  TestType backend;
  auto& store = backend.store;
  CHECK(store.schema_version() == store.target_version());
  {
    typename TestType::transaction tx(store.db());
    (void)store.create_user(make_user(1));
    CHECK_THROWS_AS(store.create_user(make_user(1)), cpm::already_exists);  // refused: the transaction goes on
    CHECK_THROWS_AS(store.create_user({.username = "USER1", .email = "x@example.org"}), cpm::already_exists);
    (void)store.create_user(make_user(2));
    tx.commit();
  }
  CHECK(store.counts().users == 2);
  {
    typename TestType::transaction tx(store.db());
    (void)store.create_user(make_user(3));
    CHECK(store.user_by_name("user3"));
  }  // rolled back
  CHECK_FALSE(store.user_by_name("user3"));
  CHECK(count_rows(store.db(), "users") == 2);
  CHECK_FALSE(store.db().in_transaction());
}
