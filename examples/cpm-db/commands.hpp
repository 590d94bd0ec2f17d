// cpm-db: the commands, as main.cpp calls them once the command line is parsed.
//
// Each command prints its result on stdout (text, or one JSON document with --json) and
// returns the exit code; a failure is thrown, and main prints it on stderr: one line of text,
// or with --json one JSON document {"error": {"kind", "message", ...}}.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace cpmdb {

// Exit codes: 0 success, 1 the command failed (or check found problems), 2 usage error.
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// The command cannot do what it was asked; what() is the one line main prints, kind() the
// word --json reports it under (docs/cpm-db.md lists them: usage, not_found, ambiguous, ...).
class failure : public std::runtime_error {
 public:
  explicit failure(const std::string& message, int code = exit_failure)
      : std::runtime_error(message), code_(code), kind_(code == exit_usage ? "usage" : "failed") {}
  failure(std::string kind, const std::string& message, int code = exit_failure)
      : std::runtime_error(message), code_(code), kind_(std::move(kind)) {}
  [[nodiscard]] int exit_code() const noexcept { return code_; }
  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }

 private:
  int code_;
  std::string kind_;
};

// Options every command takes.
struct common {
  std::optional<std::string> db;  // --db (a path, or a PostgreSQL connection string); not given:
                                  // $CPMDB_PATH, then cpm::default_database_path()
  bool json = false;              // --json
};

// ---- database and maintenance (admin.cpp) ----------------------------------------------------

int init(const common& c);
int migrate(const common& c);
int status(const common& c);

struct backup_args {
  std::string output;    // --output DIR
  int pages = 256;       // --pages N per step
  int pause_ms = 0;      // --pause MS between steps
  bool quiet = false;    // --quiet: no progress
};
int backup(const common& c, const backup_args& a);
int restore(const common& c, const std::string& file);
int check(const common& c);

// ---- copying a database to another (copy.cpp) -------------------------------------------------

struct copy_args {
  std::string to;      // --to TARGET: an SQLite file's path or a PostgreSQL connection string
  bool quiet = false;  // --quiet: no progress
};
int copy(const common& c, const copy_args& a);

// ---- records (records.cpp) -------------------------------------------------------------------

struct user_args {
  std::string name;
  std::string email;
  std::optional<std::string> key;  // --key "ssh-ed25519 AAAA... comment"
};
int user_add(const common& c, const user_args& a);
int user_list(const common& c);
int user_show(const common& c, const std::string& name);
int user_remove(const common& c, const std::string& name);

struct user_update_args {
  std::optional<std::string> name;   // --name: the new username
  std::optional<std::string> email;  // --email
};
int user_update(const common& c, const std::string& user, const user_update_args& a);

// A user's SSH keys: `user key add USER NAME KEY`, `user key list USER`, `user key remove USER NAME`.
int user_key_add(const common& c, const std::string& user, const std::string& name, const std::string& key);
int user_key_list(const common& c, const std::string& user);
int user_key_remove(const common& c, const std::string& user, const std::string& name);

struct org_args {
  std::string name;
  std::optional<std::string> description;
  std::optional<std::string> owner;  // a user made its owner
};
int org_add(const common& c, const org_args& a);
int org_list(const common& c);
int org_remove(const common& c, const std::string& name);

struct org_update_args {
  std::optional<std::string> name;         // --name: the new name
  std::optional<std::string> description;  // --description
  bool no_description = false;             // --no-description: clear it
};
int org_update(const common& c, const std::string& org, const org_update_args& a);

int member_add(const common& c, const std::string& org, const std::string& user, const std::string& role);
int member_remove(const common& c, const std::string& org, const std::string& user);
int member_list(const common& c, const std::string& org);
int member_update(const common& c, const std::string& org, const std::string& user, const std::string& role);

struct repo_args {
  std::string name;  // ORG/NAME
  std::string path;
  std::optional<std::string> description;
  std::optional<std::string> admin;  // a user granted admin on it
};
int repo_add(const common& c, const repo_args& a);
int repo_list(const common& c, const std::optional<std::string>& org, const std::optional<std::string>& user);
int repo_remove(const common& c, const std::string& name);

struct repo_update_args {
  std::optional<std::string> name;         // --name: the new name within its organization
  std::optional<std::string> org;          // --org: move it to this organization
  std::optional<std::string> path;         // --path
  std::optional<std::string> description;  // --description
  bool no_description = false;             // --no-description: clear it
};
int repo_update(const common& c, const std::string& repo, const repo_update_args& a);

int access_grant(const common& c, const std::string& repo, const std::string& user, const std::string& level);
int access_revoke(const common& c, const std::string& repo, const std::string& user);
int access_show(const common& c, const std::string& repo, const std::optional<std::string>& user);

struct key_args {
  std::string name;
  std::string public_key;
  std::string private_key_path;
};
int key_add(const common& c, const key_args& a);
int key_list(const common& c);
int key_remove(const common& c, const std::string& name);

struct key_update_args {
  std::optional<std::string> name;              // --name: the new name
  std::optional<std::string> public_key;        // --public-key
  std::optional<std::string> private_key_path;  // --private-key-path
};
int key_update(const common& c, const std::string& key, const key_update_args& a);

struct server_args {
  std::string name;
  std::string host;
  int port = 22;
  bool neighbor = false;
  std::optional<std::string> key;  // the name of an SSH key
};
int server_add(const common& c, const server_args& a);
int server_list(const common& c, bool neighbors_only);
int server_remove(const common& c, const std::string& name);

struct server_update_args {
  std::optional<std::string> name;  // --name: the new name
  std::optional<std::string> host;  // --host
  std::optional<int> port;          // --port
  std::optional<bool> neighbor;     // --neighbor / --no-neighbor
  std::optional<std::string> key;   // --key: the SSH key to reach it with
  bool no_key = false;              // --no-key: reach it with none
};
int server_update(const common& c, const std::string& server, const server_update_args& a);

}  // namespace cpmdb
