// cpm benchmarks: the data generator (see data.hpp).
#include "data.hpp"

#include <cpm/cpm.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace cpm_bench {

namespace {

constexpr int generator_version = 2;

// A minimal raw sqlite3 session for loading: prepared statements bound by position.
class loader {
 public:
  explicit loader(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
      fail("open");
  }
  loader(const loader&) = delete;
  loader& operator=(const loader&) = delete;
  ~loader() { sqlite3_close_v2(db_); }

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error("bench data: " + text + " in: " + sql);
    }
  }

  struct stmt {
    sqlite3_stmt* s = nullptr;
    int next = 1;
    explicit stmt(sqlite3_stmt* p) : s(p) {}
    stmt(const stmt&) = delete;
    stmt& operator=(const stmt&) = delete;
    ~stmt() { sqlite3_finalize(s); }
    stmt& i(std::int64_t v) { sqlite3_bind_int64(s, next++, v); return *this; }
    stmt& t(std::string_view v) { sqlite3_bind_text64(s, next++, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8); return *this; }
    stmt& null() { sqlite3_bind_null(s, next++); return *this; }
    stmt& opt(const std::optional<std::string>& v) { return v ? t(*v) : null(); }
    void run() {
      int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        throw std::runtime_error(std::string("bench data: ") + sqlite3_errmsg(sqlite3_db_handle(s)) + " in: " + sqlite3_sql(s));
      sqlite3_reset(s);
      next = 1;
    }
  };

  stmt prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) fail(sql);
    return stmt(s);
  }

 private:
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("bench data: ") + (db_ ? sqlite3_errmsg(db_) : "out of memory") + " (" + what + ")");
  }
  sqlite3* db_ = nullptr;
};

std::string letters(splitmix64& rng, int lo, int hi) {
  std::string out;
  auto n = rng.between(lo, hi);
  for (std::int64_t i = 0; i < n; ++i) out += static_cast<char>('a' + rng.below(26));
  return out;
}

// Deterministic times from 2020-01-01, one step per row.
std::string stamp(std::int64_t step, splitmix64& rng) {
  using namespace std::chrono;
  sys_seconds t = sys_days{year{2020} / January / 1} + seconds{step * 97 + static_cast<std::int64_t>(rng.below(60))};
  char buf[cpm::detail::timestamp_buffer_size];
  std::size_t n = cpm::detail::format_timestamp(t, buf);
  return std::string(buf, n);
}

std::uint64_t fnv1a(std::string_view text, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

const char* const domains[] = {"example.org", "example.com", "mail.example.net", "corp.example.io"};

void generate(loader& db, const scale& s) {
  const std::int64_t users = s.users;
  const std::int64_t orgs = s.organizations();
  const std::int64_t repos = s.repositories();

  db.exec("BEGIN");

  // users, and their keys in user_keys as the store writes them; users.public_key mirrors
  // the first key ('' for none)
  {
    splitmix64 rng{data_seed ^ 0x7573657273ULL};
    splitmix64 more{data_seed ^ 0x6b657973ULL};  // second keys and comments
    auto ins = db.prepare("INSERT INTO users(id, username, email, public_key, created_at) VALUES (?,?,?,?,?)");
    auto key_ins = db.prepare(
        "INSERT INTO user_keys(user_id, name, public_key, fingerprint, comment, created_at) VALUES (?,?,?,?,?,?)");
    for (std::int64_t id = 1; id <= users; ++id) {
      cpm::user u = make_user(rng, id);
      std::string created = stamp(id, rng);
      ins.i(id).t(u.username).t(u.email).t(u.public_key.value_or("")).t(created).run();
      if (!u.public_key) continue;
      std::vector<cpm::user_key> keys;
      auto comment = [&](const char* host) -> std::optional<std::string> {
        if (more.below(2) == 0) return std::nullopt;
        return u.username + "@" + host;
      };
      keys.push_back(make_user_key(id, "default", *u.public_key, comment("laptop")));
      if (more.below(4) == 0) keys.push_back(make_user_key(id, "workstation", ed25519_key(more), comment("workstation")));
      for (const auto& k : keys) key_ins.i(k.user_id).t(k.name).t(k.public_key).t(k.fingerprint).opt(k.comment).t(created).run();
    }
  }
  // organizations
  std::vector<std::string> org_names(static_cast<std::size_t>(orgs) + 1);
  {
    splitmix64 rng{data_seed ^ 0x6f726773ULL};
    auto ins = db.prepare("INSERT INTO organizations(id, name, description, created_at) VALUES (?,?,?,?)");
    for (std::int64_t id = 1; id <= orgs; ++id) {
      std::string name = fmt::format("{}-{}", letters(rng, 3, 10), id);
      std::optional<std::string> description;
      if (rng.below(10) != 0) description = fmt::format("The {} organization, number {}", name, id);
      ins.i(id).t(name).t(description.value_or("")).t(stamp(id, rng)).run();
      org_names[static_cast<std::size_t>(id)] = std::move(name);
    }
  }
  // repositories: every (organization, k) pair, in shuffled order; ids follow insertion order
  {
    splitmix64 rng{data_seed ^ 0x7265706f73ULL};
    std::vector<std::int64_t> order(static_cast<std::size_t>(repos));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
    auto ins = db.prepare("INSERT INTO repositories(id, name, org_id, path, description, created_at) VALUES (?,?,?,?,?,?)");
    std::int64_t id = 0;
    for (std::int64_t pair : order) {
      std::int64_t org = pair / 50 + 1;
      std::string name = fmt::format("{}-{}", letters(rng, 3, 12), pair % 50);
      std::string path = fmt::format("/srv/git/{}/{}.git", org_names[static_cast<std::size_t>(org)], name);
      std::optional<std::string> description;
      if (rng.below(10) >= 3) description = fmt::format("Repository {} of {}", name, org_names[static_cast<std::size_t>(org)]);
      ++id;
      ins.i(id).t(name).i(org).t(path).t(description.value_or("")).t(stamp(id, rng)).run();
    }
  }
  // org_members: two distinct organizations per user
  {
    splitmix64 rng{data_seed ^ 0x6d656d62ULL};
    auto ins = db.prepare("INSERT INTO org_members(org_id, user_id, role, joined_at) VALUES (?,?,?,?)");
    for (std::int64_t user = 1; user <= users; ++user) {
      std::int64_t a = rng.between(1, orgs);
      std::int64_t b = rng.between(1, orgs - 1);
      if (b >= a) ++b;
      for (std::int64_t org : {a, b}) {
        auto r = rng.below(100);
        const char* role = r < 5 ? "owner" : r < 20 ? "admin" : "member";
        ins.i(org).i(user).t(role).t(stamp(user, rng)).run();
      }
    }
  }
  // repo_access: three distinct repositories per user
  {
    splitmix64 rng{data_seed ^ 0x61636373ULL};
    auto ins = db.prepare("INSERT INTO repo_access(repo_id, user_id, access_level) VALUES (?,?,?)");
    for (std::int64_t user = 1; user <= users; ++user) {
      std::int64_t picked[3] = {0, 0, 0};
      for (int k = 0; k < 3; ++k) {
        std::int64_t repo = 0;
        do {
          repo = rng.between(1, repos);
        } while (repo == picked[0] || repo == picked[1]);
        picked[k] = repo;
        auto r = rng.below(100);
        const char* level = r < 60 ? "read" : r < 90 ? "write" : "admin";
        ins.i(repo).i(user).t(level).run();
      }
    }
  }
  // ssh_keys and servers
  {
    splitmix64 rng{data_seed ^ 0x73727673ULL};
    auto keys = db.prepare("INSERT INTO ssh_keys(id, name, public_key, private_key_path, created_at) VALUES (?,?,?,?,?)");
    for (std::int64_t id = 1; id <= 8; ++id)
      keys.i(id).t(fmt::format("deploy-{}", id)).t(ed25519_key(rng)).t(fmt::format("/etc/cpm/keys/deploy-{}", id)).t(stamp(id, rng)).run();
    auto ins = db.prepare("INSERT INTO servers(id, name, host, port, is_neighbor, ssh_key_id, created_at) VALUES (?,?,?,?,?,?,?)");
    for (std::int64_t id = 1; id <= 48; ++id) {
      ins.i(id).t(fmt::format("node-{}", id)).t(fmt::format("node{}.example.net", id)).i(rng.below(4) == 0 ? 2222 : 22);
      ins.i(id % 4 == 1 ? 1 : 0);  // 12 neighbours, spread over the table
      if (rng.below(4) != 0) ins.i(rng.between(1, 8)); else ins.null();
      ins.t(stamp(id, rng)).run();
    }
  }

  db.exec("COMMIT");
}

std::string schema_fingerprint() {
  auto store = cpm::store::open_memory();
  std::string text = fmt::format("v{};", store.schema_version());
  auto stmt = store.db().prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name");
  while (stmt.step())
    text += stmt.column<std::string>(0) + " " + stmt.column<std::string>(1) + " " + stmt.column<std::string>(2) + ";";
  return text;
}

bool fresh(const std::filesystem::path& p) { return std::filesystem::exists(p); }

void remove_database(const std::filesystem::path& p) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(p.string() + suffix, ec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::optional<scale> parse_scale(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t factor = 1;
  char last = text.back();
  if (last == 'k' || last == 'K') factor = 1000;
  if (last == 'm' || last == 'M') factor = 1000000;
  std::string_view digits = factor == 1 ? text : text.substr(0, text.size() - 1);
  if (digits.empty()) return std::nullopt;
  std::int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n * factor < 200) return std::nullopt;  // two organizations at least
  std::string name = factor == 1 ? std::string(digits) : std::string(digits) + (factor == 1000 ? "k" : "m");
  return scale{name, n * factor};
}

std::vector<std::pair<std::string, std::string>> shipped_indexes() {
  auto store = cpm::store::open_memory();
  std::vector<std::pair<std::string, std::string>> out;
  auto stmt = store.db().prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name");
  while (stmt.step()) out.emplace_back(stmt.column<std::string>(0), stmt.column<std::string>(1));
  return out;
}

std::vector<schema_variant> schema_variants() {
  auto shipped = shipped_indexes();
  std::vector<schema_variant> out;
  schema_variant base{"shipped", {}, {}};
  for (auto& [name, sql] : shipped) base.index_sql.push_back(sql);
  out.push_back(base);
  for (const auto& candidate : candidate_indexes) {
    schema_variant v;
    bool ships = false;
    for (auto& [name, sql] : shipped) {
      if (name == candidate.name) ships = true; else v.index_sql.push_back(sql);
    }
    if (ships) {
      v.name = "-" + std::string(candidate.name);
    } else {
      v.name = "+" + std::string(candidate.name);
      v.index_sql = base.index_sql;
      v.index_sql.emplace_back(candidate.sql);
    }
    out.push_back(std::move(v));
  }
  for (const auto& constraint : candidate_constraints) {
    schema_variant v{"-" + std::string(constraint.name), without_unique_sql(constraint.table, constraint.column), base.index_sql};
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<std::string> without_unique_sql(std::string_view table, std::string_view column) {
  auto store = cpm::store::open_memory();
  auto stmt = store.db().prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?");
  stmt.bind(table);
  if (!stmt.step()) throw std::runtime_error("bench data: no table " + std::string(table));
  std::string create = stmt.column<std::string>(0);
  auto fail = [&] {
    throw std::runtime_error(fmt::format("bench data: no UNIQUE constraint on {}.{} in: {}", table, column, create));
  };
  // The column's definition: from its name (after the opening parenthesis or a comma and
  // whitespace) to the next comma.
  std::size_t at = std::string::npos;
  for (std::size_t from = create.find('('); from != std::string::npos;) {
    std::size_t p = create.find(column, from);
    if (p == std::string::npos) break;
    std::size_t before = create.find_last_not_of(" \t\n\r", p - 1);
    std::size_t after = p + column.size();
    if ((create[before] == '(' || create[before] == ',') && after < create.size() && create[after] == ' ') {
      at = p;
      break;
    }
    from = after;
  }
  if (at == std::string::npos) fail();
  std::size_t end = create.find(',', at);
  std::size_t unique = create.find(" UNIQUE", at);
  if (unique == std::string::npos || unique > end) fail();
  create.erase(unique, 7);
  std::string rebuilt = std::string(table) + "_without_unique";
  std::size_t name = create.find(std::string(table));
  if (name == std::string::npos || name > create.find('(')) fail();
  create.replace(name, table.size(), rebuilt);
  return {create, fmt::format("INSERT INTO {} SELECT * FROM {}", rebuilt, table), fmt::format("DROP TABLE {}", table),
          fmt::format("ALTER TABLE {} RENAME TO {}", rebuilt, table)};
}

schema_variant find_variant(std::string_view name) {
  for (auto& v : schema_variants())
    if (v.name == name) return v;
  throw std::runtime_error("bench data: no schema variant '" + std::string(name) + "'");
}

std::filesystem::path cache_dir(const std::filesystem::path& root) {
  return root / fmt::format("g{}-{:016x}", generator_version, fnv1a(schema_fingerprint()));
}

std::filesystem::path database(const std::filesystem::path& root, const scale& s, const schema_variant& variant) {
  namespace fs = std::filesystem;
  fs::path dir = cache_dir(root);
  fs::create_directories(dir);
  std::string tag = variant.name == "shipped" ? "shipped"
                    : (variant.name[0] == '-' ? "without-" : "with-") + variant.name.substr(1);
  fs::path target = dir / fmt::format("cpm-{}-{}.db", s.name, tag);
  if (fresh(target)) return target;

  // The base: cpm's schema, created by cpm's migrations, loaded with no secondary index.
  fs::path base = dir / fmt::format("cpm-{}-base.db", s.name);
  if (!fresh(base)) {
    auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "bench data: generating %s users into %s ...\n", s.name.c_str(), base.c_str());
    fs::path tmp = base.string() + ".tmp";
    remove_database(tmp);
    {
      cpm::store_options options;
      options.connection.journal = cpm::journal_mode::rollback;
      auto store = cpm::store::open(tmp.string(), options);
    }
    {
      loader db(tmp);
      db.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; PRAGMA foreign_keys=OFF");
      for (auto& [name, sql] : shipped_indexes()) db.exec("DROP INDEX IF EXISTS " + name);
      generate(db, s);
      db.exec("PRAGMA journal_mode=DELETE");
    }
    fs::rename(tmp, base);
    std::fprintf(stderr, "bench data: %s generated in %.1f s\n", base.c_str(), seconds_since(t0));
  }

  auto t0 = std::chrono::steady_clock::now();
  fs::path tmp = target.string() + ".tmp";
  remove_database(tmp);
  fs::copy_file(base, tmp, fs::copy_options::overwrite_existing);
  {
    loader db(tmp);
    db.exec("PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576");
    for (auto& sql : variant.table_sql) db.exec(sql);
    for (auto& sql : variant.index_sql) db.exec(sql);
    db.exec("PRAGMA foreign_keys=ON");
    db.exec("PRAGMA journal_mode=WAL");  // as cpm leaves its files (WAL is persistent)
  }
  fs::rename(tmp, target);
  std::fprintf(stderr, "bench data: %s (%zu indexes) in %.1f s\n", target.c_str(), variant.index_sql.size(), seconds_since(t0));
  return target;
}

std::filesystem::path private_copy(const std::filesystem::path& source, std::string_view tag) {
  namespace fs = std::filesystem;
  fs::path copy = source.parent_path() / "private" / fmt::format("{}.{}.db", source.stem().string(), tag);
  fs::create_directories(copy.parent_path());
  if (fs::exists(copy) && fs::last_write_time(copy) >= fs::last_write_time(source) &&
      fs::file_size(copy) == fs::file_size(source) && !fs::exists(copy.string() + "-wal"))
    return copy;
  remove_database(copy);
  fs::copy_file(source, copy, fs::copy_options::overwrite_existing);
  return copy;
}

std::string ed25519_key(splitmix64& rng) {
  // 4-byte big-endian length, "ssh-ed25519", 4-byte length, 32 key bytes: 51 bytes.
  constexpr std::string_view type = "ssh-ed25519";
  std::array<unsigned char, 4 + type.size() + 4 + 32> blob{};
  std::size_t at = 0;
  auto put_len = [&](std::uint32_t n) {
    for (int shift = 24; shift >= 0; shift -= 8) blob[at++] = static_cast<unsigned char>(n >> shift);
  };
  put_len(static_cast<std::uint32_t>(type.size()));
  for (char c : type) blob[at++] = static_cast<unsigned char>(c);
  put_len(32);
  for (int i = 0; i < 4; ++i) {
    std::uint64_t r = rng.next();
    for (int b = 0; b < 8; ++b) blob[at++] = static_cast<unsigned char>(r >> (8 * b));
  }
  return std::string(type) + " " + cpm::detail::base64_encode(std::vector<unsigned char>(blob.begin(), blob.end()));
}

cpm::user make_user(splitmix64& rng, std::int64_t suffix) {
  cpm::user u;
  u.username = fmt::format("{}_{}", letters(rng, 4, 12), suffix);
  u.email = fmt::format("{}@{}", u.username, domains[rng.below(std::size(domains))]);
  if (rng.below(10) < 8) u.public_key = ed25519_key(rng);
  return u;
}

cpm::user_key make_user_key(std::int64_t user_id, std::string name, std::string key, std::optional<std::string> comment) {
  cpm::user_key k;
  k.user_id = user_id;
  k.name = std::move(name);
  k.fingerprint = cpm::ssh_fingerprint(key);
  k.public_key = std::move(key);
  k.comment = std::move(comment);
  return k;
}

std::vector<cpm::user> fresh_users(std::size_t count, std::uint64_t seed) {
  splitmix64 rng{seed};
  std::vector<cpm::user> out;
  out.reserve(count);
  for (std::size_t i = 1; i <= count; ++i) out.push_back(make_user(rng, static_cast<std::int64_t>(i)));
  return out;
}

}  // namespace cpm_bench
