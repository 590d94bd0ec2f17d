// The code of docs/pool.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// A private scratch directory, removed at exit.
struct scratch {
  std::string path;
  scratch() {
    char pattern[] = "/tmp/cpm-pool-example-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~scratch() { std::filesystem::remove_all(path); }
};

}  // namespace

int main() try {
  scratch dir;
  const std::string database = dir.path + "/cpm.db";

  // [snippet:open]
  // One writer and 8 readers; a checkout waits at most 2 s for a free connection.
  auto pool = cpm::pool::open(database, {.readers = 8, .wait = 2s});
  // [end:open]
  CHECK(pool.reader_count() == 8);

  // [snippet:write_fn]
  // Committed when the function returns, rolled back if it throws; returns what it returns.
  std::int64_t acme = pool.write([](cpm::store& s) {
    cpm::user alice = s.create_user({.username = "alice", .email = "alice@example.org"});
    return s.create_organization({.name = "acme"}, alice.id).id;  // alice owns acme
  });
  // [end:write_fn]

  // [snippet:write_handle]
  {
    auto w = pool.write();  // BEGIN IMMEDIATE on the writer connection
    cpm::user bob = w->create_user({.username = "bob", .email = "bob@example.org"});
    w->add_org_member(acme, bob.id, cpm::org_role::member);
    w.commit();  // without it, destroying `w` rolls both back
  }
  // [end:write_handle]

  // [snippet:read]
  {
    auto r = pool.read();  // a reader; every read through it sees the same snapshot
    std::optional<cpm::user> alice = r->user_by_name("alice");
    for (const cpm::member_info& m : r->org_members(acme))
      fmt::print("{} {}\n", m.username, m.role == cpm::org_role::owner ? "owns acme" : "is a member");
    CHECK(alice && alice->id == 1);
  }  // the reader goes back to the pool here
  // [end:read]

  // [snippet:read_fn]
  auto members = pool.read([&](cpm::store& s) { return s.org_members(acme).to_vector().size(); });
  // [end:read_fn]

  // [snippet:read_latest]
  // One query per request: no snapshot to begin and end; the read sees the latest commit.
  std::optional<cpm::user> found = pool.read_latest()->user_by_name("alice");
  // [end:read_latest]
  CHECK(found && found->username == "alice");
  CHECK(members == 2);

  // [snippet:threads]
  std::vector<std::thread> workers;
  std::atomic<int> served{0};
  for (int t = 0; t < 16; ++t)
    workers.emplace_back([&pool, &served, acme, t] {
      for (int request = 0; request < 50; ++request) {
        if (request % 10 == 0) {
          pool.write([&](cpm::store& s) {  // writers queue on the pool, not on SQLite's busy handler
            s.create_user({.username = fmt::format("user{}_{}", t, request), .email = "u@example.org"});
          });
        } else {
          auto r = pool.read();  // readers never wait for the writer (WAL)
          if (r->get_organization(acme)) ++served;
        }
      }
    });
  for (auto& w : workers) w.join();
  // [end:threads]
  CHECK(served.load() == 16 * 45);
  CHECK(pool.read([](cpm::store& s) { return cpm::query<std::int64_t>(s.db(), "SELECT count(*) FROM users").one(); }) ==
        2 + 16 * 5);

  // [snippet:timeout]
  {
    auto w = pool.write();
    auto r = pool.read();
    std::thread other([&pool] {
      try {
        pool.write([](cpm::store&) {});  // the writer is out for longer than `wait`
      } catch (const cpm::pool_timeout& e) {
        // "cpm::pool: the writer connection did not come free within 2000 ms (2 handles out:
        //  1 of 8 readers, the writer out; the oldest out for 2001 ms) ..."
        fmt::print("{}\n", e.what());
        fmt::print("{} handles out, the oldest for {} ms\n", e.handles_out(), e.oldest_out().count());
      }
    });
    other.join();
  }
  // [end:timeout]
  CHECK(pool.stats().timeouts == 1);

  // [snippet:broken]
  {
    auto r = pool.read();
    r->db().exec("PRAGMA cache_size=-262144");  // a setting for this request only
    r.mark_broken();  // so the connection is closed when `r` returns, and a fresh one takes its place
  }
  fmt::print("{} connection(s) replaced so far\n", pool.stats().replaced);
  // [end:broken]
  CHECK(pool.stats().replaced == 1);
  CHECK(pool.read()->user_by_name("bob"));

  // [snippet:stats]
  cpm::pool_stats now = pool.stats();
  fmt::print("{} readers ({} out), writer {}, {} reads and {} writes served, {} timeouts\n", now.readers,
             now.readers_out, now.writer_out ? "out" : "free", now.reads, now.writes, now.timeouts);
  // [end:stats]
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "pool_example: %s\n", e.what());
  return 1;
}
