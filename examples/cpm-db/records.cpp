// cpm-db: users, organizations and their members, repositories, access, SSH keys, servers.
// Records are named on the command line by name (alice, acme, acme/tools) or id (id:1). Each
// command's body is written once, generic over the store (with_store: cpm::store on an SQLite
// file, cpm::pg::store on PostgreSQL); it only range-fors over the lists the store returns.
#include "commands.hpp"
#include "output.hpp"

#include <cpm/cpm.hpp>
#include <fmt/core.h>
#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <optional>
#include <ranges>
#include <string>
#include <utility>
#include <vector>

namespace cpmdb {

namespace {

// ---- finding records by id or name ----------------------------------------------------------
//
// A record is named on the command line by its name (alice, acme, acme/tools, deploy) or by its
// id: "id:7" is always an id; a bare number "7" is an id or a name, and is refused as ambiguous
// when it is the id of one record and the name of another (names may be all digits). Names
// never hold ':', and "id:7" needs no quoting in a shell (unlike "#7").

// "id:7" and "7" give 7; anything else gives nothing. "id:" followed by anything but digits
// is a usage error.
std::optional<std::int64_t> id_in(const std::string& text, const char* what) {
  const bool marked = text.rfind("id:", 0) == 0;
  const std::string digits = marked ? text.substr(3) : text;
  const bool number = !digits.empty() && digits.size() <= 18 &&
                      digits.find_first_not_of("0123456789") == std::string::npos;
  if (marked && !number)
    throw failure(fmt::format("'{}' is not a {} id: write 'id:' and the id's digits, as in 'id:3'", text, what), exit_usage);
  if (!number) return std::nullopt;
  return std::stoll(digits);
}

// The record `text` names, by `by_id` and `by_name`; `label` says what a record is called in a
// message ("user alice").
template <class Record, class ById, class ByName, class Label>
Record find_record(const std::string& text, const char* what, ById by_id, ByName by_name, Label label) {
  const auto id = id_in(text, what);
  if (id && text.rfind("id:", 0) == 0) {
    auto found = by_id(*id);
    if (!found) throw failure("not_found", fmt::format("{} {} not found (no {} has that id)", what, text, what));
    return *found;
  }
  auto named = by_name(text);
  if (!id) {
    if (!named) throw failure("not_found", fmt::format("{} '{}' not found", what, text));
    return *named;
  }
  auto numbered = by_id(*id);
  if (named && numbered && named->id != numbered->id)
    throw failure("ambiguous", fmt::format("'{}' is both the id of {} and the name of {} (id {}): write 'id:{}' for the "
                                           "first, 'id:{}' for the second",
                                           text, label(*numbered), label(*named), named->id, numbered->id, named->id));
  if (named) return *named;
  if (numbered) return *numbered;
  throw failure("not_found", fmt::format("{} '{}' not found (no {} has that id or name)", what, text, what));
}

template <class Store>
cpm::user find_user(Store& s, const std::string& text) {
  return find_record<cpm::user>(
      text, "user", [&](std::int64_t id) { return s.get_user(id); }, [&](const std::string& n) { return s.user_by_name(n); },
      [](const cpm::user& u) { return "user " + u.username; });
}

template <class Store>
cpm::organization find_org(Store& s, const std::string& text) {
  return find_record<cpm::organization>(
      text, "organization", [&](std::int64_t id) { return s.get_organization(id); },
      [&](const std::string& n) { return s.organization_by_name(n); },
      [](const cpm::organization& o) { return "organization " + o.name; });
}

struct repo_name {
  std::string org;
  std::string name;
};

repo_name split_repo_name(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size() || text.find('/', slash + 1) != std::string::npos)
    throw failure(fmt::format("repository '{}' must be given as ORG/NAME (or by its id, as in 'id:3')", text), exit_usage);
  return {text.substr(0, slash), text.substr(slash + 1)};
}

struct found_repo {
  cpm::organization org;
  cpm::repository repo;
};

// ORG/NAME (ORG by name or id), or the repository's id: "id:3" or "3" (a repository's own name
// never stands alone, so a number is not ambiguous here).
template <class Store>
found_repo find_repo(Store& s, const std::string& text) {
  if (text.find('/') == std::string::npos) {
    if (auto id = id_in(text, "repository")) {
      auto repo = s.get_repository(*id);
      if (!repo) throw failure("not_found", fmt::format("repository id:{} not found", *id));
      auto org = s.get_organization(repo->org_id);
      if (!org) throw failure("not_found", fmt::format("the organization of repository id:{} is missing", repo->id));
      return {*org, *repo};
    }
  }
  auto [org_name, name] = split_repo_name(text);
  auto org = find_org(s, org_name);
  auto repo = s.repository_by_name(org.id, name);
  if (!repo) throw failure("not_found", fmt::format("repository '{}/{}' not found", org.name, name));
  return {org, *repo};
}

template <class Store>
cpm::ssh_key find_key(Store& s, const std::string& text) {
  return find_record<cpm::ssh_key>(
      text, "SSH key", [&](std::int64_t id) { return s.get_ssh_key(id); },
      [&](const std::string& n) { return s.ssh_key_by_name(n); }, [](const cpm::ssh_key& k) { return "SSH key " + k.name; });
}

template <class Store>
cpm::server find_server(Store& s, const std::string& text) {
  return find_record<cpm::server>(
      text, "server", [&](std::int64_t id) { return s.get_server(id); },
      [&](const std::string& n) { return s.server_by_name(n); }, [](const cpm::server& sv) { return "server " + sv.name; });
}

// Organization names by id, looked up once each.
template <class Store>
class org_names {
 public:
  explicit org_names(Store& s) : s_(&s) {}
  const std::string& operator()(std::int64_t id) {
    auto it = names_.find(id);
    if (it == names_.end()) {
      auto o = s_->get_organization(id);
      it = names_.emplace(id, o ? o->name : fmt::format("id:{}", id)).first;
    }
    return it->second;
  }

 private:
  Store* s_;
  std::map<std::int64_t, std::string> names_;
};

json repo_json(const cpm::repository& r, const std::string& org) {
  return {{"id", r.id},       {"name", org + "/" + r.name},         {"organization", org},
          {"path", r.path},   {"description", or_null(r.description)}, {"created_at", or_null(r.created_at)}};
}

cpm::org_role parse_role(const std::string& text) {
  auto role = cpm::enum_from_text<cpm::org_role>(text);
  if (!role) throw failure(fmt::format("role '{}' is not one of owner, admin, member", text), exit_usage);
  return *role;
}

cpm::access_level parse_level(const std::string& text) {
  auto level = cpm::enum_from_text<cpm::access_level>(text);
  if (!level) throw failure(fmt::format("access level '{}' is not one of read, write, admin", text), exit_usage);
  return *level;
}

std::string text_of(cpm::org_role r) { return std::string(cpm::enum_to_text(r)); }
std::string text_of(cpm::access_level a) { return std::string(cpm::enum_to_text(a)); }

// What an organization role gives on the organization's repositories.
cpm::access_level implied_access(cpm::org_role role) {
  return role == cpm::org_role::member ? cpm::access_level::read : cpm::access_level::admin;
}

// A list the store returned (cpm::rows<T> on SQLite, std::vector<T> on PostgreSQL), as a vector.
template <class Rows>
auto to_vector(Rows&& rows) {
  std::vector<std::ranges::range_value_t<Rows>> out;
  for (auto&& row : rows) out.push_back(std::move(row));
  return out;
}

// What an update changed, as "field old -> new" for the text output.
class changes {
 public:
  template <class T>
  void note(const char* field, const T& before, const T& after) {
    if (before != after) text_.push_back(fmt::format("{} {} -> {}", field, shown(before), shown(after)));
  }
  [[nodiscard]] std::string text() const {
    return text_.empty() ? std::string("nothing changed") : fmt::format("{}", fmt::join(text_, ", "));
  }

 private:
  static std::string shown(const std::string& v) { return v; }
  static std::string shown(int v) { return std::to_string(v); }
  static std::string shown(bool v) { return v ? "yes" : "no"; }
  static std::string shown(const std::optional<std::string>& v) { return v ? "'" + *v + "'" : std::string("none"); }
  std::vector<std::string> text_;
};

// An update must change something, and an option and its --no- form exclude each other.
void require_changes(bool any, const char* command, const char* options) {
  if (!any) throw failure(fmt::format("'cpm-db {}' needs something to change: give {}", command, options), exit_usage);
}
void exclusive(bool a, bool b, const char* option) {
  if (a && b) throw failure(fmt::format("give {0} or --no-{1}, not both", option, option + 2), exit_usage);
}

}  // namespace

// ---- users -----------------------------------------------------------------------------------

int user_add(const common& c, const user_args& a) {
  return with_store(c, [&](auto& s) {
    auto u = s.create_user({.username = a.name, .email = a.email, .public_key = a.key});
    if (c.json) print_json(to_json(u));
    else fmt::print("created user {} (id {})\n", u.username, u.id);
    return 0;
  });
}

int user_list(const common& c) {
  return with_store(c, [&](auto& s) {
    json all = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const cpm::user& u : s.list_users()) {
      all.push_back(to_json(u));
      rows.push_back({std::to_string(u.id), u.username, u.email, u.public_key ? short_key(*u.public_key) : "-"});
    }
    if (c.json) print_json(all);
    else if (rows.empty()) fmt::print("no users\n");
    else print_table({"ID", "USERNAME", "EMAIL", "PUBLIC KEY"}, rows);
    return 0;
  });
}

int user_show(const common& c, const std::string& name) {
  return with_store(c, [&](auto& s) {
    auto u = find_user(s, name);
    auto memberships = s.user_organizations(u.id);  // by organization name
    org_names orgs(s);
    json doc = {{"user", to_json(u)}, {"organizations", json::array()}, {"repositories", json::array()}};
    std::vector<std::string> org_text, repo_text;
    for (const auto& m : memberships) {
      doc["organizations"].push_back({{"name", m.name}, {"role", text_of(m.role)}});
      org_text.push_back(fmt::format("{} ({})", m.name, text_of(m.role)));
    }
    for (const cpm::repository& r : s.user_repositories(u.id)) {
      auto level = s.access_level(u.id, r.id);
      std::string full = orgs(r.org_id) + "/" + r.name;
      doc["repositories"].push_back({{"name", full}, {"path", r.path}, {"access", level ? json(text_of(*level)) : json(nullptr)}});
      repo_text.push_back(fmt::format("{} ({})", full, level ? text_of(*level) : "none"));
    }
    if (c.json) {
      print_json(doc);
      return 0;
    }
    auto list = [](const std::vector<std::string>& items) { return items.empty() ? std::string("-") : fmt::format("{}", fmt::join(items, ", ")); };
    fmt::print("user {} (id {})\n", u.username, u.id);
    fmt::print("  email:         {}\n", u.email);
    fmt::print("  public key:    {}\n", u.public_key.value_or("-"));
    fmt::print("  created:       {}\n", time_text(u.created_at));
    fmt::print("  organizations: {}\n", list(org_text));
    fmt::print("  repositories:  {}\n", list(repo_text));
    return 0;
  });
}

int user_remove(const common& c, const std::string& name) {
  return with_store(c, [&](auto& s) {
    auto u = find_user(s, name);
    s.delete_user(u.id);
    if (c.json) print_json({{"removed", "user"}, {"username", u.username}, {"id", u.id}});
    else fmt::print("removed user {} with their memberships and grants\n", u.username);
    return 0;
  });
}

int user_update(const common& c, const std::string& user, const user_update_args& a) {
  require_changes(a.name || a.email, "user update", "--name or --email");
  return with_store(c, [&](auto& s) {
    auto before = find_user(s, user);
    auto after = s.update_user(before.id, {.username = a.name, .email = a.email});
    changes changed;
    changed.note("username", before.username, after.username);
    changed.note("email", before.email, after.email);
    if (c.json) print_json(to_json(after));
    else fmt::print("updated user {} (id {}): {}\n", after.username, after.id, changed.text());
    return 0;
  });
}

// ---- organizations ---------------------------------------------------------------------------

int org_add(const common& c, const org_args& a) {
  return with_store(c, [&](auto& s) {
    std::optional<cpm::user> owner;
    if (a.owner) owner = find_user(s, *a.owner);
    auto o = s.create_organization({.name = a.name, .description = a.description},
                                   owner ? std::optional(owner->id) : std::nullopt);
    if (c.json) {
      auto doc = to_json(o);
      doc["owner"] = owner ? json(owner->username) : json(nullptr);
      print_json(doc);
    } else {
      fmt::print("created organization {} (id {}){}\n", o.name, o.id, owner ? " owned by " + owner->username : "");
    }
    return 0;
  });
}

int org_list(const common& c) {
  return with_store(c, [&](auto& s) {
    json all = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const cpm::organization& o : s.list_organizations()) {
      all.push_back(to_json(o));
      rows.push_back({std::to_string(o.id), o.name, o.description.value_or("")});
    }
    if (c.json) print_json(all);
    else if (rows.empty()) fmt::print("no organizations\n");
    else print_table({"ID", "NAME", "DESCRIPTION"}, rows);
    return 0;
  });
}

int org_remove(const common& c, const std::string& name) {
  return with_store(c, [&](auto& s) {
    auto o = find_org(s, name);
    s.delete_organization(o.id);
    if (c.json) print_json({{"removed", "organization"}, {"name", o.name}, {"id", o.id}});
    else fmt::print("removed organization {} with its repositories, members and grants\n", o.name);
    return 0;
  });
}

int org_update(const common& c, const std::string& org, const org_update_args& a) {
  exclusive(a.description.has_value(), a.no_description, "--description");
  require_changes(a.name || a.description || a.no_description, "org update", "--name, --description or --no-description");
  cpm::organization_patch patch{.name = a.name};
  if (a.description) patch.description = a.description;
  if (a.no_description) patch.description = std::optional<std::string>();
  return with_store(c, [&](auto& s) {
    auto before = find_org(s, org);
    auto after = s.update_organization(before.id, patch);
    changes changed;
    changed.note("name", before.name, after.name);
    changed.note("description", before.description, after.description);
    if (c.json) print_json(to_json(after));
    else fmt::print("updated organization {} (id {}): {}\n", after.name, after.id, changed.text());
    return 0;
  });
}

int member_add(const common& c, const std::string& org, const std::string& user, const std::string& role) {
  const auto r = parse_role(role);
  return with_store(c, [&](auto& s) {
    auto o = find_org(s, org);
    auto u = find_user(s, user);
    if (s.org_membership(o.id, u.id)) throw failure("already_exists", fmt::format("{} is already a member of {}", u.username, o.name));
    auto m = s.add_org_member(o.id, u.id, r);
    if (c.json) print_json({{"organization", o.name}, {"user", u.username}, {"role", text_of(m.role)}, {"joined_at", or_null(m.joined_at)}});
    else fmt::print("added {} to {} as {}\n", u.username, o.name, text_of(m.role));
    return 0;
  });
}

int member_remove(const common& c, const std::string& org, const std::string& user) {
  return with_store(c, [&](auto& s) {
    auto o = find_org(s, org);
    auto u = find_user(s, user);
    if (!s.org_membership(o.id, u.id)) throw failure("not_found", fmt::format("{} is not a member of {}", u.username, o.name));
    s.remove_org_member(o.id, u.id);
    if (c.json) print_json({{"removed", "member"}, {"organization", o.name}, {"user", u.username}});
    else fmt::print("removed {} from {}\n", u.username, o.name);
    return 0;
  });
}

int member_update(const common& c, const std::string& org, const std::string& user, const std::string& role) {
  const auto r = parse_role(role);
  return with_store(c, [&](auto& s) {
    auto o = find_org(s, org);
    auto u = find_user(s, user);
    auto before = s.org_membership(o.id, u.id);
    if (!before) throw failure("not_found", fmt::format("{} is not a member of {}", u.username, o.name));
    auto after = s.set_org_role(o.id, u.id, r);
    if (c.json) {
      print_json({{"organization", o.name}, {"user", u.username}, {"role", text_of(after.role)}, {"joined_at", or_null(after.joined_at)}});
    } else if (before->role == after.role) {
      fmt::print("{} is already {} of {}: nothing changed\n", u.username, text_of(after.role), o.name);
    } else {
      fmt::print("{} is now {} of {} (was {})\n", u.username, text_of(after.role), o.name, text_of(before->role));
    }
    return 0;
  });
}

int member_list(const common& c, const std::string& org) {
  return with_store(c, [&](auto& s) {
    auto o = find_org(s, org);
    json all = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const cpm::member_info& m : s.org_members(o.id)) {
      all.push_back({{"user", m.username}, {"email", m.email}, {"role", text_of(m.role)}, {"joined_at", or_null(m.joined_at)}});
      rows.push_back({m.username, text_of(m.role), m.email, time_text(m.joined_at)});
    }
    if (c.json) print_json(all);
    else if (rows.empty()) fmt::print("{} has no members\n", o.name);
    else print_table({"USER", "ROLE", "EMAIL", "JOINED"}, rows);
    return 0;
  });
}

// ---- repositories ----------------------------------------------------------------------------

int repo_add(const common& c, const repo_args& a) {
  const repo_name full = split_repo_name(a.name);  // (not a structured binding: the lambda captures it)
  return with_store(c, [&](auto& s) {
    auto o = find_org(s, full.org);
    std::optional<std::int64_t> admin;
    if (a.admin) admin = find_user(s, *a.admin).id;
    auto r = s.create_repository({.name = full.name, .org_id = o.id, .path = a.path, .description = a.description}, admin);
    if (c.json) print_json(repo_json(r, o.name));
    else fmt::print("created repository {}/{} (id {}) at {}\n", o.name, r.name, r.id, r.path);
    return 0;
  });
}

int repo_list(const common& c, const std::optional<std::string>& org, const std::optional<std::string>& user) {
  return with_store(c, [&](auto& s) {
    org_names orgs(s);
    std::vector<cpm::repository> repos;
    if (org && user) throw failure("give --org or --user, not both", exit_usage);
    if (org) repos = to_vector(s.org_repositories(find_org(s, *org).id));
    else if (user) repos = to_vector(s.user_repositories(find_user(s, *user).id));
    else repos = to_vector(s.list_repositories());
    json all = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : repos) {
      all.push_back(repo_json(r, orgs(r.org_id)));
      rows.push_back({std::to_string(r.id), orgs(r.org_id) + "/" + r.name, r.path, r.description.value_or("")});
    }
    if (c.json) print_json(all);
    else if (rows.empty()) fmt::print("no repositories\n");
    else print_table({"ID", "REPOSITORY", "PATH", "DESCRIPTION"}, rows);
    return 0;
  });
}

int repo_remove(const common& c, const std::string& name) {
  return with_store(c, [&](auto& s) {
    auto [o, r] = find_repo(s, name);
    s.delete_repository(r.id);
    if (c.json) print_json({{"removed", "repository"}, {"name", o.name + "/" + r.name}, {"id", r.id}});
    else fmt::print("removed repository {}/{} and its grants (the git repository at {} is untouched)\n", o.name, r.name, r.path);
    return 0;
  });
}

int repo_update(const common& c, const std::string& repo, const repo_update_args& a) {
  exclusive(a.description.has_value(), a.no_description, "--description");
  require_changes(a.name || a.org || a.path || a.description || a.no_description, "repo update",
                  "--name, --org, --path, --description or --no-description");
  return with_store(c, [&](auto& s) {
    auto [before_org, before] = find_repo(s, repo);
    cpm::repository_patch patch{.name = a.name, .path = a.path};
    std::optional<cpm::organization> to_org;
    if (a.org) {
      to_org = find_org(s, *a.org);
      patch.org_id = to_org->id;
    }
    if (a.description) patch.description = a.description;
    if (a.no_description) patch.description = std::optional<std::string>();
    auto after = s.update_repository(before.id, patch);
    const auto& after_org = to_org ? *to_org : before_org;
    changes changed;
    changed.note("name", before_org.name + "/" + before.name, after_org.name + "/" + after.name);
    changed.note("path", before.path, after.path);
    changed.note("description", before.description, after.description);
    if (c.json) print_json(repo_json(after, after_org.name));
    else fmt::print("updated repository {}/{} (id {}): {}\n", after_org.name, after.name, after.id, changed.text());
    return 0;
  });
}

// ---- access ----------------------------------------------------------------------------------

int access_grant(const common& c, const std::string& repo, const std::string& user, const std::string& level) {
  const auto l = parse_level(level);
  return with_store(c, [&](auto& s) {
    auto [o, r] = find_repo(s, repo);
    auto u = find_user(s, user);
    auto g = s.grant_access(r.id, u.id, l);
    if (c.json) print_json({{"repository", o.name + "/" + r.name}, {"user", u.username}, {"access", text_of(g.access_level)}});
    else fmt::print("granted {} {} access to {}/{}\n", u.username, text_of(g.access_level), o.name, r.name);
    return 0;
  });
}

int access_revoke(const common& c, const std::string& repo, const std::string& user) {
  return with_store(c, [&](auto& s) {
    auto [o, r] = find_repo(s, repo);
    auto u = find_user(s, user);
    if (!s.repo_grant(r.id, u.id))
      throw failure("not_found", fmt::format("{} has no direct grant on {}/{} to revoke", u.username, o.name, r.name));
    s.revoke_access(r.id, u.id);
    if (c.json) print_json({{"revoked", o.name + "/" + r.name}, {"user", u.username}});
    else fmt::print("revoked the direct grant of {} on {}/{}\n", u.username, o.name, r.name);
    return 0;
  });
}

// Everyone's effective access to the repository (or one user's), and where it comes from:
// a direct grant, an organization role, or both (the higher one counts).
int access_show(const common& c, const std::string& repo, const std::optional<std::string>& user) {
  return with_store(c, [&](auto& s) {
    auto [o, r] = find_repo(s, repo);
    const std::string full = o.name + "/" + r.name;
    struct entry {
      std::optional<cpm::access_level> grant;
      std::optional<cpm::org_role> role;
      std::optional<cpm::access_level> effective;
    };
    std::map<std::string, entry> by_user;
    if (user) {
      auto u = find_user(s, *user);
      entry e;
      if (auto g = s.repo_grant(r.id, u.id)) e.grant = g->access_level;
      if (auto m = s.org_membership(o.id, u.id)) e.role = m->role;
      e.effective = s.access_level(u.id, r.id);
      by_user[u.username] = e;
    } else {
      for (const cpm::repo_access& g : s.repository_grants(r.id)) {
        if (auto u = s.get_user(g.user_id)) by_user[u->username].grant = g.access_level;
      }
      for (const cpm::member_info& m : s.org_members(o.id)) by_user[m.username].role = m.role;
      for (auto& [name, e] : by_user) {
        e.effective = e.grant;
        if (e.role && (!e.effective || implied_access(*e.role) > *e.effective)) e.effective = implied_access(*e.role);
      }
    }
    auto level_json = [](const std::optional<cpm::access_level>& l) { return l ? json(text_of(*l)) : json(nullptr); };
    json list = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& [name, e] : by_user) {
      list.push_back({{"user", name},
                      {"access", level_json(e.effective)},
                      {"grant", level_json(e.grant)},
                      {"org_role", e.role ? json(text_of(*e.role)) : json(nullptr)}});
      std::vector<std::string> via;
      if (e.grant) via.push_back("direct grant " + text_of(*e.grant));
      if (e.role) via.push_back(o.name + " " + text_of(*e.role));
      rows.push_back({name, e.effective ? text_of(*e.effective) : "none", via.empty() ? "-" : fmt::format("{}", fmt::join(via, ", "))});
    }
    if (c.json) {
      if (user) {
        auto doc = list.at(0);
        doc["repository"] = full;
        print_json(doc);
      } else {
        print_json({{"repository", full}, {"access", list}});
      }
      return 0;
    }
    if (user && !by_user.begin()->second.effective) {
      fmt::print("{} has no access to {}\n", by_user.begin()->first, full);
    } else if (rows.empty()) {
      fmt::print("nobody has access to {}\n", full);
    } else {
      fmt::print("access to {}:\n", full);
      print_table({"USER", "ACCESS", "VIA"}, rows);
    }
    return 0;
  });
}

// ---- SSH keys --------------------------------------------------------------------------------

int key_add(const common& c, const key_args& a) {
  return with_store(c, [&](auto& s) {
    auto k = s.create_ssh_key({.name = a.name, .public_key = a.public_key, .private_key_path = a.private_key_path});
    if (c.json) print_json(to_json(k));
    else fmt::print("added SSH key {} (id {})\n", k.name, k.id);
    return 0;
  });
}

int key_list(const common& c) {
  return with_store(c, [&](auto& s) {
    json all = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const cpm::ssh_key& k : s.list_ssh_keys()) {
      all.push_back(to_json(k));
      rows.push_back({std::to_string(k.id), k.name, short_key(k.public_key), k.private_key_path});
    }
    if (c.json) print_json(all);
    else if (rows.empty()) fmt::print("no SSH keys\n");
    else print_table({"ID", "NAME", "PUBLIC KEY", "PRIVATE KEY PATH"}, rows);
    return 0;
  });
}

int key_remove(const common& c, const std::string& name) {
  return with_store(c, [&](auto& s) {
    auto k = find_key(s, name);
    s.delete_ssh_key(k.id);
    if (c.json) print_json({{"removed", "ssh_key"}, {"name", k.name}, {"id", k.id}});
    else fmt::print("removed SSH key {} (servers that used it now have none)\n", k.name);
    return 0;
  });
}

int key_update(const common& c, const std::string& key, const key_update_args& a) {
  require_changes(a.name || a.public_key || a.private_key_path, "key update", "--name, --public-key or --private-key-path");
  return with_store(c, [&](auto& s) {
    auto before = find_key(s, key);
    auto after = s.update_ssh_key(before.id, {.name = a.name, .public_key = a.public_key, .private_key_path = a.private_key_path});
    changes changed;
    changed.note("name", before.name, after.name);
    changed.note("public key", short_key(before.public_key), short_key(after.public_key));
    changed.note("private key path", before.private_key_path, after.private_key_path);
    if (c.json) print_json(to_json(after));
    else fmt::print("updated SSH key {} (id {}): {}\n", after.name, after.id, changed.text());
    return 0;
  });
}

// ---- servers ---------------------------------------------------------------------------------

namespace {

json server_json(const cpm::server& sv, const std::optional<std::string>& key) {
  return {{"id", sv.id},   {"name", sv.name},         {"host", sv.host}, {"port", sv.port}, {"is_neighbor", sv.is_neighbor},
          {"ssh_key", or_null(key)}, {"created_at", or_null(sv.created_at)}};
}

template <class Store>
std::optional<std::string> key_name(Store& s, const std::optional<std::int64_t>& id) {
  if (!id) return std::nullopt;
  auto k = s.get_ssh_key(*id);
  return k ? std::optional(k->name) : std::nullopt;
}

}  // namespace

int server_add(const common& c, const server_args& a) {
  return with_store(c, [&](auto& s) {
    std::optional<cpm::ssh_key> key;
    if (a.key) key = find_key(s, *a.key);
    auto sv = s.create_server({.name = a.name, .host = a.host, .port = a.port, .is_neighbor = a.neighbor,
                               .ssh_key_id = key ? std::optional(key->id) : std::nullopt});
    if (c.json) print_json(server_json(sv, key ? std::optional(key->name) : std::nullopt));
    else fmt::print("added {}server {} ({}:{}, id {})\n", sv.is_neighbor ? "neighbor " : "", sv.name, sv.host, sv.port, sv.id);
    return 0;
  });
}

int server_list(const common& c, bool neighbors_only) {
  return with_store(c, [&](auto& s) {
    auto servers = neighbors_only ? to_vector(s.neighbor_servers()) : to_vector(s.list_servers());
    json all = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& sv : servers) {
      auto key = key_name(s, sv.ssh_key_id);
      all.push_back(server_json(sv, key));
      rows.push_back({std::to_string(sv.id), sv.name, sv.host, std::to_string(sv.port), sv.is_neighbor ? "yes" : "no", key.value_or("-")});
    }
    if (c.json) print_json(all);
    else if (rows.empty()) fmt::print("{}\n", neighbors_only ? "no neighbor servers" : "no servers");
    else print_table({"ID", "NAME", "HOST", "PORT", "NEIGHBOR", "SSH KEY"}, rows);
    return 0;
  });
}

int server_remove(const common& c, const std::string& name) {
  return with_store(c, [&](auto& s) {
    auto sv = find_server(s, name);
    s.delete_server(sv.id);
    if (c.json) print_json({{"removed", "server"}, {"name", sv.name}, {"id", sv.id}});
    else fmt::print("removed server {}\n", sv.name);
    return 0;
  });
}

int server_update(const common& c, const std::string& server, const server_update_args& a) {
  exclusive(a.key.has_value(), a.no_key, "--key");
  require_changes(a.name || a.host || a.port || a.neighbor || a.key || a.no_key, "server update",
                  "--name, --host, --port, --neighbor, --no-neighbor, --key or --no-key");
  return with_store(c, [&](auto& s) {
    auto before = find_server(s, server);
    cpm::server_patch patch{.name = a.name, .host = a.host, .port = a.port, .is_neighbor = a.neighbor};
    if (a.key) patch.ssh_key_id = std::optional<std::int64_t>(find_key(s, *a.key).id);
    if (a.no_key) patch.ssh_key_id = std::optional<std::int64_t>();
    auto after = s.update_server(before.id, patch);
    const auto before_key = key_name(s, before.ssh_key_id);
    const auto after_key = key_name(s, after.ssh_key_id);
    changes changed;
    changed.note("name", before.name, after.name);
    changed.note("host", before.host, after.host);
    changed.note("port", before.port, after.port);
    changed.note("neighbor", before.is_neighbor, after.is_neighbor);
    changed.note("SSH key", before_key, after_key);
    if (c.json) print_json(server_json(after, after_key));
    else fmt::print("updated server {} (id {}): {}\n", after.name, after.id, changed.text());
    return 0;
  });
}

// ---- a user's SSH keys -------------------------------------------------------------------------

namespace {

json key_json(const cpm::user_key& k) {
  return {{"id", k.id},
          {"name", k.name},
          {"public_key", k.public_key},
          {"fingerprint", k.fingerprint},
          {"comment", or_null(k.comment)},
          {"created_at", or_null(k.created_at)},
          {"last_used_at", or_null(k.last_used_at)}};
}

template <class Store>
std::optional<cpm::user_key> key_named(Store& s, std::int64_t user_id, const std::string& name) {
  for (const cpm::user_key& k : s.user_keys(user_id))
    if (k.name == name) return k;
  return std::nullopt;
}

}  // namespace

int user_key_add(const common& c, const std::string& user, const std::string& name, const std::string& key) {
  return with_store(c, [&](auto& s) {
    auto u = find_user(s, user);
    auto k = s.add_user_key(u.id, name, key);
    if (c.json) print_json(key_json(k));
    else fmt::print("added key {} to user {}: {}\n", k.name, u.username, k.fingerprint);
    return 0;
  });
}

int user_key_list(const common& c, const std::string& user) {
  return with_store(c, [&](auto& s) {
    auto u = find_user(s, user);
    json all = json::array();
    for (const cpm::user_key& k : s.user_keys(u.id)) {
      if (c.json) {
        all.push_back(key_json(k));
      } else {
        fmt::print("{}  {}  {}  {}  last used {}\n", k.name, k.fingerprint, k.comment.value_or("-"), time_text(k.created_at),
                   k.last_used_at ? time_text(k.last_used_at) : std::string("never"));
      }
    }
    if (c.json) print_json(all);
    return 0;
  });
}

int user_key_remove(const common& c, const std::string& user, const std::string& name) {
  return with_store(c, [&](auto& s) {
    auto u = find_user(s, user);
    auto k = key_named(s, u.id, name);
    if (!k) throw cpm::record_not_found("user_key", fmt::format("'{}' of user '{}'", name, u.username));
    s.remove_user_key(k->id);
    if (c.json) print_json({{"removed", "user_key"}, {"user", u.username}, {"name", k->name}, {"fingerprint", k->fingerprint}});
    else fmt::print("removed key {} ({}) of user {}\n", k->name, k->fingerprint, u.username);
    return 0;
  });
}

}  // namespace cpmdb
