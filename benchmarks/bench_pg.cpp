// cpm benchmarks on PostgreSQL: the store's lookups through cpm::pg against the same
// statements through raw libpq (prepared, binary parameters and results) and libpqxx
// (Debian's libpqxx-dev 6.4: prepared, text results), over the Unix socket of a local server,
// on the store's schema holding N users (100k by default).
//
// Benchmark names are pg/<workload>/<impl>; one call per iteration, wall-clock time (the work
// is in the server's process):
//   user_by_id         a user by primary key (cpm: store.get_user)
//   user_by_name       a user by username (cpm: store.user_by_name)
//   org_repositories   an organization's 50 repositories (cpm: store.org_repositories)
//   user_repositories  the repositories a user reaches (cpm: store.user_repositories)
//   access_level       a user's access to a repository they hold a grant on (cpm: store.access_level)
//   insert_1000        1,000 users inserted in one transaction (rolled back): cpm_pipeline
//                      (cpm::pg::insert_all: pipeline mode, the rows sent before the results
//                      are read), cpm_rows (cpm::pg::insert per row: a round trip each, the row
//                      returned), raw_rows and raw_pipeline (libpq, the same INSERT as
//                      cpm_pipeline)
// impl: cpm, raw (libpq), pqxx (libpqxx).
//
// The server: CPM_PG_CONNINFO (benchmarks/pg_bench.sh starts a throwaway cluster and sets it).
// The data set is built in the schema cpm_bench_<N> once and reused (--cpm_rebuild builds it
// again). Own flags: --cpm_scale=100k.
#include <cpm/postgres.hpp>

#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <libpq-fe.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::int64_t scale_users = 100'000;
bool rebuild = false;
std::string conninfo;

std::string schema() { return fmt::format("cpm_bench_{}", scale_users); }
std::string schema_conninfo() { return conninfo + " options='-c search_path=" + schema() + "'"; }

// ---- the data set --------------------------------------------------------------------------

void build_data() {
  auto db = cpm::pg::connection::open(conninfo);
  const std::string s = schema();
  bool exists = db.query_one<bool>("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", s);
  if (exists && !rebuild) return;
  fmt::print(stderr, "bench_pg: building {} ({} users)...\n", s, scale_users);
  db.exec("DROP SCHEMA IF EXISTS " + s + " CASCADE; CREATE SCHEMA " + s + "; SET search_path TO " + s);
  (void)cpm::pg::migrate_store(db);
  const std::int64_t n = scale_users;
  const std::int64_t orgs = std::max<std::int64_t>(2, n / 100);
  const std::int64_t repos = orgs * 50;
  db.exec(fmt::format(R"(
    INSERT INTO users (id, username, email, public_key)
      SELECT i, 'user_' || i, 'user' || i || '@example.org', '' FROM generate_series(1, {0}) AS i;
    INSERT INTO organizations (id, name, description)
      SELECT i, 'org_' || i, CASE WHEN i % 10 = 0 THEN '' ELSE 'organization ' || i END FROM generate_series(1, {1}) AS i;
    INSERT INTO repositories (id, name, org_id, path, description)
      SELECT i, 'repo_' || i, (i * 7919) % {1} + 1, '/srv/git/r' || i || '.git', '' FROM generate_series(1, {2}) AS i;
    INSERT INTO org_members (org_id, user_id, role)
      SELECT (u * 31) % {1} + 1, u, CASE WHEN u % 20 = 0 THEN 'owner' WHEN u % 7 = 0 THEN 'admin' ELSE 'member' END
        FROM generate_series(1, {0}) AS u
      UNION ALL
      SELECT (u * 31 + 1) % {1} + 1, u, 'member' FROM generate_series(1, {0}) AS u;
    INSERT INTO repo_access (repo_id, user_id, access_level)
      SELECT (u * 101 + k * 1009) % {2} + 1, u, CASE WHEN k = 0 THEN 'read' WHEN k = 1 THEN 'write' ELSE 'admin' END
        FROM generate_series(1, {0}) AS u, generate_series(0, 2) AS k;
    SELECT setval(pg_get_serial_sequence('users', 'id'), {0});
    SELECT setval(pg_get_serial_sequence('organizations', 'id'), {1});
    SELECT setval(pg_get_serial_sequence('repositories', 'id'), {2});
    ANALYZE;
  )",
                      n, orgs, repos));
}

// Keys visited in a fixed shuffled order.
struct keys {
  std::vector<std::int64_t> users, orgs, repos;
  std::vector<std::string> names;
  std::size_t at = 0;
  std::size_t next() { return at++ % users.size(); }
};

keys make_keys() {
  keys k;
  std::uint64_t x = 0x63706d2d7067ULL;
  auto rnd = [&](std::int64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<std::int64_t>(x % static_cast<std::uint64_t>(n)) + 1;
  };
  const std::int64_t orgs = std::max<std::int64_t>(2, scale_users / 100);
  for (int i = 0; i < 4096; ++i) {
    k.users.push_back(rnd(scale_users));
    k.orgs.push_back(rnd(orgs));
    // A repository the user holds a direct grant on (repo_access above: k = 0).
    k.repos.push_back((k.users.back() * 101) % (orgs * 50) + 1);
    k.names.push_back("user_" + std::to_string(k.users.back()));
  }
  return k;
}

// The statements cpm runs, run by the others too.
constexpr std::string_view by_name_sql = cpm::pg::detail::select_first_where_sql<cpm::user, 1>.view();
constexpr std::string_view org_repos_sql = cpm::pg::detail::select_where_sql<cpm::repository, 2>.view();
static_assert(by_name_sql ==
              R"(SELECT "id", "username", "email", "public_key", "created_at" FROM "users" WHERE "username" = $1 ORDER BY "id" LIMIT 1)");
static_assert(org_repos_sql ==
              R"(SELECT "id", "name", "org_id", "path", "description", "created_at" FROM "repositories" WHERE "org_id" = $1 ORDER BY "id")");

// ---- raw libpq: prepared statements, binary parameters and results --------------------------

std::uint64_t be64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

struct raw_impl {
  PGconn* conn;
  explicit raw_impl(const std::string& info) : conn(PQconnectdb(info.c_str())) {
    if (PQstatus(conn) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn));
    prepare("by_id", cpm::pg::crud_sql<cpm::user>::select_by_key, 1);
    prepare("by_name", by_name_sql, 1);
    prepare("org_repos", org_repos_sql, 1);
    prepare("user_repos", cpm::pg::store_sql::user_repositories<>.view(), 1);
    prepare("access", cpm::pg::store_sql::access_level_of<>.view(), 2);
    prepare("insert", R"(INSERT INTO "users" ("username", "email", "public_key") VALUES ($1, $2, ''))", 2);
  }
  ~raw_impl() { PQfinish(conn); }
  void prepare(const char* name, std::string_view sql, int n) {
    std::vector<Oid> types(static_cast<std::size_t>(n), 0);
    PGresult* r = PQprepare(conn, name, std::string(sql).c_str(), n, types.data());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) throw std::runtime_error(PQerrorMessage(conn));
    PQclear(r);
  }
  // One int8 parameter (binary), binary results.
  PGresult* run_id(const char* name, std::int64_t id) {
    char buf[8];
    auto v = static_cast<std::uint64_t>(id);
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (56 - 8 * i));
    const char* values[] = {buf};
    int lengths[] = {8};
    int formats[] = {1};
    return check(PQexecPrepared(conn, name, 1, values, lengths, formats, 1));
  }
  PGresult* check(PGresult* r) {
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) throw std::runtime_error(PQerrorMessage(conn));
    return r;
  }
  static std::optional<std::string> opt_text(PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col)) return std::nullopt;
    std::string s(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
    if (s.empty()) return std::nullopt;  // none_as_empty
    return s;
  }
  static std::optional<cpm::timestamp> opt_time(PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col)) return std::nullopt;
    auto micros = static_cast<std::int64_t>(be64(PQgetvalue(r, row, col)));
    return cpm::timestamp(std::chrono::floor<std::chrono::seconds>(std::chrono::microseconds(micros) +
                                                                   std::chrono::seconds(946'684'800)));
  }
  static cpm::user read_user(PGresult* r, int row) {
    cpm::user u;
    u.id = static_cast<std::int64_t>(be64(PQgetvalue(r, row, 0)));
    u.username.assign(PQgetvalue(r, row, 1), static_cast<std::size_t>(PQgetlength(r, row, 1)));
    u.email.assign(PQgetvalue(r, row, 2), static_cast<std::size_t>(PQgetlength(r, row, 2)));
    u.public_key = opt_text(r, row, 3);
    u.created_at = opt_time(r, row, 4);
    return u;
  }
  static cpm::repository read_repo(PGresult* r, int row) {
    cpm::repository x;
    x.id = static_cast<std::int64_t>(be64(PQgetvalue(r, row, 0)));
    x.name.assign(PQgetvalue(r, row, 1), static_cast<std::size_t>(PQgetlength(r, row, 1)));
    x.org_id = static_cast<std::int64_t>(be64(PQgetvalue(r, row, 2)));
    x.path.assign(PQgetvalue(r, row, 3), static_cast<std::size_t>(PQgetlength(r, row, 3)));
    x.description = opt_text(r, row, 4);
    x.created_at = opt_time(r, row, 5);
    return x;
  }

  std::optional<cpm::user> user_by_id(std::int64_t id) {
    PGresult* r = run_id("by_id", id);
    std::optional<cpm::user> out;
    if (PQntuples(r) > 0) out = read_user(r, 0);
    PQclear(r);
    return out;
  }
  std::optional<cpm::user> user_by_name(const std::string& name) {
    const char* values[] = {name.c_str()};
    int lengths[] = {static_cast<int>(name.size())};
    int formats[] = {0};
    PGresult* r = check(PQexecPrepared(conn, "by_name", 1, values, lengths, formats, 1));
    std::optional<cpm::user> out;
    if (PQntuples(r) > 0) out = read_user(r, 0);
    PQclear(r);
    return out;
  }
  std::vector<cpm::repository> repos(const char* stmt, std::int64_t id) {
    PGresult* r = run_id(stmt, id);
    std::vector<cpm::repository> out;
    out.reserve(static_cast<std::size_t>(PQntuples(r)));
    for (int i = 0; i < PQntuples(r); ++i) out.push_back(read_repo(r, i));
    PQclear(r);
    return out;
  }
  std::optional<int> access_level(std::int64_t user, std::int64_t repo) {
    char a[8], b[8];
    for (int i = 0; i < 8; ++i) {
      a[i] = static_cast<char>(static_cast<std::uint64_t>(user) >> (56 - 8 * i));
      b[i] = static_cast<char>(static_cast<std::uint64_t>(repo) >> (56 - 8 * i));
    }
    const char* values[] = {a, b};
    int lengths[] = {8, 8};
    int formats[] = {1, 1};
    PGresult* r = check(PQexecPrepared(conn, "access", 2, values, lengths, formats, 1));
    std::optional<int> out;
    if (!PQgetisnull(r, 0, 0)) {  // INT4
      const char* p = PQgetvalue(r, 0, 0);
      std::uint32_t v = 0;
      for (int j = 0; j < 4; ++j) v = (v << 8) | static_cast<unsigned char>(p[j]);
      out = static_cast<int>(static_cast<std::int32_t>(v));
    }
    PQclear(r);
    return out;
  }
  void exec(const char* sql) { PQclear(check(PQexec(conn, sql))); }
  void insert(const std::string& name, const std::string& email) {
    const char* values[] = {name.c_str(), email.c_str()};
    int lengths[] = {static_cast<int>(name.size()), static_cast<int>(email.size())};
    int formats[] = {0, 0};
    PQclear(check(PQexecPrepared(conn, "insert", 2, values, lengths, formats, 1)));
  }
  // Every row sent before the first result is read (libpq's pipeline mode).
  void insert_pipelined(const std::vector<std::pair<std::string, std::string>>& rows) {
    if (!PQenterPipelineMode(conn)) throw std::runtime_error("no pipeline mode");
    for (const auto& [name, email] : rows) {
      const char* values[] = {name.c_str(), email.c_str()};
      int lengths[] = {static_cast<int>(name.size()), static_cast<int>(email.size())};
      int formats[] = {0, 0};
      if (!PQsendQueryPrepared(conn, "insert", 2, values, lengths, formats, 1)) throw std::runtime_error(PQerrorMessage(conn));
    }
    PQpipelineSync(conn);
    std::size_t results = 0;
    for (;;) {
      PGresult* r = PQgetResult(conn);
      if (r == nullptr) continue;  // the end of one statement's results
      ExecStatusType st = PQresultStatus(r);
      PQclear(r);
      if (st == PGRES_PIPELINE_SYNC) break;
      if (st == PGRES_COMMAND_OK) ++results;
      else throw std::runtime_error(PQerrorMessage(conn));
    }
    PQexitPipelineMode(conn);
    if (results != rows.size()) throw std::runtime_error("pipeline: missing results");
  }
};

// ---- libpqxx --------------------------------------------------------------------------------

std::optional<cpm::timestamp> parse_time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  // "2026-12-02 20:40:56+00"
  const char* s = f.c_str();
  int y, mo, d, h, mi, se;
  if (std::sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &se) != 6) return std::nullopt;
  using namespace std::chrono;
  return cpm::timestamp(sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{se});
}
std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null() || f.size() == 0) return std::nullopt;
  return std::string(f.c_str(), f.size());
}

struct pqxx_impl {
  pqxx::connection conn;
  explicit pqxx_impl(const std::string& info) : conn(info) {
    conn.prepare("by_id", std::string(cpm::pg::crud_sql<cpm::user>::select_by_key));
    conn.prepare("by_name", std::string(by_name_sql));
    conn.prepare("org_repos", std::string(org_repos_sql));
    conn.prepare("user_repos", std::string(cpm::pg::store_sql::user_repositories<>.view()));
    conn.prepare("access", std::string(cpm::pg::store_sql::access_level_of<>.view()));
  }
  static cpm::user read_user(const pqxx::row& r) {
    return cpm::user{r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), opt_text(r[3]), parse_time(r[4])};
  }
  static cpm::repository read_repo(const pqxx::row& r) {
    return cpm::repository{r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::int64_t>(), r[3].as<std::string>(),
                           opt_text(r[4]), parse_time(r[5])};
  }
  std::optional<cpm::user> user_by(const char* stmt, const auto& key) {
    pqxx::nontransaction tx(conn);
    pqxx::result r = tx.exec_prepared(stmt, key);
    if (r.empty()) return std::nullopt;
    return read_user(r[0]);
  }
  std::vector<cpm::repository> repos(const char* stmt, std::int64_t id) {
    pqxx::nontransaction tx(conn);
    pqxx::result r = tx.exec_prepared(stmt, id);
    std::vector<cpm::repository> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(read_repo(row));
    return out;
  }
  std::optional<int> access_level(std::int64_t user, std::int64_t repo) {
    pqxx::nontransaction tx(conn);
    pqxx::result r = tx.exec_prepared("access", user, repo);
    if (r[0][0].is_null()) return std::nullopt;
    return r[0][0].as<int>();
  }
};

// ---- the benchmarks -------------------------------------------------------------------------

enum class impl { cpm, raw, pqxx };

template <class F>
void run(benchmark::State& state, F&& f) {
  std::size_t rows = 0;
  for (auto _ : state) rows += f();
  state.counters["rows_per_call"] = benchmark::Counter(static_cast<double>(rows) / static_cast<double>(state.iterations()));
}

void lookups(benchmark::State& state, int workload, impl which) {
  static keys k = make_keys();
  std::unique_ptr<cpm::pg::store> store;
  std::unique_ptr<raw_impl> raw;
  std::unique_ptr<pqxx_impl> px;
  if (which == impl::cpm) store = std::make_unique<cpm::pg::store>(cpm::pg::store::open(schema_conninfo(), {.migrate = false}));
  if (which == impl::raw) raw = std::make_unique<raw_impl>(schema_conninfo());
  if (which == impl::pqxx) px = std::make_unique<pqxx_impl>(schema_conninfo());
  auto call = [&]() -> std::size_t {
    std::size_t i = k.next();
    switch (workload) {
      case 0:  // user_by_id
        if (store) return store->get_user(k.users[i]).has_value();
        if (raw) return raw->user_by_id(k.users[i]).has_value();
        return px->user_by("by_id", k.users[i]).has_value();
      case 1:  // user_by_name
        if (store) return store->user_by_name(k.names[i]).has_value();
        if (raw) return raw->user_by_name(k.names[i]).has_value();
        return px->user_by("by_name", k.names[i]).has_value();
      case 2:  // org_repositories
        if (store) return store->org_repositories(k.orgs[i]).size();
        if (raw) return raw->repos("org_repos", k.orgs[i]).size();
        return px->repos("org_repos", k.orgs[i]).size();
      case 3:  // user_repositories
        if (store) return store->user_repositories(k.users[i]).size();
        if (raw) return raw->repos("user_repos", k.users[i]).size();
        return px->repos("user_repos", k.users[i]).size();
      default:  // access_level
        if (store) return store->access_level(k.users[i], k.repos[i]).has_value();
        if (raw) return raw->access_level(k.users[i], k.repos[i]).has_value();
        return px->access_level(k.users[i], k.repos[i]).has_value();
    }
  };
  for (int w = 0; w < 200; ++w) (void)call();  // prepared, cached, warm
  run(state, call);
}

void inserts(benchmark::State& state, int mode) {
  // mode 0: cpm insert_all (pipelined); 3: cpm::pg::insert row by row; 1: raw row by row;
  // 2: raw pipeline. In a transaction rolled back.
  static int batch = 0;
  std::unique_ptr<cpm::pg::connection> db;
  std::unique_ptr<raw_impl> raw;
  if (mode == 0 || mode == 3) {
    db = std::make_unique<cpm::pg::connection>(cpm::pg::connection::open(schema_conninfo()));
  } else {
    raw = std::make_unique<raw_impl>(schema_conninfo());
  }
  for (auto _ : state) {
    ++batch;
    std::vector<cpm::user> users;
    std::vector<std::pair<std::string, std::string>> rows;
    for (int i = 0; i < 1000; ++i) {
      std::string name = fmt::format("bulk_{}_{}", batch, i);
      if (mode == 0 || mode == 3) {
        users.push_back(cpm::user{0, name, name + "@example.org", std::nullopt, std::nullopt});
      } else {
        rows.emplace_back(name, name + "@example.org");
      }
    }
    if (mode == 0) {
      cpm::pg::transaction tx(*db);
      benchmark::DoNotOptimize(cpm::pg::insert_all(*db, users));
      // rolled back: the data set stays as it is
    } else if (mode == 3) {
      cpm::pg::transaction tx(*db);
      for (const cpm::user& u : users) benchmark::DoNotOptimize(cpm::pg::insert(*db, u));
    } else {
      raw->exec("BEGIN");
      if (mode == 1) {
        for (const auto& [n, e] : rows) raw->insert(n, e);
      } else {
        raw->insert_pipelined(rows);
      }
      raw->exec("ROLLBACK");
    }
  }
  state.counters["rows_per_s"] = benchmark::Counter(1000.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.rfind("--cpm_scale=", 0) == 0) {
      std::string v(a.substr(12));
      scale_users = std::stoll(v) * (v.back() == 'k' ? 1000 : v.back() == 'm' ? 1'000'000 : 1);
    } else if (a == "--cpm_rebuild") {
      rebuild = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  const char* info = std::getenv("CPM_PG_CONNINFO");
  if (info == nullptr || *info == '\0') {
    fmt::print(stderr, "bench_pg: set CPM_PG_CONNINFO (benchmarks/pg_bench.sh starts a server and sets it)\n");
    return 2;
  }
  conninfo = info;
  build_data();
  const char* workloads[] = {"user_by_id", "user_by_name", "org_repositories", "user_repositories", "access_level"};
  for (int w = 0; w < 5; ++w) {
    for (auto [name, which] : {std::pair{"cpm", impl::cpm}, std::pair{"raw", impl::raw}, std::pair{"pqxx", impl::pqxx}})
      benchmark::RegisterBenchmark(fmt::format("pg/{}/{}", workloads[w], name).c_str(),
                                   [w, which = which](benchmark::State& s) { lookups(s, w, which); })
          ->UseRealTime();
  }
  for (auto [name, mode] :
       {std::pair{"cpm_pipeline", 0}, std::pair{"cpm_rows", 3}, std::pair{"raw_rows", 1}, std::pair{"raw_pipeline", 2}})
    benchmark::RegisterBenchmark(fmt::format("pg/insert_1000/{}", name).c_str(),
                                 [mode = mode](benchmark::State& s) { inserts(s, mode); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
