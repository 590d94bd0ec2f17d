// cpm: the models of the cpm service, one per table of the original system's schema.
//
// Plain aggregates; model_traits only give the original table names, mark the timestamp
// columns the database fills in (DEFAULT CURRENT_TIMESTAMP) when they are left empty, and the
// optional text columns the original system reads as plain strings: their "none" is stored as
// '' (none_as_empty), so its Go models can still scan every row. Each is opted into printing
// with fmt (cpm::model_formatter): fmt::print("{}\n", repo).
#pragma once

#include <cpm/reflect/format.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/value.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace cpm {

using timestamp = std::chrono::sys_seconds;

// A member's role in an organization; stored as 'owner', 'admin', 'member'.
enum class org_role { owner, admin, member };

// A user's access to a repository; stored as 'read', 'write', 'admin'. Ordered: more is more.
enum class access_level { read = 1, write = 2, admin = 3 };

template <>
struct enum_names<org_role> {
  static constexpr std::array values{std::pair{org_role::owner, std::string_view{"owner"}},
                                     std::pair{org_role::admin, std::string_view{"admin"}},
                                     std::pair{org_role::member, std::string_view{"member"}}};
};

template <>
struct enum_names<access_level> {
  static constexpr std::array values{std::pair{access_level::read, std::string_view{"read"}},
                                     std::pair{access_level::write, std::string_view{"write"}},
                                     std::pair{access_level::admin, std::string_view{"admin"}}};
};

struct user {
  std::int64_t id = 0;
  std::string username{};
  std::string email{};
  // The user's first SSH key ("type base64"), kept for the original system's readers; all of
  // the user's keys, with their comments, are in user_keys (store::user_keys, add_user_key).
  std::optional<std::string> public_key{};
  std::optional<timestamp> created_at{};
};

// One of a user's SSH public keys.
struct user_key {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string name{};                     // the user's name for it, unique per user
  std::string public_key{};               // "type base64", unique among all users
  std::string fingerprint{};              // "SHA256:...", as OpenSSH prints it
  std::optional<std::string> comment{};   // what followed the key in its line ("alice@laptop")
  std::optional<timestamp> created_at{};
  std::optional<timestamp> last_used_at{};
};

struct organization {
  std::int64_t id = 0;
  std::string name{};
  std::optional<std::string> description{};
  std::optional<timestamp> created_at{};
};

struct repository {
  std::int64_t id = 0;
  std::string name{};
  std::int64_t org_id = 0;
  std::string path{};
  std::optional<std::string> description{};
  std::optional<timestamp> created_at{};
};

struct ssh_key {
  std::int64_t id = 0;
  std::string name{};
  std::string public_key{};
  std::string private_key_path{};
  std::optional<timestamp> created_at{};
};

struct server {
  std::int64_t id = 0;
  std::string name{};
  std::string host{};
  int port = 22;
  bool is_neighbor = false;
  std::optional<std::int64_t> ssh_key_id{};
  std::optional<timestamp> created_at{};
};

struct org_member {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t user_id = 0;
  org_role role = org_role::member;
  std::optional<timestamp> joined_at{};
};

struct repo_access {
  std::int64_t id = 0;
  std::int64_t repo_id = 0;
  std::int64_t user_id = 0;
  cpm::access_level access_level = cpm::access_level::read;
};

// An organization a user belongs to, with the user's role in it (store::user_organizations).
struct membership_info {
  std::int64_t org_id = 0;
  std::string name{};
  org_role role = org_role::member;
  std::optional<timestamp> joined_at{};
};

// How many rows each of the store's tables holds (store::counts).
struct store_counts {
  std::int64_t users = 0;
  std::int64_t user_keys = 0;
  std::int64_t organizations = 0;
  std::int64_t org_members = 0;
  std::int64_t repositories = 0;
  std::int64_t repo_access = 0;
  std::int64_t ssh_keys = 0;
  std::int64_t servers = 0;
};

// A member of an organization with the user's details, as org_members(org) lists them.
struct member_info {
  std::int64_t user_id = 0;
  std::string username{};
  std::string email{};
  org_role role = org_role::member;
  std::optional<timestamp> joined_at{};
};

template <>
struct model_traits<user> {
  static constexpr std::string_view table = "users";
  static constexpr auto defaults = std::tuple{&user::created_at};
  static constexpr auto none_as_empty = std::tuple{&user::public_key};
};
template <>
struct model_traits<user_key> {
  static constexpr std::string_view table = "user_keys";
  static constexpr auto defaults = std::tuple{&user_key::created_at};
};
template <>
struct model_traits<organization> {
  static constexpr std::string_view table = "organizations";
  static constexpr auto defaults = std::tuple{&organization::created_at};
  static constexpr auto none_as_empty = std::tuple{&organization::description};
};
template <>
struct model_traits<repository> {
  static constexpr std::string_view table = "repositories";
  static constexpr auto defaults = std::tuple{&repository::created_at};
  static constexpr auto none_as_empty = std::tuple{&repository::description};
};
template <>
struct model_traits<ssh_key> {
  static constexpr std::string_view table = "ssh_keys";
  static constexpr auto defaults = std::tuple{&ssh_key::created_at};
};
template <>
struct model_traits<server> {
  static constexpr std::string_view table = "servers";
  static constexpr auto defaults = std::tuple{&server::created_at};
};
template <>
struct model_traits<org_member> {
  static constexpr std::string_view table = "org_members";
  static constexpr auto defaults = std::tuple{&org_member::joined_at};
};
template <>
struct model_traits<repo_access> {
  static constexpr std::string_view table = "repo_access";
};

}  // namespace cpm

// fmt prints each store model as cpm::model_formatter does: repository{id: 1, org_id: 1, ...}.
template <>
struct fmt::formatter<cpm::user> : cpm::model_formatter<cpm::user> {};
template <>
struct fmt::formatter<cpm::organization> : cpm::model_formatter<cpm::organization> {};
template <>
struct fmt::formatter<cpm::repository> : cpm::model_formatter<cpm::repository> {};
template <>
struct fmt::formatter<cpm::ssh_key> : cpm::model_formatter<cpm::ssh_key> {};
template <>
struct fmt::formatter<cpm::server> : cpm::model_formatter<cpm::server> {};
template <>
struct fmt::formatter<cpm::org_member> : cpm::model_formatter<cpm::org_member> {};
template <>
struct fmt::formatter<cpm::repo_access> : cpm::model_formatter<cpm::repo_access> {};
template <>
struct fmt::formatter<cpm::user_key> : cpm::model_formatter<cpm::user_key> {};
template <>
struct fmt::formatter<cpm::membership_info> : cpm::model_formatter<cpm::membership_info> {};
template <>
struct fmt::formatter<cpm::member_info> : cpm::model_formatter<cpm::member_info> {};
