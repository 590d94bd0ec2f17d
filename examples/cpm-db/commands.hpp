// cpm-db: the commands, as main.cpp calls them once the command line is parsed.
//
// Each command prints its result on stdout (text, or one JSON document with --json) and
// returns the exit code; a failure is thrown, and main prints it as one line on stderr.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

namespace cpmdb {

// Exit codes: 0 success, 1 the command failed (or check found problems), 2 usage error.
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// The command cannot do what it was asked; what() is the one line main prints.
class failure : public std::runtime_error {
 public:
  explicit failure(const std::string& message, int code = exit_failure) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] int exit_code() const noexcept { return code_; }

 private:
  int code_;
};

// Options every command takes.
struct common {
  std::string db;     // --db; empty: $CPMDB_PATH, then cpm::default_database_path()
  bool json = false;  // --json
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

struct org_args {
  std::string name;
  std::optional<std::string> description;
  std::optional<std::string> owner;  // a user made its owner
};
int org_add(const common& c, const org_args& a);
int org_list(const common& c);
int org_remove(const common& c, const std::string& name);

int member_add(const common& c, const std::string& org, const std::string& user, const std::string& role);
int member_remove(const common& c, const std::string& org, const std::string& user);
int member_list(const common& c, const std::string& org);

struct repo_args {
  std::string name;  // ORG/NAME
  std::string path;
  std::optional<std::string> description;
  std::optional<std::string> admin;  // a user granted admin on it
};
int repo_add(const common& c, const repo_args& a);
int repo_list(const common& c, const std::optional<std::string>& org, const std::optional<std::string>& user);
int repo_remove(const common& c, const std::string& name);

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

}  // namespace cpmdb
