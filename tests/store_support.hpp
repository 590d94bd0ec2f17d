// Helpers shared by the store and schema tests: test SSH keys, file bytes, row counts.
#pragma once

#include <cpm/sqlite.hpp>
#include <cpm/store/validation.hpp>

#include <boost/pfr/core.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cpm_test {

// The wire blob of an SSH public key as OpenSSH writes it: the length-prefixed key type, then
// a length-prefixed body (32 bytes derived from `seed`, so different seeds give different keys).
inline std::vector<unsigned char> ssh_blob(std::uint32_t seed, std::string_view type = "ssh-ed25519") {
  // Sized once and written by index: g++ 12 at -O2 misreads the growth path of push_back and
  // insert here (a false -Wstringop-overflow) once this is inlined into a test.
  std::vector<unsigned char> blob(4 + type.size() + 4 + 32);
  std::size_t at = 0;
  auto put_length = [&](std::size_t n) {
    for (int shift = 24; shift >= 0; shift -= 8) blob[at++] = static_cast<unsigned char>((n >> shift) & 0xff);
  };
  put_length(type.size());
  for (char c : type) blob[at++] = static_cast<unsigned char>(c);
  put_length(32);
  std::uint32_t x = seed * 2654435761u + 1;
  for (int i = 0; i < 32; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    blob[at++] = static_cast<unsigned char>(x);
  }
  return blob;
}

// "ssh-ed25519 <base64>" (plus " comment" when one is given): a key validate::ssh_public_key
// accepts.
inline std::string ssh_key(std::uint32_t seed, std::string_view comment = {}, std::string_view type = "ssh-ed25519") {
  std::string key = std::string(type) + " " + cpm::detail::base64_encode(ssh_blob(seed, type));
  if (!comment.empty()) key += " " + std::string(comment);
  return key;
}

inline std::vector<char> file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// SELECT count(*) FROM <table> (the name is the test's own, never user input).
inline std::int64_t count_rows(cpm::connection& db, std::string_view table) {
  auto stmt = db.prepare("SELECT count(*) FROM \"" + std::string(table) + "\"");
  stmt.step();
  return stmt.column<std::int64_t>(0);
}

// Names of the objects of one type ('table', 'index', 'trigger') in the schema, sorted.
inline std::vector<std::string> schema_names(cpm::connection& db, std::string_view type) {
  auto stmt = db.prepare("SELECT name FROM sqlite_schema WHERE type = ? ORDER BY name");
  stmt.bind(type);
  std::vector<std::string> names;
  while (stmt.step()) names.push_back(stmt.column<std::string>(0));
  return names;
}

inline bool has_schema_object(cpm::connection& db, std::string_view type, std::string_view name) {
  for (const auto& n : schema_names(db, type))
    if (n == name) return true;
  return false;
}

// The whole content of a database as text (every table's rows, in rowid order, and the
// schema), to compare a database before and after an operation that must change nothing.
inline std::string dump(cpm::connection& db) {
  std::string out;
  std::vector<std::string> tables;
  {
    auto stmt = db.prepare("SELECT name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name");
    while (stmt.step()) {
      out += stmt.column<std::string>(0) + ": " + stmt.column<std::string>(1) + "\n";
    }
  }
  {
    auto stmt = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
    while (stmt.step()) tables.push_back(stmt.column<std::string>(0));
  }
  for (const auto& table : tables) {
    auto stmt = db.prepare("SELECT * FROM \"" + table + "\"");
    while (stmt.step()) {
      out += table + ":";
      for (int i = 0; i < sqlite3_column_count(stmt.native()); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt.native(), i);
        out += text ? std::string(" '") + reinterpret_cast<const char*>(text) + "'" : std::string(" NULL");
      }
      out += "\n";
    }
  }
  return out;
}

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
void put_value(std::string& out, const T& v) {
  if constexpr (is_optional<T>::value) {
    if (v) {
      put_value(out, *v);
    } else {
      out += "null";
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    out += '"' + v + '"';
  } else if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_enum_v<T>) {
    out += fmt::format("enum {}", static_cast<long long>(v));
  } else if constexpr (std::is_arithmetic_v<T>) {
    out += std::to_string(v);
  } else {
    out += fmt::format("t{}", v.time_since_epoch().count());  // a std::chrono::sys_time
  }
}

}  // namespace detail

// A model as text, every field shown (models have no operator==): compare two rows with
// CHECK(text(a) == text(b)) and a failure shows both.
template <class T>
std::string text(const T& row) {
  std::string out = "{";
  boost::pfr::for_each_field(row, [&](const auto& field) {
    if (out.size() > 1) out += ", ";
    detail::put_value(out, field);
  });
  return out + "}";
}
template <class T>
std::string text(const std::optional<T>& row) {
  return row ? text(*row) : std::string("nullopt");
}
template <class T>
std::vector<std::string> texts(const std::vector<T>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(text(row));
  return out;
}

}  // namespace cpm_test
