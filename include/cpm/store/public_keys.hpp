// cpm: SSH public keys as OpenSSH writes them ("type base64 comment"), split into what the
// store keeps: the key itself, its comment, and its fingerprint as `ssh-keygen -l` and sshd's
// AuthorizedKeysCommand (%f) print it, "SHA256:" and the unpadded base64 of the key blob's
// SHA-256.
#pragma once

#include <cpm/store/detail/sha256.hpp>
#include <cpm/store/validation.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cpm {

struct public_key_line {
  std::string key;          // "type base64": the key's identity
  std::string comment;      // what followed it ("alice@laptop"), possibly empty
  std::string fingerprint;  // "SHA256:..." (43 base64 characters, no padding)
};

// "SHA256:..." of a key given as "type base64[ comment]"; the key must be valid
// (validate::ssh_public_key).
inline std::string ssh_fingerprint(std::string_view key) {
  auto first = key.find(' ');
  std::string_view blob_text = key.substr(first + 1);
  blob_text = blob_text.substr(0, blob_text.find(' '));
  auto blob = detail::base64_decode(blob_text).value();
  auto digest = detail::sha256::of(std::span<const std::uint8_t>(blob.data(), blob.size()));
  std::string text = detail::base64_encode(std::vector<unsigned char>(digest.begin(), digest.end()));
  while (!text.empty() && text.back() == '=') text.pop_back();
  return "SHA256:" + text;
}

// Validates a key line (surrounding whitespace and a trailing newline are allowed) and splits
// it. Throws cpm::validation_error naming `field`.
inline public_key_line parse_public_key(std::string_view given, const char* field) {
  constexpr std::string_view space = " \t\r\n";
  auto begin = given.find_first_not_of(space);
  std::string_view line =
      begin == std::string_view::npos ? std::string_view() : given.substr(begin, given.find_last_not_of(space) - begin + 1);
  try {
    validate::ssh_public_key(line, field);
  } catch (const validation_error& e) {
    throw validation_error(field, given, e.problem());  // the value as it was given
  }
  std::string_view key = detail::normalize_public_key(line);
  std::string_view comment = line.substr(key.size());
  if (!comment.empty()) comment.remove_prefix(1);
  return {std::string(key), std::string(comment), ssh_fingerprint(key)};
}

}  // namespace cpm
