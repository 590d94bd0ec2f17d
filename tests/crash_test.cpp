// Crash safety: a child process (tests/reliability/crash_child.cpp) runs random committed
// transactions through cpm::store on a WAL file database and is killed with SIGKILL at random
// moments. After each kill the database is reopened and checked:
//   - PRAGMA integrity_check says ok and PRAGMA foreign_key_check finds nothing;
//   - the schema is exactly cpm's current schema (kills also land in the first migration);
//   - every transaction the child reported committed (a record written to a pipe after COMMIT
//     returned) is fully present, with every change it made (deletions and updates included);
//   - no transaction is partly present: each one's rows are there all together or not at all,
//     and the only transaction present without a report is the one the child was running.
//
// Hidden from the default run ([.crash]); ctest runs it as cpm.reliability.crash with
// CPM_CRASH_KILLS=200. Environment: CPM_CRASH_KILLS (kills, default 200), CPM_CRASH_SEED
// (default: random, printed), CPM_CRASH_CHILD (the child executable; default: cpm_crash_child
// beside this executable).
#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <fmt/core.h>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

struct record {
  std::int64_t n;
  std::int64_t deleted;
  std::int64_t touched;
};

struct user_row {
  std::int64_t id;
  std::string username;
  std::string email;
};
struct org_row {
  std::int64_t id;
  std::string name;
  std::optional<std::string> description;
};
struct repo_row {
  std::int64_t id;
  std::string name;
  std::int64_t org_id;
};
struct grant_row {
  std::int64_t repo_id;
  std::int64_t user_id;
  std::string level;
};
struct member_row {
  std::int64_t org_id;
  std::int64_t user_id;
  std::string role;
};
struct schema_row {
  std::string type;
  std::string name;
  std::optional<std::string> sql;
  bool operator==(const schema_row&) const = default;
};

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoll(v, nullptr, 10) : fallback;
}

std::filesystem::path child_executable() {
  if (const char* v = std::getenv("CPM_CRASH_CHILD"); v && *v) return v;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() / "cpm_crash_child";
}

std::string email_of(std::int64_t n, std::int64_t changed_by = 0) {
  return changed_by ? fmt::format("u{}.{}@crash.test", n, changed_by) : fmt::format("u{}@crash.test", n);
}

// "<letter><n>" -> n; nullopt for other names.
std::optional<std::int64_t> tag(const std::string& name, char letter) {
  if (name.size() < 2 || name[0] != letter) return std::nullopt;
  return std::strtoll(name.c_str() + 1, nullptr, 10);
}

std::vector<schema_row> schema_of(cpm::connection& db) {
  return cpm::query<schema_row>(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name").to_vector();
}

struct description {
  std::int64_t n = 0, k = 0, deleted = 0, touched = 0;
};

description parse_description(const std::string& text) {
  description d;
  REQUIRE(std::sscanf(text.c_str(), "%ld:%ld:%ld:%ld:", &d.n, &d.k, &d.deleted, &d.touched) == 4);
  return d;
}

// Checks the database against the model of live transactions (tag -> expected email of the
// tag's user). `candidate` is the one transaction that may be present without a report; when it
// is, the model takes it in. Returns true when the candidate was found committed.
bool verify(const std::filesystem::path& path, std::map<std::int64_t, std::string>& alive, std::int64_t candidate,
            const std::vector<schema_row>& expected_schema) {
  auto store = cpm::store::open(path.string());
  auto& db = store.db();
  cpm::read_snapshot snapshot(db);

  auto integrity = cpm::query<std::string>(db, "PRAGMA integrity_check").to_vector();
  REQUIRE(integrity == std::vector<std::string>{"ok"});
  REQUIRE(cpm::foreign_key_violations(db).empty());
  REQUIRE(store.schema_version() == cpm::store::target_version());
  REQUIRE(schema_of(db) == expected_schema);

  std::map<std::int64_t, user_row> users;  // by tag
  std::map<std::int64_t, std::int64_t> user_tag;  // id -> tag
  for (const auto& u : cpm::query<user_row>(db, "SELECT id, username, email FROM users")) {
    auto t = tag(u.username, 'u');
    REQUIRE(t);
    users[*t] = u;
    user_tag[u.id] = *t;
  }
  std::map<std::int64_t, org_row> orgs;  // by tag
  for (const auto& o : cpm::query<org_row>(db, "SELECT id, name, description FROM organizations")) {
    auto t = tag(o.name, 'o');
    REQUIRE(t);
    orgs[*t] = o;
  }
  std::map<std::int64_t, std::vector<repo_row>> repos_of;  // org id -> repositories
  std::size_t repo_count = 0;
  for (const auto& r : cpm::query<repo_row>(db, "SELECT id, name, org_id FROM repositories")) {
    repos_of[r.org_id].push_back(r);
    ++repo_count;
  }
  std::map<std::int64_t, std::vector<grant_row>> grants_of;  // repo id -> grants
  std::size_t grant_count = 0;
  for (const auto& g : cpm::query<grant_row>(db, "SELECT repo_id, user_id, access_level AS level FROM repo_access")) {
    grants_of[g.repo_id].push_back(g);
    ++grant_count;
  }
  std::map<std::int64_t, std::vector<member_row>> members_of;  // org id -> members
  std::size_t member_count = 0;
  for (const auto& m : cpm::query<member_row>(db, "SELECT org_id, user_id, role FROM org_members")) {
    members_of[m.org_id].push_back(m);
    ++member_count;
  }

  // Every transaction present is complete: its user, its organization with the owner as the
  // only member, exactly k repositories each granted (admin) to the owner and nobody else.
  std::size_t expected_repos = 0;
  std::map<std::int64_t, description> present;
  for (const auto& [t, org] : orgs) {
    INFO("transaction " << t);
    REQUIRE(org.description);
    description d = parse_description(*org.description);
    REQUIRE(d.n == t);
    REQUIRE(users.count(t) == 1);
    const auto& owner = users[t];
    const auto& members = members_of[org.id];
    REQUIRE(members.size() == 1);
    CHECK(members[0].user_id == owner.id);
    CHECK(members[0].role == "owner");
    const auto& repos = repos_of[org.id];
    REQUIRE(static_cast<std::int64_t>(repos.size()) == d.k);
    std::set<std::string> names;
    for (const auto& r : repos) {
      names.insert(r.name);
      const auto& grants = grants_of[r.id];
      REQUIRE(grants.size() == 1);
      CHECK(grants[0].user_id == owner.id);
      CHECK(grants[0].level == "admin");
    }
    for (std::int64_t i = 0; i < d.k; ++i) CHECK(names.count(fmt::format("r{}_{}", t, i)) == 1);
    expected_repos += repos.size();
    present[t] = d;
  }
  // No user without its organization, nothing outside the transactions.
  for (const auto& [t, u] : users) {
    INFO("user u" << t);
    CHECK(orgs.count(t) == 1);
  }
  REQUIRE(users.size() == orgs.size());
  REQUIRE(member_count == orgs.size());
  REQUIRE(repo_count == expected_repos);
  REQUIRE(grant_count == repo_count);

  // Only the running transaction may be present without a report.
  for (const auto& [t, d] : present) {
    if (alive.count(t) == 0) {
      INFO("transaction " << t << " is present but was neither reported nor the one running (" << candidate << ")");
      REQUIRE(t == candidate);
    }
  }
  bool candidate_committed = present.count(candidate) == 1 && alive.count(candidate) == 0;
  if (candidate_committed) {
    const auto& d = present[candidate];
    if (d.deleted) {
      REQUIRE(alive.count(d.deleted) == 1);
      alive.erase(d.deleted);
    }
    if (d.touched) {
      REQUIRE(alive.count(d.touched) == 1);
      alive[d.touched] = email_of(d.touched, candidate);
    }
    alive[candidate] = email_of(candidate);
  }
  // Every committed transaction is present, with the changes later ones made to it.
  REQUIRE(present.size() == alive.size());
  for (const auto& [t, email] : alive) {
    INFO("committed transaction " << t);
    REQUIRE(present.count(t) == 1);
    CHECK(users[t].email == email);
  }
  return candidate_committed;
}

}  // namespace

TEST_CASE("crash safety: SIGKILL at random moments never loses a committed transaction nor keeps a partial one",
          "[.crash]") {
  const std::int64_t kills = env_int("CPM_CRASH_KILLS", 200);
  const std::uint64_t seed = static_cast<std::uint64_t>(env_int("CPM_CRASH_SEED", std::random_device{}()));
  const auto child = child_executable();
  INFO("seed " << seed << " (CPM_CRASH_SEED reproduces the choices, not the timing)");
  REQUIRE(std::filesystem::exists(child));
  std::mt19937_64 rng(seed);

  const auto expected_schema = [] {
    auto memory = cpm::store::open_memory();
    return schema_of(memory.db());
  }();

  cpm_test::temp_dir dir;
  std::filesystem::path path;
  std::map<std::int64_t, std::string> alive;
  std::int64_t next = 1;
  std::int64_t reported = 0, unreported_committed = 0, before_first_commit = 0, databases = 0;
  const auto started = std::chrono::steady_clock::now();

  for (std::int64_t round = 0; round < kills; ++round) {
    INFO("round " << round);
    // Every 40th round starts a new database, so that kills also land in its creation and
    // first migration.
    const bool fresh = round % 40 == 0;
    if (fresh) {
      path = dir / fmt::format("crash-{}.db", databases++);
      alive.clear();
    }

    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    const std::string child_path = child.string(), db_arg = path.string(), start_arg = std::to_string(next),
                      seed_arg = std::to_string(rng());
    char* args[] = {const_cast<char*>(child_path.c_str()), const_cast<char*>(db_arg.c_str()),
                    const_cast<char*>(start_arg.c_str()), const_cast<char*>(seed_arg.c_str()), nullptr};
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, child_path.c_str(), &actions, nullptr, args, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    REQUIRE(spawned == 0);

    // A quarter of the kills (and those on a new database) come blind, after 0-30 ms, often
    // while the child opens or migrates the database; the others come 0-25 ms after its first
    // commit, inside the stream of transactions.
    if (fresh || rng() % 4 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30000));
    } else {
      pollfd p{fds[0], POLLIN, 0};
      int ready = ::poll(&p, 1, 20000);
      REQUIRE(ready == 1);
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 25000));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      ::close(fds[0]);
      FAIL("the child ended by itself (status " << status << "), see its message above");
    }

    // Everything the child reported before it died.
    std::vector<record> records;
    {
      std::string bytes;
      char buffer[4096];
      for (;;) {
        ssize_t got = ::read(fds[0], buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        REQUIRE(got >= 0);
        if (got == 0) break;
        bytes.append(buffer, static_cast<std::size_t>(got));
      }
      ::close(fds[0]);
      REQUIRE(bytes.size() % sizeof(record) == 0);
      records.resize(bytes.size() / sizeof(record));
      if (!records.empty()) std::memcpy(records.data(), bytes.data(), bytes.size());
    }
    std::int64_t candidate = next;
    for (const auto& r : records) {
      REQUIRE(r.n == candidate);
      if (r.deleted) {
        REQUIRE(alive.count(r.deleted) == 1);
        alive.erase(r.deleted);
      }
      if (r.touched) {
        REQUIRE(alive.count(r.touched) == 1);
        alive[r.touched] = email_of(r.touched, r.n);
      }
      alive[r.n] = email_of(r.n);
      ++candidate;
    }
    reported += static_cast<std::int64_t>(records.size());
    if (records.empty()) ++before_first_commit;

    if (verify(path, alive, candidate, expected_schema)) ++unreported_committed;
    next = candidate + 1;
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "crash test: %ld kills survived in %.1f s (seed %lu): %ld transactions reported committed, %ld committed "
      "but killed before reporting, %ld kills before the first commit of their run, %ld databases, %zu "
      "transactions live in the last\n",
      static_cast<long>(kills), seconds, static_cast<unsigned long>(seed), static_cast<long>(reported),
      static_cast<long>(unreported_committed), static_cast<long>(before_first_commit), static_cast<long>(databases),
      alive.size());
  CHECK(reported >= kills / 2);  // the kills landed in a stream of transactions, not only in start-up
}
