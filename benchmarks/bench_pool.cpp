// cpm benchmarks: many threads on one database (issue 13). cpm::pool against the other ways a
// server can share one SQLite file between threads.
//
// Benchmark names are pool/<mix>/<impl>/threads:<n>, each one timed run of --cpm_seconds
// (after a warm-up of a tenth of that), repeated by Google Benchmark's --benchmark_repetitions:
//   mix    read100 (only reads), read95 (95% reads, 5% writes), read50 (half and half)
//   impl   pool            cpm::pool, reads through pool.read() (a read snapshot per checkout;
//                          readers: --cpm_pool_readers, default the pool's own default)
//          pool_latest     the same pool, reads through pool.read_latest() (no snapshot)
//          store_thread    one cpm::store (connection) per thread
//          store_mutex     one cpm::store shared by all threads behind a std::mutex
//          raw_thread      hand-written sqlite3, one connection per thread
// A read is one point lookup: a user by id (cpm: store.get_user in a pool.read() or
// pool.read_latest() checkout, or autocommit; raw: a prepared SELECT). A write is store.update_user(id, {.email}) (a
// transaction: BEGIN IMMEDIATE, check the row, UPDATE, read it back, COMMIT; raw: the same
// statements, the same SQL text); through the pool, pool.write(f).
// Counters: ops_per_s (throughput), cpu_us_per_op (CPU time of the benchmark's threads per
// operation, which other processes on the machine disturb far less than time), read_p50_us / read_p99_us / write_p50_us / write_p99_us
// (latency of one operation, checkout included, over every thread), errors (any exception or
// failed step; busy ones also in busy). The time Google Benchmark reports is the measured span.
// pool_checkout/read and pool_checkout/read_latest (1 and 2 threads): a checkout and its
// give-back alone, with no statement, Google Benchmark's own timing, per checkout per thread.
//
// Own flags (besides Google Benchmark's):
//   --cpm_data=DIR           cache of generated databases (default build/bench-data)
//   --cpm_scale=100k         users in the data set (benchmarks/data.hpp)
//   --cpm_seconds=1.5        measured time of each run
//   --cpm_threads=1,2,4,8,16
//   --cpm_mixes=read100,read95,read50
//   --cpm_impls=pool,pool_latest,store_thread,store_mutex,raw_thread
//   --cpm_pool_readers=N     readers of `pool` (0: the pool's default, one per processor, at least 2)
//   --cpm_pragma=SQL         also run SQL on open, on every connection of every impl (repeatable),
//                            e.g. --cpm_pragma="PRAGMA mmap_size=268435456"
// Writes go to a private copy of the data set (<data>/.../private/cpm-<scale>-shipped.pool.db).
#include "data.hpp"
#include "impl_raw.hpp"
#include "workloads.hpp"

#include <cpm/cpm.hpp>

#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace cpm_bench {
namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::filesystem::path data = "build/bench-data";
  std::string scale = "100k";
  double seconds = 1.5;
  std::vector<int> threads = {1, 2, 4, 8, 16};
  std::vector<std::string> mixes = {"read100", "read95", "read50"};
  std::vector<std::string> impls = {"pool", "pool_latest", "store_thread", "store_mutex", "raw_thread"};
  std::size_t pool_readers = 0;
  std::vector<std::string> pragmas;  // run on open by every connection of every impl
};

// Set once in main, before any benchmark runs.
std::vector<std::string> extra_pragmas_all;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string> {
      std::string prefix = std::string(flag) + "=";
      if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
      return std::nullopt;
    };
    if (auto v = value("--cpm_data")) o.data = *v;
    else if (auto v = value("--cpm_scale")) o.scale = *v;
    else if (auto v = value("--cpm_seconds")) o.seconds = std::atof(v->c_str());
    else if (auto v = value("--cpm_threads")) {
      o.threads.clear();
      for (auto& t : split(*v)) o.threads.push_back(std::atoi(t.c_str()));
    } else if (auto v = value("--cpm_mixes")) o.mixes = split(*v);
    else if (auto v = value("--cpm_impls")) o.impls = split(*v);
    else if (auto v = value("--cpm_pool_readers")) o.pool_readers = static_cast<std::size_t>(std::atoll(v->c_str()));
    else if (auto v = value("--cpm_pragma")) o.pragmas.push_back(*v);
    else {
      std::fprintf(stderr, "bench_pool: unknown argument '%s'\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

int write_percent(const std::string& mix) {
  if (mix == "read100") return 0;
  if (mix == "read95") return 5;
  if (mix == "read50") return 50;
  std::fprintf(stderr, "bench_pool: unknown mix '%s'\n", mix.c_str());
  std::exit(2);
}

// ---- the implementations: each gives every thread a worker with read(id) and write(id, email) --

// Hand-written sqlite3, one connection per thread: raw_impl's lookup, and the store's write
// statements written out. The UPDATE is the very text store.update_user runs (every patchable
// column, each kept unless its flag is set), so that the rows compare the ways of sharing the
// file, not two ways to write SQL (as in bench_lookups).
class raw_worker {
 public:
  // users: id 0, username 1, email 2, public_key 3
  static inline const std::string update_sql{cpm::detail::patch_sql<cpm::user, 1, 2, 3>.view()};

  explicit raw_worker(const std::string& path) : impl_(path, conn_config{}) {
    sqlite3* db = impl_.native();
    for (const auto& sql : extra_pragmas_all)
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("raw: ") + sqlite3_errmsg(db));
    begin_ = prepare(db, "BEGIN IMMEDIATE");
    commit_ = prepare(db, "COMMIT");
    rollback_ = prepare(db, "ROLLBACK");
    exists_ = prepare(db, "SELECT 1 FROM users WHERE id = ?");
    update_ = prepare(db, update_sql.c_str());
    reread_ = prepare(db, hand_sql::user_by_id);
  }
  raw_worker(const raw_worker&) = delete;
  raw_worker& operator=(const raw_worker&) = delete;
  ~raw_worker() {
    for (auto* s : {begin_, commit_, rollback_, exists_, update_, reread_}) sqlite3_finalize(s);
  }

  bool read(std::int64_t id) { return impl_.user_by_id(id).has_value(); }

  void write(std::int64_t id, const std::string& email) {
    step(begin_);
    bool ok = false;
    try {
      sqlite3_bind_int64(exists_, 1, id);
      bool found = step(exists_) == SQLITE_ROW;
      sqlite3_reset(exists_);
      if (!found) throw std::runtime_error("raw: no such user");
      // (username: unchanged, email: this one, public_key: unchanged, id)
      sqlite3_bind_int(update_, 1, 0);
      sqlite3_bind_null(update_, 2);
      sqlite3_bind_int(update_, 3, 1);
      sqlite3_bind_text(update_, 4, email.data(), static_cast<int>(email.size()), SQLITE_STATIC);
      sqlite3_bind_int(update_, 5, 0);
      sqlite3_bind_null(update_, 6);
      sqlite3_bind_int64(update_, 7, id);
      step(update_);
      sqlite3_bind_int64(reread_, 1, id);
      step(reread_);
      sqlite3_reset(reread_);
      step(commit_);
      ok = true;
    } catch (...) {
      if (!ok && sqlite3_get_autocommit(impl_.native()) == 0) step(rollback_);
      throw;
    }
  }

 private:
  static sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("raw: ") + sqlite3_errmsg(db));
    return s;
  }
  int step(sqlite3_stmt* s) {
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      std::string message = sqlite3_errmsg(impl_.native());
      int code = sqlite3_extended_errcode(impl_.native());
      sqlite3_reset(s);
      cpm::detail::throw_sqlite(code, message, sqlite3_sql(s));  // busy_error for SQLITE_BUSY, as cpm counts it
    }
    if (rc == SQLITE_DONE) sqlite3_reset(s);
    return rc;
  }

  raw_impl impl_;
  sqlite3_stmt *begin_ = nullptr, *commit_ = nullptr, *rollback_ = nullptr, *exists_ = nullptr, *update_ = nullptr,
               *reread_ = nullptr;
};

// What a run needs: make(thread) gives thread `t` its worker. Workers are made before the
// clock starts (opening connections is not measured).
struct run_setup {
  virtual ~run_setup() = default;
  virtual void prepare_thread(int t) = 0;
  virtual bool read(int t, std::int64_t id) = 0;
  virtual void write(int t, std::int64_t id, const std::string& email) = 0;
};

struct pool_setup : run_setup {
  std::optional<cpm::pool> pool;
  bool snapshot;
  pool_setup(const std::string& path, std::size_t readers, bool snapshot_reads) : snapshot(snapshot_reads) {
    pool.emplace(cpm::pool::open(path, {.connection = {.pragmas = extra_pragmas_all},
                                        .migrate = false,
                                        .readers = readers,
                                        .wait = std::chrono::seconds(60)}));
  }
  void prepare_thread(int) override {}
  bool read(int, std::int64_t id) override {
    return (snapshot ? pool->read() : pool->read_latest())->get_user(id).has_value();
  }
  void write(int, std::int64_t id, const std::string& email) override {
    pool->write([&](cpm::store& s) { s.update_user(id, {.email = email}); });
  }
};

struct store_thread_setup : run_setup {
  std::string path;
  std::vector<std::optional<cpm::store>> stores;
  store_thread_setup(std::string p, int threads) : path(std::move(p)), stores(static_cast<std::size_t>(threads)) {}
  void prepare_thread(int t) override {
    stores[static_cast<std::size_t>(t)].emplace(
        cpm::store::open(path, {.connection = {.pragmas = extra_pragmas_all}, .migrate = false}));
  }
  bool read(int t, std::int64_t id) override { return stores[static_cast<std::size_t>(t)]->get_user(id).has_value(); }
  void write(int t, std::int64_t id, const std::string& email) override {
    stores[static_cast<std::size_t>(t)]->update_user(id, {.email = email});
  }
};

struct store_mutex_setup : run_setup {
  std::mutex m;
  std::optional<cpm::store> store;
  explicit store_mutex_setup(const std::string& path) {
    store.emplace(cpm::store::open(path, {.connection = {.pragmas = extra_pragmas_all}, .migrate = false}));
  }
  void prepare_thread(int) override {}
  bool read(int, std::int64_t id) override {
    std::lock_guard lock(m);
    return store->get_user(id).has_value();
  }
  void write(int, std::int64_t id, const std::string& email) override {
    std::lock_guard lock(m);
    store->update_user(id, {.email = email});
  }
};

struct raw_thread_setup : run_setup {
  std::string path;
  std::vector<std::unique_ptr<raw_worker>> workers;
  raw_thread_setup(std::string p, int threads) : path(std::move(p)), workers(static_cast<std::size_t>(threads)) {}
  void prepare_thread(int t) override { workers[static_cast<std::size_t>(t)] = std::make_unique<raw_worker>(path); }
  bool read(int t, std::int64_t id) override { return workers[static_cast<std::size_t>(t)]->read(id); }
  void write(int t, std::int64_t id, const std::string& email) override {
    workers[static_cast<std::size_t>(t)]->write(id, email);
  }
};

std::unique_ptr<run_setup> make_setup(const std::string& impl, const std::string& path, int threads,
                                      std::size_t pool_readers) {
  if (impl == "pool") return std::make_unique<pool_setup>(path, pool_readers, true);
  if (impl == "pool_latest") return std::make_unique<pool_setup>(path, pool_readers, false);
  if (impl == "store_thread") return std::make_unique<store_thread_setup>(path, threads);
  if (impl == "store_mutex") return std::make_unique<store_mutex_setup>(path);
  if (impl == "raw_thread") return std::make_unique<raw_thread_setup>(path, threads);
  std::fprintf(stderr, "bench_pool: unknown impl '%s'\n", impl.c_str());
  std::exit(2);
}

// ---- one run -----------------------------------------------------------------------------------

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct thread_figures {
  std::vector<std::uint32_t> read_ns, write_ns;
  double cpu_seconds = 0;  // CPU time of the thread during the measured span
  std::int64_t errors = 0, busy = 0, missing = 0;
  std::string first_error;
};

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0;
  auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
  return v[at] / 1000.0;
}

void run(benchmark::State& state, const options& o, const std::string& path, const keyset& keys,
         const std::string& impl, const std::string& mix, int threads) {
  const int writes = write_percent(mix);
  for (auto _ : state) {
    auto setup = make_setup(impl, path, threads, o.pool_readers);
    std::vector<thread_figures> figures(static_cast<std::size_t>(threads));
    std::atomic<int> phase{0};  // 0: warm-up, 1: measured, 2: stop
    std::atomic<int> ready{0};
    std::vector<std::thread> pool_threads;
    for (int t = 0; t < threads; ++t)
      pool_threads.emplace_back([&, t] {
        auto& mine = figures[static_cast<std::size_t>(t)];
        mine.read_ns.reserve(1 << 20);
        mine.write_ns.reserve(writes ? 1 << 18 : 0);
        try {
          setup->prepare_thread(t);
        } catch (const std::exception& e) {
          ++mine.errors;
          mine.first_error = e.what();
        }
        ready.fetch_add(1);
        splitmix64 rng{data_seed ^ (0x706f6f6cULL + static_cast<std::uint64_t>(t))};
        std::uint64_t n = 0;
        double cpu_started = -1;
        for (int now; (now = phase.load(std::memory_order_relaxed)) < 2;) {
          if (now == 1 && cpu_started < 0) cpu_started = thread_cpu_seconds();
          const std::int64_t id = keys.user_ids[rng.below(key_count)];
          const bool write = writes > 0 && static_cast<int>(rng.below(100)) < writes;
          std::string email;
          if (write) email = fmt::format("u{}.t{}.{}@pool.bench", id, t, n++);
          const auto started = clock_type::now();
          try {
            if (write) {
              setup->write(t, id, email);
            } else if (!setup->read(t, id)) {
              ++mine.missing;
            }
          } catch (const cpm::busy_error& e) {
            ++mine.busy;
            ++mine.errors;
            if (mine.first_error.empty()) mine.first_error = e.what();
          } catch (const std::exception& e) {
            ++mine.errors;
            if (mine.first_error.empty()) mine.first_error = e.what();
          }
          if (now == 1) {
            auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - started).count();
            (write ? mine.write_ns : mine.read_ns).push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(ns, UINT32_MAX)));
          }
        }
        if (cpu_started >= 0) mine.cpu_seconds = thread_cpu_seconds() - cpu_started;
      });
    while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds / 10));
    const auto started = clock_type::now();
    phase.store(1);
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    phase.store(2);
    const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
    for (auto& t : pool_threads) t.join();
    setup.reset();

    std::vector<std::uint32_t> reads, writes_ns;
    std::int64_t errors = 0, busy = 0, missing = 0;
    double cpu = 0;
    std::string first_error;
    for (auto& f : figures) {
      cpu += f.cpu_seconds;
      reads.insert(reads.end(), f.read_ns.begin(), f.read_ns.end());
      writes_ns.insert(writes_ns.end(), f.write_ns.begin(), f.write_ns.end());
      errors += f.errors;
      busy += f.busy;
      missing += f.missing;
      if (first_error.empty()) first_error = f.first_error;
    }
    state.SetIterationTime(elapsed);
    const double ops = static_cast<double>(reads.size() + writes_ns.size());
    state.counters["ops_per_s"] = ops / elapsed;
    state.counters["cpu_us_per_op"] = ops > 0 ? cpu * 1e6 / ops : 0;
    state.counters["read_p50_us"] = percentile(reads, 0.50);
    state.counters["read_p99_us"] = percentile(reads, 0.99);
    if (writes) {
      state.counters["write_p50_us"] = percentile(writes_ns, 0.50);
      state.counters["write_p99_us"] = percentile(writes_ns, 0.99);
    }
    state.counters["errors"] = static_cast<double>(errors);
    state.counters["busy"] = static_cast<double>(busy);
    if (missing) state.counters["missing"] = static_cast<double>(missing);
    if (!first_error.empty())
      std::fprintf(stderr, "bench_pool: %s/%s/threads:%d: %ld errors, the first: %s\n", mix.c_str(), impl.c_str(),
                   threads, static_cast<long>(errors), first_error.c_str());
  }
}

// A checkout and its give-back alone, no statement: the pool's own cost per checkout, and what
// checkouts on different processors cost each other (Google Benchmark's threads share one pool;
// time per checkout per thread).
void checkout_only(benchmark::State& st, const std::string& file, bool snapshot) {
  static std::optional<cpm::pool> pool;
  if (st.thread_index() == 0) pool.emplace(cpm::pool::open(file, {.readers = 4}));
  for (auto _ : st) {
    auto r = snapshot ? pool->read() : pool->read_latest();
    benchmark::DoNotOptimize(r);
  }
  if (st.thread_index() == 0) pool.reset();
}

}  // namespace
}  // namespace cpm_bench

int main(int argc, char** argv) {
  using namespace cpm_bench;
  benchmark::Initialize(&argc, argv);
  options o = parse_options(argc, argv);
  extra_pragmas_all = o.pragmas;
  auto s = parse_scale(o.scale);
  if (!s) {
    std::fprintf(stderr, "bench_pool: '%s' is not a scale\n", o.scale.c_str());
    return 2;
  }
  const auto source = database(o.data, *s, find_variant("shipped"));
  const std::string path = private_copy(source, "pool").string();
  static const keyset keys = make_keys(path, *s);
  std::fprintf(stderr, "bench_pool: %s, %zu processors, pool readers %s\n", path.c_str(),
               static_cast<std::size_t>(std::thread::hardware_concurrency()),
               o.pool_readers ? std::to_string(o.pool_readers).c_str() : "default");
  static const options opts = o;
  static const std::string file = path;
  for (const auto& mix : o.mixes)
    for (const auto& impl : o.impls)
      for (int threads : o.threads) {
        auto* b = benchmark::RegisterBenchmark(
            fmt::format("pool/{}/{}/threads:{}", mix, impl, threads).c_str(),
            [mix, impl, threads](benchmark::State& st) { run(st, opts, file, keys, impl, mix, threads); });
        b->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
      }
  for (bool snapshot : {true, false})
    benchmark::RegisterBenchmark(snapshot ? "pool_checkout/read" : "pool_checkout/read_latest",
                                 [snapshot](benchmark::State& st) { checkout_only(st, file, snapshot); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
