// cpm: the errors of the store, each naming what it is about.
//
//   cpm::validation_error   a value was refused before any write: field, value, problem
//   cpm::already_exists     a unique value is taken: entity, field, value
//   cpm::record_not_found   an id (or name) names no row: entity, key
//   cpm::last_owner         an organization would be left without an owner: user, organizations
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/sqlite/error.hpp>

#include <fmt/core.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpm {

namespace detail {

// A value as it may appear in a message: quoted, control bytes escaped, long values cut.
inline std::string printable(std::string_view value, std::size_t limit = 80) {
  std::string out = "'";
  for (std::size_t i = 0; i < value.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      out += detail::message("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > limit) out += detail::message("...' ({} bytes)", value.size());
  else out += "'";
  return out;
}

}  // namespace detail

class validation_error : public error {
 public:
  validation_error(std::string field, std::string_view value, std::string problem)
      : error(detail::message("{}: {} {}", field, detail::printable(value), problem)),
        field_(std::move(field)),
        value_(value),
        problem_(std::move(problem)) {}
  // "entity.field", e.g. "user.username".
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  [[nodiscard]] const std::string& value() const noexcept { return value_; }
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

 private:
  std::string field_;
  std::string value_;
  std::string problem_;
};

class already_exists : public error {
 public:
  already_exists(std::string entity, std::string field, std::string value)
      : error(detail::message("{} with {} {} already exists", entity, field, detail::printable(value))),
        entity_(std::move(entity)),
        field_(std::move(field)),
        value_(std::move(value)) {}
  [[nodiscard]] const std::string& entity() const noexcept { return entity_; }
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  [[nodiscard]] const std::string& value() const noexcept { return value_; }

 private:
  std::string entity_;
  std::string field_;
  std::string value_;
};

// The change would leave organizations without an owner (removing or demoting their last
// owner, or deleting the user who is).
class last_owner : public error {
 public:
  last_owner(std::string username, std::vector<std::string> organizations)
      : error(message(username, organizations)), username_(std::move(username)), organizations_(std::move(organizations)) {}
  [[nodiscard]] const std::string& username() const noexcept { return username_; }
  [[nodiscard]] const std::vector<std::string>& organizations() const noexcept { return organizations_; }

 private:
  static std::string message(const std::string& username, const std::vector<std::string>& organizations) {
    std::string names;
    for (const auto& o : organizations) names += (names.empty() ? "" : ", ") + detail::printable(o);
    return detail::message("user {} is the last owner of {} {}: make another member an owner first",
                           detail::printable(username), organizations.size() == 1 ? "organization" : "organizations",
                           names);
  }
  std::string username_;
  std::vector<std::string> organizations_;
};

class record_not_found : public not_found {
 public:
  record_not_found(std::string entity, std::string key)
      : not_found(detail::message("{} {} not found", entity, key)), entity_(std::move(entity)), key_(std::move(key)) {}
  [[nodiscard]] const std::string& entity() const noexcept { return entity_; }
  // The id or name looked for, as text ("42", "'alice'").
  [[nodiscard]] const std::string& key() const noexcept { return key_; }

 private:
  std::string entity_;
  std::string key_;
};

}  // namespace cpm
