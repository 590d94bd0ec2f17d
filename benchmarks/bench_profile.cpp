// cpm benchmarks: one workload, one implementation, a fixed number of calls; for counting
// instructions per call under callgrind, which a shared, noisy machine cannot disturb.
//
//   valgrind --tool=callgrind --collect-atstart=no build/bench/benchmarks/bench_profile
//       --workload=user_by_id --impl=cpm --calls=4096 [--hot] [--scale=10k] [--cpm_data=DIR]
// Implementations: raw, cpm, cpm_generic, sqlitecpp (each with _serialized: SQLITE_OPEN_FULLMUTEX),
// cpm_pool (each call a pool.read_latest() checkout), cpm_pool_snapshot (pool.read()).
//
// It opens the connection, runs the workload `calls` times untimed (statements prepared, pages
// cached), then runs it `calls` more times with callgrind collecting (CALLGRIND_TOGGLE_COLLECT),
// so the instructions counted are those of the calls alone. benchmarks/profile.sh divides.
#include "data.hpp"
#include "impl_cpm.hpp"
#include "impl_raw.hpp"
#include "impl_sqlitecpp.hpp"
#include "workloads.hpp"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using namespace cpm_bench;

template <wl W, class Impl>
void measure(Impl& impl, const keyset& k, std::size_t calls) {
  if constexpr (supports<W, Impl>()) {
    checksum sink;
    for (std::size_t i = 0; i < calls; ++i) once<W>(impl, k, i, sink);  // warm-up, not counted
    CALLGRIND_TOGGLE_COLLECT;
    for (std::size_t i = 0; i < calls; ++i) once<W>(impl, k, i, sink);
    CALLGRIND_TOGGLE_COLLECT;
    std::printf("%s checksum %llu\n", name_of(W), static_cast<unsigned long long>(sink.sum));
  } else {
    std::fprintf(stderr, "bench_profile: this implementation has no %s\n", name_of(W));
    std::exit(2);
  }
}

template <class Impl>
void run(wl w, Impl& impl, const keyset& k, std::size_t calls) {
  switch (w) {
#define CPM_PROFILE_CASE(x) case wl::x: measure<wl::x>(impl, k, calls); break;
    CPM_PROFILE_CASE(user_by_username)
    CPM_PROFILE_CASE(user_by_id)
    CPM_PROFILE_CASE(org_repositories)
    CPM_PROFILE_CASE(user_repositories)
    CPM_PROFILE_CASE(org_members)
    CPM_PROFILE_CASE(access_level)
    CPM_PROFILE_CASE(neighbor_servers)
    CPM_PROFILE_CASE(user_by_public_key)
    CPM_PROFILE_CASE(user_by_fingerprint)
    CPM_PROFILE_CASE(repository_by_path)
    CPM_PROFILE_CASE(all_users)
    CPM_PROFILE_CASE(user_by_username_snapshot)
    CPM_PROFILE_CASE(user_by_id_snapshot)
    CPM_PROFILE_CASE(repository_grants)
    CPM_PROFILE_CASE(seed_user_repositories)
#undef CPM_PROFILE_CASE
  }
}

template <class Insert>
void run_insert(std::size_t calls) {
  auto users = fresh_users(10000, data_seed ^ 0x696e73ULL);
  Insert db;
  for (std::size_t i = 0; i < calls; ++i) {
    db.insert_users(users);
    db.clear();
  }
  for (std::size_t i = 0; i < calls; ++i) {
    CALLGRIND_TOGGLE_COLLECT;
    db.insert_users(users);
    CALLGRIND_TOGGLE_COLLECT;
    db.clear();
  }
  std::printf("insert_10k_users rows %lld\n", static_cast<long long>(users.size()));
}

}  // namespace

int main(int argc, char** argv) {
  std::string workload = "user_by_id", impl = "cpm", scale_name = "10k", data = "build/bench-data";
  std::size_t calls = 4096;
  bool hot = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      std::size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 && a.size() > n && a[n] == '=' ? argv[i] + n + 1 : nullptr;
    };
    if (auto v = value("--workload")) workload = v;
    else if (auto v = value("--impl")) impl = v;
    else if (auto v = value("--scale")) scale_name = v;
    else if (auto v = value("--cpm_data")) data = v;
    else if (auto v = value("--calls")) calls = std::strtoull(v, nullptr, 10);
    else if (a == "--hot") hot = true;
    else {
      std::fprintf(stderr, "bench_profile: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (workload == "insert_10k_users") {
    if (impl == "raw") run_insert<raw_insert>(calls);
    else if (impl == "cpm") run_insert<cpm_insert>(calls);
    else if (impl == "sqlitecpp") run_insert<sqlitecpp_insert>(calls);
    else return 2;
    return 0;
  }
  auto w = parse_workload(workload);
  auto s = parse_scale(scale_name);
  if (!w || !s) {
    std::fprintf(stderr, "bench_profile: unknown workload or scale\n");
    return 2;
  }
  std::string path = database(data, *s, find_variant("shipped")).string();
  keyset k = make_keys(path, *s);
  conn_config c{hot, impl.ends_with("_serialized")};
  if (hot) path = private_copy(path, "profile-" + impl).string();
  if (impl == "raw" || impl == "raw_serialized") {
    raw_impl db(path, c);
    run(*w, db, k, calls);
  } else if (impl == "cpm" || impl == "cpm_serialized") {
    cpm_impl db(path, c);
    run(*w, db, k, calls);
  } else if (impl == "cpm_generic") {
    cpm_generic_impl db(path, c);
    run(*w, db, k, calls);
  } else if (impl == "cpm_pool" || impl == "cpm_pool_snapshot") {
    cpm_pool_impl db(path, c, impl == "cpm_pool_snapshot");
    run(*w, db, k, calls);
  } else if (impl == "sqlitecpp") {
    sqlitecpp_impl db(path, c);
    run(*w, db, k, calls);
  } else {
    std::fprintf(stderr, "bench_profile: unknown implementation '%s'\n", impl.c_str());
    return 2;
  }
  return 0;
}
