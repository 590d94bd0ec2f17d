// The code of docs/models-and-queries.md. Runs as a test: returns 0 only if every check holds.
#include <cpm/cpm.hpp>
#include <cpm/ranges_v3.hpp>

#include "check.hpp"

#include <fmt/core.h>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/take.hpp>
#include <range/v3/view/transform.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

// [snippet:plain]
struct note {              // table "note"
  std::int64_t id = 0;     // column "id": the key, an alias of SQLite's rowid; 0 = let SQLite choose
  std::string text{};      // column "text"
  bool pinned = false;     // column "pinned"
};
// [end:plain]

// [snippet:traits]
struct account {
  std::int64_t id = 0;
  std::string username{};
  std::string email{};
  std::optional<std::string> public_key{};               // NULL when empty
  std::optional<std::chrono::sys_seconds> created_at{};  // left to the database when empty
};

template <>
struct cpm::model_traits<account> {
  static constexpr std::string_view table = "accounts";              // instead of "account"
  static constexpr auto defaults = std::tuple{&account::created_at};  // DEFAULT CURRENT_TIMESTAMP
};
// [end:traits]

// [snippet:format_opt_in]
template <>
struct fmt::formatter<account> : cpm::model_formatter<account> {};  // fmt::print("{}", an_account)
// [end:format_opt_in]

// [snippet:columns]
struct setting {
  std::string key{};
  std::string value{};
};

template <>
struct cpm::model_traits<setting> {
  static constexpr std::array<std::string_view, 2> columns{"name", "value"};  // every field, in order
  static constexpr auto primary_key = &setting::key;                         // not an integer id
};
// [end:columns]

// [snippet:member_table]
struct membership {
  static constexpr std::string_view cpm_table = "org_members";  // static: not a field
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t user_id = 0;
};
// [end:member_table]

// [snippet:typed_projection]
struct note_text {  // named and typed like a field of note: only that column is read
  std::string text{};
};
// [end:typed_projection]

// [snippet:typed_sql]
static_assert(decltype(cpm::from<note>.where(cpm::col<&note::pinned> == true ||
                                             cpm::col<&note::text>.like("x%")))::sql ==
              R"(SELECT "id", "text", "pinned" FROM "note" WHERE "pinned" = ? OR "text" LIKE ? ORDER BY "id")");
static_assert(decltype(cpm::from<note>.where(cpm::col<&note::id> > 2))::remove_sql ==
              R"(DELETE FROM "note" WHERE "id" > ?)");
// [end:typed_sql]

// [snippet:sql_text]
static_assert(cpm::sql_text::select_by_key<account> ==
              R"(SELECT "id", "username", "email", "public_key", "created_at" FROM "accounts" WHERE "id" = ?)");
static_assert(cpm::sql_text::update<note> == R"(UPDATE "note" SET "text" = ?, "pinned" = ? WHERE "id" = ?)");
static_assert(cpm::sql_text::select_all<setting> == R"(SELECT "name", "value" FROM "setting" ORDER BY "name")");
// [end:sql_text]

// [snippet:patch_struct]
struct account_patch {
  std::optional<std::string> email{};                       // empty: unchanged
  std::optional<std::optional<std::string>> public_key{};   // holding an empty optional: NULL
};
// [end:patch_struct]

// [snippet:raw_row]
struct pin_count {  // columns named like the fields, in their order
  bool pinned = false;
  std::int64_t how_many = 0;
};
// [end:raw_row]

int main() try {
  auto db = cpm::connection::open_memory();
  db.exec(R"(
    CREATE TABLE note(id INTEGER PRIMARY KEY, text TEXT NOT NULL, pinned INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE accounts(id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL,
                       public_key TEXT, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
    CREATE TABLE setting(name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE org_members(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, user_id INTEGER NOT NULL);
  )");

  // [snippet:insert]
  account alice = cpm::insert(db, account{.username = "alice", .email = "alice@example.org"});
  // alice.id: the id SQLite chose; alice.created_at: what DEFAULT CURRENT_TIMESTAMP wrote
  // [end:insert]
  CHECK(alice.id == 1);
  CHECK(alice.created_at.has_value());

  // [snippet:read_write]
  std::optional<account> found = cpm::get<account>(db, alice.id);  // by primary key; empty if none
  alice.email = "alice@example.com";
  bool updated = cpm::update(db, alice);          // every field, by key; false: no such row
  bool removed = cpm::remove<account>(db, 12345);    // false: there was no such row
  // [end:read_write]
  CHECK(found && found->username == "alice");
  CHECK(updated);
  CHECK(!removed);
  CHECK(cpm::get<account>(db, alice.id)->email == "alice@example.com");

  // [snippet:upsert]
  account bob = cpm::upsert<&account::username>(db, account{.username = "bob", .email = "bob@example.org"});
  account again = cpm::upsert<&account::username>(db, account{.username = "bob", .email = "bob@example.net"});
  // again.id == bob.id: the row with username "bob" was updated, not inserted twice
  // [end:upsert]
  CHECK(again.id == bob.id);
  CHECK(again.email == "bob@example.net");
  CHECK(again.created_at == bob.created_at);

  // [snippet:insert_all]
  std::vector<note> notes{{.text = "buy milk"}, {.text = "call mum", .pinned = true}, {.text = "read"}};
  std::size_t stored = cpm::insert_all(db, notes);  // one transaction: all of them or none
  // [end:insert_all]
  CHECK(stored == 3);

  (void)cpm::insert(db, setting{.key = "theme", .value = "dark"});
  CHECK(cpm::get<setting>(db, "theme")->value == "dark");
  CHECK(cpm::insert(db, membership{.org_id = 1, .user_id = alice.id}).id == 1);

  // [snippet:all]
  for (const note& n : cpm::all<note>(db)) {  // in key order, one row at a time
    fmt::print("{}: {}\n", n.id, n.text);
  }
  std::int64_t how_many = cpm::count<note>(db);
  // [end:all]
  CHECK(how_many == 3);

  std::vector<std::int64_t> walked;
  // [snippet:page]
  std::int64_t after = 0;  // the last key seen: every page is one index range, however deep
  for (;;) {
    std::vector<note> page = cpm::page<note>(db, after, 2).to_vector();
    if (page.empty()) break;
    for (const note& n : page) walked.push_back(n.id);
    after = page.back().id;
  }
  // [end:page]
  CHECK((walked == std::vector<std::int64_t>{1, 2, 3}));

  // [snippet:find]
  std::vector<note> pinned = cpm::find<&note::pinned>(db, true).to_vector();
  std::optional<account> by_name = cpm::find_one<&account::username>(db, "alice");
  cpm::rows<account> without_key = cpm::find<&account::public_key>(db, std::nullopt);  // IS NULL
  cpm::rows<note> some = cpm::find_in<&note::id>(db, std::vector<std::int64_t>{3, 1, 3, 99});
  // cpm::find<&account::username>(db, 42) does not compile: an int is no username
  // [end:find]
  CHECK(pinned.size() == 1 && pinned[0].text == "call mum");
  CHECK(by_name && by_name->id == alice.id);
  CHECK(without_key.to_vector().size() == 2);
  CHECK(some.to_vector().size() == 2);

  // [snippet:ranges]
  std::vector<std::string> texts = cpm::all<note>(db)
                                 | ranges::views::filter([](const note& n) { return !n.pinned; })
                                 | ranges::views::transform(&note::text)
                                 | ranges::views::take(5)
                                 | ranges::to<std::vector>();
  for (const note& n : cpm::all<note>(db)) {
    if (n.pinned) break;  // leaving early resets the statement: its read transaction ends here
  }
  // [end:ranges]
  CHECK((texts == std::vector<std::string>{"buy milk", "read"}));

  // [snippet:single_pass]
  cpm::rows<note> rows = cpm::all<note>(db);
  cpm::rows<note> copy = rows;                   // shares the cursor: a copy is not a second query
  std::optional<note> first = copy.first();      // reads one row, then gives the statement back
  std::vector<note> rest = rows.to_vector();     // empty: the cursor is done
  note only = cpm::find<&note::text>(db, "read").one();  // exactly one row, or it throws
  // [end:single_pass]
  CHECK(first && first->id == 1);
  CHECK(rest.empty());
  CHECK(only.id == 3);

  // [snippet:patch]
  cpm::patch<account>(db, alice.id, account_patch{.email = "a@example.org"});  // only the email
  cpm::patch<account>(db, alice.id, account_patch{.public_key = std::optional<std::string>{}});  // NULL
  // [end:patch]
  CHECK(cpm::get<account>(db, alice.id)->email == "a@example.org");
  CHECK(!cpm::get<account>(db, alice.id)->public_key);
  CHECK(!cpm::patch<account>(db, 999, account_patch{.email = "nobody@example.org"}));

  // [snippet:raw]
  for (const pin_count& row :
       cpm::query<pin_count>(db, "SELECT pinned, count(*) AS how_many FROM note GROUP BY pinned")) {
    fmt::print("pinned={}: {}\n", row.pinned, row.how_many);
  }
  std::string longest =
      cpm::query<std::string>(db, cpm::sql<"SELECT text FROM note ORDER BY length(text) DESC LIMIT 1">).one();
  std::int64_t unpinned = cpm::execute(db, "UPDATE note SET pinned = 0 WHERE pinned = ?", true);
  // [end:raw]
  CHECK(longest == "buy milk" || longest == "call mum");
  CHECK(unpinned == 1);

  bool mismatch_thrown = false;
  // [snippet:mismatch]
  try {
    (void)cpm::query<pin_count>(db, "SELECT pinned FROM note");
  } catch (const cpm::column_count_mismatch& e) {
    // e.expected() == 2, e.actual() == 1, e.sql() == "SELECT pinned FROM note"
    fmt::print("{}\n", e.what());
  }
  // [end:mismatch]
  try {
    (void)cpm::query<pin_count>(db, "SELECT pinned FROM note");
  } catch (const cpm::column_count_mismatch& e) {
    mismatch_thrown = e.expected() == 2 && e.actual() == 1;
  }
  CHECK(mismatch_thrown);

  // [snippet:typed_where]
  using cpm::col;
  auto with_m = cpm::from<note>
                    .where(col<&note::pinned> == false && col<&note::text>.like("%m%"))
                    .order_by(cpm::desc<&note::id>)
                    .limit(10);
  for (const note& n : with_m.rows(db)) fmt::print("{}\n", n.text);  // lazily: a cpm::rows<note>
  std::int64_t with_key = cpm::from<account>.where(col<&account::public_key>.is_not_null()).count(db);
  bool bob_or_carol = cpm::from<account>.where(col<&account::username>.in({"bob", "carol"})).exists(db);
  // cpm::from<note>.where(col<&note::text> == 42) does not compile: an int is no text
  // [end:typed_where]
  CHECK((with_m.rows(db).to_vector().size() == 2 && with_m.first(db)->text == "call mum"));
  CHECK(with_key == 0);
  CHECK(bob_or_carol);

  // [snippet:typed_projection_use]
  std::vector<note_text> just_texts = cpm::from<note>.select<note_text>().rows(db).to_vector();
  // SELECT "text" FROM "note" ORDER BY "id"
  // [end:typed_projection_use]
  CHECK(just_texts.size() == 3);
  CHECK(just_texts[2].text == "read");

  // [snippet:typed_write]
  std::int64_t repinned = cpm::from<note>.where(col<&note::text>.glob("*milk*")).update(db, cpm::set<&note::pinned>(true));
  std::int64_t dropped = cpm::from<note>.where(col<&note::id> > 2).remove(db);  // rows deleted
  // [end:typed_write]
  CHECK(repinned == 1);
  CHECK(dropped == 1);
  CHECK(cpm::count<note>(db) == 2);

  std::vector<std::string> members;
  // [snippet:typed_join]
  for (auto& [member, who] : cpm::join<&membership::user_id, &account::id>
                                 .where(col<&membership::org_id> == 1)
                                 .order_by(cpm::asc<&account::username>)
                                 .rows(db)) {
    members.push_back(who.username);  // member: the membership row, who: the account it names
  }
  // [end:typed_join]
  CHECK((members == std::vector<std::string>{"alice"}));

  // [snippet:format]
  fmt::print("{}\n", cpm::get<account>(db, bob.id).value());
  // account{id: 2, username: "bob", email: "bob@example.net", public_key: null, created_at: 2025-...}
  std::string text = cpm::format_model(note{.id = 7, .text = "hi"});  // any model, opted in or not
  // note{id: 7, text: "hi", pinned: false}
  // [end:format]
  CHECK(text == R"(note{id: 7, text: "hi", pinned: false})");

  std::puts("models_and_queries: all checks passed");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "models_and_queries: %s\n", e.what());
  return 1;
}
