// The code of docs/store.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace {

// An ed25519 public key in OpenSSH's format, for the example.
std::string public_key(unsigned char seed, std::string_view comment = "") {
  std::vector<unsigned char> blob{0, 0, 0, 11};
  for (char c : std::string_view("ssh-ed25519")) blob.push_back(static_cast<unsigned char>(c));
  blob.insert(blob.end(), {0, 0, 0, 32});
  for (int i = 0; i < 32; ++i) blob.push_back(static_cast<unsigned char>(seed * 7 + i));
  std::string key = "ssh-ed25519 " + cpm::detail::base64_encode(blob);
  if (!comment.empty()) key += " " + std::string(comment);
  return key;
}

}  // namespace

int main() {
  auto store = cpm::store::open_memory();

  // [snippet:users]
  cpm::user alice = store.create_user(
      {.username = "alice", .email = "alice@example.org", .public_key = public_key(1, "alice@laptop")});
  std::optional<cpm::user> same = store.user_by_name("alice");
  std::optional<cpm::user> by_key = store.user_by_public_key(public_key(1));  // comment ignored
  alice = store.update_user(alice.id, {.email = "alice@acme.example"});     // other fields unchanged
  // [end:users]
  CHECK(same && same->id == alice.id);
  CHECK(by_key && by_key->id == alice.id);
  CHECK(alice.email == "alice@acme.example" && alice.public_key == public_key(1));

  // [snippet:keys]
  cpm::user_key desktop = store.add_user_key(alice.id, "desktop", public_key(2, "alice@desktop"));
  for (const cpm::user_key& k : store.user_keys(alice.id))  // "default" (from create_user), "desktop"
    fmt::print("{} {} {}\n", k.name, k.fingerprint, k.comment.value_or(""));
  // sshd's AuthorizedKeysCommand gets the offered key's fingerprint as %f:
  std::optional<cpm::user> login = store.user_by_fingerprint(desktop.fingerprint);
  if (login) store.mark_key_used(desktop.id);
  store.remove_user_key(desktop.id);
  // [end:keys]
  CHECK(login && login->id == alice.id);
  CHECK(desktop.fingerprint.starts_with("SHA256:") && desktop.fingerprint.size() == 50);
  CHECK(store.user_key_count(alice.id) == 1);

  // [snippet:bulk]
  std::vector<cpm::user> team;
  for (int i = 0; i < 100; ++i)
    team.push_back({.username = fmt::format("dev{:03}", i), .email = fmt::format("dev{:03}@example.org", i)});
  store.create_users(team);  // one transaction: all of them, or none
  // [end:bulk]
  CHECK(cpm::count<cpm::user>(store.db()) == 101);

  // [snippet:paging]
  std::int64_t after = 0;
  std::size_t seen = 0;
  for (;;) {
    std::size_t in_page = 0;
    for (const cpm::user& u : store.list_users({.after = after, .limit = 25})) {
      after = u.id;  // the next page starts after the last id seen
      ++in_page;
    }
    if (in_page == 0) break;
    seen += in_page;
  }
  // [end:paging]
  CHECK(seen == 101);

  // [snippet:orgs]
  cpm::organization acme = store.create_organization({.name = "acme", .description = "Acme Inc."}, alice.id);
  cpm::user bob = *store.user_by_name("dev001");
  store.add_org_member(acme.id, bob.id, cpm::org_role::member);
  store.set_org_role(acme.id, bob.id, cpm::org_role::admin);
  for (const cpm::member_info& m : store.org_members(acme.id)) {  // owners, admins, members; by name
    fmt::print("{} is {}\n", m.username, cpm::enum_to_text(m.role));
  }
  // [end:orgs]
  CHECK(store.org_members(acme.id).to_vector().size() == 2);

  // [snippet:repos]
  cpm::repository tools =
      store.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"}, alice.id);
  cpm::user carol = *store.user_by_name("dev002");
  store.grant_access(tools.id, carol.id, cpm::access_level::write);
  for (const cpm::repository& r : store.org_repositories(acme.id)) fmt::print("{}\n", r.path);
  tools = store.update_repository(tools.id, {.description = std::optional<std::string>{"build tools"}});
  store.revoke_access(tools.id, carol.id);
  // [end:repos]
  CHECK(store.access_level(carol.id, tools.id) == std::nullopt);
  CHECK(store.access_level(bob.id, tools.id) == cpm::access_level::admin);

  // [snippet:lookups]
  std::optional<cpm::repository> pushed = store.repository_by_full_name("acme/tools");  // git push acme/tools
  std::optional<cpm::repository> on_disk = store.repository_by_path("/srv/git/acme/tools.git");
  for (const cpm::membership_info& m : store.user_organizations(alice.id))
    fmt::print("{} in {}\n", cpm::enum_to_text(m.role), m.name);
  cpm::store_counts counts = store.counts();
  // [end:lookups]
  CHECK(pushed && on_disk && pushed->id == tools.id && on_disk->id == tools.id);
  CHECK(counts.repositories == 1 && counts.users == 101);

  // [snippet:rules]
  try {
    store.remove_org_member(acme.id, alice.id);  // alice is acme's only owner
  } catch (const cpm::last_owner& e) {
    fmt::print("{}\n", e.what());  // user 'alice' is the last owner of organization 'acme': ...
  }
  try {
    store.create_user({.username = "Alice", .email = "other@example.org"});
  } catch (const cpm::already_exists& e) {
    fmt::print("{}\n", e.what());  // user with username 'Alice' already exists
  }
  // [end:rules]
  CHECK(store.org_membership(acme.id, alice.id).has_value());
  CHECK(!store.user_by_name("Alice"));

  // [snippet:servers]
  cpm::ssh_key deploy = store.create_ssh_key(
      {.name = "deploy", .public_key = public_key(9), .private_key_path = "/etc/cpm/keys/deploy"});
  store.create_server({.name = "mirror", .host = "mirror.example.org", .is_neighbor = true, .ssh_key_id = deploy.id});
  store.create_server({.name = "backup", .host = "10.0.0.7", .port = 2222});
  for (const cpm::server& s : store.neighbor_servers()) fmt::print("peer {}:{}\n", s.host, s.port);
  store.delete_ssh_key(deploy.id);  // the mirror keeps running without a key: ssh_key_id is NULL now
  // [end:servers]
  CHECK(store.neighbor_servers().to_vector().size() == 1);
  CHECK(!store.server_by_name("mirror")->ssh_key_id);

  // [snippet:delete]
  store.delete_organization(acme.id);  // its repositories, memberships and grants go with it
  // [end:delete]
  CHECK(store.user_repositories(alice.id).to_vector().empty());
  return 0;
}
