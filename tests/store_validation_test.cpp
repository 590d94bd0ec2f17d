// Bad input through the store: every rule of cpm/store/validation.hpp, each refusal a
// cpm::validation_error naming the field and the value, with nothing changed; duplicates as
// cpm::already_exists, missing references as cpm::record_not_found; SQL-looking strings
// stored verbatim and never run.
#include <cpm/store.hpp>

#include <catch2/catch.hpp>
#include <store_backends.hpp>
#include <store_support.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;

namespace {

using cpm_test::count_rows;
using cpm_test::ssh_key;

// A store of the backend B (on_sqlite, on_postgres) with one of everything, so that updates have
// rows to refuse changes to.
template <class B>
struct fixture : B {
  cpm::user alice = this->store.create_user({.username = "alice", .email = "alice@example.org", .public_key = ssh_key(1)});
  cpm::organization acme = this->store.create_organization({.name = "acme", .description = "Tools"}, alice.id);
  cpm::repository tools =
      this->store.create_repository({.name = "tools", .org_id = acme.id, .path = "/srv/git/acme/tools.git"}, alice.id);
  cpm::ssh_key deploy =
      this->store.create_ssh_key({.name = "deploy", .public_key = ssh_key(2), .private_key_path = "/home/cpm/.ssh/deploy"});
  cpm::server north = this->store.create_server({.name = "north", .host = "north.example.org", .ssh_key_id = deploy.id});

  // Runs `op`, which must be refused for `field` and `value`, and checks nothing changed.
  void refused(std::string_view field, std::string_view value, const std::function<void()>& op) {
    INFO(field << ": " << cpm::detail::printable(value));
    const auto before = cpm_test::dump(this->store.db());
    const auto mark = cpm_test::write_mark(this->store.db());
    try {
      op();
      FAIL_CHECK("accepted");
    } catch (const cpm::validation_error& e) {
      CHECK(e.field() == field);
      CHECK(e.value() == value);
      CHECK_FALSE(e.problem().empty());
      CHECK_THAT(e.what(), Catch::Contains(std::string(field)));
    }
    CHECK_FALSE(this->store.db().in_transaction());
    CHECK(cpm_test::write_mark(this->store.db()) == mark);
    CHECK(cpm_test::dump(this->store.db()) == before);
  }
};

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// n bytes of labels "aaa...a." making a valid host name of exactly n characters.
std::string long_host(std::size_t n) {
  std::string host;
  while (host.size() < n) {
    if (!host.empty()) host += '.';
    host += repeat('a', std::min<std::size_t>(63, n - host.size()));
  }
  if (host.back() == '.') host.back() = 'b';
  return host;
}

}  // namespace

CPM_STORE_TEST_CASE("usernames: letters, digits, '-' and '_', 1 to 64 characters, no leading '-'", "[store][validation]") {
  fixture<TestType> f;
  int n = 0;
  for (const std::string& ok : {"a"s, "Bob"s, "a-b_9"s, "_x"s, repeat('u', 64)}) {
    INFO(ok);
    CHECK(f.store.create_user({.username = ok, .email = fmt::format("u{}@example.org", ++n)}).username == ok);
  }
  const std::string bad[] = {""s,        repeat('u', 65), "al ice"s,   "al/ice"s, "al.ice"s, "-alice"s,
                             "ålice"s,   "alice\n"s,      "a\0b"s,     "x'); DROP TABLE users; --"s, "../x"s};
  for (const auto& value : bad) {
    f.refused("user.username", value, [&] { (void)f.store.create_user({.username = value, .email = "z@example.org"}); });
    f.refused("user.username", value, [&] { (void)f.store.update_user(f.alice.id, {.username = value}); });
  }
}

CPM_STORE_TEST_CASE("emails: one '@' after a name, a dotted domain, printable ASCII, at most 254", "[store][validation]") {
  fixture<TestType> f;
  int n = 0;
  for (const std::string& ok : {"a@b.co"s, "first.last+tag@sub.example.org"s, "o'brien@example.org"s}) {
    INFO(ok);
    CHECK(f.store.create_user({.username = fmt::format("e{}", ++n), .email = ok}).email == ok);
  }
  const std::string bad[] = {""s,           "noat"s,         "@example.org"s, "a@@example.org"s,  "a@b@example.org"s,
                             "a@example"s,  "a@.example.org"s, "a@example.org."s, "a@example..org"s, "a b@example.org"s,
                             "a<b@example.org"s, "a;b@example.org"s, "ä@example.org"s, "a@example.org\n"s,
                             repeat('a', 243) + "@example.org"};
  for (const auto& value : bad) {
    f.refused("user.email", value, [&] { (void)f.store.create_user({.username = "zed", .email = value}); });
    f.refused("user.email", value, [&] { (void)f.store.update_user(f.alice.id, {.email = value}); });
  }
}

CPM_STORE_TEST_CASE("organization, repository, SSH key and server names are safe as one path component", "[store][validation]") {
  fixture<TestType> f;
  const std::string good[] = {"x"s, "my.repo"s, "a..b"s, "x-1_2"s, repeat('n', 100)};
  int n = 0;
  for (const auto& ok : good) {
    INFO(ok);
    CHECK(f.store.create_organization({.name = ok}).name == ok);
    CHECK(f.store.create_repository({.name = ok, .org_id = f.acme.id, .path = fmt::format("/git/{}", ++n)}).name == ok);
    CHECK(f.store.create_ssh_key({.name = ok, .public_key = ssh_key(10), .private_key_path = "/k"}).name == ok);
    CHECK(f.store.create_server({.name = ok, .host = "h.example.org"}).name == ok);
  }
  const std::string bad[] = {""s,    "a/b"s,  "/abs"s, ".."s,  "."s,    ".hidden"s, "-rf"s,
                             "a b"s, "a\\b"s, "a:b"s,  "ü"s,   "a\0b"s, repeat('n', 101), "x'); DROP TABLE users; --"s};
  for (const auto& value : bad) {
    f.refused("organization.name", value, [&] { (void)f.store.create_organization({.name = value}); });
    f.refused("organization.name", value, [&] { (void)f.store.update_organization(f.acme.id, {.name = value}); });
    f.refused("repository.name", value, [&] {
      (void)f.store.create_repository({.name = value, .org_id = f.acme.id, .path = "/git/new"});
    });
    f.refused("repository.name", value, [&] { (void)f.store.update_repository(f.tools.id, {.name = value}); });
    f.refused("ssh_key.name", value, [&] {
      (void)f.store.create_ssh_key({.name = value, .public_key = ssh_key(3), .private_key_path = "/k"});
    });
    f.refused("ssh_key.name", value, [&] { (void)f.store.update_ssh_key(f.deploy.id, {.name = value}); });
    f.refused("server.name", value, [&] { (void)f.store.create_server({.name = value, .host = "h.example.org"}); });
    f.refused("server.name", value, [&] { (void)f.store.update_server(f.north.id, {.name = value}); });
  }
}

CPM_STORE_TEST_CASE("repository paths and private key paths are absolute and normalised", "[store][validation]") {
  fixture<TestType> f;
  int n = 0;
  for (const std::string& ok : {"/a"s, "/srv/git/acme/x.git"s, "/srv/git/ünïcode.git"s, "/" + repeat('p', 4095)}) {
    INFO(ok.substr(0, 40));
    CHECK(f.store.create_repository({.name = fmt::format("r{}", ++n), .org_id = f.acme.id, .path = ok}).path == ok);
    CHECK(f.store.create_ssh_key({.name = fmt::format("k{}", n), .public_key = ssh_key(20), .private_key_path = ok})
              .private_key_path == ok);
  }
  const std::string bad[] = {""s,          "/"s,          "relative/x.git"s, "./x"s,        "~/x"s,
                             "/srv//git"s, "/srv/./git"s, "/srv/../etc"s,    "/srv/git/"s,  "/srv/\x01git"s,
                             "/srv/\xff"s, "/a\0b"s,      "/" + repeat('p', 4096)};
  for (const auto& value : bad) {
    f.refused("repository.path", value, [&] {
      (void)f.store.create_repository({.name = "new", .org_id = f.acme.id, .path = value});
    });
    f.refused("repository.path", value, [&] { (void)f.store.update_repository(f.tools.id, {.path = value}); });
    f.refused("ssh_key.private_key_path", value, [&] {
      (void)f.store.create_ssh_key({.name = "new", .public_key = ssh_key(3), .private_key_path = value});
    });
    f.refused("ssh_key.private_key_path", value,
              [&] { (void)f.store.update_ssh_key(f.deploy.id, {.private_key_path = value}); });
  }
}

CPM_STORE_TEST_CASE("ports are 1 to 65535", "[store][validation]") {
  fixture<TestType> f;
  CHECK(f.store.create_server({.name = "low", .host = "h.example.org", .port = 1}).port == 1);
  CHECK(f.store.create_server({.name = "high", .host = "h.example.org", .port = 65535}).port == 65535);
  for (int value : {0, -1, -22, 65536, 100000}) {
    f.refused("server.port", std::to_string(value),
              [&] { (void)f.store.create_server({.name = "s", .host = "h.example.org", .port = value}); });
    f.refused("server.port", std::to_string(value), [&] { (void)f.store.update_server(f.north.id, {.port = value}); });
  }
}

CPM_STORE_TEST_CASE("SSH public keys: a known type and a base64 blob that starts with that type", "[store][validation]") {
  fixture<TestType> f;
  int n = 0;
  for (const std::string& ok :
       {ssh_key(30), ssh_key(31, "me@host"), ssh_key(32, "", "ssh-rsa"), ssh_key(33, "", "ecdsa-sha2-nistp256"),
        ssh_key(34, "a comment with spaces", "sk-ssh-ed25519@openssh.com")}) {
    INFO(ok);
    auto u = f.store.create_user({.username = fmt::format("k{}", ++n), .email = "k@example.org", .public_key = ok});
    CHECK(u.public_key == cpm::detail::normalize_public_key(ok));
    CHECK(f.store.create_ssh_key({.name = fmt::format("k{}", n), .public_key = ok, .private_key_path = "/k"}).public_key ==
          ok);
  }
  const std::string body = cpm::detail::base64_encode(cpm_test::ssh_blob(40));
  const std::string bad[] = {
      ""s,
      "ssh-ed25519"s,                                   // no blob
      "ssh-foo " + body,                                // unknown type
      "SSH-ED25519 " + body,                            // types are case-sensitive
      "ssh-ed25519 " + body.substr(1),                  // not a multiple of 4
      "ssh-ed25519 " + body.substr(0, 20) + "*" + body.substr(21),  // outside the alphabet
      "ssh-ed25519 =" + body.substr(1),                 // padding first
      "ssh-ed25519 AAAA"s,                              // a blob too short for its type
      "ssh-ed25519 " + cpm::detail::base64_encode(cpm_test::ssh_blob(41, "ssh-rsa")),  // blob of another type
      "ssh-rsa " + body,                                // the same, the other way round
      "ssh-ed25519 " + body + " bad\x01comment",        // control character in the comment
      "ssh-ed25519 " + body + " \xff\xfe",              // comment not UTF-8
      "ssh-ed25519 " + repeat('A', 16400),              // too long
      "ssh-ed25519 " + body + "'); DROP TABLE users; --",
  };
  for (const auto& value : bad) {
    f.refused("user.public_key", value,
              [&] { (void)f.store.create_user({.username = "zed", .email = "z@example.org", .public_key = value}); });
    f.refused("user.public_key", value,
              [&] { (void)f.store.update_user(f.alice.id, {.public_key = std::optional<std::string>(value)}); });
    f.refused("ssh_key.public_key", value, [&] {
      (void)f.store.create_ssh_key({.name = "new", .public_key = value, .private_key_path = "/k"});
    });
    f.refused("ssh_key.public_key", value, [&] { (void)f.store.update_ssh_key(f.deploy.id, {.public_key = value}); });
  }
}

CPM_STORE_TEST_CASE("hosts: DNS names, IPv4 and IPv6 addresses, bad labels refused", "[store][validation]") {
  fixture<TestType> f;
  int n = 0;
  for (const std::string& ok : {"example.org"s, "localhost"s, "a-b.example"s, "xn--bcher-kva.example"s, "192.0.2.1"s,
                               "10.0.0.255"s, "2001:db8::1"s, "::1"s, "::ffff:192.0.2.1"s, "3com.example"s,
                               long_host(253)}) {
    INFO(ok);
    CHECK(f.store.create_server({.name = fmt::format("s{}", ++n), .host = ok}).host == ok);
  }
  const std::string bad[] = {""s,
                             "exa mple.org"s,
                             "-bad.example"s,
                             "bad-.example"s,
                             "a..b"s,
                             ".example"s,
                             "example.org."s,
                             repeat('a', 64) + ".example",
                             "host_name.example"s,
                             "[::1]"s,
                             "2001:db8::1::2"s,
                             "fe80::1%eth0"s,
                             "256.1.1.1"s,  // an all-numeric name is a mistyped address, not a host name
                             "10.0.0.256"s,
                             "1.2.3"s,
                             "bücher.example"s,
                             "h.example/path"s,
                             "h.example:22"s,
                             long_host(254),
                             "x'); DROP TABLE servers; --"s};
  for (const auto& value : bad) {
    f.refused("server.host", value, [&] { (void)f.store.create_server({.name = "s", .host = value}); });
    f.refused("server.host", value, [&] { (void)f.store.update_server(f.north.id, {.host = value}); });
  }
}

CPM_STORE_TEST_CASE("descriptions: valid UTF-8 without NUL, at most 4096 bytes", "[store][validation]") {
  fixture<TestType> f;
  int n = 0;
  for (const std::string& ok : {""s, "plain"s, "héllo ✓ 😀"s, "line\nbreak\ttab"s, repeat('d', 4096)}) {
    INFO(ok.substr(0, 40));
    // '' is stored as the original system stores "no description", and reads back as none.
    const auto expected = ok.empty() ? std::nullopt : std::optional<std::string>(ok);
    CHECK(f.store.create_organization({.name = fmt::format("o{}", ++n), .description = ok}).description == expected);
    CHECK(f.store
              .create_repository(
                  {.name = fmt::format("r{}", n), .org_id = f.acme.id, .path = fmt::format("/r{}", n), .description = ok})
              .description == expected);
  }
  const std::string bad[] = {"a\0b"s,          "\0"s,            "\xff"s,         "\xc0\xaf"s /* overlong '/' */,
                             "\xed\xa0\x80"s /* surrogate */, "\xe2\x82"s /* cut short */, "\xf4\x90\x80\x80"s /* > U+10FFFF */,
                             repeat('d', 4097)};
  for (const auto& value : bad) {
    f.refused("organization.description", value,
              [&] { (void)f.store.create_organization({.name = "new", .description = value}); });
    f.refused("organization.description", value, [&] {
      (void)f.store.update_organization(f.acme.id, {.description = std::optional<std::string>(value)});
    });
    f.refused("repository.description", value, [&] {
      (void)f.store.create_repository({.name = "new", .org_id = f.acme.id, .path = "/n", .description = value});
    });
    f.refused("repository.description", value, [&] {
      (void)f.store.update_repository(f.tools.id, {.description = std::optional<std::string>(value)});
    });
  }
}

CPM_STORE_TEST_CASE("a refused element of a bulk insert names its field and stores none of the range", "[store][validation]") {
  fixture<TestType> f;
  const auto before = cpm_test::dump(f.store.db());
  std::vector<cpm::user> users = {{.username = "u1", .email = "u1@example.org"},
                                  {.username = "u2", .email = "u2@example.org"},
                                  {.username = "u3", .email = "u3@example"}};
  try {
    (void)f.store.create_users(users);
    FAIL("accepted");
  } catch (const cpm::validation_error& e) {
    CHECK(e.field() == "user.email");
    CHECK(e.value() == "u3@example");
  }
  std::vector<cpm::repository> repos = {{.name = "ok", .org_id = f.acme.id, .path = "/ok"},
                                        {.name = "bad/name", .org_id = f.acme.id, .path = "/bad"}};
  try {
    (void)f.store.create_repositories(repos);
    FAIL("accepted");
  } catch (const cpm::validation_error& e) {
    CHECK(e.field() == "repository.name");
    CHECK(e.value() == "bad/name");
  }
  CHECK(cpm_test::dump(f.store.db()) == before);
}

CPM_STORE_TEST_CASE("taken unique values raise already_exists naming entity, field and value, changing nothing", "[store][validation]") {
  fixture<TestType> f;
  const auto before = cpm_test::dump(f.store.db());
  auto expect = [&](const char* entity, const char* field, const std::string& value, const std::function<void()>& op) {
    INFO(entity << "." << field);
    try {
      op();
      FAIL_CHECK("accepted");
    } catch (const cpm::already_exists& e) {
      CHECK(e.entity() == entity);
      CHECK(e.field() == field);
      CHECK(e.value() == value);
      CHECK_THAT(e.what(), Catch::Contains(value));
    }
  };
  expect("user", "username", "alice", [&] { (void)f.store.create_user({.username = "alice", .email = "x@example.org"}); });
  expect("user", "public_key", ssh_key(1),
         [&] { (void)f.store.create_user({.username = "x", .email = "x@example.org", .public_key = ssh_key(1, "c")}); });
  expect("organization", "name", "acme", [&] { (void)f.store.create_organization({.name = "acme"}); });
  expect("repository", "name", "tools",
         [&] { (void)f.store.create_repository({.name = "tools", .org_id = f.acme.id, .path = "/other"}); });
  expect("ssh_key", "name", "deploy",
         [&] { (void)f.store.create_ssh_key({.name = "deploy", .public_key = ssh_key(5), .private_key_path = "/k"}); });
  expect("server", "name", "north", [&] { (void)f.store.create_server({.name = "north", .host = "h.example.org"}); });
  expect("org_member", "org_id, user_id", std::to_string(f.acme.id) + fmt::format(", {}", f.alice.id),
         [&] { (void)f.store.add_org_member(f.acme.id, f.alice.id, cpm::org_role::member); });
  CHECK(cpm_test::dump(f.store.db()) == before);
}

CPM_STORE_TEST_CASE("missing references raise record_not_found naming the entity and the id, changing nothing",
          "[store][validation]") {
  fixture<TestType> f;
  const auto before = cpm_test::dump(f.store.db());
  auto expect = [&](const char* entity, std::int64_t id, const std::function<void()>& op) {
    INFO(entity << " " << id);
    try {
      op();
      FAIL_CHECK("accepted");
    } catch (const cpm::record_not_found& e) {
      CHECK(e.entity() == entity);
      CHECK(e.key() == std::to_string(id));
      CHECK_THAT(e.what(), Catch::Contains(std::to_string(id)));
    }
  };
  const std::int64_t missing = 4242;
  expect("organization", missing,
         [&] { (void)f.store.create_repository({.name = "x", .org_id = missing, .path = "/x"}); });
  expect("organization", missing, [&] { (void)f.store.update_repository(f.tools.id, {.org_id = missing}); });
  expect("user", missing, [&] { (void)f.store.create_organization({.name = "x"}, missing); });
  expect("user", missing, [&] { (void)f.store.create_repository({.name = "x", .org_id = f.acme.id, .path = "/x"}, missing); });
  expect("user", missing, [&] { (void)f.store.add_org_member(f.acme.id, missing, cpm::org_role::member); });
  expect("user", missing, [&] { (void)f.store.grant_access(f.tools.id, missing, cpm::access_level::read); });
  expect("repository", missing, [&] { (void)f.store.grant_access(missing, f.alice.id, cpm::access_level::read); });
  expect("ssh_key", missing, [&] { (void)f.store.create_server({.name = "x", .host = "h.example.org", .ssh_key_id = missing}); });
  expect("ssh_key", missing,
         [&] { (void)f.store.update_server(f.north.id, {.ssh_key_id = std::optional<std::int64_t>(missing)}); });
  expect("user", missing, [&] { (void)f.store.update_user(missing, {.email = "x@example.org"}); });
  expect("server", missing, [&] { f.store.delete_server(missing); });
  CHECK(cpm_test::dump(f.store.db()) == before);
}

CPM_STORE_TEST_CASE("strings that look like SQL are stored verbatim and never run", "[store][validation]") {
  fixture<TestType> f;
  const std::string sql[] = {"x'); DROP TABLE users; --"s, "'; DELETE FROM organizations; --"s,
                             "Robert'); DROP TABLE repositories;--"s, "\" OR 1=1 --"s, "1; ATTACH DATABASE '/tmp/x' AS x"s};
  int n = 0;
  for (const auto& text : sql) {
    INFO(text);
    ++n;
    auto org = f.store.create_organization({.name = fmt::format("org{}", n), .description = text});
    CHECK(f.store.get_organization(org.id)->description == text);
    auto repo = f.store.create_repository(
        {.name = fmt::format("repo{}", n), .org_id = org.id, .path = fmt::format("/git/{}", n), .description = text});
    CHECK(f.store.get_repository(repo.id)->description == text);
    (void)f.store.update_organization(f.acme.id, {.description = std::optional<std::string>(text)});
    CHECK(f.store.get_organization(f.acme.id)->description == text);
    // As a lookup key, it finds nothing and runs nothing.
    CHECK_FALSE(f.store.user_by_name(text));
    CHECK_FALSE(f.store.organization_by_name(text));
    CHECK_FALSE(f.store.repository_by_name(f.acme.id, text));
    CHECK_FALSE(f.store.user_by_public_key(text));
  }
  for (auto table : {"users", "organizations", "repositories", "ssh_keys", "servers", "repo_access", "org_members"}) {
    INFO(table);
    CHECK(cpm_test::has_schema_object(f.store.db(), "table", table));
  }
  CHECK(count_rows(f.store.db(), "users") == 1);
  CHECK(count_rows(f.store.db(), "organizations") == 6);
  CHECK(count_rows(f.store.db(), "repositories") == 6);
  if constexpr (TestType::is_postgres) {
    CHECK(cpm_test::schema_names(f.store.db(), "table").size() == 9);  // the seven, user_keys, cpm_schema_history
  } else {
    // Nothing was attached either: only the main database is open (an SQLite notion).
    CHECK(cpm::query<std::int64_t>(f.store.db(), "SELECT count(*) FROM pragma_database_list").one() == 1);
    CHECK(cpm_test::schema_names(f.store.db(), "table").size() == 10);  // the seven, user_keys, cpm_schema_history, sqlite_sequence
  }
}
