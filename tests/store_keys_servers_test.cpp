// The store's SSH key and server operations: create, get by id and by name, list (lazy,
// paged), update with ssh_key_patch / server_patch, delete; neighbor_servers.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_backends.hpp>
#include <store_support.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

using cpm_test::count_rows;
using cpm_test::list_of;
using cpm_test::ssh_key;
using cpm_test::text;
using cpm_test::texts;

cpm::ssh_key key_named(const std::string& name, std::uint32_t seed) {
  return {.name = name, .public_key = ssh_key(seed), .private_key_path = "/home/cpm/.ssh/" + name};
}

}  // namespace

CPM_STORE_TEST_CASE("create_ssh_key stores a key and returns it with id and creation time", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  auto deploy = store.create_ssh_key(key_named("deploy", 1));
  auto backup = store.create_ssh_key(
      {.name = "backup", .public_key = ssh_key(2, "cpm@host", "ssh-rsa"), .private_key_path = "/keys/backup"});
  CHECK(deploy.id > 0);
  CHECK(backup.id > deploy.id);
  CHECK(deploy.name == "deploy");
  CHECK(deploy.public_key == ssh_key(1));
  CHECK(deploy.private_key_path == "/home/cpm/.ssh/deploy");
  CHECK(deploy.created_at.has_value());
  CHECK(text(store.get_ssh_key(backup.id)) == text(backup));
}

CPM_STORE_TEST_CASE("create_ssh_key and create_server ignore the id of the struct they are given", "[store][keys][servers]") {
  TestType backend;
  auto& store = backend.store;
  // A row read back, changed and created again is a new row, as with create_user.
  auto deploy = store.create_ssh_key(key_named("deploy", 1));
  cpm::ssh_key copy = deploy;
  copy.name = "deploy-copy";
  auto second = store.create_ssh_key(copy);
  CHECK(second.id != deploy.id);
  CHECK(store.get_ssh_key(deploy.id)->name == "deploy");
  // An id nobody uses yet is not taken over either.
  copy.id = 1000;
  copy.name = "third";
  CHECK(store.create_ssh_key(copy).id == second.id + 1);

  auto north = store.create_server({.name = "north", .host = "north.example.org"});
  cpm::server s = north;
  s.name = "north-2";
  auto north2 = store.create_server(s);
  CHECK(north2.id != north.id);
  CHECK(store.get_server(north.id)->name == "north");
  CHECK(count_rows(store.db(), "servers") == 2);
}

CPM_STORE_TEST_CASE("SSH key names are unique", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  (void)store.create_ssh_key(key_named("deploy", 1));
  try {
    (void)store.create_ssh_key(key_named("deploy", 2));
    FAIL("two keys named deploy");
  } catch (const cpm::already_exists& e) {
    CHECK(e.entity() == "ssh_key");
    CHECK(e.field() == "name");
    CHECK(e.value() == "deploy");
  }
  auto other = store.create_ssh_key(key_named("other", 3));
  CHECK_THROWS_AS(store.update_ssh_key(other.id, {.name = "deploy"}), cpm::already_exists);
  CHECK(store.get_ssh_key(other.id)->name == "other");
  CHECK(count_rows(store.db(), "ssh_keys") == 2);
}

CPM_STORE_TEST_CASE("get_ssh_key and ssh_key_by_name find keys, nullopt otherwise", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  auto deploy = store.create_ssh_key(key_named("deploy", 1));
  CHECK(store.ssh_key_by_name("deploy")->id == deploy.id);
  CHECK_FALSE(store.ssh_key_by_name("Deploy"));
  CHECK_FALSE(store.get_ssh_key(deploy.id + 1));
}

CPM_STORE_TEST_CASE("list_ssh_keys lists in id order and pages through all keys", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  std::vector<std::string> all;
  for (std::uint32_t i = 0; i < 9; ++i) all.push_back(text(store.create_ssh_key(key_named(fmt::format("k{}", i), i))));
  CHECK(texts(list_of(store.list_ssh_keys())) == all);
  std::vector<std::string> paged;
  for (cpm::page_request p{.after = 0, .limit = 2};;) {
    auto page = list_of(store.list_ssh_keys(p));
    if (page.empty()) break;
    CHECK(page.size() <= 2);
    for (const auto& k : page) paged.push_back(text(k));
    p.after = page.back().id;
  }
  CHECK(paged == all);
}

CPM_STORE_TEST_CASE("update_ssh_key changes only what the patch sets", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  auto deploy = store.create_ssh_key(key_named("deploy", 1));
  auto other = store.create_ssh_key(key_named("other", 2));
  auto changed = store.update_ssh_key(deploy.id, {.public_key = ssh_key(5)});
  CHECK(changed.public_key == ssh_key(5));
  CHECK(changed.name == "deploy");
  CHECK(changed.private_key_path == "/home/cpm/.ssh/deploy");
  CHECK(changed.created_at == deploy.created_at);
  changed = store.update_ssh_key(deploy.id, {.name = "deploy2", .private_key_path = "/keys/deploy2"});
  CHECK(changed.name == "deploy2");
  CHECK(changed.private_key_path == "/keys/deploy2");
  CHECK(changed.public_key == ssh_key(5));
  CHECK(text(store.get_ssh_key(deploy.id)) == text(changed));
  CHECK(text(store.get_ssh_key(other.id)) == text(other));
  try {
    (void)store.update_ssh_key(other.id + 10, {.name = "x"});
    FAIL("updated a key that does not exist");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "ssh_key");
    CHECK(e.key() == std::to_string(other.id + 10));
  }
}

CPM_STORE_TEST_CASE("delete_ssh_key removes the key, an unknown id is record_not_found", "[store][keys]") {
  TestType backend;
  auto& store = backend.store;
  auto deploy = store.create_ssh_key(key_named("deploy", 1));
  store.delete_ssh_key(deploy.id);
  CHECK_FALSE(store.get_ssh_key(deploy.id));
  try {
    store.delete_ssh_key(deploy.id);
    FAIL("deleted twice");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "ssh_key");
    CHECK(e.key() == std::to_string(deploy.id));
  }
}

CPM_STORE_TEST_CASE("create_server stores a server with the seed's defaults and an optional key", "[store][servers]") {
  TestType backend;
  auto& store = backend.store;
  auto deploy = store.create_ssh_key(key_named("deploy", 1));
  auto plain = store.create_server({.name = "plain", .host = "plain.example.org"});
  CHECK(plain.id > 0);
  CHECK(plain.port == 22);
  CHECK_FALSE(plain.is_neighbor);
  CHECK_FALSE(plain.ssh_key_id.has_value());
  CHECK(plain.created_at.has_value());
  auto peer = store.create_server(
      {.name = "peer", .host = "10.1.2.3", .port = 2222, .is_neighbor = true, .ssh_key_id = deploy.id});
  CHECK(peer.port == 2222);
  CHECK(peer.is_neighbor);
  CHECK(peer.ssh_key_id == std::optional<std::int64_t>(deploy.id));
  CHECK(text(store.get_server(peer.id)) == text(peer));
  CHECK(store.server_by_name("peer")->id == peer.id);
  CHECK_FALSE(store.server_by_name("nobody"));
  CHECK_FALSE(store.get_server(peer.id + 1));
}

CPM_STORE_TEST_CASE("create_server refuses a missing SSH key and a taken name, storing nothing", "[store][servers]") {
  TestType backend;
  auto& store = backend.store;
  auto deploy = store.create_ssh_key(key_named("deploy", 1));
  (void)store.create_server({.name = "north", .host = "north.example.org"});
  try {
    (void)store.create_server({.name = "south", .host = "south.example.org", .ssh_key_id = deploy.id + 4});
    FAIL("a server with a key that does not exist");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "ssh_key");
    CHECK(e.key() == std::to_string(deploy.id + 4));
  }
  try {
    (void)store.create_server({.name = "north", .host = "other.example.org"});
    FAIL("two servers named north");
  } catch (const cpm::already_exists& e) {
    CHECK(e.entity() == "server");
    CHECK(e.field() == "name");
    CHECK(e.value() == "north");
  }
  CHECK(count_rows(store.db(), "servers") == 1);
}

CPM_STORE_TEST_CASE("list_servers pages through all servers, neighbor_servers gives only the peers, in id order", "[store][servers]") {
  TestType backend;
  auto& store = backend.store;
  std::vector<std::string> all;
  std::vector<std::string> neighbours;
  for (int i = 0; i < 14; ++i) {
    bool peer = i % 3 == 1;
    auto s = store.create_server({.name = fmt::format("s{}", i), .host = fmt::format("h{}", i), .is_neighbor = peer});
    all.push_back(text(s));
    if (peer) neighbours.push_back(text(s));
  }
  CHECK(texts(list_of(store.list_servers())) == all);
  std::vector<std::string> paged;
  for (cpm::page_request p{.after = 0, .limit = 5};;) {
    auto page = list_of(store.list_servers(p));
    if (page.empty()) break;
    for (const auto& s : page) paged.push_back(text(s));
    p.after = page.back().id;
  }
  CHECK(paged == all);
  CHECK(neighbours.size() == 5);
  CHECK(texts(list_of(store.neighbor_servers())) == neighbours);

  // A server that stops being a neighbour leaves the list.
  auto s1 = store.server_by_name("s1");
  (void)store.update_server(s1->id, {.is_neighbor = false});
  CHECK(list_of(store.neighbor_servers()).size() == 4);
}

CPM_STORE_TEST_CASE("update_server changes what the patch sets, ssh_key_id can be set and cleared", "[store][servers]") {
  TestType backend;
  auto& store = backend.store;
  auto k1 = store.create_ssh_key(key_named("k1", 1));
  auto k2 = store.create_ssh_key(key_named("k2", 2));
  auto north = store.create_server({.name = "north", .host = "north.example.org", .ssh_key_id = k1.id});
  auto south = store.create_server({.name = "south", .host = "south.example.org"});

  auto changed = store.update_server(north.id, {.port = 2200});
  CHECK(changed.port == 2200);
  CHECK(changed.host == "north.example.org");
  CHECK(changed.ssh_key_id == std::optional<std::int64_t>(k1.id));
  CHECK(changed.created_at == north.created_at);

  changed = store.update_server(north.id, {.host = "192.0.2.1", .is_neighbor = true,
                                           .ssh_key_id = std::optional<std::int64_t>(k2.id)});
  CHECK(changed.host == "192.0.2.1");
  CHECK(changed.is_neighbor);
  CHECK(changed.ssh_key_id == std::optional<std::int64_t>(k2.id));
  CHECK(changed.port == 2200);

  changed = store.update_server(north.id, {.ssh_key_id = std::optional<std::int64_t>{}});
  CHECK_FALSE(changed.ssh_key_id.has_value());
  CHECK(text(store.get_server(north.id)) == text(changed));
  CHECK(text(store.get_server(south.id)) == text(south));

  CHECK_THROWS_AS(store.update_server(north.id, {.ssh_key_id = std::optional<std::int64_t>(k2.id + 5)}),
                  cpm::record_not_found);
  CHECK_THROWS_AS(store.update_server(north.id, {.name = "south"}), cpm::already_exists);
  CHECK_THROWS_AS(store.update_server(south.id + 5, {.port = 23}), cpm::record_not_found);
  CHECK(text(store.get_server(north.id)) == text(changed));
}

CPM_STORE_TEST_CASE("delete_server removes the server, an unknown id is record_not_found", "[store][servers]") {
  TestType backend;
  auto& store = backend.store;
  auto deploy = store.create_ssh_key(key_named("deploy", 1));
  auto north = store.create_server({.name = "north", .host = "north.example.org", .ssh_key_id = deploy.id});
  store.delete_server(north.id);
  CHECK_FALSE(store.get_server(north.id));
  CHECK(store.get_ssh_key(deploy.id));  // the key stays
  try {
    store.delete_server(north.id);
    FAIL("deleted twice");
  } catch (const cpm::record_not_found& e) {
    CHECK(e.entity() == "server");
    CHECK(e.key() == std::to_string(north.id));
  }
}
