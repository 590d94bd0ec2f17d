// Hostile input: a corpus of hostile strings (SQL fragments, quotes, NUL bytes, invalid UTF-8,
// very long values, Unicode oddities, path traversal, shell and format strings) goes through
// every text field of every create and update operation of the store, alone and inside an
// otherwise valid value. Each attempt is either refused by validation (cpm::validation_error
// naming that field, with nothing written) or stored and read back byte for byte. Afterwards
// the schema (sqlite_schema) is exactly what it was, the database passes integrity_check, and
// name lookups with the hostile strings find only what was stored under them.
#include <cpm/cpm.hpp>

#include <catch2/catch.hpp>
#include <store_support.hpp>

#include <fmt/core.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::string_literals;

std::vector<std::string> hostile_strings() {
  std::vector<std::string> v = {
      // SQL
      "'", "''", "\"", "`", ";", "--", "/*", "*/", "'; DROP TABLE users; --", "\"; DROP TABLE users; --",
      "' OR '1'='1", "1 OR 1=1", "admin'--", "x'); DELETE FROM repo_access; --",
      "'||(SELECT group_concat(sql) FROM sqlite_schema)||'", "'; ATTACH DATABASE '/tmp/x.db' AS x; --",
      "'; PRAGMA writable_schema=1; --", "?", "?1", ":name", "@p", "$x", "%", "_", "\\", "\\'", "NULL", "null",
      "0", "-1", "9223372036854775808", "1e309", "x'00'", "CHAR(0)",
      // NUL bytes and control characters
      "\0"s, "a\0b"s, "\0'; DROP TABLE users; --"s, "abc\0"s, "\r\n", "\n", "\t", "\x1b[31mred\x1b[0m", "\x7f", "\x01",
      "\b\b\b\b",
      // invalid UTF-8
      "\xff", "\xfe\xff", "\xc0\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80", "a\xffz",
      "\xf8\x88\x80\x80\x80",
      // Unicode oddities (valid UTF-8)
      "\xef\xbb\xbf", "\xe2\x80\xae" "evil", "\xe2\x80\x8b", "a\xe2\x80\x8d" "b", "e\xcc\x81", "\xc3\xa9",
      "\xd0\xb0" "dmin", "\xef\xbd\x81\xef\xbd\x84", "\xf0\x9f\x98\x80", "\xef\xbf\xbd", "\xef\xbf\xbf",
      "\xf4\x8f\xbf\xbf", "\xe2\x80\xa8", "\xc2\xa0",
      // paths and shells
      "../../etc/passwd", "..", ".", "/", "//", "/etc/passwd", "/srv/git/../../etc/shadow", "/srv/./git",
      "C:\\Windows\\System32", "\\\\server\\share", "~root", "$(rm -rf /)", "`id`", "| cat /etc/passwd", "-rf",
      "--upload-pack=touch /tmp/pwned", ".git", "repo.git/../../x", "%00", "%2e%2e%2f", "a/b", "a b",
      // markup and format strings
      "<script>alert(1)</script>", "${jndi:ldap://x/a}", "{{7*7}}", "%s%s%s%n", "{}", "{0}",
      // white space and emptiness
      "", " ", "  leading", "trailing ", "\xe3\x80\x80",
      // lengths at and past the limits
      std::string(64, 'a'), std::string(65, 'a'), std::string(100, 'b'), std::string(101, 'b'), std::string(253, 'c'),
      std::string(255, 'c'), std::string(4096, 'd'), std::string(4097, 'd'), std::string(16385, 'e'),
      std::string(1 << 20, 'f'), std::string(5000, '\''),
  };
  // Long and odd together: a long run of a multi-byte character cut in the middle.
  std::string cut;
  while (cut.size() < 4095) cut += "\xe2\x82\xac";
  v.push_back(cut.substr(0, 4096));
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (auto& s : v)
    if (seen.insert(s).second) unique.push_back(s);
  return unique;
}

// "ssh-ed25519 <base64>": a key the store accepts, its 32 key bytes derived from `seed`.
std::string test_key(std::uint32_t seed) { return cpm_test::ssh_key(seed); }

const std::string valid_key = test_key(7);

// "type base64" of a public key (its comment dropped), written out here rather than taken from
// cpm: the form user keys are stored in.
std::string without_comment(const std::string& key) {
  auto first = key.find(' ');
  auto second = key.find(' ', first + 1);
  return key.substr(0, second);
}

struct field_case {
  std::string field;  // as validation_error names it
  // Ways to put a hostile string into this field: the string alone, and inside valid values.
  std::vector<std::function<std::string(const std::string&)>> contexts;
  // Runs the operation with `value` in the field (other fields valid and unique by `n`; `made`
  // is what setup returned); returns the field as read back from the database afterwards.
  std::function<std::string(cpm::store&, const std::string& value, int n, std::int64_t made)> run;
  // Makes what the operation needs first (the row to update, the organization of a new
  // repository), in transactions of its own; returns its id (0 when nothing is needed).
  std::function<std::int64_t(cpm::store&, int n)> setup = [](cpm::store&, int) { return std::int64_t{0}; };
  // What the field must read back as.
  std::function<std::string(const std::string&)> stored_as = [](const std::string& v) { return v; };
  // Bulk creates insert the rows before a refused one, then roll them all back: for them the
  // check is that no row is left, not that none was ever written.
  bool bulk = false;
};

using setup_fn = std::function<std::int64_t(cpm::store&, int)>;
const setup_fn nothing = [](cpm::store&, int) { return std::int64_t{0}; };

std::string alone(const std::string& v) { return v; }
std::string same(const std::string& v) { return v; }

std::vector<field_case> field_cases() {
  auto name_contexts = std::vector<std::function<std::string(const std::string&)>>{
      alone, [](const std::string& v) { return "x" + v; }, [](const std::string& v) { return v + "x"; }};
  auto text_contexts = name_contexts;
  auto path_contexts = std::vector<std::function<std::string(const std::string&)>>{
      alone, [](const std::string& v) { return "/srv/git/" + v; }, [](const std::string& v) { return "/srv/" + v + "/x.git"; }};
  auto email_contexts = std::vector<std::function<std::string(const std::string&)>>{
      alone, [](const std::string& v) { return v + "@example.org"; }, [](const std::string& v) { return "a@" + v; },
      [](const std::string& v) { return "a" + v + "b@example.org"; }};
  auto key_contexts = std::vector<std::function<std::string(const std::string&)>>{
      alone, [](const std::string& v) { return valid_key + " " + v; }, [](const std::string& v) { return "ssh-ed25519 " + v; }};
  auto host_contexts = std::vector<std::function<std::string(const std::string&)>>{
      alone, [](const std::string& v) { return v + ".example.org"; }, [](const std::string& v) { return "h" + v; }};

  auto user_n = [](int n) { return cpm::user{.username = fmt::format("u{}", n), .email = fmt::format("u{}@example.org", n)}; };
  auto repo_n = [](std::int64_t org, int n) {
    return cpm::repository{.name = fmt::format("r{}", n), .org_id = org, .path = fmt::format("/srv/git/r{}.git", n)};
  };
  auto key_n = [](int n) {
    return cpm::ssh_key{.name = fmt::format("k{}", n), .public_key = test_key(static_cast<std::uint32_t>(1000 + n)),
                        .private_key_path = fmt::format("/etc/cpm/k{}", n)};
  };
  auto server_n = [](int n) { return cpm::server{.name = fmt::format("s{}", n), .host = fmt::format("h{}.example.org", n)}; };
  const setup_fn a_user = [=](cpm::store& s, int n) { return s.create_user(user_n(n)).id; };
  const setup_fn an_org = [](cpm::store& s, int n) { return s.create_organization({.name = fmt::format("org{}", n)}).id; };
  const setup_fn a_repo = [=](cpm::store& s, int n) {
    return s.create_repository(repo_n(s.create_organization({.name = fmt::format("org{}", n)}).id, n)).id;
  };
  const setup_fn a_key = [=](cpm::store& s, int n) { return s.create_ssh_key(key_n(n)).id; };
  const setup_fn a_server = [=](cpm::store& s, int n) { return s.create_server(server_n(n)).id; };

  std::vector<field_case> cases;
  auto add = [&](std::string field, const auto& contexts, setup_fn setup, auto run,
                 std::function<std::string(const std::string&)> stored_as = same) {
    field_case c;
    c.bulk = false;
    c.field = std::move(field);
    c.contexts = contexts;
    c.setup = std::move(setup);
    c.run = run;
    c.stored_as = std::move(stored_as);
    cases.push_back(std::move(c));
  };
  using store_t = cpm::store;
  using str = const std::string&;
  using id_t = std::int64_t;

  // users: create, bulk create, update
  add("user.username", name_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto u = user_n(n);
    u.username = v;
    return s.get_user(s.create_user(u).id)->username;
  });
  add("user.email", email_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto u = user_n(n);
    u.email = v;
    return s.get_user(s.create_user(u).id)->email;
  });
  add("user.public_key", key_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto u = user_n(n);
    u.public_key = v;
    return s.get_user(s.create_user(u).id)->public_key.value();
  }, without_comment);
  add("user.username", name_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto u = user_n(n);
    u.username = v;
    std::vector<cpm::user> batch{user_n(n + 1000000), u};  // a valid one first: all or nothing
    s.create_users(batch);
    return s.user_by_name(v).value().username;
  });
  cases.back().bulk = true;
  add("user.email", email_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto u = user_n(n);
    u.email = v;
    std::vector<cpm::user> batch{user_n(n + 1000000), u};
    s.create_users(batch);
    return s.user_by_name(u.username).value().email;
  });
  cases.back().bulk = true;
  add("user.username", name_contexts, a_user, [](store_t& s, str v, int, id_t id) {
    s.update_user(id, {.username = v});
    return s.get_user(id)->username;
  });
  add("user.email", email_contexts, a_user, [](store_t& s, str v, int, id_t id) {
    s.update_user(id, {.email = v});
    return s.get_user(id)->email;
  });
  add("user.public_key", key_contexts, a_user, [](store_t& s, str v, int, id_t id) {
    s.update_user(id, {.public_key = std::optional<std::string>(v)});
    return s.get_user(id)->public_key.value();
  }, without_comment);
  // organizations
  add("organization.name", name_contexts, nothing, [](store_t& s, str v, int, id_t) {
    return s.get_organization(s.create_organization({.name = v}).id)->name;
  });
  add("organization.description", text_contexts, nothing, [](store_t& s, str v, int n, id_t) {
    auto id = s.create_organization({.name = fmt::format("org{}", n), .description = v}).id;
    return s.get_organization(id)->description.value_or("");  // "" is stored as none
  });
  add("organization.name", name_contexts, an_org, [](store_t& s, str v, int, id_t id) {
    s.update_organization(id, {.name = v});
    return s.get_organization(id)->name;
  });
  add("organization.description", text_contexts, an_org, [](store_t& s, str v, int, id_t id) {
    s.update_organization(id, {.description = std::optional<std::string>(v)});
    return s.get_organization(id)->description.value_or("");  // "" is stored as none
  });
  // repositories: create, bulk create, update
  add("repository.name", name_contexts, an_org, [=](store_t& s, str v, int n, id_t org) {
    auto r = repo_n(org, n);
    r.name = v;
    return s.get_repository(s.create_repository(r).id)->name;
  });
  add("repository.path", path_contexts, an_org, [=](store_t& s, str v, int n, id_t org) {
    auto r = repo_n(org, n);
    r.path = v;
    return s.get_repository(s.create_repository(r).id)->path;
  });
  add("repository.description", text_contexts, an_org, [=](store_t& s, str v, int n, id_t org) {
    auto r = repo_n(org, n);
    r.description = v;
    return s.get_repository(s.create_repository(r).id)->description.value_or("");  // "" is stored as none
  });
  add("repository.name", name_contexts, an_org, [=](store_t& s, str v, int n, id_t org) {
    auto r = repo_n(org, n);
    r.name = v;
    std::vector<cpm::repository> batch{repo_n(org, n + 1000000), r};
    s.create_repositories(batch);
    return s.repository_by_name(org, v).value().name;
  });
  cases.back().bulk = true;
  add("repository.path", path_contexts, an_org, [=](store_t& s, str v, int n, id_t org) {
    auto r = repo_n(org, n);
    r.path = v;
    std::vector<cpm::repository> batch{repo_n(org, n + 1000000), r};
    s.create_repositories(batch);
    return s.repository_by_name(org, r.name).value().path;
  });
  cases.back().bulk = true;
  add("repository.description", text_contexts, an_org, [=](store_t& s, str v, int n, id_t org) {
    auto r = repo_n(org, n);
    r.description = v;
    std::vector<cpm::repository> batch{repo_n(org, n + 1000000), r};
    s.create_repositories(batch);
    return s.repository_by_name(org, r.name).value().description.value_or("");  // "" is stored as none
  });
  cases.back().bulk = true;
  add("repository.name", name_contexts, a_repo, [](store_t& s, str v, int, id_t id) {
    s.update_repository(id, {.name = v});
    return s.get_repository(id)->name;
  });
  add("repository.path", path_contexts, a_repo, [](store_t& s, str v, int, id_t id) {
    s.update_repository(id, {.path = v});
    return s.get_repository(id)->path;
  });
  add("repository.description", text_contexts, a_repo, [](store_t& s, str v, int, id_t id) {
    s.update_repository(id, {.description = std::optional<std::string>(v)});
    return s.get_repository(id)->description.value_or("");  // "" is stored as none
  });
  // SSH keys
  add("ssh_key.name", name_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto k = key_n(n);
    k.name = v;
    return s.get_ssh_key(s.create_ssh_key(k).id)->name;
  });
  add("ssh_key.public_key", key_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto k = key_n(n);
    k.public_key = v;
    return s.get_ssh_key(s.create_ssh_key(k).id)->public_key;
  });
  add("ssh_key.private_key_path", path_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto k = key_n(n);
    k.private_key_path = v;
    return s.get_ssh_key(s.create_ssh_key(k).id)->private_key_path;
  });
  add("ssh_key.name", name_contexts, a_key, [](store_t& s, str v, int, id_t id) {
    s.update_ssh_key(id, {.name = v});
    return s.get_ssh_key(id)->name;
  });
  add("ssh_key.public_key", key_contexts, a_key, [](store_t& s, str v, int, id_t id) {
    s.update_ssh_key(id, {.public_key = v});
    return s.get_ssh_key(id)->public_key;
  });
  add("ssh_key.private_key_path", path_contexts, a_key, [](store_t& s, str v, int, id_t id) {
    s.update_ssh_key(id, {.private_key_path = v});
    return s.get_ssh_key(id)->private_key_path;
  });
  // servers
  add("server.name", name_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto sv = server_n(n);
    sv.name = v;
    return s.get_server(s.create_server(sv).id)->name;
  });
  add("server.host", host_contexts, nothing, [=](store_t& s, str v, int n, id_t) {
    auto sv = server_n(n);
    sv.host = v;
    return s.get_server(s.create_server(sv).id)->host;
  });
  add("server.name", name_contexts, a_server, [](store_t& s, str v, int, id_t id) {
    s.update_server(id, {.name = v});
    return s.get_server(id)->name;
  });
  add("server.host", host_contexts, a_server, [](store_t& s, str v, int, id_t id) {
    s.update_server(id, {.host = v});
    return s.get_server(id)->host;
  });
  return cases;
}

struct schema_row {
  std::string type;
  std::string name;
  std::optional<std::string> sql;
  bool operator==(const schema_row&) const = default;
};

// Rows in all of cpm's tables.
std::int64_t total_rows(cpm::connection& db) {
  return cpm::query<std::int64_t>(db,
                                  "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM organizations) + "
                                  "(SELECT count(*) FROM repositories) + (SELECT count(*) FROM ssh_keys) + "
                                  "(SELECT count(*) FROM servers) + (SELECT count(*) FROM org_members) + "
                                  "(SELECT count(*) FROM repo_access)")
      .one();
}

std::vector<schema_row> schema_of(cpm::connection& db) {
  return cpm::query<schema_row>(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name").to_vector();
}

}  // namespace

TEST_CASE("hostile strings in every text field are refused by validation or stored byte for byte", "[hostile]") {
  const auto corpus = hostile_strings();
  const auto cases = field_cases();
  auto reference = cpm::store::open_memory();
  const auto schema = schema_of(reference.db());
  int attempts = 0, refused = 0, stored = 0;

  for (const auto& c : cases) {
    auto store = cpm::store::open_memory();
    int n = 0;
    std::set<std::string> accepted;
    // Usernames and organization names are unique regardless of (ASCII) case.
    const bool folded = c.field == std::string("user.username") || c.field == std::string("organization.name");
    auto key = [&](std::string v) {
      if (folded)
        for (char& ch : v) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
      return v;
    };
    for (const auto& hostile : corpus) {
      for (std::size_t k = 0; k < c.contexts.size(); ++k) {
        const std::string value = c.contexts[k](hostile);
        INFO(c.field << " (context " << k << "): " << cpm::detail::printable(value));
        ++n;
        ++attempts;
        const std::int64_t made = c.setup(store, n);
        const auto changes_before = store.db().total_changes();
        const auto rows_before = total_rows(store.db());
        try {
          std::string read_back = c.run(store, value, n, made);
          ++stored;
          accepted.insert(key(c.stored_as(value)));
          CHECK(read_back == c.stored_as(value));  // std::string ==: every byte, NULs included
          CHECK(read_back.size() == c.stored_as(value).size());
        } catch (const cpm::validation_error& e) {
          ++refused;
          // Refused, with nothing written (not even a row later rolled back).
          CHECK(e.field() == c.field);
          CHECK(e.value() == value);
          CHECK_FALSE(store.db().in_transaction());
          CHECK(total_rows(store.db()) == rows_before);
          if (!c.bulk) CHECK(store.db().total_changes() == changes_before);
        } catch (const cpm::already_exists&) {
          // Only a value this field already stored can be taken (user keys: without comment).
          CHECK(accepted.count(key(c.stored_as(value))) == 1);
          CHECK(total_rows(store.db()) == rows_before);
        }
      }
    }
    INFO(c.field);
    CHECK(schema_of(store.db()) == schema);
    CHECK(cpm::query<std::string>(store.db(), "PRAGMA integrity_check").one() == "ok");
    CHECK(cpm::foreign_key_violations(store.db()).empty());
  }
  std::printf("hostile input: %zu strings, %zu field cases, %d attempts: %d refused by validation, %d stored and "
              "read back\n",
              corpus.size(), cases.size(), attempts, refused, stored);
  CHECK(refused > 0);
  CHECK(stored > 0);
}

TEST_CASE("a refused value leaves the database's content exactly as it was", "[hostile]") {
  // The check above (no row changed) is backed here by a comparison of the whole content, for
  // one refused value (a NUL byte followed by SQL) in each field, in each operation.
  const std::string bad = "a\0'; DROP TABLE users; --"s;
  for (const auto& c : field_cases()) {
    for (const auto& context : c.contexts) {
      INFO(c.field);
      auto store = cpm::store::open_memory();
      const std::int64_t made = c.setup(store, 1);
      const auto before = cpm_test::dump(store.db());
      CHECK_THROWS_AS(c.run(store, context(bad), 1, made), cpm::validation_error);
      CHECK(cpm_test::dump(store.db()) == before);
    }
  }
}

TEST_CASE("lookups with hostile strings find only what was stored under them", "[hostile]") {
  auto store = cpm::store::open_memory();
  auto alice = store.create_user({.username = "alice", .email = "alice@example.org", .public_key = valid_key + " alice@laptop"});
  auto org = store.create_organization({.name = "acme"}, alice.id);
  store.create_repository({.name = "tools", .org_id = org.id, .path = "/srv/git/acme/tools.git"}, alice.id);
  store.create_ssh_key({.name = "deploy", .public_key = test_key(9), .private_key_path = "/etc/cpm/deploy"});
  store.create_server({.name = "peer", .host = "peer.example.org"});
  const auto before = cpm_test::dump(store.db());
  for (const auto& hostile : hostile_strings()) {
    for (const auto& value : {hostile, "alice" + hostile, hostile + "alice", "acme" + hostile, "tools" + hostile}) {
      INFO(cpm::detail::printable(value));
      CHECK(store.user_by_name(value).has_value() == (value == "alice"));
      CHECK(store.organization_by_name(value).has_value() == (value == "acme"));
      CHECK(store.repository_by_name(org.id, value).has_value() == (value == "tools"));
      CHECK_FALSE(store.ssh_key_by_name(value));
      CHECK_FALSE(store.server_by_name(value));
      CHECK_FALSE(store.user_by_public_key(value));
      CHECK_FALSE(store.user_by_public_key(valid_key.substr(0, 12) + value));
    }
  }
  CHECK(store.user_by_public_key(valid_key + " another comment").value().id == alice.id);
  CHECK(cpm_test::dump(store.db()) == before);
}
