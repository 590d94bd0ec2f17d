// Helpers shared by the store and schema tests: test SSH keys, file bytes, row counts.
#pragma once

#include <cpm/sqlite.hpp>
#include <cpm/store/validation.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace cpm_test {

// The wire blob of an SSH public key as OpenSSH writes it: the length-prefixed key type, then
// a length-prefixed body (32 bytes derived from `seed`, so different seeds give different keys).
inline std::vector<unsigned char> ssh_blob(std::uint32_t seed, std::string_view type = "ssh-ed25519") {
  std::vector<unsigned char> blob;
  auto put_length = [&](std::size_t n) {
    for (int shift = 24; shift >= 0; shift -= 8) blob.push_back(static_cast<unsigned char>((n >> shift) & 0xff));
  };
  put_length(type.size());
  blob.insert(blob.end(), type.begin(), type.end());
  put_length(32);
  std::uint32_t x = seed * 2654435761u + 1;
  for (int i = 0; i < 32; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    blob.push_back(static_cast<unsigned char>(x));
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

}  // namespace cpm_test
