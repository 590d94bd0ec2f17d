// cpm: the rules every value meets before the store writes it.
//
// Each check throws cpm::validation_error naming the field ("user.username"), the value and
// the problem. Names that end up in paths or command lines are held to the strictest rules.
#pragma once

#include <cpm/store/errors.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpm {

namespace detail {

constexpr bool is_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// True for well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
constexpr bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (std::size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    constexpr std::uint32_t min_for[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

inline constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Standard base64 with padding; nullopt when `text` is not exactly that.
inline std::optional<std::vector<unsigned char>> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::vector<unsigned char> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t group = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      std::uint32_t v = 0;
      if (c == '=') {
        if (i + 4 != text.size() || k < 2) return std::nullopt;  // padding only at the very end
        ++pad;
      } else {
        if (pad) return std::nullopt;
        auto at = base64_alphabet.find(c);
        if (at == std::string_view::npos) return std::nullopt;
        v = static_cast<std::uint32_t>(at);
      }
      group = (group << 6) | v;
    }
    // The bits the padding leaves over must be zero (RFC 4648, 3.5): one encoding per blob.
    if ((pad == 1 && (group & 0xff) != 0) || (pad == 2 && (group & 0xffff) != 0)) return std::nullopt;
    out.push_back(static_cast<unsigned char>(group >> 16));
    if (pad < 2) out.push_back(static_cast<unsigned char>(group >> 8));
    if (pad < 1) out.push_back(static_cast<unsigned char>(group));
  }
  return out;
}

inline std::string base64_encode(const std::vector<unsigned char>& bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t group = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= bytes[i + 2];
    out += base64_alphabet[(group >> 18) & 63];
    out += base64_alphabet[(group >> 12) & 63];
    out += i + 1 < bytes.size() ? base64_alphabet[(group >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? base64_alphabet[group & 63] : '=';
  }
  return out;
}

inline constexpr std::array<std::string_view, 8> ssh_key_types{
    "ssh-ed25519",         "ssh-rsa",
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss"};

// "type base64": the key without its comment, which is not part of the key's identity. (A
// prefix of `key`, so it is a view into it.)
inline std::string_view normalize_public_key(std::string_view key) {
  auto first = key.find(' ');
  auto second = first == std::string_view::npos ? first : key.find(' ', first + 1);
  return key.substr(0, second);
}

[[noreturn]] inline void refuse(const char* field, std::string_view value, std::string problem) {
  throw validation_error(field, value, std::move(problem));
}

}  // namespace detail

namespace validate {

// Letters, digits, '-' and '_'; 1 to 64 characters; no leading '-'.
inline void username(std::string_view value, const char* field = "user.username") {
  if (value.empty() || value.size() > 64) detail::refuse(field, value, "must be 1 to 64 characters long");
  for (char c : value)
    if (!detail::is_alnum(c) && c != '-' && c != '_')
      detail::refuse(field, value, "may hold only letters, digits, '-' and '_'");
  if (value.front() == '-') detail::refuse(field, value, "must not start with '-'");
}

// local@domain.tld: printable ASCII without spaces, one '@', a dot in the domain, at most 254.
inline void email(std::string_view value, const char* field = "user.email") {
  if (value.empty() || value.size() > 254) detail::refuse(field, value, "must be 1 to 254 characters long");
  for (char c : value)
    if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '\\')
      detail::refuse(field, value, "holds a character no address has");
  auto at = value.find('@');
  if (at == std::string_view::npos || at == 0 || value.find('@', at + 1) != std::string_view::npos)
    detail::refuse(field, value, "is not an address (one '@' with a name before it)");
  std::string_view domain = value.substr(at + 1);
  auto dot = domain.find('.');
  if (domain.empty() || dot == std::string_view::npos || dot == 0 || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos)
    detail::refuse(field, value, "has no valid domain after '@'");
}

// A name that is safe as one path component and on a command line: letters, digits, '.', '-',
// '_'; 1 to 100 characters; not starting with '.' or '-'.
inline void name(std::string_view value, const char* field) {
  if (value.empty() || value.size() > 100) detail::refuse(field, value, "must be 1 to 100 characters long");
  for (char c : value)
    if (!detail::is_alnum(c) && c != '.' && c != '-' && c != '_')
      detail::refuse(field, value, "may hold only letters, digits, '.', '-' and '_'");
  if (value.front() == '.' || value.front() == '-') detail::refuse(field, value, "must not start with '.' or '-'");
}

// An absolute, normalised path: starts with '/', no empty, '.' or '..' components, no NUL,
// valid UTF-8, at most 4096 bytes.
inline void absolute_path(std::string_view value, const char* field) {
  if (value.size() < 2 || value.size() > 4096 || value.front() != '/')
    detail::refuse(field, value, "must be an absolute path ('/...', at most 4096 bytes)");
  if (!detail::valid_utf8(value)) detail::refuse(field, value, "is not valid UTF-8");
  std::size_t start = 1;
  while (start <= value.size()) {
    auto slash = value.find('/', start);
    std::string_view part = value.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..")
      detail::refuse(field, value, "must be normalised (no empty, '.' or '..' components)");
    for (char c : part)
      if (static_cast<unsigned char>(c) < 0x20) detail::refuse(field, value, "holds a control character");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
}

inline void port(int value, const char* field = "server.port") {
  if (value < 1 || value > 65535) detail::refuse(field, std::to_string(value), "is not a port (1 to 65535)");
}

// "<type> <base64> [comment]": a known key type, whose base64 blob decodes and starts with
// that same type name (as OpenSSH writes keys).
inline void ssh_public_key(std::string_view value, const char* field) {
  if (value.size() > 16384) detail::refuse(field, value, "is too long for an SSH public key");
  auto space = value.find(' ');
  if (space == std::string_view::npos) detail::refuse(field, value, "is not '<type> <base64> [comment]'");
  std::string_view type = value.substr(0, space);
  bool known = false;
  for (auto t : detail::ssh_key_types) known = known || t == type;
  if (!known) detail::refuse(field, value, "has an unknown key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...)");
  std::string_view rest = value.substr(space + 1);
  auto end = rest.find(' ');
  std::string_view blob_text = rest.substr(0, end);
  std::string_view comment = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  auto blob = detail::base64_decode(blob_text);
  if (!blob) detail::refuse(field, value, "has a key blob that is not valid base64");
  if (blob->size() < 4 + type.size()) detail::refuse(field, value, "has a key blob too short for its type");
  std::size_t length = (std::size_t{(*blob)[0]} << 24) | (std::size_t{(*blob)[1]} << 16) |
                       (std::size_t{(*blob)[2]} << 8) | std::size_t{(*blob)[3]};
  if (length != type.size() || std::string_view(reinterpret_cast<const char*>(blob->data()) + 4, length) != type)
    detail::refuse(field, value, "has a key blob of another type than it names");
  for (char c : comment)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) detail::refuse(field, value, "has a control character in its comment");
  if (!detail::valid_utf8(comment)) detail::refuse(field, value, "has a comment that is not valid UTF-8");
}

// A DNS host name (labels of letters, digits and '-', at most 253 characters), or an IPv4 or
// IPv6 address.
inline void host(std::string_view value, const char* field = "server.host") {
  if (value.empty() || value.size() > 253) detail::refuse(field, value, "must be 1 to 253 characters long");
  std::string text(value);
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1) return;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto dot = value.find('.', start);
    std::string_view label = value.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) detail::refuse(field, value, "is not a host name (empty or long label)");
    for (char c : label)
      if (!detail::is_alnum(c) && c != '-') detail::refuse(field, value, "is not a host name or IP address");
    if (label.front() == '-' || label.back() == '-') detail::refuse(field, value, "has a label starting or ending in '-'");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // A name's last label is never all digits (RFC 3696, section 2): "10.0.0.256" or "1.2.3" is a
  // mistyped address, which a resolver would not look up as a name.
  bool numeric = true;
  for (char c : value.substr(value.rfind('.') + 1)) numeric = numeric && c >= '0' && c <= '9';
  if (numeric) detail::refuse(field, value, "is not a valid IP address, nor a host name (its last label is all digits)");
}

// Free text: valid UTF-8 without NUL bytes, at most 4096 bytes.
inline void text(std::string_view value, const char* field) {
  if (value.size() > 4096) detail::refuse(field, value, "is longer than 4096 bytes");
  if (value.find('\0') != std::string_view::npos) detail::refuse(field, value, "holds a NUL byte");
  if (!detail::valid_utf8(value)) detail::refuse(field, value, "is not valid UTF-8");
}

}  // namespace validate
}  // namespace cpm
