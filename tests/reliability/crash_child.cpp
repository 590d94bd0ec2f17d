// The child of the crash test (tests/crash_test.cpp): runs random committed transactions
// through cpm::store on a file database (WAL, cpm's defaults) until it is killed.
//
//   cpm_crash_child DB START SEED
//
// Transaction n (n = START, START+1, ...) writes, all or nothing:
//   user u<n> (email u<n>@crash.test), organization o<n> owned by u<n> (one org_members row),
//   k repositories r<n>_0 .. r<n>_<k-1> in o<n>, each with an admin grant to u<n>,
// and, at random, also
//   deletes a live earlier transaction m's organization and user (cascading to their
//   repositories, memberships and grants), and/or
//   changes the email of another live transaction t's user to u<t>.<n>@crash.test.
// The organization's description records "n:k:m:t:" (then padding that makes the WAL grow),
// so the checker can tell what a transaction it never heard of was meant to hold.
//
// After COMMIT returns, the child writes a 24-byte record {n, m, t} to stdout, a pipe read
// by the parent. A write of at most PIPE_BUF bytes to a pipe is atomic, and what is in the
// pipe survives the writer's SIGKILL: every record the parent reads is a committed
// transaction, and at most one transaction (the one after the last record) may be committed
// without a record.
#include <cpm/cpm.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <vector>

namespace {

struct record {
  std::int64_t n;
  std::int64_t deleted;  // 0: none
  std::int64_t touched;  // 0: none
};

void write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t w = ::write(fd, p, size);
    if (w < 0) {
      if (errno == EINTR) continue;
      std::perror("crash_child: write");
      std::_Exit(3);
    }
    p += w;
    size -= static_cast<std::size_t>(w);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: cpm_crash_child DB START SEED\n");
    return 2;
  }
  const std::string path = argv[1];
  const std::int64_t start = std::strtoll(argv[2], nullptr, 10);
  std::mt19937_64 rng(std::strtoull(argv[3], nullptr, 10));
  try {
    cpm::store_options options;
    // A small auto-checkpoint threshold in some runs, so that kills also land in checkpoints.
    if (rng() % 2 == 0) options.connection.pragmas.push_back("PRAGMA wal_autocheckpoint=64");
    auto store = cpm::store::open(path, options);
    // CPM_CRASH_UNSAFE=1 runs without a journal and with a tiny page cache, so that dirty pages
    // reach the file before COMMIT: the checker must then find partial transactions. This is
    // how docs/reliability.md shows that the crash test can fail; the test never sets it.
    if (const char* unsafe = std::getenv("CPM_CRASH_UNSAFE"); unsafe && *unsafe == '1')
      store.db().exec("PRAGMA journal_mode=OFF; PRAGMA cache_size=2");

    // The live transactions: those whose organization exists.
    std::vector<std::int64_t> live;
    for (const cpm::organization& org : store.list_organizations())
      if (org.name.size() > 1 && org.name[0] == 'o') live.push_back(std::strtoll(org.name.c_str() + 1, nullptr, 10));

    auto pick = [&](std::int64_t except) -> std::int64_t {
      if (live.empty()) return 0;
      std::int64_t m = live[rng() % live.size()];
      return m == except ? 0 : m;
    };

    for (std::int64_t n = start;; ++n) {
      const int k = 1 + static_cast<int>(rng() % 4);
      const std::int64_t deleted = rng() % 2 == 0 ? pick(0) : 0;
      const std::int64_t touched = rng() % 3 == 0 ? pick(deleted) : 0;
      const std::string padding(rng() % 1500, static_cast<char>('a' + n % 26));
      {
        cpm::transaction tx(store.db());
        auto owner = store.create_user({.username = fmt::format("u{}", n), .email = fmt::format("u{}@crash.test", n)});
        auto org = store.create_organization(
            {.name = fmt::format("o{}", n), .description = fmt::format("{}:{}:{}:{}:{}", n, k, deleted, touched, padding)},
            owner.id);
        for (int i = 0; i < k; ++i) {
          store.create_repository({.name = fmt::format("r{}_{}", n, i),
                                   .org_id = org.id,
                                   .path = fmt::format("/srv/git/o{}/r{}.git", n, i),
                                   .description = padding.substr(0, padding.size() / 2)},
                                  owner.id);
        }
        if (deleted != 0) {
          store.delete_organization(store.organization_by_name(fmt::format("o{}", deleted)).value().id);
          store.delete_user(store.user_by_name(fmt::format("u{}", deleted)).value().id);
        }
        if (touched != 0) {
          auto id = store.user_by_name(fmt::format("u{}", touched)).value().id;
          store.update_user(id, {.email = fmt::format("u{}.{}@crash.test", touched, n)});
        }
        tx.commit();
      }
      const record r{n, deleted, touched};
      write_all(STDOUT_FILENO, &r, sizeof r);
      live.push_back(n);
      if (deleted != 0) std::erase(live, deleted);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash_child: %s\n", e.what());
    return 1;
  }
}
