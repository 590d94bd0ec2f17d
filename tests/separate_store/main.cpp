// A program built with CPM_SEPARATE_STORE: it calls store operations that store_instance.cpp
// compiled. It links only if that file provides every one of them, and checks that they work.
#include <cpm/cpm.hpp>

#include <cstdio>

#define CHECK(cond)                                      \
  do {                                                   \
    if (!(cond)) {                                       \
      std::fprintf(stderr, "check failed: %s\n", #cond); \
      return 1;                                          \
    }                                                    \
  } while (0)

#ifndef CPM_SEPARATE_STORE
#error "this test is built with CPM_SEPARATE_STORE"
#endif

int main() {
  auto store = cpm::store::open_memory();
  auto alice = store.create_user({.username = "alice", .email = "alice@example.org"});
  auto acme = store.create_organization({.name = "acme"}, alice.id);
  auto tools = store.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"});
  CHECK(store.access_level(alice.id, tools.id) == cpm::access_level::admin);
  CHECK(store.user_repositories(alice.id).to_vector().size() == 1);
  CHECK(store.org_members(acme.id).to_vector().size() == 1);
  CHECK(store.update_user(alice.id, {.email = "a@example.org"}).email == "a@example.org");
  store.delete_organization(acme.id);
  CHECK(!store.get_repository(tools.id));
  std::puts("separate store ok");
  return 0;
}
