// cpm's side of tests/go_compat (run by tests/go_compat/run.py, beside the original system's
// Go program in tests/go_compat/original/):
//
//   cpm_go_compat write DB                 writes a database through cpm::store: users with and
//                                          without keys (one with a comment), organizations and
//                                          repositories with and without descriptions, members,
//                                          grants, SSH keys, servers with and without a key
//   cpm_go_compat report DB OUT.json       everything cpm reads from DB, as JSON, for the Go
//                                          program to compare with what the original reads
//   cpm_go_compat check-original DB NAME=VALUE...
//                                          reads the rows the original wrote (their ids and the
//                                          key it stored, as its program printed them) and checks
//                                          that they read as cpm's own: '' as none, and so on
//
// Exit status 0: every check held; 1: a check failed (each printed as a "FAIL  " line) or cpm
// threw; 2: usage.
#include <cpm/cpm.hpp>

#include "store_support.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

int failures = 0;

template <class... Args>
void check(bool ok, fmt::format_string<Args...> format, Args&&... args) {
  if (ok) return;
  ++failures;
  fmt::print("FAIL  {}\n", fmt::format(format, std::forward<Args>(args)...));
}

std::string describe(const std::optional<std::string>& value) {
  return value ? fmt::format("\"{}\"", *value) : std::string("none");
}

// ---- write --------------------------------------------------------------------------------

void write(const std::string& path) {
  auto store = cpm::store::open(path);
  auto alice = store.create_user(
      {.username = "alice", .email = "alice@example.org", .public_key = cpm_test::ssh_key(1, "alice@laptop")});
  auto bob = store.create_user({.username = "bob", .email = "bob@example.org"});
  auto carol = store.create_user({.username = "carol", .email = "carol@example.org", .public_key = cpm_test::ssh_key(2)});
  check(!bob.public_key, "bob was created with no key, and cpm reads {}", describe(bob.public_key));

  auto acme = store.create_organization({.name = "acme", .description = "the company"}, alice.id);
  auto initech = store.create_organization({.name = "initech"}, carol.id);
  auto empty = store.create_organization({.name = "empty"});
  check(!initech.description && !empty.description, "organizations created with no description read {} and {}",
        describe(initech.description), describe(empty.description));
  store.add_org_member(acme.id, bob.id, cpm::org_role::member);
  store.add_org_member(initech.id, bob.id, cpm::org_role::admin);

  auto tools = store.create_repository(
      {.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git", .description = "build tools"}, alice.id);
  auto site = store.create_repository({.name = "site", .org_id = acme.id, .path = "/srv/git/acme/site.git"});
  auto tps = store.create_repository({.name = "tps", .org_id = initech.id, .path = "/srv/git/initech/tps.git"});
  auto lonely = store.create_repository({.name = "lonely", .org_id = empty.id, .path = "/srv/git/empty/lonely.git"});
  check(!site.description, "a repository created with no description reads {}", describe(site.description));
  store.grant_access(tps.id, alice.id, cpm::access_level::read);
  store.grant_access(tools.id, carol.id, cpm::access_level::write);
  store.grant_access(lonely.id, bob.id, cpm::access_level::admin);

  auto deploy = store.create_ssh_key({.name = "deploy",
                                      .public_key = cpm_test::ssh_key(3, "deploy@ci"),
                                      .private_key_path = "/home/git/.ssh/deploy"});
  store.create_server({.name = "peer1", .host = "peer1.example.org", .is_neighbor = true, .ssh_key_id = deploy.id});
  store.create_server({.name = "mirror", .host = "10.0.0.7", .port = 2222});
  fmt::print("cpm wrote {}\n", path);
}

// ---- report -------------------------------------------------------------------------------

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        else
          out += c;
    }
  }
  return out + "\"";
}

std::string json_optional(const std::optional<std::string>& value) {
  return value ? json_string(*value) : std::string("null");
}

// "YYYY-MM-DD HH:MM:SS" (UTC), as CURRENT_TIMESTAMP writes; "null" when cpm read none.
std::string json_time(const std::optional<cpm::timestamp>& t) {
  if (!t) return "null";
  using namespace std::chrono;
  auto day = floor<days>(*t);
  year_month_day date{day};
  hh_mm_ss time{*t - day};
  return fmt::format("\"{:04}-{:02}-{:02} {:02}:{:02}:{:02}\"", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count());
}

template <class Enum>
std::string_view name_of(Enum value) {
  for (const auto& [v, name] : cpm::enum_names<Enum>::values)
    if (v == value) return name;
  return "?";
}

template <class Range, class Write>
std::string json_array(Range&& range, Write&& one) {
  std::string out = "[";
  bool first = true;
  for (const auto& item : range) {
    if (!first) out += ",";
    first = false;
    out += "\n  " + one(item);
  }
  return out + "]";
}

void report(const std::string& path, const std::string& out_path) {
  auto store = cpm::store::open(path);
  std::vector<cpm::user> users;
  for (const auto& u : store.list_users()) users.push_back(u);
  std::vector<cpm::organization> orgs;
  for (const auto& o : store.list_organizations()) orgs.push_back(o);

  std::string json = "{\"users\": " + json_array(users, [](const cpm::user& u) {
    return fmt::format(R"({{"id": {}, "username": {}, "email": {}, "public_key": {}, "created_at": {}}})", u.id,
                       json_string(u.username), json_string(u.email), json_optional(u.public_key),
                       json_time(u.created_at));
  });
  json += ",\n\"organizations\": " + json_array(orgs, [](const cpm::organization& o) {
    return fmt::format(R"({{"id": {}, "name": {}, "description": {}, "created_at": {}}})", o.id, json_string(o.name),
                       json_optional(o.description), json_time(o.created_at));
  });
  json += ",\n\"repositories\": " + json_array(store.list_repositories(), [](const cpm::repository& r) {
    return fmt::format(R"({{"id": {}, "name": {}, "org_id": {}, "path": {}, "description": {}, "created_at": {}}})",
                       r.id, json_string(r.name), r.org_id, json_string(r.path), json_optional(r.description),
                       json_time(r.created_at));
  });
  json += ",\n\"ssh_keys\": " + json_array(store.list_ssh_keys(), [](const cpm::ssh_key& k) {
    return fmt::format(R"({{"id": {}, "name": {}, "public_key": {}, "private_key_path": {}, "created_at": {}}})", k.id,
                       json_string(k.name), json_string(k.public_key), json_string(k.private_key_path),
                       json_time(k.created_at));
  });
  json += ",\n\"servers\": " + json_array(store.list_servers(), [](const cpm::server& s) {
    return fmt::format(
        R"({{"id": {}, "name": {}, "host": {}, "port": {}, "is_neighbor": {}, "ssh_key_id": {}, "created_at": {}}})",
        s.id, json_string(s.name), json_string(s.host), s.port, s.is_neighbor,
        s.ssh_key_id ? std::to_string(*s.ssh_key_id) : std::string("null"), json_time(s.created_at));
  });
  json += ",\n\"repo_access\": " + json_array(store.list_repo_access(), [](const cpm::repo_access& a) {
    return fmt::format(R"({{"id": {}, "repo_id": {}, "user_id": {}, "access_level": "{}"}})", a.id, a.repo_id,
                       a.user_id, name_of(a.access_level));
  });
  json += ",\n\"org_members\": " + json_array(store.list_org_members(), [](const cpm::org_member& m) {
    return fmt::format(R"({{"id": {}, "org_id": {}, "user_id": {}, "role": "{}", "joined_at": {}}})", m.id, m.org_id,
                       m.user_id, name_of(m.role), json_time(m.joined_at));
  });
  json += ",\n\"user_repositories\": {";
  for (std::size_t i = 0; i < users.size(); ++i) {
    std::vector<std::int64_t> ids;
    for (const auto& r : store.user_repositories(users[i].id)) ids.push_back(r.id);
    json += fmt::format("{}\n  \"{}\": [{}]", i ? "," : "", users[i].id, fmt::join(ids, ", "));
  }
  json += "},\n\"org_members_of\": {";
  for (std::size_t i = 0; i < orgs.size(); ++i) {
    std::vector<std::string> members;
    for (const auto& m : store.org_members(orgs[i].id))
      members.push_back(fmt::format("\"{}:{}\"", m.user_id, name_of(m.role)));
    json += fmt::format("{}\n  \"{}\": [{}]", i ? "," : "", orgs[i].id, fmt::join(members, ", "));
  }
  json += "}}\n";
  std::ofstream(out_path) << json;
  fmt::print("cpm read {} users and {} organizations from {}\n", users.size(), orgs.size(), path);
}

// ---- check-original -----------------------------------------------------------------------

std::string key_material(std::string_view key) {
  return std::string(cpm::detail::normalize_public_key(key));
}

void check_original(const std::string& path, const std::map<std::string, std::string>& given) {
  auto id = [&](const std::string& name) -> std::int64_t {
    auto found = given.find(name);
    if (found == given.end()) throw std::runtime_error("check-original: no " + name + "=ID given");
    return std::stoll(found->second);
  };
  auto store = cpm::store::open(path);
  const std::int64_t oscar_id = id("user:oscar"), olivia_id = id("user:olivia");
  const std::int64_t oldco_id = id("organization:oldco"), olddocs_id = id("organization:olddocs");
  const std::int64_t legacy_id = id("repository:oldco/legacy");
  const std::string olivia_key = given.at("olivia_key");

  // '' for "no key" reads as none, by every way to reach the user.
  auto oscar = store.get_user(oscar_id);
  check(oscar && oscar->username == "oscar", "get_user({}) does not find oscar, whom the original created", oscar_id);
  if (oscar)
    check(!oscar->public_key,
          "oscar was created by the original with no key (''); get_user reads public_key {}, cpm's own none is none",
          describe(oscar->public_key));
  auto by_name = store.user_by_name("oscar");
  check(by_name && !by_name->public_key, "user_by_name(\"oscar\") reads public_key {}",
        by_name ? describe(by_name->public_key) : std::string("(no user)"));
  for (const cpm::user& u : store.list_users())
    check(!u.public_key || !u.public_key->empty(), "list_users reads {}'s public_key as \"\", not none", u.username);

  // An empty lookup finds nobody, even with keyless users stored as ''.
  try {
    auto nobody = store.user_by_public_key("");
    check(!nobody, "user_by_public_key(\"\") finds {}: an empty key must match no user",
          nobody ? nobody->username : std::string());
  } catch (const cpm::validation_error&) {
    // refusing the empty key is as good as finding nobody
  }

  // The key the original stored (with its comment) is found as cpm's own are.
  auto olivia = store.get_user(olivia_id);
  check(olivia && olivia->public_key && key_material(*olivia->public_key) == key_material(olivia_key),
        "get_user({}) reads olivia's key as {}, the original stored \"{}\"", olivia_id,
        olivia ? describe(olivia->public_key) : std::string("(no user)"), olivia_key);
  for (const std::string& lookup : {olivia_key, key_material(olivia_key), key_material(olivia_key) + " other@host"}) {
    auto found = store.user_by_public_key(lookup);
    check(found && found->id == olivia_id, "user_by_public_key(\"{}\") finds {}, not olivia (whose key the original stored)",
          lookup, found ? found->username : std::string("nobody"));
  }

  // '' for "no description" reads as none; a description reads as written.
  auto oldco = store.get_organization(oldco_id);
  check(oldco && !oldco->description,
        "organization oldco was created by the original with description ''; get_organization reads {}",
        oldco ? describe(oldco->description) : std::string("(no organization)"));
  auto oldco_by_name = store.organization_by_name("oldco");
  check(oldco_by_name && !oldco_by_name->description, "organization_by_name(\"oldco\") reads description {}",
        oldco_by_name ? describe(oldco_by_name->description) : std::string("(no organization)"));
  auto olddocs = store.get_organization(olddocs_id);
  check(olddocs && olddocs->description == std::optional<std::string>("kept by the original"),
        "organization olddocs reads description {}", olddocs ? describe(olddocs->description) : std::string("(none)"));
  for (const cpm::organization& o : store.list_organizations())
    check(!o.description || !o.description->empty(), "list_organizations reads {}'s description as \"\", not none",
          o.name);

  auto legacy = store.get_repository(legacy_id);
  check(legacy && legacy->name == "legacy" && !legacy->description,
        "repository oldco/legacy was created by the original with description ''; get_repository reads {}",
        legacy ? describe(legacy->description) : std::string("(no repository)"));
  auto legacy_by_name = store.repository_by_name(oldco_id, "legacy");
  check(legacy_by_name && !legacy_by_name->description, "repository_by_name(oldco, \"legacy\") reads description {}",
        legacy_by_name ? describe(legacy_by_name->description) : std::string("(no repository)"));
  for (const cpm::repository& r : store.list_repositories())
    check(!r.description || !r.description->empty(), "list_repositories reads {}'s description as \"\", not none",
          r.name);

  // The original's memberships and grants serve cpm's query patterns.
  bool oscar_reaches = false, olivia_reaches = false;
  for (const auto& r : store.user_repositories(oscar_id)) {
    oscar_reaches = oscar_reaches || r.id == legacy_id;
    check(!r.description || !r.description->empty(), "user_repositories(oscar) reads {}'s description as \"\"", r.name);
  }
  for (const auto& r : store.user_repositories(olivia_id)) olivia_reaches = olivia_reaches || r.id == legacy_id;
  check(oscar_reaches, "user_repositories(oscar) misses oldco/legacy (oscar owns oldco)");
  check(olivia_reaches, "user_repositories(olivia) misses oldco/legacy (olivia has a write grant)");
  check(store.access_level(oscar_id, legacy_id) == cpm::access_level::admin,
        "access_level(oscar, oldco/legacy) is not admin (oscar owns oldco)");
  check(store.access_level(olivia_id, legacy_id) == cpm::access_level::write,
        "access_level(olivia, oldco/legacy) is not write (her grant)");
  std::vector<std::string> members;
  for (const auto& m : store.org_members(oldco_id)) members.push_back(fmt::format("{}:{}", m.username, name_of(m.role)));
  check(members == std::vector<std::string>{"oscar:owner"}, "org_members(oldco) is [{}], not [oscar:owner]",
        fmt::join(members, ", "));

  fmt::print("cpm read the rows the original wrote: {}\n", failures == 0 ? "as its own" : "with failures");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "write") {
      write(args[1]);
    } else if (args.size() == 3 && args[0] == "report") {
      report(args[1], args[2]);
    } else if (args.size() >= 2 && args[0] == "check-original") {
      std::map<std::string, std::string> given;
      for (std::size_t i = 2; i < args.size(); ++i) {
        auto eq = args[i].find('=');
        if (eq == std::string::npos) {
          fmt::print(stderr, "cpm_go_compat: expected NAME=VALUE, got '{}'\n", args[i]);
          return 2;
        }
        given[args[i].substr(0, eq)] = args[i].substr(eq + 1);
      }
      check_original(args[1], given);
    } else {
      fmt::print(stderr, "usage: cpm_go_compat write DB | report DB OUT.json | check-original DB NAME=VALUE...\n");
      return 2;
    }
  } catch (const std::exception& e) {
    fmt::print("FAIL  cpm threw: {}\n", e.what());
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
