// libFuzzer harness: drives cpm::store on an in-memory database with random sequences of
// operations and random strings decoded from the input, against a reference model kept here.
//
// Every operation of the store is reachable (create / update / delete of users, organizations,
// repositories, SSH keys and servers; users' keys added, removed and marked used; memberships
// and roles; grants and revocations; bulk creates; lookups by name, key, fingerprint and path;
// user_repositories; access_level), alone or inside a caller's transaction that is then
// committed or rolled back. After each operation the outcome must be the one the model
// predicts: record_not_found exactly when a referenced row is missing, already_exists exactly
// when a unique value is taken, last_owner exactly when an organization would lose its only
// owner, success otherwise (validation_error may refuse any value; the model then expects
// nothing to change). Any other exception, a crash or a sanitizer report is a finding.
//
// The model holds the service's rules (schema version 3, docs/store.md) on its own: usernames
// and organization names unique regardless of ASCII case, repository paths unique, a user's
// key unique among all users' keys (the same key blob, whatever its comment), an
// organization's only owner neither removed, demoted nor deleted with their user, and '' as a
// description stored as none.
//
// After each input:
//   PRAGMA integrity_check is ok, PRAGMA foreign_key_check is empty,
//   every table holds exactly the model's rows, their text fields byte for byte (users'
//   public_key: their first key), each user's keys (user_keys) are the model's, each found
//   again by its key and its fingerprint,
//   access_level(user, repository) equals the model's for every pair (deleted and never-made
//   ids included), and user_repositories(user) lists exactly the model's repositories.
//
// One in-memory store serves every input; it is emptied before each (see fresh_store).
//
// Built with clang -fsanitize=fuzzer,address,undefined by scripts/ci/fuzz.sh; the same file,
// with tests/fuzz/replay_main.cpp, replays the seed corpus in the ordinary test build
// (cpm.reliability.fuzz_corpus).
#include <cpm/cpm.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "store_fuzzer: invariant broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, ...)                                                               \
  do {                                                                                      \
    if (!(cond)) finding(fmt::format("{} ({}:{}): ", #cond, __FILE__, __LINE__) + fmt::format(__VA_ARGS__)); \
  } while (0)

using id = std::int64_t;

// ---- input decoding --------------------------------------------------------------------------

class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  [[nodiscard]] bool empty() const { return n_ == 0; }
  std::uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  int u16() {
    int high = byte();
    return high << 8 | byte();
  }
  std::string bytes(std::size_t count) {
    count = std::min(count, n_);
    std::string s(reinterpret_cast<const char*>(p_), count);
    p_ += count;
    n_ -= count;
    return s;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

enum class kind { name, username, email, path, key, host, text };

std::string ssh_key_for(unsigned seed, bool comment) {
  std::vector<unsigned char> blob;
  auto put = [&](std::size_t v) {
    for (int s = 24; s >= 0; s -= 8) blob.push_back(static_cast<unsigned char>((v >> s) & 0xff));
  };
  const std::string type = "ssh-ed25519";
  put(type.size());
  // One byte at a time: an insert of the range makes g++ 12 at -O3 warn (wrongly) of an overflow.
  for (char c : type) blob.push_back(static_cast<unsigned char>(c));
  put(32);
  for (unsigned i = 0; i < 32; ++i) blob.push_back(static_cast<unsigned char>(seed * 31 + i * 7));
  std::string key = type + " " + cpm::detail::base64_encode(blob);
  if (comment) key += fmt::format(" c{}@host", seed);
  return key;
}

// A value for a field: below 0x80, a valid one numbered by the byte (so names collide often);
// from 0x80, raw bytes of the input (length from the next byte; 0xff: two more bytes).
std::string value(input& in, kind k) {
  std::uint8_t s = in.byte();
  if (s < 0x80) {
    unsigned n = s & 0x3f;
    switch (k) {
      case kind::name: return fmt::format("n{}", n);
      case kind::username: return fmt::format("u{}", n);
      case kind::email: return fmt::format("e{}@example.org", n);
      case kind::path: return fmt::format("/srv/git/p{}.git", n);
      case kind::key: return ssh_key_for(n % 16, (s & 0x40) != 0);
      case kind::host: return fmt::format("h{}.example.org", n);
      case kind::text: return fmt::format("text {} \xe2\x9c\x93", n);
    }
  }
  std::size_t length = in.byte();
  if (length == 0xff) {
    length = static_cast<std::size_t>(in.u16());
  }
  std::string raw = in.bytes(length);
  // Raw bytes inside a valid frame now and then, to get past the first check.
  switch (s & 0x7) {
    case 1: return k == kind::email ? raw + "@example.org" : k == kind::path ? "/srv/" + raw : raw;
    case 2: return k == kind::key ? ssh_key_for(s, false) + " " + raw : raw;
    default: return raw;
  }
}

// ---- the reference model ---------------------------------------------------------------------

struct user_m {
  std::string username, email;
};
struct user_key_m {  // one of a user's keys (user_keys)
  id user = 0;
  std::string name, key;  // key as stored: "type base64"
  std::optional<std::string> comment;
};
struct org_m {
  std::string name;
  std::optional<std::string> description;
};
struct repo_m {
  std::string name;
  id org = 0;
  std::string path;
  std::optional<std::string> description;
};
struct key_m {
  std::string name, public_key, private_key_path;
};
struct server_m {
  std::string name, host;
  int port = 22;
  bool neighbor = false;
  std::optional<id> key;
};

// "type base64 comment" -> "type base64" (up to the second space).
std::string normalized(const std::string& key) {
  auto first = key.find(' ');
  if (first == std::string::npos) return key;
  auto second = key.find(' ', first + 1);
  return second == std::string::npos ? key : key.substr(0, second);
}

constexpr const char* blank = " \t\r\n";

// A key line as a valid one is stored: surrounding whitespace dropped, "type base64" and what
// followed the space after it (none when nothing did).
struct key_line {
  std::string key;
  std::optional<std::string> comment;
};
key_line parsed(const std::string& line) {
  auto begin = line.find_first_not_of(blank);
  std::string trimmed = begin == std::string::npos ? "" : line.substr(begin, line.find_last_not_of(blank) - begin + 1);
  key_line k{normalized(trimmed), std::nullopt};
  if (trimmed.size() > k.key.size() + 1) k.comment = trimmed.substr(k.key.size() + 1);
  return k;
}

// What makes two keys the same key: the blob the base64 decodes to (it names the type too).
// (For valid keys only.)
std::string blob_of(const std::string& key) {
  auto space = key.find(' ');
  auto blob = cpm::detail::base64_decode(std::string_view(key).substr(space + 1)).value();
  return {blob.begin(), blob.end()};
}

// Names compared as the NOCASE indexes compare them: ASCII letters folded.
bool same_name(const std::string& a, const std::string& b) {
  auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return fold(x) == fold(y); });
}

// An optional description as the store keeps it: '' is none.
std::optional<std::string> none_if_empty(const std::optional<std::string>& text) {
  return text && !text->empty() ? text : std::nullopt;
}

struct model {
  std::map<id, user_m> users;
  std::map<id, user_key_m> user_keys;
  std::map<id, org_m> orgs;
  std::map<id, repo_m> repos;
  std::map<id, key_m> keys;
  std::map<id, server_m> servers;
  std::map<std::pair<id, id>, cpm::org_role> members;       // (org, user)
  std::map<std::pair<id, id>, cpm::access_level> grants;    // (repo, user)

  [[nodiscard]] std::optional<cpm::access_level> level(id user, id repo) const {
    if (!users.count(user)) return std::nullopt;
    auto r = repos.find(repo);
    if (r == repos.end()) return std::nullopt;
    int best = 0;
    if (auto g = grants.find({repo, user}); g != grants.end()) best = static_cast<int>(g->second);
    if (auto m = members.find({r->second.org, user}); m != members.end())
      best = std::max(best, m->second == cpm::org_role::member ? 1 : 3);
    if (best == 0) return std::nullopt;
    return static_cast<cpm::access_level>(best);
  }
  // Usernames and organization names are taken regardless of case; lookups by name are exact.
  [[nodiscard]] bool username_taken(const std::string& name, id except = 0) const {
    for (const auto& [i, u] : users)
      if (i != except && same_name(u.username, name)) return true;
    return false;
  }
  [[nodiscard]] std::optional<id> user_named(const std::string& name) const {
    for (const auto& [i, u] : users)
      if (u.username == name) return i;
    return std::nullopt;
  }
  [[nodiscard]] bool org_name_taken(const std::string& name, id except = 0) const {
    for (const auto& [i, o] : orgs)
      if (i != except && same_name(o.name, name)) return true;
    return false;
  }
  [[nodiscard]] std::optional<id> org_named(const std::string& name) const {
    for (const auto& [i, o] : orgs)
      if (o.name == name) return i;
    return std::nullopt;
  }
  // The user's first key (the oldest), which users.public_key mirrors.
  [[nodiscard]] std::optional<id> first_key(id user) const {
    for (const auto& [i, k] : user_keys)
      if (k.user == user) return i;
    return std::nullopt;
  }
  [[nodiscard]] std::optional<std::string> public_key(id user) const {
    auto first = first_key(user);
    return first ? std::optional(user_keys.at(*first).key) : std::nullopt;
  }
  // The key (any user's) that is the same key as `key` ("type base64", valid).
  [[nodiscard]] std::optional<id> key_holding(const std::string& key) const {
    std::string blob = blob_of(key);
    for (const auto& [i, k] : user_keys)
      if (blob_of(k.key) == blob) return i;
    return std::nullopt;
  }
  // Whether `user` is the only owner of `org`.
  [[nodiscard]] bool sole_owner(id user, id org) const {
    auto m = members.find({org, user});
    if (m == members.end() || m->second != cpm::org_role::owner) return false;
    for (const auto& [key, role] : members)
      if (key.first == org && key.second != user && role == cpm::org_role::owner) return false;
    return true;
  }
  [[nodiscard]] bool sole_owner_of_any(id user) const {
    for (const auto& [key, role] : members)
      if (key.second == user && sole_owner(user, key.first)) return true;
    return false;
  }
  template <class Map>
  static bool name_taken(const Map& map, const std::string& name, id except = 0) {
    for (const auto& [i, row] : map)
      if (i != except && row.name == name) return true;
    return false;
  }
  [[nodiscard]] bool repo_name_taken(id org, const std::string& name, id except = 0) const {
    for (const auto& [i, r] : repos)
      if (i != except && r.org == org && r.name == name) return true;
    return false;
  }
  [[nodiscard]] bool path_taken(const std::string& path, id except = 0) const {
    for (const auto& [i, r] : repos)
      if (i != except && r.path == path) return true;
    return false;
  }
  void delete_user(id u) {
    users.erase(u);
    std::erase_if(user_keys, [&](const auto& k) { return k.second.user == u; });
    std::erase_if(members, [&](const auto& m) { return m.first.second == u; });
    std::erase_if(grants, [&](const auto& g) { return g.first.second == u; });
  }
  void delete_repo(id r) {
    repos.erase(r);
    std::erase_if(grants, [&](const auto& g) { return g.first.first == r; });
  }
  void delete_org(id o) {
    orgs.erase(o);
    std::vector<id> gone;
    for (const auto& [i, r] : repos)
      if (r.org == o) gone.push_back(i);
    for (id r : gone) delete_repo(r);
    std::erase_if(members, [&](const auto& m) { return m.first.first == o; });
  }
  void delete_key(id k) {
    keys.erase(k);
    for (auto& [i, s] : servers)
      if (s.key == k) s.key.reset();
  }
};

// ---- the harness -----------------------------------------------------------------------------

enum class outcome { ok, invalid, missing, taken, last_owner };

// Every id handed out so far, of each table (deleted ones stay: they must stay gone).
struct ids {
  std::vector<id> users, user_keys, orgs, repos, keys, servers;
};

id pick(input& in, const std::vector<id>& known) {
  std::uint8_t b = in.byte();
  if (b < 0xf0 && !known.empty()) return known[b % known.size()];
  return 100000 + (b & 0x0f);  // never made
}

// One migrated in-memory store for the whole run, emptied before each input (every table and
// the AUTOINCREMENT counters), so each input starts from the same logical state as a new
// database, while the prepared statements stay cached (preparing them anew for each input
// took most of the time).
cpm::store& fresh_store() {
  static auto store = cpm::store::open_memory();
  auto& db = store.db();
  FUZZ_CHECK(!db.in_transaction(), "the previous input left a transaction open");
  // Organizations before their members: an organization's last owner may only leave with it.
  db.exec(
      "DELETE FROM repo_access; DELETE FROM servers; DELETE FROM ssh_keys; DELETE FROM repositories; "
      "DELETE FROM organizations; DELETE FROM org_members; DELETE FROM user_keys; DELETE FROM users; "
      "DELETE FROM sqlite_sequence");
  return store;
}

struct harness {
  cpm::store& store = fresh_store();
  model m;
  ids made;
  std::optional<cpm::transaction> outer;
  model saved;  // the model when the outer transaction began

  // Runs one operation; returns how it ended.
  template <class Op>
  outcome attempt(Op&& op) {
    try {
      op();
      return outcome::ok;
    } catch (const cpm::validation_error&) {
      return outcome::invalid;
    } catch (const cpm::record_not_found&) {
      return outcome::missing;
    } catch (const cpm::already_exists&) {
      return outcome::taken;
    } catch (const cpm::last_owner&) {
      return outcome::last_owner;
    }
    // Anything else propagates: libFuzzer reports it as a crash.
  }

  // The store's outcome must be the model's prediction: the first failure in the order the
  // store checks (record_not_found for a missing row, already_exists for a taken value,
  // last_owner for an organization's only owner), or success. validation_error may come
  // instead (it checks values the model does not judge).
  static outcome predict(bool missing, bool taken, bool last = false) {
    return missing ? outcome::missing : taken ? outcome::taken : last ? outcome::last_owner : outcome::ok;
  }
  static void expect(outcome got, outcome predicted, const char* op) {
    if (got == outcome::invalid) return;
    FUZZ_CHECK(got == predicted,
               "{}: the store says {}, the model {} (0 ok, 2 not found, 3 already exists, 4 last owner)", op,
               static_cast<int>(got), static_cast<int>(predicted));
  }
  static void expect(outcome got, bool missing, bool taken, const char* op, bool last = false) {
    expect(got, predict(missing, taken, last), op);
  }

  // The key the store gave a user (the only one, or the newest), taken into the model.
  id record_new_key(id user, const key_line& k) {
    std::optional<cpm::user_key> newest;
    for (cpm::user_key& row : store.user_keys(user))
      if (!newest || row.id > newest->id) newest = std::move(row);
    FUZZ_CHECK(newest && !m.user_keys.count(newest->id), "no new key for user {}", user);
    FUZZ_CHECK(newest->name == "default" && newest->public_key == k.key && newest->comment == k.comment,
               "user {}'s new key {} differs", user, newest->id);
    m.user_keys[newest->id] = {user, "default", k.key, k.comment};
    made.user_keys.push_back(newest->id);
    return newest->id;
  }

  void step(input& in) {
    const std::uint8_t op = in.byte() % 33;
    switch (op) {
      case 0: {  // create_user
        cpm::user u{.username = value(in, kind::username), .email = value(in, kind::email)};
        if (in.byte() & 1) u.public_key = value(in, kind::key);
        cpm::user stored;
        auto got = attempt([&] { stored = store.create_user(u); });
        // (A key line is only parsed once the store took it as valid.)
        std::optional<key_line> key;
        if (u.public_key && got != outcome::invalid) key = parsed(*u.public_key);
        expect(got, false, m.username_taken(u.username) || (key && m.key_holding(key->key)), "create_user");
        if (got == outcome::ok) {
          FUZZ_CHECK(stored.username == u.username && stored.email == u.email &&
                         stored.public_key == (key ? std::optional(key->key) : std::nullopt),
                     "create_user result");
          m.users[stored.id] = {u.username, u.email};
          made.users.push_back(stored.id);
          if (key) record_new_key(stored.id, *key);
        }
        break;
      }
      case 1: {  // update_user
        id target = pick(in, made.users);
        cpm::user_patch p;
        std::uint8_t which = in.byte();
        if (which & 1) p.username = value(in, kind::username);
        if (which & 2) p.email = value(in, kind::email);
        if (which & 4) p.public_key = (which & 8) ? std::optional<std::string>(value(in, kind::key)) : std::nullopt;
        auto got = attempt([&] { store.update_user(target, p); });
        // The key replaces the user's first key (or becomes it); it is taken when any other
        // key holds it, another user's or another of this user's.
        std::optional<key_line> key;
        if (p.public_key && *p.public_key && got != outcome::invalid) key = parsed(**p.public_key);
        bool missing = !m.users.count(target);
        std::optional<id> first = m.first_key(target), holder = key ? m.key_holding(key->key) : std::nullopt;
        bool taken = (p.username && m.username_taken(*p.username, target)) || (holder && holder != first);
        expect(got, missing, taken, "update_user");
        if (got == outcome::ok) {
          auto& u = m.users[target];
          if (p.username) u.username = *p.username;
          if (p.email) u.email = *p.email;
          if (key && first) {
            m.user_keys[*first].key = key->key;
            m.user_keys[*first].comment = key->comment;
          } else if (key) {
            record_new_key(target, *key);
          } else if (p.public_key && first) {
            m.user_keys.erase(*first);
          }
        }
        break;
      }
      case 2: {  // delete_user
        id target = pick(in, made.users);
        auto got = attempt([&] { store.delete_user(target); });
        expect(got, !m.users.count(target), false, "delete_user", m.sole_owner_of_any(target));
        if (got == outcome::ok) m.delete_user(target);
        break;
      }
      case 3: {  // create_organization
        cpm::organization o{.name = value(in, kind::name)};
        std::uint8_t flags = in.byte();
        if (flags & 1) o.description = value(in, kind::text);
        std::optional<id> owner;
        if (flags & 2) owner = pick(in, made.users);
        cpm::organization stored;
        auto got = attempt([&] { stored = store.create_organization(o, owner); });
        expect(got, owner && !m.users.count(*owner), m.org_name_taken(o.name), "create_organization");
        if (got == outcome::ok) {
          FUZZ_CHECK(stored.name == o.name && stored.description == none_if_empty(o.description),
                     "create_organization result");
          m.orgs[stored.id] = {o.name, none_if_empty(o.description)};
          if (owner) m.members[{stored.id, *owner}] = cpm::org_role::owner;
          made.orgs.push_back(stored.id);
        }
        break;
      }
      case 4: {  // update_organization
        id target = pick(in, made.orgs);
        cpm::organization_patch p;
        std::uint8_t which = in.byte();
        if (which & 1) p.name = value(in, kind::name);
        if (which & 2) p.description = (which & 4) ? std::optional<std::string>(value(in, kind::text)) : std::nullopt;
        auto got = attempt([&] { store.update_organization(target, p); });
        expect(got, !m.orgs.count(target), p.name && m.org_name_taken(*p.name, target), "update_organization");
        if (got == outcome::ok) {
          if (p.name) m.orgs[target].name = *p.name;
          if (p.description) m.orgs[target].description = none_if_empty(*p.description);
        }
        break;
      }
      case 5: {  // delete_organization
        id target = pick(in, made.orgs);
        auto got = attempt([&] { store.delete_organization(target); });
        expect(got, !m.orgs.count(target), false, "delete_organization");
        if (got == outcome::ok) m.delete_org(target);
        break;
      }
      case 6: {  // add_org_member
        id org = pick(in, made.orgs), user = pick(in, made.users);
        auto role = static_cast<cpm::org_role>(in.byte() % 3);
        auto got = attempt([&] { store.add_org_member(org, user, role); });
        expect(got, !m.orgs.count(org) || !m.users.count(user), m.members.count({org, user}) == 1, "add_org_member");
        if (got == outcome::ok) m.members[{org, user}] = role;
        break;
      }
      case 7: {  // set_org_role
        id org = pick(in, made.orgs), user = pick(in, made.users);
        auto role = static_cast<cpm::org_role>(in.byte() % 3);
        auto got = attempt([&] { store.set_org_role(org, user, role); });
        expect(got, m.members.count({org, user}) == 0, false, "set_org_role",
               role != cpm::org_role::owner && m.sole_owner(user, org));
        if (got == outcome::ok) m.members[{org, user}] = role;
        break;
      }
      case 8: {  // remove_org_member
        id org = pick(in, made.orgs), user = pick(in, made.users);
        auto got = attempt([&] { store.remove_org_member(org, user); });
        expect(got, m.members.count({org, user}) == 0, false, "remove_org_member", m.sole_owner(user, org));
        if (got == outcome::ok) m.members.erase({org, user});
        break;
      }
      case 9: {  // create_repository
        cpm::repository r{.name = value(in, kind::name), .org_id = pick(in, made.orgs), .path = value(in, kind::path)};
        std::uint8_t flags = in.byte();
        if (flags & 1) r.description = value(in, kind::text);
        std::optional<id> creator;
        if (flags & 2) creator = pick(in, made.users);
        cpm::repository stored;
        auto got = attempt([&] { stored = store.create_repository(r, creator); });
        // The organization is checked, then the name and the path, then the creator.
        outcome predicted = !m.orgs.count(r.org_id)                                          ? outcome::missing
                            : m.repo_name_taken(r.org_id, r.name) || m.path_taken(r.path)    ? outcome::taken
                            : creator && !m.users.count(*creator)                             ? outcome::missing
                                                                                              : outcome::ok;
        expect(got, predicted, "create_repository");
        if (got == outcome::ok) {
          FUZZ_CHECK(stored.name == r.name && stored.path == r.path && stored.description == none_if_empty(r.description) &&
                         stored.org_id == r.org_id,
                     "create_repository result");
          m.repos[stored.id] = {r.name, r.org_id, r.path, none_if_empty(r.description)};
          if (creator) m.grants[{stored.id, *creator}] = cpm::access_level::admin;
          made.repos.push_back(stored.id);
        }
        break;
      }
      case 10: {  // update_repository
        id target = pick(in, made.repos);
        cpm::repository_patch p;
        std::uint8_t which = in.byte();
        if (which & 1) p.name = value(in, kind::name);
        if (which & 2) p.org_id = pick(in, made.orgs);
        if (which & 4) p.path = value(in, kind::path);
        if (which & 8) p.description = (which & 16) ? std::optional<std::string>(value(in, kind::text)) : std::nullopt;
        auto got = attempt([&] { store.update_repository(target, p); });
        bool missing = !m.repos.count(target) || (p.org_id && !m.orgs.count(*p.org_id));
        bool taken = false;
        if (!missing) {
          const auto& cur = m.repos[target];
          taken = m.repo_name_taken(p.org_id.value_or(cur.org), p.name.value_or(cur.name), target) ||
                  (p.path && m.path_taken(*p.path, target));
        }
        expect(got, missing, taken, "update_repository");
        if (got == outcome::ok) {
          auto& r = m.repos[target];
          if (p.name) r.name = *p.name;
          if (p.org_id) r.org = *p.org_id;
          if (p.path) r.path = *p.path;
          if (p.description) r.description = none_if_empty(*p.description);
        }
        break;
      }
      case 11: {  // delete_repository
        id target = pick(in, made.repos);
        auto got = attempt([&] { store.delete_repository(target); });
        expect(got, !m.repos.count(target), false, "delete_repository");
        if (got == outcome::ok) m.delete_repo(target);
        break;
      }
      case 12: {  // grant_access (insert or change)
        id repo = pick(in, made.repos), user = pick(in, made.users);
        auto level = static_cast<cpm::access_level>(1 + in.byte() % 3);
        auto got = attempt([&] { store.grant_access(repo, user, level); });
        expect(got, !m.repos.count(repo) || !m.users.count(user), false, "grant_access");
        if (got == outcome::ok) m.grants[{repo, user}] = level;
        break;
      }
      case 13: {  // revoke_access
        id repo = pick(in, made.repos), user = pick(in, made.users);
        auto got = attempt([&] { store.revoke_access(repo, user); });
        expect(got, m.grants.count({repo, user}) == 0, false, "revoke_access");
        if (got == outcome::ok) m.grants.erase({repo, user});
        break;
      }
      case 14: {  // create_ssh_key
        cpm::ssh_key k{.name = value(in, kind::name), .public_key = value(in, kind::key), .private_key_path = value(in, kind::path)};
        cpm::ssh_key stored;
        auto got = attempt([&] { stored = store.create_ssh_key(k); });
        expect(got, false, model::name_taken(m.keys, k.name), "create_ssh_key");
        if (got == outcome::ok) {
          FUZZ_CHECK(stored.name == k.name && stored.public_key == k.public_key && stored.private_key_path == k.private_key_path,
                     "create_ssh_key result");
          m.keys[stored.id] = {k.name, k.public_key, k.private_key_path};
          made.keys.push_back(stored.id);
        }
        break;
      }
      case 15: {  // update_ssh_key
        id target = pick(in, made.keys);
        cpm::ssh_key_patch p;
        std::uint8_t which = in.byte();
        if (which & 1) p.name = value(in, kind::name);
        if (which & 2) p.public_key = value(in, kind::key);
        if (which & 4) p.private_key_path = value(in, kind::path);
        auto got = attempt([&] { store.update_ssh_key(target, p); });
        expect(got, !m.keys.count(target), p.name && model::name_taken(m.keys, *p.name, target), "update_ssh_key");
        if (got == outcome::ok) {
          auto& k = m.keys[target];
          if (p.name) k.name = *p.name;
          if (p.public_key) k.public_key = *p.public_key;
          if (p.private_key_path) k.private_key_path = *p.private_key_path;
        }
        break;
      }
      case 16: {  // delete_ssh_key
        id target = pick(in, made.keys);
        auto got = attempt([&] { store.delete_ssh_key(target); });
        expect(got, !m.keys.count(target), false, "delete_ssh_key");
        if (got == outcome::ok) m.delete_key(target);
        break;
      }
      case 17: {  // create_server
        cpm::server s{.name = value(in, kind::name), .host = value(in, kind::host)};
        std::uint8_t flags = in.byte();
        s.port = (flags & 1) ? in.u16() : 22;
        s.is_neighbor = (flags & 2) != 0;
        if (flags & 4) s.ssh_key_id = pick(in, made.keys);
        cpm::server stored;
        auto got = attempt([&] { stored = store.create_server(s); });
        expect(got, s.ssh_key_id && !m.keys.count(*s.ssh_key_id), model::name_taken(m.servers, s.name), "create_server");
        if (got == outcome::ok) {
          FUZZ_CHECK(stored.name == s.name && stored.host == s.host && stored.port == s.port, "create_server result");
          m.servers[stored.id] = {s.name, s.host, s.port, s.is_neighbor, s.ssh_key_id};
          made.servers.push_back(stored.id);
        }
        break;
      }
      case 18: {  // update_server
        id target = pick(in, made.servers);
        cpm::server_patch p;
        std::uint8_t which = in.byte();
        if (which & 1) p.name = value(in, kind::name);
        if (which & 2) p.host = value(in, kind::host);
        if (which & 4) p.port = in.u16();
        if (which & 8) p.is_neighbor = (which & 16) != 0;
        if (which & 32) p.ssh_key_id = (which & 64) ? std::optional<id>(pick(in, made.keys)) : std::nullopt;
        auto got = attempt([&] { store.update_server(target, p); });
        bool missing = !m.servers.count(target) || (p.ssh_key_id && *p.ssh_key_id && !m.keys.count(**p.ssh_key_id));
        expect(got, missing, p.name && model::name_taken(m.servers, *p.name, target), "update_server");
        if (got == outcome::ok) {
          auto& s = m.servers[target];
          if (p.name) s.name = *p.name;
          if (p.host) s.host = *p.host;
          if (p.port) s.port = *p.port;
          if (p.is_neighbor) s.neighbor = *p.is_neighbor;
          if (p.ssh_key_id) s.key = *p.ssh_key_id;
        }
        break;
      }
      case 19: {  // delete_server
        id target = pick(in, made.servers);
        auto got = attempt([&] { store.delete_server(target); });
        expect(got, !m.servers.count(target), false, "delete_server");
        if (got == outcome::ok) m.servers.erase(target);
        break;
      }
      case 20: {  // lookups by name and key, with any string
        std::string s = value(in, static_cast<kind>(in.byte() % 7));
        // Names are found exactly as written (the case only matters to what is taken).
        auto u = store.user_by_name(s);
        FUZZ_CHECK((u ? std::optional(u->id) : std::nullopt) == m.user_named(s), "user_by_name");
        auto o = store.organization_by_name(s);
        FUZZ_CHECK((o ? std::optional(o->id) : std::nullopt) == m.org_named(s), "organization_by_name");
        auto k = store.ssh_key_by_name(s);
        FUZZ_CHECK(k.has_value() == model::name_taken(m.keys, s), "ssh_key_by_name");
        auto sv = store.server_by_name(s);
        FUZZ_CHECK(sv.has_value() == model::name_taken(m.servers, s), "server_by_name");
        // By key: leading whitespace and the comment ignored; exactly the held key's text.
        auto byk = store.user_by_public_key(s);
        std::optional<id> holder;
        if (auto begin = s.find_first_not_of(blank); begin != std::string::npos) {
          std::string wanted = normalized(s.substr(begin));
          for (const auto& [i, key] : m.user_keys)
            if (key.key == wanted) holder = key.user;
        }
        FUZZ_CHECK((byk ? std::optional(byk->id) : std::nullopt) == holder, "user_by_public_key({}): store {}, model {}",
                   cpm::detail::printable(s), byk ? byk->id : 0, holder.value_or(0));
        // By fingerprint: any string; a key found is one the model has, of that user.
        if (auto byf = store.user_key_by_fingerprint(s)) {
          FUZZ_CHECK(m.user_keys.count(byf->id) && m.user_keys.at(byf->id).user == byf->user_id, "user_key_by_fingerprint");
          auto fu = store.user_by_fingerprint(s);
          FUZZ_CHECK(fu && fu->id == byf->user_id, "user_by_fingerprint");
        } else {
          FUZZ_CHECK(!store.user_by_fingerprint(s), "user_by_fingerprint without a key");
        }
        auto byp = store.repository_by_path(s);
        FUZZ_CHECK(byp.has_value() == m.path_taken(s) && (!byp || m.repos.at(byp->id).path == s), "repository_by_path");
        id org = pick(in, made.orgs);
        FUZZ_CHECK(store.repository_by_name(org, s).has_value() == m.repo_name_taken(org, s), "repository_by_name");
        break;
      }
      case 21: {  // user_repositories
        id user = pick(in, made.users);
        check_user_repositories(user);
        break;
      }
      case 22: {  // access_level
        id user = pick(in, made.users), repo = pick(in, made.repos);
        FUZZ_CHECK(store.access_level(user, repo) == m.level(user, repo), "access_level({}, {})", user, repo);
        break;
      }
      case 23:  // a caller's transaction begins
        if (!outer) {
          outer.emplace(store.db());
          saved = m;
        }
        break;
      case 24:  // ... and commits
        if (outer) {
          outer->commit();
          outer.reset();
        }
        break;
      case 25:  // ... or rolls back
        if (outer) {
          outer->rollback();
          outer.reset();
          m = saved;
        }
        break;
      case 26: {  // create_users: all or nothing
        std::vector<cpm::user> batch(1 + in.byte() % 3);
        for (auto& u : batch) u = {.username = value(in, kind::username), .email = value(in, kind::email)};
        auto got = attempt([&] { store.create_users(batch); });
        bool taken = false;
        for (std::size_t i = 0; i < batch.size(); ++i) {
          taken = taken || m.username_taken(batch[i].username);
          for (std::size_t j = 0; j < i; ++j) taken = taken || same_name(batch[i].username, batch[j].username);
        }
        expect(got, false, taken, "create_users");
        if (got == outcome::ok) {
          for (const auto& u : batch) {
            auto stored = store.user_by_name(u.username);
            FUZZ_CHECK(stored.has_value(), "create_users lost {}", u.username);
            m.users[stored->id] = {u.username, u.email};
            made.users.push_back(stored->id);
          }
        }
        break;
      }
      case 27: {  // create_repositories: all or nothing
        std::vector<cpm::repository> batch(1 + in.byte() % 3);
        for (auto& r : batch) r = {.name = value(in, kind::name), .org_id = pick(in, made.orgs), .path = value(in, kind::path)};
        auto got = attempt([&] { store.create_repositories(batch); });
        // The store stops at the first repository that fails.
        outcome predicted = outcome::ok;
        std::set<std::pair<id, std::string>> names;
        std::set<std::string> paths;
        for (const auto& r : batch) {
          if (!m.orgs.count(r.org_id)) predicted = outcome::missing;
          else if (m.repo_name_taken(r.org_id, r.name) || !names.insert({r.org_id, r.name}).second ||
                   m.path_taken(r.path) || !paths.insert(r.path).second)
            predicted = outcome::taken;
          if (predicted != outcome::ok) break;
        }
        expect(got, predicted, "create_repositories");
        if (got == outcome::ok) {
          for (const auto& r : batch) {
            auto stored = store.repository_by_name(r.org_id, r.name);
            FUZZ_CHECK(stored.has_value(), "create_repositories lost {}", r.name);
            m.repos[stored->id] = {r.name, r.org_id, r.path, std::nullopt};
            made.repos.push_back(stored->id);
          }
        }
        break;
      }
      case 28:  // access_level over many pairs, in the middle of a run
        check_access(true);
        break;
      case 30: {  // add_user_key
        id user = pick(in, made.users);
        std::string name = value(in, kind::name), line = value(in, kind::key);
        cpm::user_key stored;
        auto got = attempt([&] { stored = store.add_user_key(user, name, line); });
        key_line key = got == outcome::invalid ? key_line{} : parsed(line);
        bool name_taken = false;
        for (const auto& [i, k] : m.user_keys) name_taken = name_taken || (k.user == user && k.name == name);
        expect(got, !m.users.count(user), got != outcome::invalid && (name_taken || m.key_holding(key.key)), "add_user_key");
        if (got == outcome::ok) {
          FUZZ_CHECK(stored.user_id == user && stored.name == name && stored.public_key == key.key && stored.comment == key.comment,
                     "add_user_key result");
          m.user_keys[stored.id] = {user, name, key.key, key.comment};
          made.user_keys.push_back(stored.id);
        }
        break;
      }
      case 31: {  // remove_user_key
        id target = pick(in, made.user_keys);
        auto got = attempt([&] { store.remove_user_key(target); });
        expect(got, !m.user_keys.count(target), false, "remove_user_key");
        if (got == outcome::ok) m.user_keys.erase(target);
        break;
      }
      case 32: {  // mark_key_used
        id target = pick(in, made.user_keys);
        auto when = cpm::timestamp(std::chrono::seconds(1700000000 + in.u16()));
        auto got = attempt([&] { store.mark_key_used(target, when); });
        expect(got, !m.user_keys.count(target), false, "mark_key_used");
        if (got == outcome::ok) {
          auto k = store.get_user_key(target);
          FUZZ_CHECK(k && k->last_used_at == when, "mark_key_used({}) did not record the time", target);
        }
        break;
      }
      default: {  // 29: reads by id
        id u = pick(in, made.users), r = pick(in, made.repos);
        FUZZ_CHECK(store.get_user(u).has_value() == (m.users.count(u) == 1), "get_user({})", u);
        FUZZ_CHECK(store.get_repository(r).has_value() == (m.repos.count(r) == 1), "get_repository({})", r);
        if (auto g = store.repo_grant(r, u)) FUZZ_CHECK(m.grants.count({r, u}) && m.grants.at({r, u}) == g->access_level, "repo_grant");
        else FUZZ_CHECK(m.grants.count({r, u}) == 0, "repo_grant({}, {}) missing", r, u);
        break;
      }
    }
  }

  void check_user_repositories(id user) {
    std::set<id> expected;
    for (const auto& [r, repo] : m.repos)
      if (m.level(user, r)) expected.insert(r);
    std::set<id> listed;
    for (const cpm::repository& r : store.user_repositories(user)) {
      FUZZ_CHECK(listed.insert(r.id).second, "user_repositories({}) lists {} twice", user, r.id);
      auto it = m.repos.find(r.id);
      FUZZ_CHECK(it != m.repos.end(), "user_repositories lists a deleted repository {}", r.id);
      FUZZ_CHECK(r.name == it->second.name && r.org_id == it->second.org, "user_repositories row {}", r.id);
    }
    FUZZ_CHECK(listed == expected, "user_repositories({}) differs from the model", user);
  }

  // access_level against the model for every (user, repository) pair ever made, and ids never
  // made; in the middle of a run (`recent`), for the 16 latest of each.
  void check_access(bool recent = false) {
    std::vector<id> users = made.users, repos = made.repos;
    if (recent) {
      if (users.size() > 16) users.erase(users.begin(), users.end() - 16);
      if (repos.size() > 16) repos.erase(repos.begin(), repos.end() - 16);
    }
    users.push_back(100000);
    repos.push_back(100000);
    for (id u : users)
      for (id r : repos)
        FUZZ_CHECK(store.access_level(u, r) == m.level(u, r), "access_level({}, {}) differs from the model", u, r);
  }

  void check_all() {
    auto& db = store.db();
    FUZZ_CHECK(!db.in_transaction(), "a transaction was left open");
    auto integrity = cpm::query<std::string>(db, "PRAGMA integrity_check").to_vector();
    FUZZ_CHECK(integrity.size() == 1 && integrity[0] == "ok", "integrity_check: {}", integrity.empty() ? "" : integrity[0]);
    FUZZ_CHECK(cpm::foreign_key_violations(db).empty(), "foreign_key_check found rows");

    std::size_t n = 0;
    for (const cpm::user& u : store.list_users()) {
      ++n;
      auto it = m.users.find(u.id);
      FUZZ_CHECK(it != m.users.end(), "user {} is not in the model", u.id);
      FUZZ_CHECK(u.username == it->second.username && u.email == it->second.email && u.public_key == m.public_key(u.id),
                 "user {} differs", u.id);
    }
    FUZZ_CHECK(n == m.users.size(), "users: {} rows, model {}", n, m.users.size());
    n = 0;
    // (An id comes back after a rollback: made.users may hold it twice.)
    std::set<id> owners(made.users.begin(), made.users.end());
    owners.insert(100000);
    for (id owner : owners) {
      for (const cpm::user_key& k : store.user_keys(owner)) {
        ++n;
        auto it = m.user_keys.find(k.id);
        FUZZ_CHECK(it != m.user_keys.end() && k.user_id == owner && it->second.user == owner && k.name == it->second.name &&
                       k.public_key == it->second.key && k.comment == it->second.comment,
                   "user_key {} differs", k.id);
        auto by_fingerprint = store.user_by_fingerprint(k.fingerprint);
        FUZZ_CHECK(k.fingerprint.starts_with("SHA256:") && by_fingerprint && by_fingerprint->id == owner,
                   "user_key {}: its fingerprint {} does not find user {}", k.id, k.fingerprint, owner);
        auto by_key = store.user_by_public_key(k.public_key + " some comment");
        FUZZ_CHECK(by_key && by_key->id == owner, "user_key {} does not find user {}", k.id, owner);
      }
    }
    FUZZ_CHECK(n == m.user_keys.size() && store.counts().user_keys == static_cast<std::int64_t>(n),
               "user_keys: {} rows, model {}", n, m.user_keys.size());
    n = 0;
    for (const cpm::organization& o : store.list_organizations()) {
      ++n;
      auto it = m.orgs.find(o.id);
      FUZZ_CHECK(it != m.orgs.end() && o.name == it->second.name && o.description == it->second.description,
                 "organization {} differs", o.id);
    }
    FUZZ_CHECK(n == m.orgs.size(), "organizations: {} rows, model {}", n, m.orgs.size());
    n = 0;
    for (const cpm::repository& r : store.list_repositories()) {
      ++n;
      auto it = m.repos.find(r.id);
      FUZZ_CHECK(it != m.repos.end() && r.name == it->second.name && r.org_id == it->second.org &&
                     r.path == it->second.path && r.description == it->second.description,
                 "repository {} differs", r.id);
    }
    FUZZ_CHECK(n == m.repos.size(), "repositories: {} rows, model {}", n, m.repos.size());
    n = 0;
    for (const cpm::ssh_key& k : store.list_ssh_keys()) {
      ++n;
      auto it = m.keys.find(k.id);
      FUZZ_CHECK(it != m.keys.end() && k.name == it->second.name && k.public_key == it->second.public_key &&
                     k.private_key_path == it->second.private_key_path,
                 "ssh_key {} differs", k.id);
    }
    FUZZ_CHECK(n == m.keys.size(), "ssh_keys: {} rows, model {}", n, m.keys.size());
    n = 0;
    for (const cpm::server& s : store.list_servers()) {
      ++n;
      auto it = m.servers.find(s.id);
      FUZZ_CHECK(it != m.servers.end() && s.name == it->second.name && s.host == it->second.host &&
                     s.port == it->second.port && s.is_neighbor == it->second.neighbor && s.ssh_key_id == it->second.key,
                 "server {} differs", s.id);
    }
    FUZZ_CHECK(n == m.servers.size(), "servers: {} rows, model {}", n, m.servers.size());
    n = 0;
    for (const cpm::org_member& om : store.list_org_members()) {
      ++n;
      auto it = m.members.find({om.org_id, om.user_id});
      FUZZ_CHECK(it != m.members.end() && it->second == om.role, "membership {} differs", om.id);
    }
    FUZZ_CHECK(n == m.members.size(), "org_members: {} rows, model {}", n, m.members.size());
    n = 0;
    for (const cpm::repo_access& g : store.list_repo_access()) {
      ++n;
      auto it = m.grants.find({g.repo_id, g.user_id});
      FUZZ_CHECK(it != m.grants.end() && it->second == g.access_level, "grant {} differs", g.id);
    }
    FUZZ_CHECK(n == m.grants.size(), "repo_access: {} rows, model {}", n, m.grants.size());

    check_access();
    for (id u : made.users) check_user_repositories(u);
    check_user_repositories(100000);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return -1;  // keep single inputs small and fast; longer values come from 0xff lengths
  try {
    input in(data, size);
    harness h;
    int ops = 0;
    while (!in.empty() && ops++ < 256) h.step(in);
    if (h.outer) {  // a caller's transaction still open at the end is rolled back
      h.outer.reset();
      h.m = h.saved;
    }
    h.check_all();
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}
