// quickstart: cpm's main job on the default database.
//
// Opens (creating it if needed) the cpm database, brings its schema to the current version,
// makes an organization with two users, two repositories and a direct grant, and prints the
// repositories each user reaches and their access. Running it again reuses what exists.
//
//   quickstart [PATH]      PATH defaults to $CPMDB_PATH, then ~/.cpm/cpm.db
#include <cpm/cpm.hpp>

#include <fmt/core.h>

#include <cstdlib>
#include <string>

namespace {

std::string database_path(int argc, char** argv) {
  if (argc > 1) return argv[1];
  if (const char* env = std::getenv("CPMDB_PATH"); env && *env) return env;
  return cpm::default_database_path();
}

// A valid ed25519 public key for the example: the blob names its type, as OpenSSH writes it.
std::string example_public_key(unsigned char seed) {
  std::vector<unsigned char> blob{0, 0, 0, 11};
  for (char c : std::string_view("ssh-ed25519")) blob.push_back(static_cast<unsigned char>(c));
  blob.insert(blob.end(), {0, 0, 0, 32});
  for (int i = 0; i < 32; ++i) blob.push_back(static_cast<unsigned char>(seed + i));
  return "ssh-ed25519 " + cpm::detail::base64_encode(blob) + " quickstart";
}

cpm::user user_named(cpm::store& store, const std::string& name, unsigned char key_seed) {
  if (auto found = store.user_by_name(name)) return *found;
  auto created = store.create_user({.username = name, .email = name + "@example.org", .public_key = example_public_key(key_seed)});
  fmt::print("  created user {} (id {})\n", created.username, created.id);
  return created;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string path = database_path(argc, argv);
  auto store = cpm::store::open(path);
  fmt::print("cpm {} opened {} (schema version {})\n", cpm::version.text, path, store.schema_version());

  cpm::user alice = user_named(store, "alice", 1);
  cpm::user bob = user_named(store, "bob", 2);

  auto acme = store.organization_by_name("acme");
  if (!acme) {
    acme = store.create_organization({.name = "acme", .description = "the example organization"}, alice.id);
    fmt::print("  created organization {} owned by {}\n", acme->name, alice.username);
  }
  auto tools = store.repository_by_name(acme->id, "tools");
  if (!tools) {
    tools = store.create_repository({.name = "tools", .org_id = acme->id, .path = "/srv/git/acme/tools.git"}, alice.id);
    fmt::print("  created repository {}/{}\n", acme->name, tools->name);
  }
  auto site = store.repository_by_name(acme->id, "site");
  if (!site) {
    site = store.create_repository({.name = "site", .org_id = acme->id, .path = "/srv/git/acme/site.git"});
    fmt::print("  created repository {}/{}\n", acme->name, site->name);
  }
  if (!store.repo_grant(site->id, bob.id)) {
    store.grant_access(site->id, bob.id, cpm::access_level::write);
    fmt::print("  granted {} write on {}/{}\n", bob.username, acme->name, site->name);
  }

  for (const cpm::user& u : {alice, bob}) {
    fmt::print("repositories of {}:\n", u.username);
    for (const cpm::repository& r : store.user_repositories(u.id)) {
      auto level = store.access_level(u.id, r.id);
      fmt::print("  {:<8} {:<28} access: {}\n", r.name, r.path, level ? cpm::enum_to_text(*level) : "none");
    }
  }
  auto by_key = store.user_by_public_key(example_public_key(2));
  fmt::print("the SSH key of bob finds user {}\n", by_key ? by_key->username : "nobody");
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "quickstart: {}\n", e.what());
  return 1;
}
