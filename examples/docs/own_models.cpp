// The code of docs/own-models.md: an application's own models, from nothing to a file that
// holds its tables beside cpm's store. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>

#include "check.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

// [snippet:enum]
enum class build_status { queued, running, passed, failed };

template <>
struct cpm::enum_names<build_status> {  // stored as these names; without this, as the integer
  static constexpr std::array values{std::pair{build_status::queued, std::string_view{"queued"}},
                                     std::pair{build_status::running, std::string_view{"running"}},
                                     std::pair{build_status::passed, std::string_view{"passed"}},
                                     std::pair{build_status::failed, std::string_view{"failed"}}};
};
// [end:enum]

// [snippet:commit_id]
struct commit_id {  // a commit's hex digits
  std::string hex{};
};

template <>
struct cpm::value_traits<commit_id> {
  static constexpr std::string_view sql_type = "TEXT";  // the column type create_table_sql writes
  static void bind(const cpm::parameter& p, const commit_id& c) {
    p.text_ref(c.hex);  // bytes inside the value: cpm decides whether SQLite must copy them
  }
  static void read(const cpm::field& f, commit_id& out) {
    if (f.type() != SQLITE_TEXT) f.mismatch("commit_id", "TEXT");  // throws cpm::value_error
    out.hex.assign(f.text());
  }
};
// [end:commit_id]

// [snippet:email]
struct email {  // two strings in C++, one TEXT column "user@domain"
  std::string user{};
  std::string domain{};
};

template <>
struct cpm::value_traits<email> {
  static constexpr std::string_view sql_type = "TEXT";
  static void bind(const cpm::parameter& p, const email& e) {
    p.text(e.user + "@" + e.domain);  // a string built here, gone when bind returns: text() copies it
  }
  static void read(const cpm::field& f, email& out) {
    if (f.type() != SQLITE_TEXT) f.mismatch("email", "TEXT");
    std::string_view text = f.text();
    std::size_t at = text.find('@');
    if (at == std::string_view::npos)
      f.fail(cpm::value_error::kind::type_mismatch, f.describe() + " is no email address");
    out.user = text.substr(0, at);
    out.domain = text.substr(at + 1);
  }
};
// [end:email]

// [snippet:models]
struct project {                           // table "project"
  std::int64_t id = 0;                     // the key; 0 on insert lets SQLite choose it
  std::string name{};                      // NOT NULL, and UNIQUE (model_traits below)
  std::optional<std::string> homepage{};   // may be NULL
  email owner{};                           // a type of your own, mapped by its value_traits
};

struct build {                                            // table "build"
  std::int64_t id = 0;
  std::int64_t project_id = 0;                            // REFERENCES project(id)
  commit_id commit{};
  build_status status = build_status::queued;             // stored as its name
  std::optional<std::chrono::sys_seconds> finished_at{};  // NULL until it has finished
  std::optional<std::chrono::sys_seconds> created_at{};   // left to the database
  std::vector<std::byte> log{};                           // a BLOB
};

template <>
struct cpm::model_traits<project> {
  static constexpr auto unique = std::tuple{cpm::unique_key<&project::name>{}};
};

template <>
struct cpm::model_traits<build> {
  static constexpr auto defaults = std::tuple{&build::created_at};  // empty on insert: the DEFAULT
  static constexpr auto default_values = std::tuple{cpm::sql_default<&build::created_at>{"CURRENT_TIMESTAMP"}};
  static constexpr auto foreign_keys =
      std::tuple{cpm::foreign_key<&build::project_id, &project::id>{.on_delete = cpm::fk_action::cascade}};
};
// [end:models]

static_assert(cpm::mapped_value<std::optional<email>>);  // what the page says of optional fields

// What the find snippet says: a value of another type does not compile.
template <class V>
concept findable_status = requires(cpm::connection& c, const V& v) { cpm::find<&build::status>(c, v); };
static_assert(findable_status<build_status> && !findable_status<const char*> && !findable_status<char[7]>);

// [snippet:create_table_sql]
static_assert(cpm::create_table_sql<project> ==
              R"(CREATE TABLE "project" ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL UNIQUE, )"
              R"("homepage" TEXT, "owner" TEXT NOT NULL))");
static_assert(cpm::create_table_sql<build> ==
              R"(CREATE TABLE "build" ("id" INTEGER PRIMARY KEY, )"
              R"("project_id" INTEGER NOT NULL REFERENCES "project" ("id") ON DELETE CASCADE, )"
              R"("commit" TEXT NOT NULL, "status" TEXT NOT NULL, "finished_at" TEXT, )"
              R"("created_at" TEXT DEFAULT CURRENT_TIMESTAMP, "log" BLOB NOT NULL))");
// [end:create_table_sql]

// [snippet:to_bytes]
std::vector<std::byte> to_bytes(std::string_view text) {
  auto bytes = std::as_bytes(std::span(text));
  return {bytes.begin(), bytes.end()};
}
// [end:to_bytes]

// [snippet:status_count]
struct status_count {  // a row of a query: its columns are named like these fields, in order
  build_status status{};
  std::int64_t builds = 0;
};
// [end:status_count]

// [snippet:history_row]
struct component_version {
  std::string component{};
  std::int64_t version = 0;
};
// [end:history_row]

// [snippet:patch_struct]
struct project_patch {  // each field named like one of project's, optional
  std::optional<std::string> name{};                       // empty: left as it is
  std::optional<std::optional<std::string>> homepage{};    // holding an empty optional: NULL
};
// [end:patch_struct]

// [snippet:format]
template <>
struct fmt::formatter<project> : cpm::model_formatter<project> {};  // fmt::print("{}", a_project)

template <>
struct fmt::formatter<email> : fmt::formatter<std::string_view> {  // how an email field prints
  auto format(const email& e, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}@{}", e.user, e.domain);
  }
};
// [end:format]

namespace {

// The example's own directory, emptied first and removed at the end.
struct scratch_directory {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("cpm-own-models-" + std::to_string(::getpid()));
  scratch_directory() {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~scratch_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

int main() try {
  scratch_directory dir;
  const std::string path = (dir.path / "ci.db").string();

  // [snippet:open]
  cpm::connection db = cpm::connection::open(path);          // the file, created when missing
  cpm::connection scratch = cpm::connection::open_memory();  // a private database in memory
  // [end:open]
  CHECK(db.is_open() && !db.is_memory() && db.path() == path);
  CHECK(scratch.is_memory());
  CHECK(cpm::query<std::string>(db, "PRAGMA journal_mode").one() == "wal");
  CHECK(cpm::query<std::int64_t>(db, "PRAGMA foreign_keys").one() == 1);

  // [snippet:migrate]
  static const cpm::migration ci_steps[] = {
      {.version = 1,
       .name = "projects and builds",
       .apply =
           [](cpm::connection& c) {
             c.exec(cpm::create_table_sql<project>);
             c.exec(cpm::create_table_sql<build>);
           }},
      {.version = 2, .name = "builds by status", .sql = "CREATE INDEX build_status ON build(status)"},
  };
  cpm::migration_report report = cpm::migrate(db, "ci", ci_steps);  // your component: "ci"
  // report.from == 0, report.to == 2; run again, it applies nothing
  // [end:migrate]
  CHECK(report.from == 0 && report.to == 2 && report.applied.size() == 2);
  CHECK(cpm::migrate(db, "ci", ci_steps).applied.empty());
  cpm::check_schema<project, build>(db);

  {
    std::vector<component_version> histories;
    // [snippet:beside_store]
    cpm::store store = cpm::store::open(path);  // cpm's own tables, in the same file: "cpm.store"
    store.create_user({.username = "ann", .email = "ann@example.org"});

    for (const component_version& c :
         cpm::query<component_version>(db, "SELECT component, max(version) AS version FROM cpm_schema_history "
                                           "GROUP BY component ORDER BY component")) {
      fmt::print("{} at version {}\n", c.component, c.version);  // ci at version 2, cpm.store at version ...
    }
    // [end:beside_store]
    histories = cpm::query<component_version>(db, "SELECT component, max(version) AS version FROM cpm_schema_history "
                                                  "GROUP BY component ORDER BY component")
                    .to_vector();
    CHECK(histories.size() == 2);
    CHECK(histories[0].component == "ci" && histories[0].version == 2);
    CHECK(histories[1].component == "cpm.store" && histories[1].version == cpm::store::target_version());
    CHECK(cpm::schema_version(store.db(), "ci") == 2);
    CHECK(cpm::count<project>(store.db()) == 0);          // the store's connection sees your tables...
    CHECK(store.user_by_name("ann").has_value());
    CHECK(cpm::query<std::int64_t>(db, "SELECT count(*) FROM users").one() == 1);  // ...and yours its
    cpm::check_schema<project, build>(store.db());
  }

  // [snippet:insert]
  project shop = cpm::insert(db, project{.name = "shop", .owner = {"ann", "example.org"}});
  build first = cpm::insert(db, build{.project_id = shop.id, .commit = {"9fceb02"}, .log = to_bytes("cloning\n")});
  // shop.id and first.id: chosen by SQLite; first.created_at: written by DEFAULT CURRENT_TIMESTAMP
  // [end:insert]
  CHECK(shop.id == 1 && first.id == 1);
  CHECK(first.created_at.has_value() && !first.finished_at.has_value());
  CHECK(first.status == build_status::queued);

  // [snippet:read_write]
  std::optional<build> found = cpm::get<build>(db, first.id);  // by key; empty when no row has it
  first.status = build_status::passed;
  first.finished_at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  bool updated = cpm::update(db, first);         // every field, by key; false: no such row
  bool removed = cpm::remove<build>(db, 12345);  // false: there was no such row
  // [end:read_write]
  CHECK(found && found->commit.hex == "9fceb02" && found->log == to_bytes("cloning\n"));
  CHECK(found->created_at == first.created_at);
  CHECK(updated && !removed);
  CHECK(cpm::get<build>(db, first.id)->finished_at == first.finished_at);
  CHECK(cpm::get<project>(db, shop.id)->owner.domain == "example.org");

  // [snippet:stored]
  std::string status = cpm::query<std::string>(db, "SELECT status FROM build WHERE id = ?", first.id).one();
  std::string owner = cpm::query<std::string>(db, "SELECT owner FROM project WHERE id = ?", shop.id).one();
  // status == "passed", owner == "ann@example.org"; finished_at reads like '2025-01-31 12:00:00'
  // [end:stored]
  CHECK(status == "passed");
  CHECK(owner == "ann@example.org");
  CHECK(cpm::query<std::string>(db, "SELECT typeof(log) FROM build WHERE id = ?", first.id).one() == "blob");
  CHECK(cpm::query<std::int64_t>(db, "SELECT length(finished_at) FROM build WHERE id = ?", first.id).one() == 19);

  (void)cpm::insert(db, build{.project_id = shop.id, .commit = {"1a410ef"}, .status = build_status::failed});
  (void)cpm::insert(db, build{.project_id = shop.id, .commit = {"c0ffee1"}});

  // [snippet:find]
  std::vector<build> failed = cpm::find<&build::status>(db, build_status::failed).to_vector();
  std::optional<project> by_name = cpm::find_one<&project::name>(db, "shop");
  std::vector<build> unfinished = cpm::find<&build::finished_at>(db, std::nullopt).to_vector();  // IS NULL
  std::vector<build> some = cpm::find_in<&build::id>(db, std::vector<std::int64_t>{3, 1, 99}).to_vector();
  std::optional<build> of_commit = cpm::find_one<&build::commit>(db, commit_id{"1a410ef"});  // your type too
  // cpm::find<&build::status>(db, "failed") does not compile: text is no build_status
  // [end:find]
  CHECK(failed.size() == 1 && failed[0].commit.hex == "1a410ef");
  CHECK(by_name && by_name->id == shop.id);
  CHECK(unfinished.size() == 2);
  CHECK(some.size() == 2 && some[0].id == 1 && some[1].id == 3);
  CHECK(of_commit && of_commit->id == 2);

  std::vector<status_count> counted;
  // [snippet:query]
  for (const status_count& row : cpm::query<status_count>(
           db, "SELECT status, count(*) AS builds FROM build GROUP BY status ORDER BY status")) {
    fmt::print("{}: {}\n", cpm::enum_to_text(row.status), row.builds);  // failed: 1, passed: 1, queued: 1
  }
  std::int64_t failures =
      cpm::query<std::int64_t>(db, cpm::sql<"SELECT count(*) FROM build WHERE status = ?">, build_status::failed).one();
  std::int64_t cleared = cpm::execute(db, "UPDATE build SET log = x'' WHERE finished_at IS NOT NULL");  // rows changed
  // [end:query]
  counted = cpm::query<status_count>(db, "SELECT status, count(*) AS builds FROM build GROUP BY status ORDER BY status")
                .to_vector();
  CHECK(counted.size() == 3 && counted[0].status == build_status::failed && counted[0].builds == 1);
  CHECK(failures == 1);
  CHECK(cleared == 1);
  CHECK(cpm::get<build>(db, first.id)->log.empty());

  // [snippet:patch]
  bool patched = cpm::patch<project>(db, shop.id, project_patch{.homepage = "https://shop.example.org"});
  cpm::patch<project>(db, shop.id, project_patch{.homepage = std::optional<std::string>{}});  // NULL again
  // [end:patch]
  CHECK(patched);
  CHECK(!cpm::get<project>(db, shop.id)->homepage.has_value());
  CHECK(cpm::patch<project>(db, shop.id, project_patch{.name = "webshop"}));
  CHECK(cpm::get<project>(db, shop.id)->name == "webshop");
  CHECK(!cpm::patch<project>(db, 999, project_patch{.name = "none"}));

  // [snippet:transaction]
  cpm::with_transaction(db, [&] {  // BEGIN IMMEDIATE ... COMMIT: all of it, or none if it throws
    build next = cpm::insert(db, build{.project_id = shop.id, .commit = {"deadbee"}});
    next.status = build_status::running;
    cpm::update(db, next);
  });
  {
    cpm::transaction tx(db);  // the guard: rolled back when it ends without commit()
    (void)cpm::insert(db, build{.project_id = shop.id, .commit = {"0000000"}});
  }  // not committed: the build is gone
  // [end:transaction]
  CHECK(cpm::find_one<&build::commit>(db, commit_id{"deadbee"})->status == build_status::running);
  CHECK(!cpm::find_one<&build::commit>(db, commit_id{"0000000"}).has_value());

  // [snippet:snapshot]
  {
    cpm::read_snapshot snapshot(db);  // one read transaction: every read below sees the same state
    std::int64_t builds = cpm::count<build>(db);
    std::vector<build> of_shop = cpm::find<&build::project_id>(db, shop.id).to_vector();
    fmt::print("{} builds, {} of them of project {}\n", builds, of_shop.size(), shop.id);
    try {
      (void)cpm::insert(db, build{.project_id = shop.id});  // a snapshot is read-only
    } catch (const cpm::readonly_error& e) {
      fmt::print("{}\n", e.what());  // says that the connection is inside a snapshot
    }
  }
  // [end:snapshot]
  {
    cpm::read_snapshot snapshot(db);
    CHECK(cpm::count<build>(db) == 4 && cpm::find<&build::project_id>(db, shop.id).to_vector().size() == 4);
    bool readonly = false;
    try {
      (void)cpm::insert(db, build{.project_id = shop.id});
    } catch (const cpm::readonly_error& e) {
      readonly = std::string_view(e.what()).find("snapshot") != std::string_view::npos;
    }
    CHECK(readonly);
    bool refused_transaction = false;
    try {
      cpm::transaction tx(db);
    } catch (const cpm::usage_error&) {
      refused_transaction = true;
    }
    CHECK(refused_transaction);
  }
  CHECK(cpm::count<build>(db) == 4);

  // [snippet:cache]
  cpm::connection small = cpm::connection::open(path, {.statement_cache_capacity = 2});
  for (std::string_view column : {"id", "status", "commit", "created_at"}) {  // four texts...
    (void)cpm::query<std::int64_t>(small, fmt::format(R"(SELECT id FROM build ORDER BY "{}")", column)).to_vector();
  }
  std::size_t kept = small.text_cache_size();  // ...at most two kept: the least recently used went first
  (void)cpm::query<std::int64_t>(small, cpm::sql<"SELECT count(*) FROM build">).one();  // a slot of its own
  // [end:cache]
  CHECK(kept == 2);
  CHECK(small.text_cache_size() == 2);
  CHECK(small.statement_cache_capacity() == 2);
  CHECK(db.statement_cache_capacity() == 128);

  // [snippet:print]
  project site = cpm::get<project>(db, shop.id).value();
  fmt::print("{}\n", site);  // project{id: 1, name: "webshop", homepage: null, owner: ann@example.org}
  std::string text = cpm::format_model(cpm::get<build>(db, first.id).value());  // any model, opted in or not
  // build{id: 1, project_id: 1, commit: <commit_id unprintable>, status: passed, ...}
  // [end:print]
  CHECK(fmt::format("{}", site) == R"(project{id: 1, name: "webshop", homepage: null, owner: ann@example.org})");
  CHECK(text.starts_with("build{id: 1, project_id: 1, commit: <commit_id unprintable>, status: passed, finished_at: "));
  CHECK(text.ends_with(", log: <0 bytes>}"));

  std::vector<std::string> messages;
  // [snippet:errors]
  try {
    (void)cpm::insert(db, project{.name = "webshop"});  // the name is UNIQUE
  } catch (const cpm::unique_violation& e) {
    fmt::print("{}.{} is taken\n", e.table(), e.columns().front());  // project.name is taken
  }
  try {
    (void)cpm::insert(db, build{.project_id = 42});  // no project 42
  } catch (const cpm::foreign_key_violation& e) {
    fmt::print("{}\n", e.what());
  }
  try {
    (void)cpm::query<std::int64_t>(db, "SELECT name FROM project").one();  // TEXT is no integer
  } catch (const cpm::value_error& e) {
    // e.what_kind() == cpm::value_error::kind::type_mismatch, e.column() == "name"
    fmt::print("{}\n", e.what());  // column 'name': TEXT 'webshop' cannot be read as std::int64_t (...)
  }
  try {
    (void)cpm::find<&build::project_id>(db, shop.id).one();  // four builds, not one
  } catch (const cpm::usage_error& e) {
    fmt::print("{}\n", e.what());  // cpm: the query returned more than one row: SELECT ...
  }
  // [end:errors]
  try {
    (void)cpm::insert(db, project{.name = "webshop"});
  } catch (const cpm::unique_violation& e) {
    messages.push_back(e.table() + "." + e.columns().front());
  }
  try {
    (void)cpm::insert(db, build{.project_id = 42});
  } catch (const cpm::foreign_key_violation&) {
    messages.emplace_back("foreign key");
  }
  try {
    (void)cpm::query<std::int64_t>(db, "SELECT name FROM project").one();
  } catch (const cpm::value_error& e) {
    if (e.what_kind() == cpm::value_error::kind::type_mismatch && e.column() == "name" &&
        std::string_view(e.what()).starts_with("column 'name': TEXT 'webshop' cannot be read as std::int64_t"))
      messages.emplace_back("type_mismatch");
  }
  try {
    (void)cpm::find<&build::project_id>(db, shop.id).one();
  } catch (const cpm::usage_error& e) {
    if (std::string_view(e.what()).starts_with("cpm: the query returned more than one row")) messages.emplace_back("usage");
  }
  CHECK((messages == std::vector<std::string>{"project.name", "foreign key", "type_mismatch", "usage"}));

  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "unexpected: %s\n", e.what());
  return 1;
}
