// Concurrency, processes: several processes, each running several threads with a connection of
// their own, write and read one WAL file database at once through cpm::store. With the default
// busy timeout and BEGIN IMMEDIATE for writers, no operation fails with busy, no write is lost,
// and the final counts are exact. (The threads-only tests are in concurrency_threads_test.cpp,
// which scripts/ci/tsan.sh runs under ThreadSanitizer.)
#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>
#include <reliability/concurrency_support.hpp>
#include <support.hpp>

#include <fmt/core.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

struct process_figures {
  std::int64_t writes = 0, reads = 0, busy = 0, errors = 0;
};

// Runs in the forked child: `writers` writer threads and one reader thread; reports its
// figures through `fd` and never returns.
[[noreturn]] void run_child(const cpm_test::workload& w, int process, int writers, int fd) {
  std::vector<cpm_test::workload_result> results(static_cast<std::size_t>(writers + 1));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t)
    threads.emplace_back([&, t] { results[static_cast<std::size_t>(t)] = w.write(fmt::format("p{}t{}", process, t)); });
  std::thread reader([&] {
    results[static_cast<std::size_t>(writers)] = w.read(fmt::format("p{}reader", process), stop, 77u + static_cast<unsigned>(process));
  });
  for (auto& t : threads) t.join();
  stop.store(true);
  reader.join();
  process_figures figures;
  for (const auto& r : results) {
    figures.writes += r.writes;
    figures.reads += r.reads;
    figures.busy += r.busy;
    figures.errors += static_cast<std::int64_t>(r.errors.size());
    for (const auto& e : r.errors) std::fprintf(stderr, "process %d: %s\n", process, e.c_str());
  }
  bool written = ::write(fd, &figures, sizeof figures) == static_cast<ssize_t>(sizeof figures);
  std::fflush(stderr);
  ::_exit(written && figures.errors == 0 ? 0 : 1);
}

}  // namespace

TEST_CASE("processes with several threads each write and read one database at once: no busy, nothing lost",
          "[concurrency][processes]") {
  constexpr int processes = 3, writers_per_process = 2, iterations = 120;
  constexpr int writers = processes * writers_per_process;
  cpm_test::temp_dir dir;
  // Made, and its connection closed, before forking: no connection crosses a fork.
  auto w = cpm_test::make_workload((dir / "processes.db").string(), 4, iterations);
  // SQLite's busy handler is not fair: under a sanitizer, with other tests running, a writer
  // lost its turn for longer than the default 5 s. What is checked here is that waiting writers
  // all get through and nothing is lost, not how long the unluckiest one waits.
  w.options.connection.busy_timeout = std::chrono::seconds(60);

  const auto started = std::chrono::steady_clock::now();
  std::vector<pid_t> children;
  std::vector<int> pipes;
  for (int p = 0; p < processes; ++p) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      run_child(w, p, writers_per_process, fds[1]);
    }
    ::close(fds[1]);
    children.push_back(pid);
    pipes.push_back(fds[0]);
  }
  process_figures total;
  for (int p = 0; p < processes; ++p) {
    int status = 0;
    REQUIRE(::waitpid(children[static_cast<std::size_t>(p)], &status, 0) == children[static_cast<std::size_t>(p)]);
    process_figures figures;
    bool got = ::read(pipes[static_cast<std::size_t>(p)], &figures, sizeof figures) == static_cast<ssize_t>(sizeof figures);
    ::close(pipes[static_cast<std::size_t>(p)]);
    INFO("process " << p << " (its errors are printed on stderr)");
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    REQUIRE(got);
    CHECK(figures.busy == 0);
    CHECK(figures.errors == 0);
    total.writes += figures.writes;
    total.reads += figures.reads;
    total.busy += figures.busy;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  auto totals = cpm_test::count_all(w.path);
  CHECK(totals.users == w.users(writers));
  CHECK(totals.repositories == w.repositories(writers));
  CHECK(totals.grants == w.grants(writers));
  CHECK(totals.memberships == w.memberships(writers));
  CHECK(total.writes == totals.users + totals.grants + totals.memberships);  // repository + grant count as one

  auto store = cpm::store::open(w.path);
  cpm::read_snapshot snapshot(store.db());
  for (int p = 0; p < processes; ++p)
    for (int t = 0; t < writers_per_process; ++t)
      for (int i = 0; i < iterations; ++i) {
        auto name = fmt::format("p{}t{}", p, t);
        auto u = store.user_by_name(fmt::format("{}_u{}", name, i));
        REQUIRE(u);
        auto org = w.orgs[static_cast<std::size_t>(i) % w.orgs.size()];
        auto r = store.repository_by_name(org, fmt::format("{}_r{}", name, i));
        REQUIRE(r);
        CHECK(store.access_level(u->id, r->id) == cpm::access_level::admin);
      }
  CHECK(cpm::query<std::string>(store.db(), "PRAGMA integrity_check").one() == "ok");
  std::printf("processes test: %d processes x (%d writer + 1 reader threads), %ld write transactions and %ld reads "
              "in %.2f s, %ld busy\n",
              processes, writers_per_process, static_cast<long>(total.writes), static_cast<long>(total.reads), seconds,
              static_cast<long>(total.busy));
}
