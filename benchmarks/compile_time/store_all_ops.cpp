// Compile-time measurement (scripts/compile-time.sh): a translation unit that includes
// <cpm/cpm.hpp> and calls every operation of cpm::store, so that every member function of
// the class template basic_store<> (and everything below it) is instantiated here.
// raw_all_ops.cpp does the same work by hand on the sqlite3 C API.
#include <cpm/cpm.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

template <class Range>
std::size_t drain(Range&& rows) {
  std::size_t n = 0;
  for (const auto& row : rows) {
    (void)row;
    ++n;
  }
  return n;
}

}  // namespace

std::size_t exercise_every_store_operation(const std::string& path) {
  auto store = cpm::store::open(path);
  std::size_t seen = 0;
  seen += static_cast<std::size_t>(store.schema_version() + cpm::store::target_version());
  (void)store.migrate();

  // users
  auto alice = store.create_user({.username = "alice", .email = "alice@example.org"});
  std::vector<cpm::user> more{{.username = "bob", .email = "bob@example.org"}, {.username = "carol", .email = "carol@example.org"}};
  seen += store.create_users(more);
  seen += store.get_user(alice.id).has_value();
  seen += store.user_by_name("alice").has_value();
  seen += store.user_by_public_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA").has_value();
  seen += drain(store.list_users({.after = 0, .limit = 10}));
  alice = store.update_user(alice.id, {.email = std::string("alice@example.com")});

  // organizations and members
  auto acme = store.create_organization({.name = "acme"}, alice.id);
  seen += store.get_organization(acme.id).has_value();
  seen += store.organization_by_name("acme").has_value();
  seen += drain(store.list_organizations());
  acme = store.update_organization(acme.id, {.description = std::optional<std::string>("tools")});
  auto bob = store.user_by_name("bob");
  auto member = store.add_org_member(acme.id, bob->id, cpm::org_role::member);
  seen += store.get_org_member(member.id).has_value();
  seen += store.org_membership(acme.id, bob->id).has_value();
  seen += drain(store.list_org_members());
  seen += drain(store.org_members(acme.id));
  member = store.set_org_role(acme.id, bob->id, cpm::org_role::admin);

  // repositories and access
  auto tools = store.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"}, alice.id);
  std::vector<cpm::repository> repos{{.name = "web", .org_id = acme.id, .path = "/srv/git/acme/web.git"}};
  seen += store.create_repositories(repos);
  seen += store.get_repository(tools.id).has_value();
  seen += store.repository_by_name(acme.id, "tools").has_value();
  seen += drain(store.list_repositories());
  seen += drain(store.org_repositories(acme.id));
  tools = store.update_repository(tools.id, {.description = std::optional<std::string>("build tools")});
  auto grant = store.grant_access(tools.id, bob->id, cpm::access_level::write);
  seen += store.get_repo_access(grant.id).has_value();
  seen += store.repo_grant(tools.id, bob->id).has_value();
  seen += drain(store.list_repo_access());
  seen += drain(store.repository_grants(tools.id));
  seen += drain(store.user_repositories(bob->id));
  seen += store.access_level(bob->id, tools.id).has_value();
  store.revoke_access(tools.id, bob->id);

  // ssh keys and servers
  auto key = store.create_ssh_key({.name = "deploy",
                                   .public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA",
                                   .private_key_path = "/etc/cpm/keys/deploy"});
  seen += store.get_ssh_key(key.id).has_value();
  seen += store.ssh_key_by_name("deploy").has_value();
  seen += drain(store.list_ssh_keys());
  key = store.update_ssh_key(key.id, {.private_key_path = std::string("/etc/cpm/keys/deploy2")});
  auto node = store.create_server({.name = "node-1", .host = "node1.example.net", .is_neighbor = true, .ssh_key_id = key.id});
  seen += store.get_server(node.id).has_value();
  seen += store.server_by_name("node-1").has_value();
  seen += drain(store.list_servers());
  seen += drain(store.neighbor_servers());
  node = store.update_server(node.id, {.port = 2222});

  // deletes
  store.delete_server(node.id);
  store.delete_ssh_key(key.id);
  store.remove_org_member(acme.id, bob->id);
  store.delete_repository(tools.id);
  store.delete_organization(acme.id);
  store.delete_user(alice.id);
  return seen;
}
