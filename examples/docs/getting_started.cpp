// The code of docs/getting-started.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <cstdio>
#include <filesystem>
#include <string>

int main() {
  auto dir = std::filesystem::temp_directory_path() / "cpm-getting-started";
  std::filesystem::remove_all(dir);
  std::string path = (dir / "cpm.db").string();
  {
    // [snippet:open]
    cpm::store store = cpm::store::open(path);  // or cpm::store::open_default(): ~/.cpm/cpm.db
    // [end:open]

    // [snippet:write]
    cpm::user alice = store.create_user({.username = "alice", .email = "alice@example.org"});
    cpm::user bob = store.create_user({.username = "bob", .email = "bob@example.org"});

    // The organization and its owner's membership are written in one transaction.
    cpm::organization acme = store.create_organization({.name = "acme"}, alice.id);

    // The repository and its creator's admin grant, likewise.
    cpm::repository tools = store.create_repository(
        {.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"}, alice.id);
    store.grant_access(tools.id, bob.id, cpm::access_level::read);
    // [end:write]

    // [snippet:read]
    for (const cpm::repository& r : store.user_repositories(bob.id)) {
      fmt::print("{} can reach {}\n", bob.username, r.path);
    }
    std::optional<cpm::access_level> level = store.access_level(bob.id, tools.id);
    bool may_push = level && *level >= cpm::access_level::write;  // false: bob may only read
    // [end:read]
    CHECK(!may_push);
    CHECK(level == cpm::access_level::read);
    CHECK(store.user_repositories(bob.id).to_vector().size() == 1);
    CHECK(store.access_level(alice.id, tools.id) == cpm::access_level::admin);

    // [snippet:errors]
    try {
      store.create_user({.username = "alice", .email = "other@example.org"});
    } catch (const cpm::already_exists& e) {
      fmt::print("{}\n", e.what());  // user with username 'alice' already exists
    }
    try {
      store.create_user({.username = "../etc", .email = "x@example.org"});
    } catch (const cpm::validation_error& e) {
      fmt::print("{} refused: {}\n", e.field(), e.problem());  // user.username refused: may hold only ...
    }
    // [end:errors]
    CHECK(store.list_users().to_vector().size() == 2);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
