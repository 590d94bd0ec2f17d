// cpm::pool destroyed while handles are out, with CPM_POOL_CHECKS off (release builds): the
// handles keep working, their connections close as they return, and the last one to return
// frees the pool's state, in whichever thread and in whichever order the returns and the
// destruction race. ASan (use after free, leaks) and TSan (this file is part of
// cpm_thread_tests) check the memory; the tests check what the handles see.
//
// The pool here is a basic_pool over a store type of this file's own, so that its code,
// compiled without the checks, is not the cpm::pool that other files compile with them.
#define CPM_POOL_CHECKS 0
#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>
#include <support.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

struct orphan_store : cpm::store {
  using cpm::store::basic_store;
  explicit orphan_store(cpm::store&& s) : cpm::store(std::move(s)) {}
  static orphan_store open(const std::string& path, cpm::store_options options) {
    return orphan_store(cpm::store::open(path, std::move(options)));
  }
};

using orphan_pool = cpm::basic_pool<orphan_store>;

std::int64_t count_users(cpm::store& s) { return cpm::query<std::int64_t>(s.db(), "SELECT count(*) FROM users").one(); }

}  // namespace

TEST_CASE("handles out when the pool is destroyed keep working, and the last to return frees the pool",
          "[pool][threads]") {
  cpm_test::temp_dir dir;
  const std::string path = (dir / "orphans.db").string();
  auto pool = std::make_unique<orphan_pool>(orphan_pool::open(path, {.readers = 3}));
  pool->write([](orphan_store& s) { s.create_user({.username = "alice", .email = "alice@pool.test"}); });

  auto r1 = pool->read();
  auto r2 = pool->read_latest();
  auto w = pool->write();
  w->create_user({.username = "bob", .email = "bob@pool.test"});
  CHECK(pool->stats().readers_out == 2);
  pool.reset();  // a bug in the caller, which release builds survive

  CHECK(count_users(*r1) == 1);  // its snapshot, from before bob
  CHECK(r2->user_by_name("alice"));
  w.commit();  // the writer's connection still works, and closes now
  CHECK(count_users(*r2) == 2);
  std::thread([r = std::move(r1)]() mutable { CHECK(r->user_by_name("alice")); }).join();  // returns in another thread
  {
    auto last = std::move(r2);  // frees the pool's state when it goes
  }
  auto check = cpm::store::open(path);
  CHECK(count_users(check) == 2);
}

TEST_CASE("a checkout waiting when the pool is destroyed fails with usage_error, and the pool is freed after it left",
          "[pool][threads]") {
  cpm_test::temp_dir dir;
  const std::string path = (dir / "waiting.db").string();
  for (int round = 0; round < 10; ++round) {
    auto pool = std::make_unique<orphan_pool>(orphan_pool::open(path, {.readers = 2, .wait = std::chrono::seconds(30)}));
    auto w = pool->write();  // the writer is out: the next write() waits
    std::atomic<int> outcome{0};
    std::thread waiter([&] {
      try {
        auto other = pool->write();
        outcome = 1;
      } catch (const cpm::usage_error&) {
        outcome = 2;
      }
    });
    while (pool->stats().write_waiting == 0) std::this_thread::yield();
    pool.reset();  // the waiter is woken to leave; the writer is still out
    w.rollback();  // the last handle: the state goes as soon as the waiter has left
    waiter.join();
    CHECK(outcome.load() == 2);
  }
}

TEST_CASE("handles returning while their pool is destroyed, in other threads, free it exactly once",
          "[pool][threads]") {
  cpm_test::temp_dir dir;
  const std::string path = (dir / "race.db").string();
  constexpr int threads = 4;
  for (int round = 0; round < 40; ++round) {
    auto pool = std::make_unique<orphan_pool>(orphan_pool::open(path, {.readers = 2, .max_readers = 8}));
    // Every handle is out when the pool goes; each thread returns its own while the pool is
    // being destroyed (before it closes, while it counts what is out, or after).
    std::vector<orphan_pool::reader> held;
    for (int t = 0; t < threads; ++t) held.push_back(round % 2 == 0 ? pool->read() : pool->read_latest());
    std::atomic<bool> go{false};
    std::atomic<int> reads{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, r = std::move(held[static_cast<std::size_t>(t)])]() mutable {
        while (!go.load()) std::this_thread::yield();
        if (count_users(*r) == 0) reads.fetch_add(1);
        auto gone = std::move(r);  // returns now, racing with the pool's destruction
      });
    go.store(true);
    pool.reset();
    for (auto& t : workers) t.join();
    CHECK(reads.load() == threads);
  }
}
