// cpm benchmarks: the workloads, as one call each, shared by bench_lookups and bench_profile.
#pragma once

#include "common.hpp"
#include "impl_raw.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

namespace cpm_bench {

// ---- key sets ----------------------------------------------------------------------------------

inline keyset make_keys(const std::filesystem::path& path, const scale& s) {
  raw_db db(path.string(), conn_config{});
  splitmix64 rng{data_seed ^ 0x6b657973ULL ^ static_cast<std::uint64_t>(s.users)};
  keyset k;
  auto one_int = [&](sqlite3_stmt* st) {
    std::optional<std::int64_t> out;
    if (sqlite3_step(st) == SQLITE_ROW) out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return out;
  };
  sqlite3_stmt* name = db.prepare("SELECT username FROM users WHERE id = ?");
  sqlite3_stmt* key = db.prepare("SELECT public_key, fingerprint FROM user_keys WHERE id = ?");
  sqlite3_stmt* repo_path = db.prepare("SELECT path FROM repositories WHERE id = ?");
  sqlite3_stmt* key_count_stmt = db.prepare("SELECT max(id) FROM user_keys");
  const std::int64_t user_keys = one_int(key_count_stmt).value_or(0);
  if (user_keys == 0) throw std::runtime_error("bench keys: no user_keys in " + path.string());
  sqlite3_stmt* via_org = db.prepare(
      "SELECT r.id FROM org_members om JOIN repositories r ON r.org_id = om.org_id WHERE om.user_id = ? "
      "ORDER BY r.id LIMIT 1 OFFSET ?");
  sqlite3_stmt* granted = db.prepare("SELECT repo_id FROM repo_access WHERE user_id = ? ORDER BY id LIMIT 1 OFFSET ?");
  for (std::size_t i = 0; i < key_count; ++i) {
    std::int64_t user = rng.between(1, s.users);
    k.user_ids.push_back(user);
    sqlite3_bind_int64(name, 1, user);
    sqlite3_step(name);
    k.usernames.emplace_back(raw::text(name, 0));
    sqlite3_reset(name);
    k.org_ids.push_back(rng.between(1, s.organizations()));
    k.repo_ids.push_back(rng.between(1, s.repositories()));
    // access pairs: a third reach the repository through an organization, a third by a grant
    std::int64_t who = rng.between(1, s.users);
    std::optional<std::int64_t> repo;
    if (i % 3 == 0) {
      sqlite3_bind_int64(via_org, 1, who);
      sqlite3_bind_int64(via_org, 2, rng.between(0, 99));
      repo = one_int(via_org);
    } else if (i % 3 == 1) {
      sqlite3_bind_int64(granted, 1, who);
      sqlite3_bind_int64(granted, 2, rng.between(0, 2));
      repo = one_int(granted);
    }
    k.access.emplace_back(who, repo.value_or(rng.between(1, s.repositories())));
  }
  // keys and fingerprints of user_keys rows (a user's first or second key), drawn apart
  for (auto* out : {&k.public_keys, &k.fingerprints}) {
    const int column = out == &k.public_keys ? 0 : 1;
    while (out->size() < key_count) {
      sqlite3_bind_int64(key, 1, rng.between(1, user_keys));
      if (sqlite3_step(key) == SQLITE_ROW) out->emplace_back(raw::text(key, column));
      sqlite3_reset(key);
    }
  }
  for (std::size_t i = 0; i < key_count; ++i) {
    sqlite3_bind_int64(repo_path, 1, rng.between(1, s.repositories()));
    if (sqlite3_step(repo_path) != SQLITE_ROW) throw std::runtime_error("bench keys: a repository is missing");
    k.repo_paths.emplace_back(raw::text(repo_path, 0));
    sqlite3_reset(repo_path);
  }
  return k;
}

// ---- workloads ---------------------------------------------------------------------------------

enum class wl {
  user_by_username,
  user_by_id,
  org_repositories,
  user_repositories,
  org_members,
  access_level,
  neighbor_servers,
  user_by_public_key,
  user_by_fingerprint,
  repository_by_path,
  all_users,
  user_by_username_snapshot,
  user_by_id_snapshot,
  repository_grants,
  seed_user_repositories,
};

constexpr const char* name_of(wl w) {
  switch (w) {
    case wl::user_by_username: return "user_by_username";
    case wl::user_by_id: return "user_by_id";
    case wl::org_repositories: return "org_repositories";
    case wl::user_repositories: return "user_repositories";
    case wl::org_members: return "org_members";
    case wl::access_level: return "access_level";
    case wl::neighbor_servers: return "neighbor_servers";
    case wl::user_by_public_key: return "user_by_public_key";
    case wl::user_by_fingerprint: return "user_by_fingerprint";
    case wl::repository_by_path: return "repository_by_path";
    case wl::all_users: return "all_users";
    case wl::user_by_username_snapshot: return "user_by_username_snapshot32";
    case wl::user_by_id_snapshot: return "user_by_id_snapshot32";
    case wl::repository_grants: return "repository_grants";
    case wl::seed_user_repositories: return "user_repositories_seed_sql";
  }
  return "?";
}

inline std::optional<wl> parse_workload(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(wl::seed_user_repositories); ++i)
    if (name == name_of(static_cast<wl>(i))) return static_cast<wl>(i);
  return std::nullopt;
}

constexpr int snapshot_batch = 32;  // lookups per read snapshot

// Does `Impl` have workload W?
template <wl W, class Impl>
constexpr bool supports() {
  if constexpr (W == wl::repository_grants) {
    return requires(Impl& i, std::int64_t id) { i.repository_grants(id, [](const cpm::repo_access&) {}); };
  } else if constexpr (W == wl::seed_user_repositories) {
    return requires(Impl& i, std::int64_t id) { i.seed_user_repositories(id, [](const cpm::repository&) {}); };
  } else {
    return true;
  }
}

// Runs the i-th call of workload W; every result (or row) goes to sink.
template <wl W, class Impl, class Sink>
inline void once(Impl& impl, const keyset& k, std::size_t i, Sink& sink) {
  const std::size_t at = i & key_mask;
  if constexpr (W == wl::user_by_username) {
    sink(impl.user_by_username(k.usernames[at]));
  } else if constexpr (W == wl::user_by_id) {
    sink(impl.user_by_id(k.user_ids[at]));
  } else if constexpr (W == wl::org_repositories) {
    impl.org_repositories(k.org_ids[at], sink);
  } else if constexpr (W == wl::user_repositories) {
    impl.user_repositories(k.user_ids[at], sink);
  } else if constexpr (W == wl::org_members) {
    impl.org_members(k.org_ids[at], sink);
  } else if constexpr (W == wl::access_level) {
    sink(impl.access_level(k.access[at].first, k.access[at].second));
  } else if constexpr (W == wl::neighbor_servers) {
    impl.neighbor_servers(sink);
  } else if constexpr (W == wl::user_by_public_key) {
    sink(impl.user_by_public_key(k.public_keys[at]));
  } else if constexpr (W == wl::user_by_fingerprint) {
    sink(impl.user_by_fingerprint(k.fingerprints[at]));
  } else if constexpr (W == wl::repository_by_path) {
    sink(impl.repository_by_path(k.repo_paths[at]));
  } else if constexpr (W == wl::all_users) {
    impl.all_users(sink);
  } else if constexpr (W == wl::user_by_username_snapshot) {
    impl.snapshot([&] {
      for (std::size_t b = 0; b < snapshot_batch; ++b) sink(impl.user_by_username(k.usernames[(i * snapshot_batch + b) & key_mask]));
    });
  } else if constexpr (W == wl::user_by_id_snapshot) {
    impl.snapshot([&] {
      for (std::size_t b = 0; b < snapshot_batch; ++b) sink(impl.user_by_id(k.user_ids[(i * snapshot_batch + b) & key_mask]));
    });
  } else if constexpr (W == wl::repository_grants) {
    impl.repository_grants(k.repo_ids[at], sink);
  } else if constexpr (W == wl::seed_user_repositories) {
    impl.seed_user_repositories(k.user_ids[at], sink);
  }
}

// What the timed loops do with results: a cheap checksum the compiler cannot drop.
struct checksum {
  std::uint64_t sum = 0;
  void operator()(const std::optional<cpm::user>& u) { sum += u ? static_cast<std::uint64_t>(u->id) : 1; }
  void operator()(const std::optional<cpm::repository>& r) { sum += r ? static_cast<std::uint64_t>(r->id) : 1; }
  void operator()(const std::optional<cpm::access_level>& a) { sum += a ? static_cast<std::uint64_t>(*a) : 7; }
  void operator()(const cpm::user& u) { sum += static_cast<std::uint64_t>(u.id) + u.username.size(); }
  void operator()(const cpm::repository& r) { sum += static_cast<std::uint64_t>(r.id) + r.name.size(); }
  void operator()(const cpm::member_info& m) { sum += static_cast<std::uint64_t>(m.user_id) + m.username.size(); }
  void operator()(const cpm::server& s) { sum += static_cast<std::uint64_t>(s.id) + s.name.size(); }
  void operator()(const cpm::repo_access& a) { sum += static_cast<std::uint64_t>(a.id); }
};

// What the start-up check does with results: every field, in order (or sorted per call).
struct digest_sink {
  digest d;
  std::vector<std::uint64_t> call;  // per-row digests of the current call, for unordered results
  bool unordered = false;
  template <class T>
  void operator()(const T& v) {
    if (!unordered) {
      d.add(v);
    } else {
      digest one;
      one.add(v);
      call.push_back(one.h);
    }
  }
  void end_call() {
    std::sort(call.begin(), call.end());
    for (auto h : call) d.add(h);
    d.add(std::uint64_t{0xe0e0});
    call.clear();
  }
};

template <wl W, class Impl>
std::uint64_t result_digest(Impl& impl, const keyset& k, std::size_t calls, bool unordered) {
  digest_sink sink;
  sink.unordered = unordered;
  for (std::size_t i = 0; i < calls; ++i) {
    once<W>(impl, k, i, sink);
    if (unordered) sink.end_call();
  }
  return sink.d.h;
}

}  // namespace cpm_bench
