// cpm benchmarks: the deterministic data set and the database files built from it.
//
// Everything comes from splitmix64 with a fixed seed and plain integer arithmetic (no
// std:: distributions), so every standard library and compiler produces the same data.
//
// At a scale of N users:
//   users           N; usernames of 4-12 letters plus "_<id>"; ~80% have an ssh-ed25519 key,
//                   a quarter of those a second one
//   user_keys       the keys, as the store writes them: "type base64", the SHA256 fingerprint
//                   (cpm::ssh_fingerprint), a comment on half of them; users.public_key mirrors
//                   the user's first key, '' when the user has none
//   organizations   N/100 (at least 2); 10% without a description ('')
//   repositories    50 per organization, inserted in shuffled order (an organization's
//                   repositories are spread over the table); 30% without a description (''),
//                   unique paths /srv/git/<organization>/<name>.git
//   org_members     2 distinct organizations per user; roles 5% owner, 15% admin, 80% member
//   repo_access     3 distinct repositories per user; levels 60% read, 30% write, 10% admin
//   ssh_keys        8; servers 48, 12 of them neighbours
//
// Each database file is built once under the cache directory and reused by later runs. The
// directory name carries a hash of cpm's schema and the generator version, so a change to
// either builds new files. Files are written to a temporary name and renamed when complete.
#pragma once

#include <cpm/store/models.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpm_bench {

struct splitmix64 {
  std::uint64_t state;

  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // In [0, n): the modulo bias is irrelevant here, and the result is the same everywhere.
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
  std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept {  // [lo, hi]
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
};

inline constexpr std::uint64_t data_seed = 0x63706d2d62656e63ULL;  // "cpm-benc"

struct scale {
  std::string name;        // "1k", "10k", "100k", "1m"
  std::int64_t users = 0;

  [[nodiscard]] std::int64_t organizations() const { return users / 100 < 2 ? 2 : users / 100; }
  [[nodiscard]] std::int64_t repositories() const { return organizations() * 50; }
};

// "1k" -> 1,000 users; "100k", "1m", or a plain number. nullopt when unreadable.
std::optional<scale> parse_scale(std::string_view text);

// The indexes the benchmarks switch on and off: cpm's own, and the candidates.
struct index_def {
  std::string_view name;
  std::string_view sql;
};
inline constexpr index_def candidate_indexes[] = {
    {"idx_org_members_user_id", "CREATE INDEX idx_org_members_user_id ON org_members(user_id)"},
    {"idx_users_public_key", "CREATE INDEX idx_users_public_key ON users(public_key)"},
    {"idx_repositories_org_id", "CREATE INDEX idx_repositories_org_id ON repositories(org_id)"},
    {"idx_repo_access_user_id", "CREATE INDEX idx_repo_access_user_id ON repo_access(user_id)"},
    {"idx_repo_access_repo_id", "CREATE INDEX idx_repo_access_repo_id ON repo_access(repo_id)"},
    {"idx_servers_is_neighbor", "CREATE INDEX idx_servers_is_neighbor ON servers(is_neighbor)"},
    {"idx_repositories_path", "CREATE UNIQUE INDEX idx_repositories_path ON repositories(path)"},
};

// UNIQUE column constraints a lookup is answered from (their automatic indexes cannot be
// dropped): the variant "-unique_<table>_<column>" rebuilds the table without the constraint
// (CREATE TABLE without UNIQUE, copy the rows, DROP, RENAME), which removes its index.
struct unique_constraint_def {
  std::string_view name;  // "unique_user_keys_fingerprint"
  std::string_view table;
  std::string_view column;
};
inline constexpr unique_constraint_def candidate_constraints[] = {
    {"unique_user_keys_fingerprint", "user_keys", "fingerprint"},
    {"unique_user_keys_public_key", "user_keys", "public_key"},
};

// A schema variant: cpm's schema as it ships ("shipped"), or that schema with one index
// removed ("-idx_...") or added ("+idx_..."), or one table rebuilt without a UNIQUE
// constraint ("-unique_...").
struct schema_variant {
  std::string name;                       // "shipped", "-idx_users_public_key", "+idx_repo_access_repo_id"
  std::vector<std::string> table_sql;     // run first: a table rebuilt without a constraint
  std::vector<std::string> index_sql;     // every CREATE INDEX of the variant
};

// The statements that rebuild `table` (as cpm's migrations create it) without the UNIQUE
// constraint of `column`, keeping its rows. Throws if the column has no such constraint.
std::vector<std::string> without_unique_sql(std::string_view table, std::string_view column);

// The names and DDL of the indexes cpm's migrations create (read from a fresh in-memory store).
std::vector<std::pair<std::string, std::string>> shipped_indexes();
// "shipped" first, then one variant per candidate index: without it when cpm ships it, with
// it when cpm does not; then one per candidate UNIQUE constraint, without it.
std::vector<schema_variant> schema_variants();
schema_variant find_variant(std::string_view name);

// The cache directory for this schema and generator: <root>/g<version>-<hash of the schema>.
std::filesystem::path cache_dir(const std::filesystem::path& root);

// The database file of `s` with `variant`'s indexes, built (once) when missing. Prints what it
// builds to stderr.
std::filesystem::path database(const std::filesystem::path& root, const scale& s, const schema_variant& variant);

// A private copy of `source` named <source>.<tag>.db, refreshed when the source is newer; for
// connections that take the file's lock for good (locking_mode=EXCLUSIVE).
std::filesystem::path private_copy(const std::filesystem::path& source, std::string_view tag);

// ---- pieces shared with the benchmarks -------------------------------------------------------

// "ssh-ed25519 <base64 of: len, "ssh-ed25519", len, 32 random bytes>"
std::string ed25519_key(splitmix64& rng);
// A user as the generator makes it (id 0 when `id` is 0; username unique by its "_<suffix>").
cpm::user make_user(splitmix64& rng, std::int64_t suffix);
// `count` new users (id 0, created_at left to the database), for the insert benchmark.
std::vector<cpm::user> fresh_users(std::size_t count, std::uint64_t seed);
// A key as the store keeps it in user_keys: "type base64", its fingerprint, the comment.
cpm::user_key make_user_key(std::int64_t user_id, std::string name, std::string key, std::optional<std::string> comment);

}  // namespace cpm_bench
