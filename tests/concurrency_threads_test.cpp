// Concurrency, threads: several threads, each with a connection of its own, write and read one
// WAL file database at once through cpm::store. With the default busy timeout (5 s) and
// BEGIN IMMEDIATE for writers (cpm::transaction's default), no operation fails with busy, no
// write is lost, and the final counts are exact. Tagged [threads]: scripts/ci/tsan.sh runs
// these tests under ThreadSanitizer.
#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>
#include <reliability/concurrency_support.hpp>
#include <support.hpp>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

struct run_figures {
  std::int64_t writes = 0, reads = 0, busy = 0;
  std::vector<std::string> errors;
  double seconds = 0;
};

// `writers` writer threads and `readers` reader threads on the workload, all started together.
run_figures run_threads(const cpm_test::workload& w, int writers, int readers) {
  std::vector<cpm_test::workload_result> results(static_cast<std::size_t>(writers + readers));
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  auto start_line = [&] {
    ready.fetch_add(1);
    while (!go.load()) std::this_thread::yield();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t)
    threads.emplace_back([&, t] {
      start_line();
      results[static_cast<std::size_t>(t)] = w.write(fmt::format("t{}", t));
    });
  std::vector<std::thread> reader_threads;
  for (int t = 0; t < readers; ++t)
    reader_threads.emplace_back([&, t] {
      start_line();
      results[static_cast<std::size_t>(writers + t)] = w.read(fmt::format("reader{}", t), stop, 1000u + static_cast<unsigned>(t));
    });
  while (ready.load() < writers + readers) std::this_thread::yield();
  const auto started = std::chrono::steady_clock::now();
  go.store(true);
  for (auto& t : threads) t.join();
  stop.store(true);
  for (auto& t : reader_threads) t.join();
  run_figures figures;
  figures.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& r : results) {
    figures.writes += r.writes;
    figures.reads += r.reads;
    figures.busy += r.busy;
    figures.errors.insert(figures.errors.end(), r.errors.begin(), r.errors.end());
  }
  return figures;
}

}  // namespace

TEST_CASE("threads with a connection each write and read one database at once: no busy, nothing lost",
          "[concurrency][threads]") {
  constexpr int writers = 4, readers = 2, iterations = 150;
  cpm_test::temp_dir dir;
  auto w = cpm_test::make_workload((dir / "threads.db").string(), 5, iterations);

  auto figures = run_threads(w, writers, readers);
  for (const auto& e : figures.errors) UNSCOPED_INFO(e);
  CHECK(figures.busy == 0);
  CHECK(figures.errors.empty());
  CHECK(figures.writes == w.users(writers) + w.repositories(writers) + (w.grants(writers) - w.repositories(writers)) +
                              w.memberships(writers));

  auto totals = cpm_test::count_all(w.path);
  CHECK(totals.users == w.users(writers));
  CHECK(totals.repositories == w.repositories(writers));
  CHECK(totals.grants == w.grants(writers));
  CHECK(totals.memberships == w.memberships(writers));

  // Every write is there, and it reads back as written.
  auto store = cpm::store::open(w.path);
  cpm::read_snapshot snapshot(store.db());
  for (int t = 0; t < writers; ++t) {
    for (int i = 0; i < iterations; ++i) {
      auto u = store.user_by_name(fmt::format("t{}_u{}", t, i));
      REQUIRE(u);
      auto org = w.orgs[static_cast<std::size_t>(i) % w.orgs.size()];
      auto r = store.repository_by_name(org, fmt::format("t{}_r{}", t, i));
      REQUIRE(r);
      CHECK(store.access_level(u->id, r->id) == cpm::access_level::admin);
      if (i > 0) {
        auto previous = store.user_by_name(fmt::format("t{}_u{}", t, i - 1));
        REQUIRE(previous);
        CHECK(store.repo_grant(r->id, previous->id).value().access_level == cpm::access_level::read);
      }
      CHECK(store.org_membership(org, u->id).has_value() == (i % 2 == 0));
    }
  }
  CHECK(cpm::query<std::string>(store.db(), "PRAGMA integrity_check").one() == "ok");
  std::printf("threads test: %d writer + %d reader threads, %ld write transactions and %ld reads in %.2f s, %ld busy\n",
              writers, readers, static_cast<long>(figures.writes), static_cast<long>(figures.reads), figures.seconds,
              static_cast<long>(figures.busy));
}

TEST_CASE("without a busy timeout, every write blocked by another connection's lock fails at once with busy_error",
          "[concurrency][threads]") {
  // Deterministic: another connection holds the write lock for the whole run, so every write
  // transaction of every writer thread meets it. (Left to the threads alone, whether they
  // collide depends on timing.)
  constexpr int writers = 4, iterations = 20;
  cpm_test::temp_dir dir;
  auto w = cpm_test::make_workload((dir / "contention.db").string(), 5, iterations);
  w.write_busy_timeout = std::chrono::milliseconds(0);  // opened with the default, written with none
  auto holder = cpm::connection::open(w.path);
  holder.exec("BEGIN IMMEDIATE");

  auto figures = run_threads(w, writers, 0);
  for (const auto& e : figures.errors) UNSCOPED_INFO(e);
  // Each round's first write (create_user) fails, so the round ends there: one busy per round.
  CHECK(figures.busy == std::int64_t{writers} * iterations);
  CHECK(static_cast<std::int64_t>(figures.errors.size()) == figures.busy);  // nothing but busy
  CHECK(figures.writes == 0);
  holder.exec("ROLLBACK");
  CHECK(cpm_test::count_all(w.path).users == 0);

  // With the lock let go, the same load with no busy timeout may collide or not; whatever the
  // timing, every failure is a busy one and the database holds exactly the writes counted.
  auto free_run = run_threads(w, writers, 0);
  std::printf("contention check: %ld busy errors among %ld write transactions with busy_timeout 0\n",
              static_cast<long>(free_run.busy), static_cast<long>(free_run.writes));
  for (const auto& e : free_run.errors) UNSCOPED_INFO(e);
  CHECK(static_cast<std::int64_t>(free_run.errors.size()) == free_run.busy);
  auto totals = cpm_test::count_all(w.path);
  CHECK(totals.users + totals.repositories + (totals.grants - totals.repositories) + totals.memberships ==
        free_run.writes);
}

TEST_CASE("threads opening a new database at once all succeed and migrate it once", "[concurrency][threads]") {
  constexpr int openers = 6;
  cpm_test::temp_dir dir;
  const std::string path = (dir / "fresh" / "new.db").string();
  std::vector<std::string> errors(openers);
  std::vector<int> versions(openers, -1);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < openers; ++t)
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      try {
        auto store = cpm::store::open(path);
        versions[static_cast<std::size_t>(t)] = store.schema_version();
        store.create_user({.username = fmt::format("opener{}", t), .email = fmt::format("opener{}@conc.test", t)});
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  go.store(true);
  for (auto& t : threads) t.join();
  for (int t = 0; t < openers; ++t) {
    INFO("thread " << t << ": " << errors[static_cast<std::size_t>(t)]);
    CHECK(errors[static_cast<std::size_t>(t)].empty());
    CHECK(versions[static_cast<std::size_t>(t)] == cpm::store::target_version());
  }
  auto store = cpm::store::open(path);
  CHECK(cpm::query<std::int64_t>(store.db(), "SELECT count(*) FROM users").one() == openers);
  CHECK(cpm::query<std::int64_t>(store.db(), "SELECT count(*) FROM cpm_schema_history WHERE component = 'cpm.store'").one() ==
        cpm::store::target_version());
  CHECK(cpm::query<std::string>(store.db(), "PRAGMA journal_mode").one() == "wal");
}
