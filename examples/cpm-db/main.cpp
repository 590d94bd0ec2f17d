// cpm-db: the command-line admin tool of a cpm database (docs/cpm-db.md).
//
//   cpm-db [--db PATH] COMMAND [SUBCOMMAND] [ARGS] [--json]
//
// The database is --db PATH, else $CPMDB_PATH, else ~/.cpm/cpm.db. Every command has --help.
// Exit code 0 on success; on failure one line "cpm-db: <message>" on stderr and exit code 1
// (2 for a usage error).
//
// This file only declares the command line (CLI11) and maps failures to messages and exit
// codes; admin.cpp and records.cpp do the work through the cpm library.
#include "commands.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace {

using cpmdb::common;

// One line: newlines folded, cpm's own "cpm: " prefix dropped (the tool names itself).
std::string one_line(std::string message) {
  if (message.rfind("cpm: ", 0) == 0) message.erase(0, 5);
  std::string out;
  for (char c : message) {
    if (c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (!out.empty()) out += "; ";
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

int fail(const std::string& message, int code) {
  fmt::print(stderr, "cpm-db: {}\n", one_line(message));
  return code;
}

// The deepest command the parser got to.
const CLI::App* deepest(const CLI::App& app) {
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
  return at;
}

// "cpm-db org member add": the path to the deepest command the parser got to.
std::string command_path(const CLI::App& app) {
  std::string path;
  for (const CLI::App* at = deepest(app); at; at = at->get_parent()) path = at->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

// CLI11's message, except for a word where a command was expected: "cpm-db user frob" names
// "frob" rather than saying that a command is missing.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* at = deepest(app);
  if (at->get_require_subcommand_min() == 0) return e.what();
  std::string commands;
  for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; }))
    commands += (commands.empty() ? "" : ", ") + sub->get_name();
  auto extra = at->remaining();
  if (!extra.empty()) return fmt::format("'{}' is not a command of '{}' ({})", extra.front(), command_path(app), commands);
  return fmt::format("'{}' needs a command: {}", command_path(app), commands);
}

class cli {
 public:
  cli() : app_("cpm-db: administer the database of a cpm git service (users, organizations, repositories, "
               "access, SSH keys, servers; backup, restore, check)",
               "cpm-db") {
    app_.require_subcommand(1);
    app_.add_option("--db", c_.db, "the database file (default: $CPMDB_PATH, then ~/.cpm/cpm.db)");
    app_.set_version_flag("--version", std::string(CPM_DB_VERSION));
    app_.footer("Run 'cpm-db COMMAND --help' for a command's arguments. Exit code: 0 success, 1 failure, 2 usage error.\n");
    database_commands();
    user_commands();
    org_commands();
    repo_commands();
    access_commands();
    key_commands();
    server_commands();
  }

  int run(int argc, char** argv) {
    try {
      app_.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help, --version
      return app_.exit(e);
    } catch (const CLI::ParseError& e) {
      return fail(fmt::format("{} (see '{} --help')", usage_message(app_, e), command_path(app_)), cpmdb::exit_usage);
    }
    try {
      return action_();
    } catch (const cpmdb::failure& e) {
      return fail(e.what(), e.exit_code());
    } catch (const std::exception& e) {
      return fail(e.what(), cpmdb::exit_failure);
    }
  }

 private:
  // A command that runs `action` when chosen, with the options every command has.
  CLI::App* command(CLI::App* parent, const std::string& name, const std::string& description,
                    std::function<int()> action) {
    CLI::App* sub = parent->add_subcommand(name, description);
    sub->add_option("--db", c_.db, "the database file (default: $CPMDB_PATH, then ~/.cpm/cpm.db)");
    sub->add_flag("--json", c_.json, "print the result as JSON");
    sub->callback([this, action = std::move(action)] { action_ = action; });
    return sub;
  }

  // A group of commands (user, org, ...), one of which must follow.
  CLI::App* group(CLI::App* parent, const std::string& name, const std::string& description) {
    CLI::App* sub = parent->add_subcommand(name, description);
    sub->require_subcommand(1);
    return sub;
  }

  void database_commands() {
    command(&app_, "init", "create the database and bring it to the current schema", [this] { return cpmdb::init(c_); });
    command(&app_, "migrate", "show the current and target schema version and apply the missing steps",
            [this] { return cpmdb::migrate(c_); });
    command(&app_, "status", "show the database's path, size, schema version and rows per table (changes nothing)",
            [this] { return cpmdb::status(c_); });

    auto* b = command(&app_, "backup", "write a verified online backup DIR/cpm-YYYYMMDD-HHMMSS.db (UTC)",
                      [this] { return cpmdb::backup(c_, backup_); });
    b->add_option("-o,--output", backup_.output, "the directory to write into (made if missing)")->required();
    b->add_option("--pages", backup_.pages, "pages copied per step (-1: all at once)")
        ->capture_default_str()
        ->check(CLI::Range(-1, 1 << 30));
    b->add_option("--pause", backup_.pause_ms, "milliseconds to pause between steps, to spare the disk")
        ->capture_default_str()
        ->check(CLI::Range(0, 60000));
    b->add_flag("-q,--quiet", backup_.quiet, "no progress report");

    auto* r = command(&app_, "restore", "replace the database with a backup file, keeping the replaced one beside it",
                      [this] { return cpmdb::restore(c_, file_); });
    r->add_option("FILE", file_, "the backup file")->required();

    command(&app_, "check", "run integrity_check and foreign_key_check; exit 1 when they find anything",
            [this] { return cpmdb::check(c_); });
  }

  void user_commands() {
    auto* g = group(&app_, "user", "users: add, list, show, remove");
    auto* add = command(g, "add", "add a user", [this] { return cpmdb::user_add(c_, user_); });
    add->add_option("USERNAME", user_.name, "letters, digits, '-' and '_'")->required();
    add->add_option("--email", user_.email, "the user's email address")->required();
    add->add_option("--key", user_.key, "the user's SSH public key: \"ssh-ed25519 AAAA... [comment]\"");
    command(g, "list", "list the users", [this] { return cpmdb::user_list(c_); });
    auto* show = command(g, "show", "show a user, their organizations and the repositories they reach",
                         [this] { return cpmdb::user_show(c_, name_); });
    show->add_option("USERNAME", name_)->required();
    auto* rm = command(g, "remove", "remove a user with their memberships and grants",
                       [this] { return cpmdb::user_remove(c_, name_); });
    rm->add_option("USERNAME", name_)->required();
  }

  void org_commands() {
    auto* g = group(&app_, "org", "organizations and their members: add, list, remove, member");
    auto* add = command(g, "add", "add an organization", [this] { return cpmdb::org_add(c_, org_); });
    add->add_option("NAME", org_.name, "letters, digits, '.', '-' and '_'")->required();
    add->add_option("--description", org_.description, "free text");
    add->add_option("--owner", org_.owner, "a user to make its owner");
    command(g, "list", "list the organizations", [this] { return cpmdb::org_list(c_); });
    auto* rm = command(g, "remove", "remove an organization with its repositories, members and grants",
                       [this] { return cpmdb::org_remove(c_, name_); });
    rm->add_option("NAME", name_)->required();

    auto* m = group(g, "member", "an organization's members: add, remove, list");
    auto* madd = command(m, "add", "add a user to an organization",
                         [this] { return cpmdb::member_add(c_, name_, user_name_, role_); });
    madd->add_option("ORG", name_)->required();
    madd->add_option("USER", user_name_)->required();
    madd->add_option("--role", role_, "owner, admin or member")
        ->capture_default_str()
        ->check(CLI::IsMember({"owner", "admin", "member"}));
    auto* mrm = command(m, "remove", "remove a user from an organization",
                        [this] { return cpmdb::member_remove(c_, name_, user_name_); });
    mrm->add_option("ORG", name_)->required();
    mrm->add_option("USER", user_name_)->required();
    auto* mls = command(m, "list", "list an organization's members (owners, admins, members)",
                        [this] { return cpmdb::member_list(c_, name_); });
    mls->add_option("ORG", name_)->required();
  }

  void repo_commands() {
    auto* g = group(&app_, "repo", "repositories: add, list, remove");
    auto* add = command(g, "add", "add a repository to an organization", [this] { return cpmdb::repo_add(c_, repo_); });
    add->add_option("ORG/NAME", repo_.name, "the organization and the repository's name")->required();
    add->add_option("--path", repo_.path, "the absolute path of the bare git repository")->required();
    add->add_option("--description", repo_.description, "free text");
    add->add_option("--admin", repo_.admin, "a user to grant admin access on it");
    auto* ls = command(g, "list", "list repositories: all, an organization's, or those a user reaches",
                       [this] { return cpmdb::repo_list(c_, filter_org_, filter_user_); });
    ls->add_option("--org", filter_org_, "only this organization's");
    ls->add_option("--user", filter_user_, "only those this user reaches (through an organization or a grant)");
    auto* rm = command(g, "remove", "remove a repository's record and grants (the git repository stays on disk)",
                       [this] { return cpmdb::repo_remove(c_, name_); });
    rm->add_option("ORG/NAME", name_)->required();
  }

  void access_commands() {
    auto* g = group(&app_, "access", "direct access to repositories: grant, revoke, show");
    auto* grant = command(g, "grant", "grant a user read, write or admin on a repository (replacing a grant they had)",
                          [this] { return cpmdb::access_grant(c_, name_, user_name_, level_); });
    grant->add_option("ORG/NAME", name_)->required();
    grant->add_option("USER", user_name_)->required();
    grant->add_option("LEVEL", level_, "read, write or admin")->required()->check(CLI::IsMember({"read", "write", "admin"}));
    auto* revoke = command(g, "revoke", "remove a user's direct grant on a repository",
                           [this] { return cpmdb::access_revoke(c_, name_, user_name_); });
    revoke->add_option("ORG/NAME", name_)->required();
    revoke->add_option("USER", user_name_)->required();
    auto* show = command(g, "show", "show who has access to a repository and why (or one user's access)",
                         [this] { return cpmdb::access_show(c_, name_, optional_user_); });
    show->add_option("ORG/NAME", name_)->required();
    show->add_option("USER", optional_user_, "only this user");
  }

  void key_commands() {
    auto* g = group(&app_, "key", "the service's SSH keys (used to reach servers): add, list, remove");
    auto* add = command(g, "add", "add an SSH key", [this] { return cpmdb::key_add(c_, key_); });
    add->add_option("NAME", key_.name)->required();
    add->add_option("--public-key", key_.public_key, "\"ssh-ed25519 AAAA... [comment]\"")->required();
    add->add_option("--private-key-path", key_.private_key_path, "the absolute path of the private key file")->required();
    command(g, "list", "list the SSH keys", [this] { return cpmdb::key_list(c_); });
    auto* rm = command(g, "remove", "remove an SSH key (servers that used it keep no key)",
                       [this] { return cpmdb::key_remove(c_, name_); });
    rm->add_option("NAME", name_)->required();
  }

  void server_commands() {
    auto* g = group(&app_, "server", "peer and remote servers: add, list, remove");
    auto* add = command(g, "add", "add a server", [this] { return cpmdb::server_add(c_, server_); });
    add->add_option("NAME", server_.name)->required();
    add->add_option("--host", server_.host, "host name or IP address")->required();
    add->add_option("--port", server_.port, "SSH port")->capture_default_str();
    add->add_flag("--neighbor", server_.neighbor, "a peer server (is_neighbor)");
    add->add_option("--key", server_.key, "the name of the SSH key to reach it with");
    auto* ls = command(g, "list", "list the servers", [this] { return cpmdb::server_list(c_, neighbors_only_); });
    ls->add_flag("--neighbor", neighbors_only_, "only peer servers");
    auto* rm = command(g, "remove", "remove a server", [this] { return cpmdb::server_remove(c_, name_); });
    rm->add_option("NAME", name_)->required();
  }

  CLI::App app_;
  common c_;
  std::function<int()> action_;
  // What the commands' arguments are parsed into.
  cpmdb::backup_args backup_;
  cpmdb::user_args user_;
  cpmdb::org_args org_;
  cpmdb::repo_args repo_;
  cpmdb::key_args key_;
  cpmdb::server_args server_;
  std::string file_, name_, user_name_, role_ = "member", level_;
  std::optional<std::string> optional_user_, filter_org_, filter_user_;
  bool neighbors_only_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  cli tool;
  return tool.run(argc, argv);
}
