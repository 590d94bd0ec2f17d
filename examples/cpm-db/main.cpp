// cpm-db: the command-line admin tool of a cpm database (docs/cpm-db.md).
//
//   cpm-db [--db PATH] COMMAND [SUBCOMMAND] [ARGS] [--json]
//
// The database is --db PATH, else $CPMDB_PATH, else ~/.cpm/cpm.db. Every command has --help.
// Exit code 0 on success; on failure one line "cpm-db: <message>" on stderr (with --json, one
// line {"error": {"kind", "message", "exit_code"}}) and exit code 1 (2 for a usage error).
//
// This file only declares the command line (CLI11) and maps failures to messages and exit
// codes; admin.cpp and records.cpp do the work through the cpm library. CLI11's own messages
// never reach the user: each parse error is described here in the tool's words.
#include "commands.hpp"
#include "man.hpp"

#include <CLI/CLI.hpp>
#include <cpm/cpm.hpp>
#ifdef CPM_DB_POSTGRES
#include <cpm/postgres.hpp>
#endif
#include <fmt/core.h>
#include <fmt/format.h>  // fmt::join
#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
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

// A failure as main reports it: the kind (the word --json gives), the message, the exit code,
// and for some kinds the field and value concerned.
struct report {
  std::string kind;
  std::string message;
  int code = cpmdb::exit_failure;
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
};

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

// The option (or positional argument) of the command `at`, or of a command above it, that
// the CLI11 message `text` is about: the one with the longest name found in it, and of those
// (--db and --json are on every level) the one given most often.
const CLI::Option* option_in(const CLI::App* at, std::string_view text) {
  const CLI::Option* best = nullptr;
  for (; at; at = at->get_parent()) {
    for (const CLI::Option* o : at->get_options()) {
      const std::string name = o->get_name();
      if (name.empty() || text.find(name) == std::string_view::npos) continue;
      if (!best || name.size() > best->get_name().size() ||
          (name.size() == best->get_name().size() && o->count() > best->count()))
        best = o;
    }
  }
  return best;
}

std::string described(const CLI::Option* o) {
  return o->get_description().empty() ? std::string() : ": " + o->get_description();
}

std::string quoted_list(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "'" : ", '") + v + "'";
  return out;
}

// What was wrong with the command line, in the tool's words (never CLI11's text).
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* at = deepest(app);
  const std::string where = command_path(app);
  const std::vector<std::string> extra = at->remaining();

  // An option given twice, or with no value after it.
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    if (const CLI::Option* o = option_in(at, e.what())) {
      if (o->count() > 1)
        return fmt::format("{} was given {} times ({}): give it once", o->get_name(), o->count(), quoted_list(o->results()));
      return fmt::format("{} needs a value{}", o->get_name(), described(o));
    }
  }

  // A group (cpm-db, user, org member ...) with no command after it, or a word that is not one.
  if (at->get_require_subcommand_min() > 0) {
    std::string commands;
    for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; }))
      commands += (commands.empty() ? "" : ", ") + sub->get_name();
    if (!extra.empty() && extra.front().rfind("-", 0) == 0)
      return fmt::format("'{}' has no option '{}' (its commands: {})", where, extra.front(), commands);
    if (!extra.empty()) return fmt::format("'{}' is not a command of '{}' ({})", extra.front(), where, commands);
    return fmt::format("'{}' needs a command: {}", where, commands);
  }

  // An option that took the next option as its value ("--path --description d"): its value is
  // what is missing, not room for the words after it.
  for (const CLI::App* level = at; level; level = level->get_parent()) {
    for (const CLI::Option* o : level->get_options()) {
      if (o->get_positional()) continue;
      for (const std::string& value : o->results()) {
        if (value.rfind("-", 0) == 0 && level->get_option_no_throw(value.substr(0, value.find('='))))
          return fmt::format("{} needs a value{} (it was followed by {})", o->get_name(), described(o), value);
      }
    }
  }

  if (dynamic_cast<const CLI::ExtrasError*>(&e) && !extra.empty()) {
    if (extra.front().rfind("-", 0) == 0) return fmt::format("'{}' has no option '{}'", where, extra.front());
    std::vector<std::string> positionals;
    for (const CLI::Option* o : at->get_options())
      if (o->get_positional()) positionals.push_back(o->get_name());
    if (positionals.empty()) return fmt::format("'{}' takes no arguments, but was given {}", where, quoted_list(extra));
    return fmt::format("'{}' takes {} argument{} ({}); {} {} one too many", where, positionals.size(),
                       positionals.size() == 1 ? "" : "s", fmt::join(positionals, " "), quoted_list(extra),
                       extra.size() == 1 ? "is" : "are");
  }

  const CLI::Option* o = option_in(at, e.what());
  if (dynamic_cast<const CLI::RequiredError*>(&e) && o) return fmt::format("{} is required{}", o->get_name(), described(o));
  if (dynamic_cast<const CLI::ConversionError*>(&e) && o) {
    if (o->get_expected_max() == 0 || o->get_type_size() == 0)
      return fmt::format("{} is a flag: give it alone (or as {}=true, {}=false), not {}", o->get_name(), o->get_name(), o->get_name(),
                         quoted_list(o->results()));
    return fmt::format("{} cannot be {}{}", o->get_name(), quoted_list(o->results()), described(o));
  }
  // No other parse error is expected of this command line (no CLI11 checks, numbers read by
  // the tool itself); should one happen, say what CLI11 saw rather than nothing.
  return fmt::format("the arguments of '{}' could not be read ({})", where, e.what());
}

// --json anywhere on the command line asks for JSON, errors included, even when the command
// line does not parse.
bool json_asked(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--json" || arg == "--json=true" || arg == "--json=1") return true;
  }
  return false;
}

// A whole number given to `option`, within [low, high]; `what` says what it takes.
long long number(const std::string& option, const std::string& text, long long low, long long high, const char* what) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < low || value > high)
    throw cpmdb::failure(fmt::format("{} takes {}, not '{}'", option, what, text), cpmdb::exit_usage);
  return value;
}

constexpr const char* db_help =
    "the database file (default: $CPMDB_PATH, then ~/.cpm/cpm.db), or a PostgreSQL database: postgresql://... or "
    "a libpq key=value string (host=... dbname=...)";
constexpr const char* user_help = "a username, or id:N";
constexpr const char* org_help = "an organization's name, or id:N";
constexpr const char* repo_help = "ORG/NAME (ORG by name or id:N), or the repository's id:N";
constexpr const char* key_help = "an SSH key's name, or id:N";
constexpr const char* server_help = "a server's name, or id:N";

class cli {
 public:
  cli() : app_("cpm-db: administer the database of a cpm git service (users, organizations, repositories, "
               "access, SSH keys, servers; backup, restore, check; copy to or from PostgreSQL)",
               "cpm-db") {
    app_.require_subcommand(1);
    app_.add_option("--db", c_.db, db_help);
    app_.add_flag("--json", c_.json, "print the result (and errors) as JSON");
    app_.set_version_flag("--version", std::string(CPM_DB_VERSION));
    app_.footer("Records are named by name or by id: 'id:3' is always an id; a bare number is an id or a name, refused "
                "when it is both.\nRun 'cpm-db COMMAND --help' for a command's arguments. Exit code: 0 success, 1 "
                "failure, 2 usage error.\n");
    database_commands();
    user_commands();
    org_commands();
    repo_commands();
    access_commands();
    key_commands();
    server_commands();
    copy_command();
    name_values(&app_);
  }

  int run(int argc, char** argv) {
    json_ = json_asked(argc, argv);
    if (argc == 2 && std::string_view(argv[1]) == "--help-man") {
      cpmdb::print_man_page(app_, CPM_DB_VERSION);
      return 0;
    }
    try {
      app_.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help, --version
      return app_.exit(e);
    } catch (const CLI::ParseError& e) {
      return fail({"usage", usage_message(app_, e), cpmdb::exit_usage});
    }
    try {
      return action_();
    } catch (const cpmdb::failure& e) {
      return fail({e.kind(), e.what(), e.exit_code()});
    } catch (const cpm::validation_error& e) {
      return fail({"invalid", e.what(), cpmdb::exit_failure, {{"field", e.field()}, {"value", e.value()}}});
    } catch (const cpm::already_exists& e) {
      return fail({"already_exists", e.what(), cpmdb::exit_failure, {{"field", e.entity() + "." + e.field()}, {"value", e.value()}}});
    } catch (const cpm::destination_exists& e) {
      return fail({"already_exists", e.what(), cpmdb::exit_failure});
    } catch (const cpm::not_found& e) {
      return fail({"not_found", e.what(), cpmdb::exit_failure});
    } catch (const cpm::last_owner& e) {
      return fail({"last_owner", e.what(), cpmdb::exit_failure});
    } catch (const cpm::rule_conflict& e) {
      return fail({"rule_conflict", e.what(), cpmdb::exit_failure});
    } catch (const cpm::schema_too_new& e) {
      return fail({"schema", e.what(), cpmdb::exit_failure});
    } catch (const cpm::adoption_error& e) {
      return fail({"schema", e.what(), cpmdb::exit_failure});
    } catch (const cpm::restore_refused& e) {
      return fail({"refused", e.what(), cpmdb::exit_failure});
    } catch (const cpm::database_in_use& e) {
      return fail({"in_use", e.what(), cpmdb::exit_failure});
    } catch (const cpm::integrity_check_failed& e) {
      return fail({"damaged", e.what(), cpmdb::exit_failure});
    } catch (const cpm::file_error& e) {
      return fail({"file", e.what(), cpmdb::exit_failure});
    } catch (const cpm::busy_error& e) {
      return fail({"busy", e.what(), cpmdb::exit_failure});
    } catch (const cpm::readonly_error& e) {
      return fail({"read_only", e.what(), cpmdb::exit_failure});
    } catch (const cpm::sqlite_error& e) {
      return fail({"database", e.what(), cpmdb::exit_failure});
#ifdef CPM_DB_POSTGRES
    } catch (const cpm::pg::connect_error& e) {
      return fail({"connect", e.what(), cpmdb::exit_failure});
    } catch (const cpm::pg::error& e) {
      return fail({"database", e.what(), cpmdb::exit_failure});
    } catch (const cpm::pg::diagnostics& e) {  // a server error mapped to a shared kind (cpm::pg::data_error, ...)
      const auto* as_exception = dynamic_cast<const std::exception*>(&e);
      return fail({"database", as_exception ? std::string(as_exception->what()) : e.server_message(), cpmdb::exit_failure});
#endif
    } catch (const std::exception& e) {
      return fail({"failed", e.what(), cpmdb::exit_failure});
    }
  }

 private:
  int fail(report r) {
    std::string message = one_line(r.message);
    if (r.code == cpmdb::exit_usage && r.kind == "usage") message += fmt::format(" (see '{} --help')", command_path(app_));
    if (json_) {
      nlohmann::ordered_json error = {{"kind", r.kind}, {"message", message}, {"exit_code", r.code}};
      error.update(r.details);
      fmt::print(stderr, "{}\n", nlohmann::ordered_json{{"error", error}}.dump());
    } else {
      fmt::print(stderr, "cpm-db: {}\n", message);
    }
    return r.code;
  }

  // A command that runs `action` when chosen, with the options every command has.
  CLI::App* command(CLI::App* parent, const std::string& name, const std::string& description,
                    std::function<int()> action) {
    CLI::App* sub = parent->add_subcommand(name, description);
    sub->add_option("--db", c_.db, db_help);
    sub->add_flag("--json", c_.json, "print the result (and errors) as JSON");
    sub->callback([this, action = std::move(action)] { action_ = action; });
    return sub;
  }

  // A group of commands (user, org, ...), one of which must follow.
  CLI::App* group(CLI::App* parent, const std::string& name, const std::string& description) {
    CLI::App* sub = parent->add_subcommand(name, description);
    sub->require_subcommand(1);
    sub->add_option("--db", c_.db, db_help);
    sub->add_flag("--json", c_.json, "print the result (and errors) as JSON");
    return sub;
  }

  void database_commands() {
    command(&app_, "init", "create the database and bring it to the current schema", [this] { return cpmdb::init(c_); });
    command(&app_, "migrate", "show the current and target schema version and apply the missing steps",
            [this] { return cpmdb::migrate(c_); });
    command(&app_, "status", "show the database's path, size, schema version and rows per table (changes nothing)",
            [this] { return cpmdb::status(c_); });

    auto* b = command(&app_, "backup", "write a verified online backup DIR/cpm-YYYYMMDD-HHMMSS.db (UTC)", [this] {
      backup_.pages = static_cast<int>(number("--pages", pages_, -1, 1 << 30, "a whole number of pages per step up to 1073741824, or -1 for all at once"));
      backup_.pause_ms = static_cast<int>(number("--pause", pause_, 0, 60000, "a whole number of milliseconds, 0 to 60000"));
      return cpmdb::backup(c_, backup_);
    });
    b->add_option("-o,--output", backup_.output, "the directory to write into (made if missing)")->required();
    b->add_option("--pages", pages_, "pages copied per step (-1: all at once)")->capture_default_str();
    b->add_option("--pause", pause_, "milliseconds to pause between steps (0 to 60000), to spare the disk")
        ->capture_default_str();
    b->add_flag("-q,--quiet", backup_.quiet, "no progress report");

    auto* r = command(&app_, "restore", "replace the database with a backup file, keeping the replaced one beside it",
                      [this] { return cpmdb::restore(c_, file_); });
    r->add_option("FILE", file_, "the backup file")->required();

    command(&app_, "check", "run integrity_check and foreign_key_check; exit 1 when they find anything",
            [this] { return cpmdb::check(c_); });
  }

  void user_commands() {
    auto* g = group(&app_, "user", "users: add, list, show, update, remove");
    auto* add = command(g, "add", "add a user", [this] { return cpmdb::user_add(c_, user_); });
    add->add_option("USERNAME", user_.name, "the new user's name: letters, digits, '-' and '_'")->required();
    add->add_option("--email", user_.email, "the user's email address")->required();
    add->add_option("--key", user_.key, "the user's SSH public key: \"ssh-ed25519 AAAA... [comment]\"");
    command(g, "list", "list the users", [this] { return cpmdb::user_list(c_); });
    auto* show = command(g, "show", "show a user, their organizations and the repositories they reach",
                         [this] { return cpmdb::user_show(c_, name_); });
    show->add_option("USER", name_, user_help)->required();
    auto* update = command(g, "update", "rename a user or change their email address",
                           [this] { return cpmdb::user_update(c_, name_, user_update_); });
    update->add_option("USER", name_, user_help)->required();
    update->add_option("--name", user_update_.name, "the new username");
    update->add_option("--email", user_update_.email, "the new email address");
    auto* rm = command(g, "remove", "remove a user with their memberships and grants",
                       [this] { return cpmdb::user_remove(c_, name_); });
    rm->add_option("USER", name_, user_help)->required();

    auto* k = group(g, "key", "a user's SSH public keys: add, list, remove");
    auto* kadd = command(k, "add", "add an SSH public key to a user",
                         [this] { return cpmdb::user_key_add(c_, name_, key_name_, key_text_); });
    kadd->add_option("USER", name_, user_help)->required();
    kadd->add_option("NAME", key_name_, "the key's name for this user: letters, digits, '.', '-' and '_'")->required();
    kadd->add_option("KEY", key_text_, "the public key: \"ssh-ed25519 AAAA... [comment]\"")->required();
    auto* kls = command(k, "list", "list a user's keys with their fingerprints",
                        [this] { return cpmdb::user_key_list(c_, name_); });
    kls->add_option("USER", name_, user_help)->required();
    auto* krm = command(k, "remove", "remove one of a user's keys", [this] {
      return cpmdb::user_key_remove(c_, name_, key_name_);
    });
    krm->add_option("USER", name_, user_help)->required();
    krm->add_option("NAME", key_name_, "the key's name")->required();
  }

  void org_commands() {
    auto* g = group(&app_, "org", "organizations and their members: add, list, update, remove, member");
    auto* add = command(g, "add", "add an organization", [this] { return cpmdb::org_add(c_, org_); });
    add->add_option("NAME", org_.name, "the new organization's name: letters, digits, '.', '-' and '_'")->required();
    add->add_option("--description", org_.description, "free text");
    add->add_option("--owner", org_.owner, "a user to make its owner (a username, or id:N)");
    command(g, "list", "list the organizations", [this] { return cpmdb::org_list(c_); });
    auto* update = command(g, "update", "rename an organization or change its description",
                           [this] { return cpmdb::org_update(c_, name_, org_update_); });
    update->add_option("ORG", name_, org_help)->required();
    update->add_option("--name", org_update_.name, "the new name");
    update->add_option("--description", org_update_.description, "the new description");
    update->add_flag("--no-description", org_update_.no_description, "clear the description");
    auto* rm = command(g, "remove", "remove an organization with its repositories, members and grants",
                       [this] { return cpmdb::org_remove(c_, name_); });
    rm->add_option("ORG", name_, org_help)->required();

    auto* m = group(g, "member", "an organization's members: add, update, remove, list");
    auto* madd = command(m, "add", "add a user to an organization", [this] {
      return cpmdb::member_add(c_, name_, user_name_, role_.value_or("member"));
    });
    madd->add_option("ORG", name_, org_help)->required();
    madd->add_option("USER", user_name_, user_help)->required();
    madd->add_option("--role", role_, "owner, admin or member (default: member)");
    auto* mupdate = command(m, "update", "change a member's role",
                            [this] { return cpmdb::member_update(c_, name_, user_name_, *role_); });
    mupdate->add_option("ORG", name_, org_help)->required();
    mupdate->add_option("USER", user_name_, user_help)->required();
    mupdate->add_option("--role", role_, "the new role: owner, admin or member")->required();
    auto* mrm = command(m, "remove", "remove a user from an organization",
                        [this] { return cpmdb::member_remove(c_, name_, user_name_); });
    mrm->add_option("ORG", name_, org_help)->required();
    mrm->add_option("USER", user_name_, user_help)->required();
    auto* mls = command(m, "list", "list an organization's members (owners, admins, members)",
                        [this] { return cpmdb::member_list(c_, name_); });
    mls->add_option("ORG", name_, org_help)->required();
  }

  void repo_commands() {
    auto* g = group(&app_, "repo", "repositories: add, list, update, remove");
    auto* add = command(g, "add", "add a repository to an organization", [this] { return cpmdb::repo_add(c_, repo_); });
    add->add_option("ORG/NAME", repo_.name, "the organization (by name or id:N) and the repository's name")->required();
    add->add_option("--path", repo_.path, "the absolute path of the bare git repository")->required();
    add->add_option("--description", repo_.description, "free text");
    add->add_option("--admin", repo_.admin, "a user to grant admin access on it (a username, or id:N)");
    auto* ls = command(g, "list", "list repositories: all, an organization's, or those a user reaches",
                       [this] { return cpmdb::repo_list(c_, filter_org_, filter_user_); });
    ls->add_option("--org", filter_org_, "only this organization's (a name, or id:N)");
    ls->add_option("--user", filter_user_, "only those this user reaches (through an organization or a grant)");
    auto* update = command(g, "update", "rename a repository, move it to another organization, change its path or description",
                           [this] { return cpmdb::repo_update(c_, name_, repo_update_); });
    update->add_option("REPO", name_, repo_help)->required();
    update->add_option("--name", repo_update_.name, "the new name (within its organization)");
    update->add_option("--org", repo_update_.org, "move it to this organization (a name, or id:N)");
    update->add_option("--path", repo_update_.path, "the new absolute path of the bare git repository");
    update->add_option("--description", repo_update_.description, "the new description");
    update->add_flag("--no-description", repo_update_.no_description, "clear the description");
    auto* rm = command(g, "remove", "remove a repository's record and grants (the git repository stays on disk)",
                       [this] { return cpmdb::repo_remove(c_, name_); });
    rm->add_option("REPO", name_, repo_help)->required();
  }

  void access_commands() {
    auto* g = group(&app_, "access", "direct access to repositories: grant, revoke, show");
    auto* grant = command(g, "grant", "grant a user read, write or admin on a repository (replacing a grant they had)",
                          [this] { return cpmdb::access_grant(c_, name_, user_name_, level_); });
    grant->add_option("REPO", name_, repo_help)->required();
    grant->add_option("USER", user_name_, user_help)->required();
    grant->add_option("LEVEL", level_, "read, write or admin")->required();
    auto* revoke = command(g, "revoke", "remove a user's direct grant on a repository",
                           [this] { return cpmdb::access_revoke(c_, name_, user_name_); });
    revoke->add_option("REPO", name_, repo_help)->required();
    revoke->add_option("USER", user_name_, user_help)->required();
    auto* show = command(g, "show", "show who has access to a repository and why (or one user's access)",
                         [this] { return cpmdb::access_show(c_, name_, optional_user_); });
    show->add_option("REPO", name_, repo_help)->required();
    show->add_option("USER", optional_user_, "only this user (a username, or id:N)");
  }

  void key_commands() {
    auto* g = group(&app_, "key", "the service's SSH keys (used to reach servers): add, list, update, remove");
    auto* add = command(g, "add", "add an SSH key", [this] { return cpmdb::key_add(c_, key_); });
    add->add_option("NAME", key_.name, "the new key's name: letters, digits, '.', '-' and '_'")->required();
    add->add_option("--public-key", key_.public_key, "\"ssh-ed25519 AAAA... [comment]\"")->required();
    add->add_option("--private-key-path", key_.private_key_path, "the absolute path of the private key file")->required();
    command(g, "list", "list the SSH keys", [this] { return cpmdb::key_list(c_); });
    auto* update = command(g, "update", "rename an SSH key or change its public key or private key path",
                           [this] { return cpmdb::key_update(c_, name_, key_update_); });
    update->add_option("KEY", name_, key_help)->required();
    update->add_option("--name", key_update_.name, "the new name");
    update->add_option("--public-key", key_update_.public_key, "the new public key: \"ssh-ed25519 AAAA... [comment]\"");
    update->add_option("--private-key-path", key_update_.private_key_path, "the new absolute path of the private key file");
    auto* rm = command(g, "remove", "remove an SSH key (servers that used it keep no key)",
                       [this] { return cpmdb::key_remove(c_, name_); });
    rm->add_option("KEY", name_, key_help)->required();
  }

  void server_commands() {
    auto* g = group(&app_, "server", "peer and remote servers: add, list, update, remove");
    auto* add = command(g, "add", "add a server", [this] {
      server_.port = static_cast<int>(number("--port", port_.value_or("22"), INT32_MIN, INT32_MAX, "a port number, 1 to 65535"));
      return cpmdb::server_add(c_, server_);
    });
    add->add_option("NAME", server_.name, "the new server's name: letters, digits, '.', '-' and '_'")->required();
    add->add_option("--host", server_.host, "host name or IP address")->required();
    add->add_option("--port", port_, "SSH port (default: 22)");
    add->add_flag("--neighbor", server_.neighbor, "a peer server (is_neighbor)");
    add->add_option("--key", server_.key, "the SSH key to reach it with (a name, or id:N)");
    auto* ls = command(g, "list", "list the servers", [this] { return cpmdb::server_list(c_, neighbors_only_); });
    ls->add_flag("--neighbor", neighbors_only_, "only peer servers");
    auto* update = command(g, "update", "change a server's name, host, port, neighbor flag or SSH key", [this] {
      if (port_) server_update_.port = static_cast<int>(number("--port", *port_, INT32_MIN, INT32_MAX, "a port number, 1 to 65535"));
      if (neighbor_ && no_neighbor_)
        throw cpmdb::failure("give --neighbor or --no-neighbor, not both", cpmdb::exit_usage);
      if (neighbor_ || no_neighbor_) server_update_.neighbor = neighbor_;
      return cpmdb::server_update(c_, name_, server_update_);
    });
    update->add_option("SERVER", name_, server_help)->required();
    update->add_option("--name", server_update_.name, "the new name");
    update->add_option("--host", server_update_.host, "the new host name or IP address");
    update->add_option("--port", port_, "the new SSH port");
    update->add_flag("--neighbor", neighbor_, "make it a peer server");
    update->add_flag("--no-neighbor", no_neighbor_, "make it no longer a peer server");
    update->add_option("--key", server_update_.key, "the SSH key to reach it with (a name, or id:N)");
    update->add_flag("--no-key", server_update_.no_key, "reach it with no SSH key");
    auto* rm = command(g, "remove", "remove a server", [this] { return cpmdb::server_remove(c_, name_); });
    rm->add_option("SERVER", name_, server_help)->required();
  }

  void copy_command() {
    auto* cp = command(&app_, "copy",
                       "copy the whole database into an empty one (SQLite to PostgreSQL or back), ids kept, in one "
                       "transaction",
                       [this] { return cpmdb::copy(c_, copy_); });
    cp->add_option("--to", copy_.to, "the target: an SQLite file's path, or a PostgreSQL connection string")->required();
    cp->add_flag("-q,--quiet", copy_.quiet, "no progress report");
  }

  // An option's value is shown as its name, "--email EMAIL", not as CLI11's "TEXT" (in --help
  // and in the manual page).
  static void name_values(CLI::App* app) {
    for (CLI::Option* o : app->get_options()) {
      if (o->get_positional() || o->get_type_name().empty() || o->get_lnames().empty()) continue;
      std::string value;
      for (char ch : o->get_lnames().back()) value += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      o->type_name(value == "DB" ? "PATH" : value == "TO" ? "TARGET" : value);
    }
    for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) name_values(sub);
  }

  CLI::App app_;
  common c_;
  bool json_ = false;
  std::function<int()> action_;
  // What the commands' arguments are parsed into.
  cpmdb::backup_args backup_;
  cpmdb::copy_args copy_;
  cpmdb::user_args user_;
  cpmdb::user_update_args user_update_;
  cpmdb::org_args org_;
  cpmdb::org_update_args org_update_;
  cpmdb::repo_args repo_;
  cpmdb::repo_update_args repo_update_;
  cpmdb::key_args key_;
  cpmdb::key_update_args key_update_;
  cpmdb::server_args server_;
  cpmdb::server_update_args server_update_;
  std::string file_, name_, user_name_, level_, key_name_, key_text_;
  std::string pages_ = "256", pause_ = "0";  // read as text: the tool says what is wrong with a number
  std::optional<std::string> port_, role_, optional_user_, filter_org_, filter_user_;
  bool neighbors_only_ = false, neighbor_ = false, no_neighbor_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  cli tool;
  return tool.run(argc, argv);
}
