// cpm: the store, every operation of the cpm service over one connection.
//
//   auto store = cpm::store::open_default();            // ~/.cpm/cpm.db, migrated
//   auto alice = store.create_user({.username = "alice", .email = "alice@example.org"});
//   auto acme = store.create_organization({.name = "acme"}, alice.id);   // alice owns it
//   auto tools = store.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"});
//   for (const cpm::repository& r : store.user_repositories(alice.id)) ...
//   if (store.access_level(alice.id, tools.id) >= cpm::access_level::write) ...
//
// Every write validates its input first (cpm::validation_error), runs in one transaction
// (a savepoint inside a caller's transaction) and reports taken names as cpm::already_exists
// and missing ids as cpm::record_not_found; a refused operation changes nothing. Lists return
// lazy ranges and take a page (the last id seen and a limit).
//
// The rules of a git service hold, enforced by the database itself (schema version 3): user
// and organization names are unique regardless of case, a repository's path is unique, an SSH
// key belongs to at most one user, and an organization never loses its last owner
// (cpm::last_owner).
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/query.hpp>
#include <cpm/schema/migration.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/transaction.hpp>
#include <cpm/store/errors.hpp>
#include <cpm/store/location.hpp>
#include <cpm/store/models.hpp>
#include <cpm/store/public_keys.hpp>
#include <cpm/store/queries.hpp>
#include <cpm/store/schema.hpp>
#ifndef NDEBUG
#include <cpm/store/schema_check.hpp>
#endif
#include <cpm/store/validation.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>

namespace cpm {

namespace detail {

// (Named here, not inside the functions that use them: a local type's name mangles with its
// function's whole signature.)
struct key_used_patch {
  std::optional<std::optional<timestamp>> last_used_at;
};
struct sole_owned {
  std::int64_t id = 0;
  std::string name{};
};

// T, named so that it depends on D. The store's queries are variable templates, built where
// they are used; named with a type that depends on the store's Connection, they are built
// when an operation using them is instantiated, not where the store's templates are defined
// (in every translation unit that includes cpm: a compiler may evaluate a non-dependent
// constant at the definition).
template <class T, class D>
struct depend_on {
  using type = T;
};

// What the store needs of its backend beyond the generic layer's functions (found by
// argument-dependent lookup: cpm::get for an SQLite connection, cpm::pg::get for a PostgreSQL
// one): its list type, its transaction guard, and (for PostgreSQL, in <cpm/postgres/store.hpp>)
// its statements of the store's queries.
template <class Connection>
struct store_backend;

template <>
struct store_backend<connection> {
  static constexpr bool sqlite = true;
  template <class T>
  using rows = cpm::rows<T>;
  using transaction = cpm::transaction;
};

}  // namespace detail

// A page of a list: rows with an id greater than `after`, at most `limit` of them (-1: all).
struct page_request {
  std::int64_t after = 0;
  std::int64_t limit = -1;
};

// Partial updates: a field left empty is not changed. For nullable columns, an engaged
// optional holding an empty one stores NULL.
struct user_patch {
  std::optional<std::string> username{};
  std::optional<std::string> email{};
  std::optional<std::optional<std::string>> public_key{};
};
struct organization_patch {
  std::optional<std::string> name{};
  std::optional<std::optional<std::string>> description{};
};
struct repository_patch {
  std::optional<std::string> name{};
  std::optional<std::int64_t> org_id{};
  std::optional<std::string> path{};
  std::optional<std::optional<std::string>> description{};
};
struct ssh_key_patch {
  std::optional<std::string> name{};
  std::optional<std::string> public_key{};
  std::optional<std::string> private_key_path{};
};
struct server_patch {
  std::optional<std::string> name{};
  std::optional<std::string> host{};
  std::optional<int> port{};
  std::optional<bool> is_neighbor{};
  std::optional<std::optional<std::int64_t>> ssh_key_id{};
};

struct store_options {
  open_options connection{};
  bool migrate = true;  // bring the schema to the current version on open
};

// The store over one connection; use it as cpm::store. A class template only so that a
// translation unit compiles just the operations it calls (members of a class template are
// instantiated on use), or, with CPM_SEPARATE_STORE, none of them (see the end of this file).
template <class Connection = connection>
class basic_store {
  using backend = detail::store_backend<Connection>;
  static constexpr bool on_sqlite = backend::sqlite;
  using transaction_type = typename backend::transaction;

 public:
  // The lists the store returns: cpm::rows<T> (lazy) on SQLite, std::vector<T> on PostgreSQL.
  template <class T>
  using rows_of = typename backend::template rows<T>;

  // Opens the database at `path` (creating it, its directory 0700 and the file 0600, when
  // missing) and migrates it. A database whose schema is newer than this code
  // (cpm::schema_too_new), or an unversioned one cpm cannot adopt (cpm::adoption_error), is
  // refused before anything in the file changes.
  static basic_store open(const std::string& path, store_options options = {});
  static basic_store open_default(store_options options = {});
  static basic_store open_memory();

  explicit basic_store(Connection db, bool migrate = true);

  [[nodiscard]] Connection& db() noexcept { return db_; }

  migration_report migrate();
  [[nodiscard]] int schema_version();
  [[nodiscard]] static int target_version();

  // ---- users -------------------------------------------------------------------------------

  user create_user(const user& u);

  // Creates every user of `users` in one transaction: all or, on the first error, none.
  template <std::ranges::input_range Users>
  std::size_t create_users(Users&& users) {
    transaction_type tx(db_);
    std::size_t count = 0;
    for (const user& u : users) {
      (void)insert_user(u);
      ++count;
    }
    tx.commit();
    return count;
  }

  [[nodiscard]] std::optional<user> get_user(std::int64_t id);
  [[nodiscard]] std::optional<user> user_by_name(std::string_view username);
  // The user holding the SSH public key `key` (its comment, if any, is ignored); also finds a
  // key the original system wrote into users.public_key, beside the store.
  [[nodiscard]] std::optional<user> user_by_public_key(std::string_view key);
  // The user holding the key with this fingerprint ("SHA256:...", what sshd passes to an
  // AuthorizedKeysCommand as %f). Keys in user_keys: not one the original system wrote into
  // users.public_key beside the store (user_by_public_key finds those).
  [[nodiscard]] std::optional<user> user_by_fingerprint(std::string_view fingerprint);
  [[nodiscard]] rows_of<user> list_users(page_request p = {});

  // A public_key in the patch replaces the user's first key (adds one named "default" when
  // the user has none); an empty one removes the first key.
  user update_user(std::int64_t id, user_patch change);

  // Deletes the user, their keys, memberships and grants. Refused (cpm::last_owner, naming
  // them) when the user is the last owner of organizations.
  void delete_user(std::int64_t id);

  // ---- users' SSH keys -----------------------------------------------------------------------

  // Adds a key ("type base64 [comment]", as in authorized_keys) named `name` to the user. A
  // key any user already holds is cpm::already_exists.
  user_key add_user_key(std::int64_t user_id, std::string_view name, std::string_view public_key);

  [[nodiscard]] std::optional<user_key> get_user_key(std::int64_t id);
  [[nodiscard]] std::optional<user_key> user_key_by_fingerprint(std::string_view fingerprint);
  // A user's keys, oldest first.
  [[nodiscard]] rows_of<user_key> user_keys(std::int64_t user_id);

  void remove_user_key(std::int64_t key_id);

  // Records a login with the key (its last_used_at).
  void mark_key_used(std::int64_t key_id, timestamp when = std::chrono::floor<std::chrono::seconds>(
                                                             std::chrono::system_clock::now()));

  // ---- organizations -------------------------------------------------------------------------

  // Creates the organization and, when `owner` is given, makes that user its owner, together.
  organization create_organization(const organization& org, std::optional<std::int64_t> owner = {});

  [[nodiscard]] std::optional<organization> get_organization(std::int64_t id);
  [[nodiscard]] std::optional<organization> organization_by_name(std::string_view name);
  [[nodiscard]] rows_of<organization> list_organizations(page_request p = {});

  organization update_organization(std::int64_t id, const organization_patch& change);

  // Deletes the organization, its repositories, its memberships and those repositories' grants.
  void delete_organization(std::int64_t id);

  // ---- organization members ------------------------------------------------------------------

  org_member add_org_member(std::int64_t org_id, std::int64_t user_id, org_role role);

  [[nodiscard]] std::optional<org_member> get_org_member(std::int64_t id);
  [[nodiscard]] std::optional<org_member> org_membership(std::int64_t org_id, std::int64_t user_id);
  [[nodiscard]] rows_of<org_member> list_org_members(page_request p = {});

  // The members of an organization with their roles: owners, admins, members; by username.
  [[nodiscard]] rows_of<member_info> org_members(std::int64_t org_id);
  // The organizations the user belongs to, with the role in each; by name.
  [[nodiscard]] rows_of<membership_info> user_organizations(std::int64_t user_id);

  // Demoting an organization's last owner is refused (cpm::last_owner).
  org_member set_org_role(std::int64_t org_id, std::int64_t user_id, org_role role);

  // Removing an organization's last owner is refused (cpm::last_owner).
  void remove_org_member(std::int64_t org_id, std::int64_t user_id);

  // ---- repositories --------------------------------------------------------------------------

  // Creates the repository and, when `creator` is given, grants that user admin on it, together.
  repository create_repository(const repository& repo, std::optional<std::int64_t> creator = {});

  // Creates every repository of `repos` in one transaction: all or, on the first error, none.
  template <std::ranges::input_range Repositories>
  std::size_t create_repositories(Repositories&& repos) {
    transaction_type tx(db_);
    std::size_t count = 0;
    for (const repository& r : repos) {
      (void)insert_repository(r);
      ++count;
    }
    tx.commit();
    return count;
  }

  [[nodiscard]] std::optional<repository> get_repository(std::int64_t id);
  [[nodiscard]] std::optional<repository> repository_by_name(std::int64_t org_id, std::string_view name);
  // The repository stored at `path` (paths are unique).
  [[nodiscard]] std::optional<repository> repository_by_path(std::string_view path);
  // The repository named "organization/name".
  [[nodiscard]] std::optional<repository> repository_by_full_name(std::string_view full_name);
  [[nodiscard]] rows_of<repository> list_repositories(page_request p = {});
  [[nodiscard]] rows_of<repository> org_repositories(std::int64_t org_id);

  repository update_repository(std::int64_t id, const repository_patch& change);

  // Deletes the repository and its grants.
  void delete_repository(std::int64_t id);

  // ---- repository access ---------------------------------------------------------------------

  // Grants `level` on the repository to the user, replacing any grant they had.
  repo_access grant_access(std::int64_t repo_id, std::int64_t user_id, cpm::access_level level);

  void revoke_access(std::int64_t repo_id, std::int64_t user_id);

  [[nodiscard]] std::optional<repo_access> get_repo_access(std::int64_t id);
  [[nodiscard]] std::optional<repo_access> repo_grant(std::int64_t repo_id, std::int64_t user_id);
  [[nodiscard]] rows_of<repo_access> list_repo_access(page_request p = {});
  [[nodiscard]] rows_of<repo_access> repository_grants(std::int64_t repo_id);

  // ---- query patterns ------------------------------------------------------------------------

  // Repositories the user reaches through an organization or a direct grant, each once.
  [[nodiscard]] rows_of<repository> user_repositories(std::int64_t user_id);

  // The user's effective access to the repository: the higher of a direct grant and their
  // organization role (owner or admin: admin, member: read); nullopt when neither applies.
  [[nodiscard]] std::optional<cpm::access_level> access_level(std::int64_t user_id, std::int64_t repo_id);

  // ---- SSH keys ------------------------------------------------------------------------------

  ssh_key create_ssh_key(const ssh_key& key);

  [[nodiscard]] std::optional<ssh_key> get_ssh_key(std::int64_t id);
  [[nodiscard]] std::optional<ssh_key> ssh_key_by_name(std::string_view name);
  [[nodiscard]] rows_of<ssh_key> list_ssh_keys(page_request p = {});

  ssh_key update_ssh_key(std::int64_t id, const ssh_key_patch& change);

  // Deletes the key; servers that used it keep running with no key (ssh_key_id NULL).
  void delete_ssh_key(std::int64_t id);

  // ---- servers -------------------------------------------------------------------------------

  server create_server(const server& s);

  [[nodiscard]] std::optional<server> get_server(std::int64_t id);
  [[nodiscard]] std::optional<server> server_by_name(std::string_view name);
  [[nodiscard]] rows_of<server> list_servers(page_request p = {});
  // Peer servers (is_neighbor), by the index on is_neighbor.
  [[nodiscard]] rows_of<server> neighbor_servers();

  server update_server(std::int64_t id, const server_patch& change);

  void delete_server(std::int64_t id);

  // ---- counts --------------------------------------------------------------------------------

  // Rows in each table (each count reads the table's smallest index).
  [[nodiscard]] store_counts counts();
  // Counts answered from an index range, without reading the rows.
  [[nodiscard]] std::int64_t org_member_count(std::int64_t org_id);
  [[nodiscard]] std::int64_t org_repository_count(std::int64_t org_id);
  [[nodiscard]] std::int64_t user_key_count(std::int64_t user_id);

 private:
  template <class T>
  void require(std::int64_t id, const char* entity) {
    if constexpr (on_sqlite) {
      auto stmt = db_.cached(sql_constant<detail::select_by_key_sql<T>>{});
      stmt.template bind_at(1, id);
      if (!stmt.step()) throw record_not_found(entity, std::to_string(id));
    } else {
      if (!get<T>(db_, id)) throw record_not_found(entity, std::to_string(id));
    }
  }

  template <class T>
  void remove_or_throw(std::int64_t id, const char* entity) {
    transaction_type tx(db_);
    if (!remove<T>(db_, id)) throw record_not_found(entity, std::to_string(id));
    tx.commit();
  }

  user insert_user(const user& u);
  repository insert_repository(const repository& r);

  // Inserts `row` as a new row (the database picks the id, whatever `row` holds) and returns it
  // as stored. A taken value of one of the unique fields `Unique...` is already_exists naming
  // it (the one whose index refused the row; the first when none matches).
  template <auto... Unique, class T>
  T insert_new(T row, const char* entity) {
    row.id = 0;
    try {
      return insert(db_, row);
    } catch (const unique_violation& e) {
      // A clash on the key the database chose (a PostgreSQL sequence behind ids inserted as
      // given) names no taken value: it stays the database's error.
      if (!e.columns().empty() && e.columns().back() == model_info<T>::columns[model_info<T>::primary_key]) throw;
      throw clash<Unique...>(e, row, entity);
    }
  }

  template <auto First, auto... Rest, class T>
  static already_exists clash(const unique_violation& e, const T& row, const char* entity) {
    std::string_view column = e.columns().empty() ? std::string_view() : std::string_view(e.columns().back());
    if constexpr (sizeof...(Rest) > 0) {
      if (column != model_info<T>::columns[field_index<First>]) return clash<Rest...>(e, row, entity);
    }
    return already_exists(entity, std::string(model_info<T>::columns[field_index<First>]), row.*First);
  }

  // Applies `change` to the row `id` (which exists) and returns the row as stored. A clash on the
  // unique field `Unique` is already_exists naming the value that clashed: the proposed one, or
  // the stored one when another column of a composite key moved it into the clash.
  // (Further unique text fields, each with its proposed value, in `others`.)
  template <auto Unique, class Patch>
  detail::member_class_t<Unique> patch_existing(
      std::int64_t id, const Patch& change, const char* entity, const std::optional<std::string>& proposed,
      std::initializer_list<std::pair<std::string_view, const std::optional<std::string>*>> others = {}) {
    using T = detail::member_class_t<Unique>;
    try {
      if constexpr (on_sqlite) {
        patch<T>(db_, id, change);
      } else {
        // A failed statement ends a PostgreSQL transaction: a savepoint keeps it usable for the
        // read below.
        transaction_type savepoint(db_);
        patch<T>(db_, id, change);
        savepoint.commit();
      }
    } catch (const unique_violation& e) {
      std::string_view column = e.columns().empty() ? std::string_view() : std::string_view(e.columns().back());
      for (const auto& [name, value] : others)
        if (name == column && *value) throw already_exists(entity, std::string(name), **value);
      throw already_exists(entity, std::string(detail::field_name<T, field_index<Unique>>),
                           proposed ? *proposed : get<T>(db_, id).value().*Unique);
    }
    return get<T>(db_, id).value();
  }

  // The first row of one of the store's queries, for the point lookups: the cached statement
  // stepped once, the arguments bound by reference (they outlive the step), the row read in
  // place; no rows<> range (its shared cursor, a copy of the row) around it.
  template <class Row, class Sql, class... Args>
  std::optional<Row> first_row(Sql sql, const Args&... args) {
    auto stmt = db_.cached(sql);
    stmt.bind_refs(args...);
    std::optional<Row> out;
    if (stmt.step()) detail::read_row(stmt.native(), out.emplace());
    return out;
  }

  void require_unused_key(const std::string& key, const char* entity);
  std::optional<user_key> first_key(std::int64_t user_id);
  user_key insert_key(std::int64_t user_id, std::string_view name, const public_key_line& key);
  void mirror_public_key(std::int64_t user_id);
  void require_not_last_owner(std::int64_t user_id, std::optional<std::int64_t> org_id);

  static void validate_ssh_key(std::string_view name, std::string_view public_key, std::string_view private_key_path);

  template <class T>
  using dep = typename detail::depend_on<T, Connection>::type;

  Connection db_;
  std::optional<journal_mode> pending_journal_;  // set by migrate(), when open() did not migrate
};

// ---- the operations, defined outside the class so that an explicit instantiation declaration
// (CPM_SEPARATE_STORE, below) keeps every translation unit from compiling them ------------

template <class Connection>
basic_store<Connection> basic_store<Connection>::open(const std::string& path, store_options options) {
  if constexpr (!on_sqlite) {
    // A PostgreSQL connection string or URI: migrated on open as the SQLite file is; a schema
    // newer than this code is refused, migrating or not, before anything changes.
    auto db = backend::open(path);
    int found = backend::schema_version(db);
    if (found > target_version()) throw schema_too_new(std::string(store_component), found, target_version());
    return basic_store(std::move(db), options.migrate);
  } else {
    // Only a database that may be created gets its directory and file made; a read-only open
    // (or create = false) of a missing file fails in connection::open and makes nothing.
    if (path != ":memory:" && options.connection.create && !options.connection.read_only) prepare_database_path(path);
    journal_mode wanted = options.connection.journal;
    options.connection.journal = journal_mode::keep;
    auto db = connection::open(path, options.connection);
    int found = store_schema_version(db);
    if (found > cpm::target_version(store_migrations()))
      throw schema_too_new(std::string(store_component), found, cpm::target_version(store_migrations()));
    // A database with no version may be one the original system made: refuse one cpm cannot
    // adopt (cpm::adoption_error) here too, before the switch to WAL rewrites its header.
    if (found == 0 && options.migrate) detail::check_adoptable(db);
    // Rows that break the rules version 3 enforces are reported before any step runs.
    if (found < 3 && options.migrate) {
      if (auto conflicts = detail::service_rule_conflicts(db); !conflicts.empty()) throw rule_conflict(std::move(conflicts));
    }
    // The journal mode is switched once the migrations succeeded: a refused file (a step that
    // fails, an adoption that cannot finish) is left byte for byte as it was.
    // Unmigrated (migrate = false on an older schema), the switch waits for migrate().
    basic_store store(std::move(db), options.migrate);
    if (!store.db_.is_memory() && !options.connection.read_only) {
      if (options.migrate || found == cpm::target_version(store_migrations())) {
        store.db_.set_journal_mode(wanted);
      } else {
        store.pending_journal_ = wanted;
      }
    }
    return store;
  }
}

template <class Connection>
basic_store<Connection> basic_store<Connection>::open_default(store_options options) {
  static_assert(on_sqlite, "cpm: open_default opens ~/.cpm/cpm.db, an SQLite file: open a PostgreSQL store with open(conninfo)");
  return open(default_database_path(), std::move(options));
}

template <class Connection>
basic_store<Connection> basic_store<Connection>::open_memory() {
  static_assert(on_sqlite, "cpm: open_memory opens an in-memory SQLite database: open a PostgreSQL store with open(conninfo)");
  return basic_store(connection::open_memory());
}

template <class Connection>
basic_store<Connection>::basic_store(Connection db, bool migrate) : db_(std::move(db)) {
  if (migrate) {
    this->migrate();
#ifndef NDEBUG
    // Debug builds check that the tables still match the models (cpm::schema_mismatch names
    // every difference): a hand-edited or foreign database is caught at open, not mid-request.
    if constexpr (on_sqlite) check_store_schema(db_);
#endif
  }
}

template <class Connection>
migration_report basic_store<Connection>::migrate() {
  if constexpr (!on_sqlite) {
    return backend::migrate(db_);
  } else {
    auto report = cpm::migrate(db_, store_component, store_migrations(), {.record_user_version = true});
    if (pending_journal_) {
      db_.set_journal_mode(*pending_journal_);
      pending_journal_.reset();
    }
    return report;
  }
}

template <class Connection>
int basic_store<Connection>::schema_version() {
  if constexpr (!on_sqlite) {
    return backend::schema_version(db_);
  } else {
    return store_schema_version(db_);
  }
}

template <class Connection>
int basic_store<Connection>::target_version() {
  return cpm::target_version(store_migrations());
}

template <class Connection>
user basic_store<Connection>::create_user(const user& u) {
  transaction_type tx(db_);
  user stored = insert_user(u);
  tx.commit();
  return stored;
}

template <class Connection>
std::optional<user> basic_store<Connection>::get_user(std::int64_t id) {
  return get<user>(db_, id);
}

template <class Connection>
std::optional<user> basic_store<Connection>::user_by_name(std::string_view username) {
  return find_one<&user::username>(db_, username);
}

template <class Connection>
std::optional<user> basic_store<Connection>::user_by_public_key(std::string_view key) {
  constexpr std::string_view space = " \t\r\n";
  auto begin = key.find_first_not_of(space);
  if (begin == std::string_view::npos) return std::nullopt;
  key.remove_prefix(begin);
  key = detail::normalize_public_key(key);
  if (key.find(' ') == std::string_view::npos) return std::nullopt;  // a key type alone is no key
  if constexpr (!on_sqlite) {
    if (auto found = backend::user_by_key(db_, key)) return found;
    return backend::user_by_original_key(db_, key);
  } else {
    if (auto found = first_row<user>(sql_constant<detail::user_by_key_sql<dep<user>>>{}, key)) return found;
    // A key the original system wrote since (into users.public_key only).
    return first_row<user>(sql_constant<detail::user_by_original_key_sql<dep<user>>>{}, key);
  }
}

template <class Connection>
std::optional<user> basic_store<Connection>::user_by_fingerprint(std::string_view fingerprint) {
  if constexpr (!on_sqlite) {
    return backend::user_by_fingerprint(db_, fingerprint);
  } else {
    return first_row<user>(sql_constant<detail::user_by_fingerprint_sql<dep<user>>>{}, fingerprint);
  }
}

template <class Connection>
auto basic_store<Connection>::list_users(page_request p) -> rows_of<user> {
  return page<user>(db_, p.after, p.limit);
}

template <class Connection>
user basic_store<Connection>::update_user(std::int64_t id, user_patch change) {
  if (change.username) validate::username(*change.username);
  if (change.email) validate::email(*change.email);
  std::optional<std::optional<public_key_line>> key;  // the first key's change, if any
  if (change.public_key) {
    key.emplace();
    if (*change.public_key) *key = parse_public_key(**change.public_key, "user.public_key");
    change.public_key.reset();  // users.public_key follows user_keys (mirror_public_key)
  }
  transaction_type tx(db_);
  require<user>(id, "user");
  if (key) {
    auto first = first_key(id);
    if (*key) {
      // Held by another user, or by another of this user's keys: taken. (The first key itself
      // may be given again, with another comment.)
      auto holder = find_one<&user_key::public_key>(db_, (*key)->key);
      if (holder && !(first && holder->id == first->id)) throw already_exists("user", "public_key", (*key)->key);
      if (first) {
        first->public_key = (*key)->key;
        first->fingerprint = (*key)->fingerprint;
        first->comment = (*key)->comment.empty() ? std::nullopt : std::optional<std::string>((*key)->comment);
        update(db_, *first);
      } else {
        (void)insert_key(id, "default", **key);
      }
    } else if (first) {
      (void)remove<user_key>(db_, first->id);
    }
    mirror_public_key(id);
  }
  user stored = patch_existing<&user::username>(id, change, "user", change.username);
  tx.commit();
  return stored;
}

template <class Connection>
void basic_store<Connection>::delete_user(std::int64_t id) {
  transaction_type tx(db_);
  require_not_last_owner(id, std::nullopt);
  remove_or_throw<user>(id, "user");
  tx.commit();
}

template <class Connection>
user_key basic_store<Connection>::add_user_key(std::int64_t user_id, std::string_view name,
                                               std::string_view public_key) {
  validate::name(name, "user_key.name");
  auto key = parse_public_key(public_key, "user_key.public_key");
  transaction_type tx(db_);
  require<user>(user_id, "user");
  require_unused_key(key.key, "user_key");
  user_key stored = insert_key(user_id, name, key);
  mirror_public_key(user_id);
  tx.commit();
  return stored;
}

template <class Connection>
std::optional<user_key> basic_store<Connection>::get_user_key(std::int64_t id) {
  return get<user_key>(db_, id);
}

template <class Connection>
std::optional<user_key> basic_store<Connection>::user_key_by_fingerprint(std::string_view fingerprint) {
  return find_one<&user_key::fingerprint>(db_, fingerprint);
}

template <class Connection>
auto basic_store<Connection>::user_keys(std::int64_t user_id) -> rows_of<user_key> {
  return find<&user_key::user_id>(db_, user_id);
}

template <class Connection>
void basic_store<Connection>::remove_user_key(std::int64_t key_id) {
  transaction_type tx(db_);
  auto key = get<user_key>(db_, key_id);
  if (!key) throw record_not_found("user_key", std::to_string(key_id));
  (void)remove<user_key>(db_, key_id);
  mirror_public_key(key->user_id);
  tx.commit();
}

template <class Connection>
void basic_store<Connection>::mark_key_used(std::int64_t key_id, timestamp when) {
  if (!patch<user_key>(db_, key_id, detail::key_used_patch{std::optional<timestamp>(when)}))
    throw record_not_found("user_key", std::to_string(key_id));
}

template <class Connection>
organization basic_store<Connection>::create_organization(const organization& org, std::optional<std::int64_t> owner) {
  validate::name(org.name, "organization.name");
  if (org.description) validate::text(*org.description, "organization.description");
  transaction_type tx(db_);
  if (owner) require<user>(*owner, "user");
  organization stored = insert_new<&organization::name>(org, "organization");
  if (owner) (void)insert(db_, org_member{0, stored.id, *owner, org_role::owner, {}});
  tx.commit();
  return stored;
}

template <class Connection>
std::optional<organization> basic_store<Connection>::get_organization(std::int64_t id) {
  return get<organization>(db_, id);
}

template <class Connection>
std::optional<organization> basic_store<Connection>::organization_by_name(std::string_view name) {
  return find_one<&organization::name>(db_, name);
}

template <class Connection>
auto basic_store<Connection>::list_organizations(page_request p) -> rows_of<organization> {
  return page<organization>(db_, p.after, p.limit);
}

template <class Connection>
organization basic_store<Connection>::update_organization(std::int64_t id, const organization_patch& change) {
  if (change.name) validate::name(*change.name, "organization.name");
  if (change.description && *change.description) validate::text(**change.description, "organization.description");
  transaction_type tx(db_);
  require<organization>(id, "organization");
  organization stored = patch_existing<&organization::name>(id, change, "organization", change.name);
  tx.commit();
  return stored;
}

template <class Connection>
void basic_store<Connection>::delete_organization(std::int64_t id) {
  remove_or_throw<organization>(id, "organization");
}

template <class Connection>
org_member basic_store<Connection>::add_org_member(std::int64_t org_id, std::int64_t user_id, org_role role) {
  transaction_type tx(db_);
  require<organization>(org_id, "organization");
  require<user>(user_id, "user");
  org_member stored;
  try {
    stored = insert(db_, org_member{0, org_id, user_id, role, {}});
  } catch (const unique_violation&) {
    throw already_exists("org_member", "org_id, user_id", detail::message("{}, {}", org_id, user_id));
  }
  tx.commit();
  return stored;
}

template <class Connection>
std::optional<org_member> basic_store<Connection>::get_org_member(std::int64_t id) {
  return get<org_member>(db_, id);
}

template <class Connection>
std::optional<org_member> basic_store<Connection>::org_membership(std::int64_t org_id, std::int64_t user_id) {
  using member = dep<org_member>;
  return from<member>.where(col<&member::org_id> == org_id && col<&member::user_id> == user_id).first(db_);
}

template <class Connection>
auto basic_store<Connection>::list_org_members(page_request p) -> rows_of<org_member> {
  return page<org_member>(db_, p.after, p.limit);
}

template <class Connection>
auto basic_store<Connection>::org_members(std::int64_t org_id) -> rows_of<member_info> {
  if constexpr (!on_sqlite) {
    return backend::org_members(db_, org_id);
  } else {
    return query<member_info>(db_, sql_constant<detail::org_members_sql<dep<void>>>{}, org_id);
  }
}

template <class Connection>
auto basic_store<Connection>::user_organizations(std::int64_t user_id) -> rows_of<membership_info> {
  if constexpr (!on_sqlite) {
    return backend::user_organizations(db_, user_id);
  } else {
    return query<membership_info>(db_, sql_constant<detail::user_organizations_sql<dep<void>>>{}, user_id);
  }
}

template <class Connection>
org_member basic_store<Connection>::set_org_role(std::int64_t org_id, std::int64_t user_id, org_role role) {
  transaction_type tx(db_);
  auto member = org_membership(org_id, user_id);
  if (!member) throw record_not_found("org_member", detail::message("(org {}, user {})", org_id, user_id));
  if (member->role == org_role::owner && role != org_role::owner) require_not_last_owner(user_id, org_id);
  member->role = role;
  update(db_, *member);
  tx.commit();
  return *member;
}

template <class Connection>
void basic_store<Connection>::remove_org_member(std::int64_t org_id, std::int64_t user_id) {
  transaction_type tx(db_);
  auto member = org_membership(org_id, user_id);
  if (!member) throw record_not_found("org_member", detail::message("(org {}, user {})", org_id, user_id));
  if (member->role == org_role::owner) require_not_last_owner(user_id, org_id);
  (void)remove<org_member>(db_, member->id);
  tx.commit();
}

template <class Connection>
repository basic_store<Connection>::create_repository(const repository& repo, std::optional<std::int64_t> creator) {
  transaction_type tx(db_);
  repository stored = insert_repository(repo);
  if (creator) {
    require<user>(*creator, "user");
    (void)insert(db_, repo_access{0, stored.id, *creator, cpm::access_level::admin});
  }
  tx.commit();
  return stored;
}

template <class Connection>
std::optional<repository> basic_store<Connection>::get_repository(std::int64_t id) {
  return get<repository>(db_, id);
}

template <class Connection>
std::optional<repository> basic_store<Connection>::repository_by_name(std::int64_t org_id, std::string_view name) {
  // Hand-written: as a typed query (from<repository>.where(org_id == ... && name == ...)) it
  // measured 1.014x the instructions, for the copy of the name the predicate keeps.
  if constexpr (!on_sqlite) {
    using repo = dep<repository>;
    return from<repo>.where(col<&repo::org_id> == org_id && col<&repo::name> == name).first(db_);
  } else {
    return query<repository>(db_, sql_constant<detail::repository_by_name_sql<dep<repository>>>{}, org_id, name).first();
  }
}

template <class Connection>
std::optional<repository> basic_store<Connection>::repository_by_path(std::string_view path) {
  return find_one<&repository::path>(db_, path);
}

template <class Connection>
std::optional<repository> basic_store<Connection>::repository_by_full_name(std::string_view full_name) {
  auto slash = full_name.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  if constexpr (!on_sqlite) {
    return backend::repository_by_full_name(db_, full_name.substr(0, slash), full_name.substr(slash + 1));
  } else {
    return query<repository>(db_, sql_constant<detail::repository_by_full_name_sql<dep<repository>>>{}, full_name.substr(0, slash),
                             full_name.substr(slash + 1))
        .first();
  }
}

template <class Connection>
auto basic_store<Connection>::list_repositories(page_request p) -> rows_of<repository> {
  return page<repository>(db_, p.after, p.limit);
}

template <class Connection>
auto basic_store<Connection>::org_repositories(std::int64_t org_id) -> rows_of<repository> {
  return find<&repository::org_id>(db_, org_id);
}

template <class Connection>
repository basic_store<Connection>::update_repository(std::int64_t id, const repository_patch& change) {
  if (change.name) validate::name(*change.name, "repository.name");
  if (change.path) validate::absolute_path(*change.path, "repository.path");
  if (change.description && *change.description) validate::text(**change.description, "repository.description");
  transaction_type tx(db_);
  require<repository>(id, "repository");
  if (change.org_id) require<organization>(*change.org_id, "organization");
  // UNIQUE(org_id, name): a move to another organization can clash with the stored name.
  repository stored =
      patch_existing<&repository::name>(id, change, "repository", change.name, {{"path", &change.path}});
  tx.commit();
  return stored;
}

template <class Connection>
void basic_store<Connection>::delete_repository(std::int64_t id) {
  remove_or_throw<repository>(id, "repository");
}

template <class Connection>
repo_access basic_store<Connection>::grant_access(std::int64_t repo_id, std::int64_t user_id, cpm::access_level level) {
  transaction_type tx(db_);
  require<repository>(repo_id, "repository");
  require<user>(user_id, "user");
  repo_access stored = upsert<&repo_access::repo_id, &repo_access::user_id>(db_, repo_access{0, repo_id, user_id, level});
  tx.commit();
  return stored;
}

template <class Connection>
void basic_store<Connection>::revoke_access(std::int64_t repo_id, std::int64_t user_id) {
  transaction_type tx(db_);
  using grant = dep<repo_access>;
  if (from<grant>.where(col<&grant::repo_id> == repo_id && col<&grant::user_id> == user_id).remove(db_) == 0)
    throw record_not_found("repo_access", detail::message("(repository {}, user {})", repo_id, user_id));
  tx.commit();
}

template <class Connection>
std::optional<repo_access> basic_store<Connection>::get_repo_access(std::int64_t id) {
  return get<repo_access>(db_, id);
}

template <class Connection>
std::optional<repo_access> basic_store<Connection>::repo_grant(std::int64_t repo_id, std::int64_t user_id) {
  using grant = dep<repo_access>;
  return from<grant>.where(col<&grant::repo_id> == repo_id && col<&grant::user_id> == user_id).first(db_);
}

template <class Connection>
auto basic_store<Connection>::list_repo_access(page_request p) -> rows_of<repo_access> {
  return page<repo_access>(db_, p.after, p.limit);
}

template <class Connection>
auto basic_store<Connection>::repository_grants(std::int64_t repo_id) -> rows_of<repo_access> {
  return find<&repo_access::repo_id>(db_, repo_id);
}

template <class Connection>
auto basic_store<Connection>::user_repositories(std::int64_t user_id) -> rows_of<repository> {
  if constexpr (!on_sqlite) {
    return backend::user_repositories(db_, user_id);
  } else {
    return query<repository>(db_, sql_constant<detail::user_repositories_sql<dep<repository>>>{}, user_id);
  }
}

template <class Connection>
std::optional<cpm::access_level> basic_store<Connection>::access_level(std::int64_t user_id, std::int64_t repo_id) {
  // One row, always (an aggregate): stepped directly, no range around it. Called for every
  // request that touches a repository.
  if constexpr (!on_sqlite) {
    auto level = backend::access_level(db_, user_id, repo_id);
    if (!level) return std::nullopt;
    return static_cast<cpm::access_level>(*level);
  } else {
    auto stmt = db_.cached(sql_constant<detail::access_level_sql<dep<void>>>{});
    stmt.bind(user_id, repo_id);
    stmt.step();
    auto level = stmt.template column<std::optional<int>>(0);
    if (!level) return std::nullopt;
    return static_cast<cpm::access_level>(*level);
  }
}

template <class Connection>
ssh_key basic_store<Connection>::create_ssh_key(const ssh_key& key) {
  validate_ssh_key(key.name, key.public_key, key.private_key_path);
  transaction_type tx(db_);
  ssh_key stored = insert_new<&ssh_key::name>(key, "ssh_key");
  tx.commit();
  return stored;
}

template <class Connection>
std::optional<ssh_key> basic_store<Connection>::get_ssh_key(std::int64_t id) {
  return get<ssh_key>(db_, id);
}

template <class Connection>
std::optional<ssh_key> basic_store<Connection>::ssh_key_by_name(std::string_view name) {
  return find_one<&ssh_key::name>(db_, name);
}

template <class Connection>
auto basic_store<Connection>::list_ssh_keys(page_request p) -> rows_of<ssh_key> {
  return page<ssh_key>(db_, p.after, p.limit);
}

template <class Connection>
ssh_key basic_store<Connection>::update_ssh_key(std::int64_t id, const ssh_key_patch& change) {
  if (change.name) validate::name(*change.name, "ssh_key.name");
  if (change.public_key) validate::ssh_public_key(*change.public_key, "ssh_key.public_key");
  if (change.private_key_path) validate::absolute_path(*change.private_key_path, "ssh_key.private_key_path");
  transaction_type tx(db_);
  require<ssh_key>(id, "ssh_key");
  ssh_key stored = patch_existing<&ssh_key::name>(id, change, "ssh_key", change.name);
  tx.commit();
  return stored;
}

template <class Connection>
void basic_store<Connection>::delete_ssh_key(std::int64_t id) {
  remove_or_throw<ssh_key>(id, "ssh_key");
}

template <class Connection>
server basic_store<Connection>::create_server(const server& s) {
  validate::name(s.name, "server.name");
  validate::host(s.host);
  validate::port(s.port);
  transaction_type tx(db_);
  if (s.ssh_key_id) require<ssh_key>(*s.ssh_key_id, "ssh_key");
  server stored = insert_new<&server::name>(s, "server");
  tx.commit();
  return stored;
}

template <class Connection>
std::optional<server> basic_store<Connection>::get_server(std::int64_t id) {
  return get<server>(db_, id);
}

template <class Connection>
std::optional<server> basic_store<Connection>::server_by_name(std::string_view name) {
  return find_one<&server::name>(db_, name);
}

template <class Connection>
auto basic_store<Connection>::list_servers(page_request p) -> rows_of<server> {
  return page<server>(db_, p.after, p.limit);
}

template <class Connection>
auto basic_store<Connection>::neighbor_servers() -> rows_of<server> {
  return find<&server::is_neighbor>(db_, true);
}

template <class Connection>
server basic_store<Connection>::update_server(std::int64_t id, const server_patch& change) {
  if (change.name) validate::name(*change.name, "server.name");
  if (change.host) validate::host(*change.host);
  if (change.port) validate::port(*change.port);
  transaction_type tx(db_);
  require<server>(id, "server");
  if (change.ssh_key_id && *change.ssh_key_id) require<ssh_key>(**change.ssh_key_id, "ssh_key");
  server stored = patch_existing<&server::name>(id, change, "server", change.name);
  tx.commit();
  return stored;
}

template <class Connection>
void basic_store<Connection>::delete_server(std::int64_t id) {
  remove_or_throw<server>(id, "server");
}

template <class Connection>
store_counts basic_store<Connection>::counts() {
  if constexpr (!on_sqlite) {
    return backend::counts(db_);
  } else {
    auto stmt = db_.cached(sql_constant<detail::store_counts_sql<dep<void>>>{});
    stmt.step();
    store_counts c;
    detail::read_row(stmt.native(), c);
    return c;
  }
}

template <class Connection>
std::int64_t basic_store<Connection>::org_member_count(std::int64_t org_id) {
  if constexpr (!on_sqlite) {
    using row = dep<org_member>;
    return from<row>.where(col<&row::org_id> == org_id).count(db_);
  } else {
    return query<std::int64_t>(db_, sql<"SELECT count(*) FROM org_members WHERE org_id = ?">, org_id).one();
  }
}

template <class Connection>
std::int64_t basic_store<Connection>::org_repository_count(std::int64_t org_id) {
  if constexpr (!on_sqlite) {
    using row = dep<repository>;
    return from<row>.where(col<&row::org_id> == org_id).count(db_);
  } else {
    return query<std::int64_t>(db_, sql<"SELECT count(*) FROM repositories WHERE org_id = ?">, org_id).one();
  }
}

template <class Connection>
std::int64_t basic_store<Connection>::user_key_count(std::int64_t user_id) {
  if constexpr (!on_sqlite) {
    using row = dep<user_key>;
    return from<row>.where(col<&row::user_id> == user_id).count(db_);
  } else {
    return query<std::int64_t>(db_, sql<"SELECT count(*) FROM user_keys WHERE user_id = ?">, user_id).one();
  }
}

template <class Connection>
void basic_store<Connection>::require_unused_key(const std::string& key, const char* entity) {
  if (find_one<&user_key::public_key>(db_, key)) throw already_exists(entity, "public_key", key);
}

template <class Connection>
std::optional<user_key> basic_store<Connection>::first_key(std::int64_t user_id) {
  if constexpr (!on_sqlite) {
    return backend::first_user_key(db_, user_id);
  } else {
    return first_row<user_key>(sql_constant<detail::first_user_key_sql<dep<user_key>>>{}, user_id);
  }
}

template <class Connection>
user_key basic_store<Connection>::insert_key(std::int64_t user_id, std::string_view name, const public_key_line& key) {
  user_key row{0, user_id, std::string(name), key.key, key.fingerprint,
               key.comment.empty() ? std::nullopt : std::optional<std::string>(key.comment), {}, {}};
  return insert_new<&user_key::name, &user_key::public_key>(std::move(row), "user_key");
}

template <class Connection>
void basic_store<Connection>::mirror_public_key(std::int64_t user_id) {
  if constexpr (!on_sqlite) {
    return backend::mirror_public_key(db_, user_id);
  } else {
    auto stmt = db_.cached(sql_constant<detail::mirror_public_key_sql<dep<void>>>{});
    stmt.bind(user_id);
    stmt.run();
  }
}

template <class Connection>
void basic_store<Connection>::require_not_last_owner(std::int64_t user_id, std::optional<std::int64_t> org_id) {
  std::vector<std::string> orgs;
  auto each = [&](detail::sole_owned& org) {
    if (!org_id || org.id == *org_id) orgs.push_back(std::move(org.name));
  };
  if constexpr (on_sqlite) {
    for (detail::sole_owned& org : query<detail::sole_owned>(db_, sql_constant<detail::sole_owner_of_sql<dep<void>>>{}, user_id))
      each(org);
  } else {
    for (detail::sole_owned& org : backend::template sole_owner_of<detail::sole_owned>(db_, user_id)) each(org);
  }
  if (!orgs.empty()) {
    auto u = get<user>(db_, user_id);
    throw last_owner(u ? u->username : std::to_string(user_id), std::move(orgs));
  }
}

template <class Connection>
user basic_store<Connection>::insert_user(const user& u) {
  validate::username(u.username);
  validate::email(u.email);
  std::optional<public_key_line> key;
  if (u.public_key) key = parse_public_key(*u.public_key, "user.public_key");
  user row = u;
  row.public_key.reset();  // mirrored from user_keys below
  if (key) require_unused_key(key->key, "user");
  user stored = insert_new<&user::username>(std::move(row), "user");
  if (key) {
    (void)insert_key(stored.id, "default", *key);
    mirror_public_key(stored.id);
    stored.public_key = key->key;
  }
  return stored;
}

template <class Connection>
repository basic_store<Connection>::insert_repository(const repository& r) {
  validate::name(r.name, "repository.name");
  validate::absolute_path(r.path, "repository.path");
  if (r.description) validate::text(*r.description, "repository.description");
  require<organization>(r.org_id, "organization");
  return insert_new<&repository::name, &repository::path>(r, "repository");
}

template <class Connection>
void basic_store<Connection>::validate_ssh_key(std::string_view name, std::string_view public_key,
                                               std::string_view private_key_path) {
  validate::name(name, "ssh_key.name");
  validate::ssh_public_key(public_key, "ssh_key.public_key");
  validate::absolute_path(private_key_path, "ssh_key.private_key_path");
}

using store = basic_store<>;

// Compiling the store once. By default every translation unit compiles the operations it calls
// (header-only). A project that calls them from many files can instead define
// CPM_SEPARATE_STORE for all of them, and CPM_STORE_IMPLEMENTATION in exactly one .cpp file
// that includes <cpm/cpm.hpp>: the operations are then compiled there, once
// (docs/performance.md has the figures).
#if defined(CPM_STORE_IMPLEMENTATION)
#define CPM_DETAIL_STORE_INSTANTIATION template
#elif defined(CPM_SEPARATE_STORE)
#define CPM_DETAIL_STORE_INSTANTIATION extern template
#endif
#ifdef CPM_DETAIL_STORE_INSTANTIATION
CPM_DETAIL_STORE_INSTANTIATION class basic_store<connection>;
// The readers of the rows the store's lists return.
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<user>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<user_key>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<membership_info>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<organization>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<repository>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<ssh_key>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<server>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<org_member>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<repo_access>;
CPM_DETAIL_STORE_INSTANTIATION struct detail::cursor<member_info>;
#undef CPM_DETAIL_STORE_INSTANTIATION
#endif

}  // namespace cpm
