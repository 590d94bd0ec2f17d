// cpm benchmarks: the indexed lookups, cpm against raw sqlite3 and SQLiteCpp, and index by index.
//
// Benchmark names are <set>/<workload>/<variant>/<scale>:
//   default/<workload>/<impl>/<scale>   cpm::open_options{} settings; impl: raw, cpm, sqlitecpp
//   hot/<workload>/<impl>/<scale>       + locking_mode=EXCLUSIVE, whole file in the page cache
//   memory/insert_10k_users/<impl>/10k  in-memory database with cpm's schema
//   index/<workload>/<schema>/<scale>   cpm, default settings; schema: shipped, -idx_..., +idx_...,
//                                       -unique_<table>_<column> (the table without that UNIQUE)
//   writes/insert_10k_<table>/<schema>/10k  the write side of each index (in memory, cpm::insert_all)
// Extra impls: cpm_generic (cpm::find_one / cpm::all instead of the store's methods),
// cpm_serialized and raw_serialized (SQLITE_OPEN_FULLMUTEX), cpm_validated (store::create_users).
//
// Own flags (besides Google Benchmark's):
//   --cpm_data=DIR              cache of generated databases (default build/bench-data)
//   --cpm_lib_scale=100k        scale of the default/hot sets
//   --cpm_index_scales=1k,10k,100k
//   --cpm_sets=default,hot,memory,index,writes
//   --cpm_seed_max=10k          the seed's GetUserRepositories SQL runs at scales up to this...
//   --cpm_seed_once=100k        ...and once (1 iteration, 1 repetition) at these
//   --cpm_no_check              skip the start-up check that all variants return the same rows
//   --cpm_explain               print EXPLAIN QUERY PLAN of every workload per schema, and exit
#include "data.hpp"
#include "impl_cpm.hpp"
#include "impl_raw.hpp"
#include "impl_sqlitecpp.hpp"
#include "workloads.hpp"

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace cpm_bench {

namespace {

template <wl W, class Impl>
void bench(benchmark::State& st, Impl& impl, const keyset& k) {
  checksum sink;
  std::size_t i = 0;
  for (auto _ : st) once<W>(impl, k, i++, sink);
  benchmark::DoNotOptimize(sink.sum);
  if constexpr (W == wl::user_by_username_snapshot || W == wl::user_by_id_snapshot) st.counters["batch"] = snapshot_batch;
}

// Runtime workload -> the instantiation for Impl (nullptr when Impl lacks it).
template <class Impl>
struct dispatch {
  using bench_fn = void (*)(benchmark::State&, Impl&, const keyset&);
  using digest_fn = std::uint64_t (*)(Impl&, const keyset&, std::size_t, bool);
  template <wl W>
  static constexpr bench_fn b() {
    if constexpr (supports<W, Impl>()) return &bench<W, Impl>; else return nullptr;
  }
  template <wl W>
  static constexpr digest_fn d() {
    if constexpr (supports<W, Impl>()) return &result_digest<W, Impl>; else return nullptr;
  }
  static std::pair<bench_fn, digest_fn> of(wl w) {
    switch (w) {
#define CPM_BENCH_CASE(x) case wl::x: return {b<wl::x>(), d<wl::x>()};
      CPM_BENCH_CASE(user_by_username)
      CPM_BENCH_CASE(user_by_id)
      CPM_BENCH_CASE(org_repositories)
      CPM_BENCH_CASE(user_repositories)
      CPM_BENCH_CASE(org_members)
      CPM_BENCH_CASE(access_level)
      CPM_BENCH_CASE(neighbor_servers)
      CPM_BENCH_CASE(user_by_public_key)
      CPM_BENCH_CASE(user_by_fingerprint)
      CPM_BENCH_CASE(repository_by_path)
      CPM_BENCH_CASE(all_users)
      CPM_BENCH_CASE(user_by_username_snapshot)
      CPM_BENCH_CASE(user_by_id_snapshot)
      CPM_BENCH_CASE(repository_grants)
      CPM_BENCH_CASE(seed_user_repositories)
#undef CPM_BENCH_CASE
    }
    return {nullptr, nullptr};
  }
};

// ---- lazily opened connections, alive for the whole run ------------------------------------------

template <class T>
class lazy {
 public:
  explicit lazy(std::function<std::unique_ptr<T>()> make) : make_(std::move(make)) {}
  T& get() {
    if (!obj_) obj_ = make_();
    return *obj_;
  }

 private:
  std::function<std::unique_ptr<T>()> make_;
  std::unique_ptr<T> obj_;
};

// Type-erased handle: a connection (of some Impl) and how to run or check a workload on it.
struct target {
  std::string impl;                                                   // "raw", "cpm", ...
  std::function<bool(wl)> has;
  std::function<void(wl, benchmark::State&, const keyset&)> run;
  std::function<std::uint64_t(wl, const keyset&, std::size_t, bool)> check;
  std::function<sqlite3*()> native;
};

std::deque<std::unique_ptr<void, void (*)(void*)>> keep_alive;

template <class Impl>
target make_target(std::string impl, std::function<std::unique_ptr<Impl>()> make) {
  auto* holder = new lazy<Impl>(std::move(make));
  keep_alive.emplace_back(holder, [](void* p) { delete static_cast<lazy<Impl>*>(p); });
  target t;
  t.impl = std::move(impl);
  t.has = [](wl w) { return dispatch<Impl>::of(w).first != nullptr; };
  t.run = [holder](wl w, benchmark::State& st, const keyset& k) {
    auto fn = dispatch<Impl>::of(w).first;
    fn(st, holder->get(), k);
  };
  t.check = [holder](wl w, const keyset& k, std::size_t calls, bool unordered) {
    return dispatch<Impl>::of(w).second(holder->get(), k, calls, unordered);
  };
  t.native = [holder] { return holder->get().native(); };
  return t;
}

// ---- options -------------------------------------------------------------------------------------

struct options {
  std::filesystem::path data = "build/bench-data";
  std::string lib_scale = "100k";
  std::vector<std::string> index_scales = {"1k", "10k", "100k"};
  std::set<std::string> sets = {"default", "hot", "memory", "index", "writes"};
  std::string seed_max = "10k";
  std::vector<std::string> seed_once;
  bool check = true;
  bool explain = false;
};

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
    else if (auto v = value("--cpm_lib_scale")) o.lib_scale = *v;
    else if (auto v = value("--cpm_index_scales")) o.index_scales = split(*v);
    else if (auto v = value("--cpm_sets")) { auto s = split(*v); o.sets = {s.begin(), s.end()}; }
    else if (auto v = value("--cpm_seed_max")) o.seed_max = *v;
    else if (auto v = value("--cpm_seed_once")) o.seed_once = split(*v);
    else if (a == "--cpm_no_check") o.check = false;
    else if (a == "--cpm_explain") o.explain = true;
    else {
      std::fprintf(stderr, "bench_lookups: unknown argument '%s'\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

scale need_scale(const std::string& text) {
  auto s = parse_scale(text);
  if (!s) {
    std::fprintf(stderr, "bench_lookups: '%s' is not a scale (1k, 10k, 100k, 1m)\n", text.c_str());
    std::exit(2);
  }
  return *s;
}

// ---- the sets ------------------------------------------------------------------------------------

constexpr wl lib_workloads[] = {
    wl::user_by_username, wl::user_by_id,       wl::org_repositories,   wl::user_repositories,
    wl::org_members,      wl::access_level,     wl::neighbor_servers,   wl::user_by_public_key,
    wl::user_by_fingerprint, wl::repository_by_path,
    wl::all_users,        wl::user_by_username_snapshot, wl::user_by_id_snapshot,
};

// Which workloads an index can change.
std::vector<wl> affected_by(std::string_view index) {
  if (index == "idx_org_members_user_id") return {wl::user_repositories, wl::access_level};
  if (index == "idx_users_public_key") return {wl::user_by_public_key};
  if (index == "idx_repositories_org_id") return {wl::org_repositories, wl::user_repositories};
  if (index == "idx_repo_access_user_id") return {wl::user_repositories};
  if (index == "idx_repo_access_repo_id") return {wl::repository_grants, wl::access_level};
  if (index == "idx_servers_is_neighbor") return {wl::neighbor_servers};
  if (index == "idx_repositories_path") return {wl::repository_by_path};
  if (index == "unique_user_keys_fingerprint") return {wl::user_by_fingerprint};
  if (index == "unique_user_keys_public_key") return {wl::user_by_public_key};
  return {};
}

struct suite {
  options opt;
  std::deque<keyset> keys;  // stable addresses
  std::map<std::string, const keyset*> keys_by_scale;
  struct entry {
    std::string name;
    wl w;
    target* t;
    const keyset* k;
  };
  std::deque<target> targets;
  std::vector<entry> entries;
  // checks: groups of targets that must agree, per (set, scale)
  struct check_group {
    std::string label;
    std::vector<target*> members;  // the first is the reference
    std::vector<wl> workloads;
    const keyset* k;
    std::size_t calls;
  };
  std::vector<check_group> checks;

  const keyset& keys_for(const scale& s) {
    auto it = keys_by_scale.find(s.name);
    if (it != keys_by_scale.end()) return *it->second;
    auto path = database(opt.data, s, find_variant("shipped"));
    keys.push_back(make_keys(path, s));
    keys_by_scale[s.name] = &keys.back();
    return keys.back();
  }

  target* add(target t) {
    targets.push_back(std::move(t));
    return &targets.back();
  }

  void add_bench(const std::string& name, wl w, target* t, const keyset& k, int repetitions = 0, int iterations = 0) {
    entries.push_back({name, w, t, &k});
    auto* b = benchmark::RegisterBenchmark(name.c_str(), [w, t, kp = &k](benchmark::State& st) { t->run(w, st, *kp); });
    b->Unit(benchmark::kMicrosecond);
    if (repetitions) b->Repetitions(repetitions);
    if (iterations) b->Iterations(iterations);
  }

  void lib_set(const std::string& set) {
    const bool hot = set == "hot";
    scale s = need_scale(opt.lib_scale);
    const keyset& k = keys_for(s);
    std::string path = database(opt.data, s, find_variant("shipped")).string();
    auto file_for = [hot, path](const std::string& impl) {
      return hot ? private_copy(path, "hot-" + impl).string() : path;
    };
    conn_config c{hot, false};
    conn_config cs{hot, true};
    target* raw = add(make_target<raw_impl>("raw", [=] { return std::make_unique<raw_impl>(file_for("raw"), c); }));
    target* cpm = add(make_target<cpm_impl>("cpm", [=] { return std::make_unique<cpm_impl>(file_for("cpm"), c); }));
    target* cpp = add(make_target<sqlitecpp_impl>("sqlitecpp", [=] { return std::make_unique<sqlitecpp_impl>(file_for("sqlitecpp"), c); }));
    target* gen = add(make_target<cpm_generic_impl>("cpm_generic", [=] { return std::make_unique<cpm_generic_impl>(file_for("cpm_generic"), c); }));
    for (wl w : lib_workloads)
      for (target* t : {raw, cpm, cpp}) add_bench(fmt::format("{}/{}/{}/{}", set, name_of(w), t->impl, s.name), w, t, k);
    for (wl w : {wl::user_by_username, wl::user_by_public_key, wl::access_level, wl::all_users})
      add_bench(fmt::format("{}/{}/{}/{}", set, name_of(w), gen->impl, s.name), w, gen, k);
    std::vector<target*> members{raw, cpm, cpp, gen};
    if (hot) {
      target* cser = add(make_target<cpm_impl>("cpm_serialized", [=] { return std::make_unique<cpm_impl>(file_for("cpm_serialized"), cs); }));
      target* rser = add(make_target<raw_impl>("raw_serialized", [=] { return std::make_unique<raw_impl>(file_for("raw_serialized"), cs); }));
      for (wl w : {wl::user_by_username, wl::user_by_id, wl::access_level, wl::user_by_username_snapshot})
        for (target* t : {cser, rser}) add_bench(fmt::format("{}/{}/{}/{}", set, name_of(w), t->impl, s.name), w, t, k);
      members.push_back(cser);
      members.push_back(rser);
    }
    checks.push_back({set + " " + s.name, members, {std::begin(lib_workloads), std::end(lib_workloads)}, &k, 256});
  }

  void memory_set() {
    static const std::vector<cpm::user> users = fresh_users(10000, data_seed ^ 0x696e73ULL);
    auto reg = [&](const std::string& impl, auto make) {
      using T = typename decltype(make())::element_type;
      auto holder = std::make_shared<lazy<T>>(make);
      auto* b = benchmark::RegisterBenchmark(fmt::format("memory/insert_10k_users/{}/10k", impl).c_str(), [holder](benchmark::State& st) {
        T& db = holder->get();
        db.clear();
        std::size_t n = 0;
        for (auto _ : st) {
          n += db.insert_users(users);
          st.PauseTiming();
          if (db.count() != static_cast<std::int64_t>(users.size())) st.SkipWithError("wrong row count");
          db.clear();
          st.ResumeTiming();
        }
        benchmark::DoNotOptimize(n);
        st.counters["rows"] = static_cast<double>(users.size());
      });
      b->Unit(benchmark::kMillisecond);
    };
    reg("raw", [] { return std::make_unique<raw_insert>(); });
    reg("cpm", [] { return std::make_unique<cpm_insert>(false); });
    reg("sqlitecpp", [] { return std::make_unique<sqlitecpp_insert>(); });
    reg("cpm_validated", [] { return std::make_unique<cpm_insert>(true); });
  }

  // The write cost of each index: 10,000 rows into the table it belongs to, with and without it.
  void write_set() {
    struct table_rows {
      const char* table;
      std::function<std::size_t(index_write_db&)> insert;
    };
    static const auto users = [] {
      auto v = fresh_users(10000, data_seed ^ 0x777269ULL);
      for (auto& u : v) u.username = "w" + u.username;
      return v;
    }();
    static const auto repos = index_write_db::make_repositories(10000, "w");
    static const auto members = index_write_db::make_members();
    static const auto grants = index_write_db::make_grants();
    static const auto user_keys = index_write_db::make_user_keys();
    const table_rows tables[] = {
        {"users", [](index_write_db& db) { return db.insert(users); }},
        {"repositories", [](index_write_db& db) { return db.insert(repos); }},
        {"org_members", [](index_write_db& db) { return db.insert(members); }},
        {"repo_access", [](index_write_db& db) { return db.insert(grants); }},
        {"user_keys", [](index_write_db& db) { return db.insert(user_keys); }},
    };
    auto index_table = [](std::string_view index) -> std::string_view {
      if (index == "idx_users_public_key") return "users";
      if (index == "idx_repositories_org_id") return "repositories";
      if (index == "idx_org_members_user_id") return "org_members";
      if (index == "idx_repo_access_user_id" || index == "idx_repo_access_repo_id") return "repo_access";
      if (index == "idx_repositories_path") return "repositories";
      if (index == "unique_user_keys_fingerprint" || index == "unique_user_keys_public_key") return "user_keys";
      return {};
    };
    for (const auto& v : schema_variants()) {
      auto holder = std::make_shared<lazy<index_write_db>>([v] { return std::make_unique<index_write_db>(v); });
      for (const auto& t : tables) {
        if (v.name != "shipped" && index_table(v.name.substr(1)) != t.table) continue;
        std::string table = t.table;
        auto insert = t.insert;
        auto* b = benchmark::RegisterBenchmark(
            fmt::format("writes/insert_10k_{}/{}/10k", table, v.name).c_str(), [holder, table, insert](benchmark::State& st) {
              index_write_db& db = holder->get();
              db.clear(table);
              std::size_t n = 0;
              for (auto _ : st) {
                n += insert(db);
                st.PauseTiming();
                db.clear(table);
                st.ResumeTiming();
              }
              benchmark::DoNotOptimize(n);
            });
        b->Unit(benchmark::kMillisecond);
      }
    }
  }

  void index_set() {
    scale seed_max = need_scale(opt.seed_max);
    std::vector<std::string> scales = opt.index_scales;
    for (const auto& once : opt.seed_once)
      if (std::find(scales.begin(), scales.end(), once) == scales.end()) scales.push_back(once);
    for (const auto& scale_name : scales) {
      scale s = need_scale(scale_name);
      bool listed = std::find(opt.index_scales.begin(), opt.index_scales.end(), scale_name) != opt.index_scales.end();
      bool seed_once = std::find(opt.seed_once.begin(), opt.seed_once.end(), scale_name) != opt.seed_once.end();
      const keyset& k = keys_for(s);
      std::map<std::string, target*> by_variant;
      target* shipped = nullptr;
      for (const auto& v : schema_variants()) {
        std::string path = database(opt.data, s, v).string();
        target* t = add(make_target<cpm_impl>("cpm", [path] { return std::make_unique<cpm_impl>(path, conn_config{}); }));
        if (v.name == "shipped") shipped = t;
        std::vector<wl> work;
        if (v.name == "shipped") {
          if (listed)
            work = {wl::user_by_username,    wl::user_by_id,         wl::org_repositories, wl::user_repositories,
                    wl::org_members,         wl::access_level,       wl::neighbor_servers, wl::user_by_public_key,
                    wl::user_by_fingerprint, wl::repository_by_path, wl::repository_grants};
        } else if (listed) {
          work = affected_by(v.name.substr(1));
          checks.push_back({"index " + s.name + " " + v.name, {shipped, t}, work, &k, 24});
        }
        for (wl w : work) add_bench(fmt::format("index/{}/{}/{}", name_of(w), v.name, s.name), w, t, k);
      }
      // The seed's SQL beside cpm's: same rows (in no particular order).
      if (listed && s.users <= seed_max.users) {
        add_bench(fmt::format("index/{}/shipped/{}", name_of(wl::seed_user_repositories), s.name), wl::seed_user_repositories, shipped, k);
        seed_checks.push_back({shipped, &k, s.name});
      } else if (seed_once) {
        add_bench(fmt::format("index/{}/shipped/{}", name_of(wl::seed_user_repositories), s.name), wl::seed_user_repositories, shipped, k, 1, 1);
      }
    }
  }

  struct seed_check {
    target* t;
    const keyset* k;
    std::string scale;
  };
  std::vector<seed_check> seed_checks;

  // Every variant must return the same results as the first of its group.
  bool run_checks() {
    bool ok = true;
    for (const auto& g : checks) {
      for (wl w : g.workloads) {
        std::size_t calls = w == wl::all_users ? 1 : g.calls;
        if (w == wl::user_by_username_snapshot || w == wl::user_by_id_snapshot) calls = g.calls / snapshot_batch;
        std::uint64_t ref = g.members[0]->check(w, *g.k, calls, false);
        for (std::size_t m = 1; m < g.members.size(); ++m) {
          if (!g.members[m]->has(w)) continue;
          std::uint64_t got = g.members[m]->check(w, *g.k, calls, false);
          if (got != ref) {
            std::fprintf(stderr, "check FAILED: %s %s: %s differs from %s\n", g.label.c_str(), name_of(w),
                         g.members[m]->impl.c_str(), g.members[0]->impl.c_str());
            ok = false;
          }
        }
      }
      std::fprintf(stderr, "check: %s: %zu variants agree on %zu workloads\n", g.label.c_str(), g.members.size(), g.workloads.size());
    }
    for (const auto& c : seed_checks) {
      std::uint64_t ours = c.t->check(wl::user_repositories, *c.k, 8, true);
      std::uint64_t seed = c.t->check(wl::seed_user_repositories, *c.k, 8, true);
      if (ours != seed) {
        std::fprintf(stderr, "check FAILED: %s: the seed's SQL and user_repositories differ\n", c.scale.c_str());
        ok = false;
      } else {
        std::fprintf(stderr, "check: %s: the seed's SQL returns the same repositories as cpm's UNION (8 users)\n", c.scale.c_str());
      }
    }
    return ok;
  }
};

// ---- EXPLAIN QUERY PLAN of every workload, per schema variant -------------------------------------

void explain_all(const options& opt) {
  scale s = need_scale(opt.index_scales.empty() ? opt.lib_scale : opt.index_scales.front());
  using namespace cpm;
  struct q {
    const char* workload;
    std::string_view sql;
  };
  const q queries[] = {
      {"user_by_username", detail::select_where_sql<user, field_index<&user::username>>.view()},
      {"user_by_id", sql_text::select_by_key<user>},
      {"user_by_public_key", detail::user_by_key_sql<>.view()},
      {"user_by_public_key (a key only in users.public_key)", detail::user_by_original_key_sql<>.view()},
      {"user_by_fingerprint", detail::user_by_fingerprint_sql<>.view()},
      {"repository_by_path", detail::select_where_sql<repository, field_index<&repository::path>>.view()},
      {"org_repositories", detail::select_where_sql<repository, field_index<&repository::org_id>>.view()},
      {"user_repositories", detail::user_repositories_sql<>.view()},
      {"org_members", detail::org_members_sql<>.view()},
      {"access_level", detail::access_level_sql<>.view()},
      {"neighbor_servers", detail::select_where_sql<server, field_index<&server::is_neighbor>>.view()},
      {"repository_grants", detail::select_where_sql<repo_access, field_index<&repo_access::repo_id>>.view()},
      {"all_users (list_users)", detail::select_page_sql<user>.view()},
      {"user_repositories_seed_sql", cpm_bench::hand_sql::seed_user_repositories},
  };
  std::map<std::string, long long> index_kib;
  for (const auto& v : schema_variants()) {
    auto store = open_cpm(database(opt.data, s, v).string(), conn_config{});
    std::vector<std::string> wanted;
    if (v.name != "shipped")
      for (wl w : affected_by(v.name.substr(1))) wanted.push_back(name_of(w));
    std::printf("### schema %s (%s users)%s\n\n", v.name.c_str(), s.name.c_str(),
                v.name == "shipped" ? "" : ": the workloads this index can change");
    auto sizes = store.db().prepare("SELECT name, sum(pgsize) / 1024 FROM dbstat GROUP BY name");
    while (sizes.step()) index_kib.emplace(sizes.column<std::string>(0), sizes.column<long long>(1));
    for (const auto& query : queries) {
      if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), std::string(query.workload)) == wanted.end()) continue;
      auto plan = cpm::explain(store.db(), query.sql);
      std::printf("%s:\n  %s\n", query.workload, std::string(query.sql).c_str());
      std::string text = plan.text();
      std::size_t start = 0;
      while (start < text.size()) {
        auto nl = text.find('\n', start);
        std::printf("    %s\n", text.substr(start, nl - start).c_str());
        start = nl == std::string::npos ? text.size() : nl + 1;
      }
    }
    std::printf("\n");
  }
  std::printf("### sizes at %s users (KiB, from dbstat)\n\n", s.name.c_str());
  for (const auto& [name, kib] : index_kib) std::printf("  %-34s %8lld\n", name.c_str(), kib);
}

}  // namespace
}  // namespace cpm_bench

int main(int argc, char** argv) {
  using namespace cpm_bench;
  benchmark::Initialize(&argc, argv);
  options opt = parse_options(argc, argv);
  if (opt.explain) {
    explain_all(opt);
    return 0;
  }

  benchmark::AddCustomContext("sqlite_version", sqlite3_libversion());
  benchmark::AddCustomContext("sqlite_threadsafe", std::to_string(sqlite3_threadsafe()));
  benchmark::AddCustomContext("cpm_version", CPM_VERSION_STRING);
  benchmark::AddCustomContext("lib_scale", opt.lib_scale);

  static suite s;
  s.opt = opt;
  if (opt.sets.count("default")) s.lib_set("default");
  if (opt.sets.count("hot")) s.lib_set("hot");
  if (opt.sets.count("memory")) s.memory_set();
  if (opt.sets.count("index")) s.index_set();
  if (opt.sets.count("writes")) s.write_set();

  if (opt.check && !s.run_checks()) {
    std::fprintf(stderr, "bench_lookups: the variants disagree; not benchmarking\n");
    return 1;
  }
  // What each connection really got (sqlite3_db_mutex is null under SQLITE_OPEN_NOMUTEX).
  std::set<std::string> seen;
  for (auto& t : s.targets) {
    if (!seen.insert(t.impl).second) continue;
    if (opt.check) benchmark::AddCustomContext("threading_" + t.impl, threading_of(t.native()));
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
