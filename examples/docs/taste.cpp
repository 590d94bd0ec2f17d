// The program of README.md's "A taste", whole: the README quotes it from the first line of
// the region to the last. Runs as the test cpm.docs.taste, with HOME pointed at a fresh
// directory of the build tree (so ~/.cpm/cpm.db is made there), and must print what its
// comments say.
// [snippet:taste]
#include <cpm/cpm.hpp>

struct note {  // a model of your own: the table "note", its columns "id" and "text"
  std::int64_t id = 0;
  std::string text{};
};

int main() {
  auto store = cpm::store::open_default();  // creates and migrates ~/.cpm/cpm.db
  auto alice = store.create_user({.username = "alice", .email = "alice@example.org"});
  auto acme = store.create_organization({.name = "acme"}, alice.id);  // alice owns it
  store.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"});

  for (const cpm::repository& r : store.user_repositories(alice.id))  // lazy, indexed
    fmt::print("{}\n", r);  // repository{id: 1, name: "tools", org_id: 1, ...}

  // Your own tables live in the same file, with a migration history of their own:
  static const cpm::migration steps[] = {
      {.version = 1, .name = "notes", .apply = [](cpm::connection& c) { c.exec(cpm::create_table_sql<note>); }},
  };
  cpm::migrate(store.db(), "notes-app", steps);
  auto n = cpm::insert(store.db(), note{.text = "hello"});  // the stored row, with its id
  auto hits = cpm::find<&note::text>(store.db(), "hello").to_vector();  // find<&note::text>(db, 42) does not compile
  fmt::print("note {} says {}, found {} time(s)\n", n.id, n.text, hits.size());
}
// [end:taste]
