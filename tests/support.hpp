// Helpers shared by the tests: temporary directories and files, and a look at a connection's
// prepared statements.
#pragma once

#include <fmt/core.h>
#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace cpm_test {

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() : temp_dir(std::filesystem::temp_directory_path()) {}
  // A fresh directory under `base`.
  explicit temp_dir(const std::filesystem::path& base) {
    std::random_device rd;
    path_ = base / (fmt::format("cpm-test-{}{}", rd(), rd()));
    std::filesystem::create_directories(path_);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Ends the test program with exit code 77, which CTest reports as skipped for a test
// registered with SKIP_RETURN_CODE 77 (Catch2 v2 has no SKIP). Only for a test case with a hidden
// tag that tests/CMakeLists.txt registers as a CTest of its own: run in the full cpm_tests
// binary, it would end the run there.
[[noreturn]] inline void skip_test(const std::string& why) {
  std::printf("SKIPPED: %s\n", why.c_str());
  std::fflush(nullptr);
  std::_Exit(77);
}

// How many of the connection's prepared statements are mid-run right now (stepped, and neither
// run to their end nor reset): each of them may be holding a read transaction open. Every
// statement the connection has is counted, cached or not, without leasing anything.
inline int busy_statements(sqlite3* db) {
  int busy = 0;
  for (sqlite3_stmt* stmt = sqlite3_next_stmt(db, nullptr); stmt; stmt = sqlite3_next_stmt(db, stmt))
    busy += sqlite3_stmt_busy(stmt) ? 1 : 0;
  return busy;
}

// True when `stmt` is one of the connection's prepared statements (not finalized). Compares
// pointers only: nothing is read through `stmt`.
inline bool is_prepared_on(sqlite3* db, const sqlite3_stmt* stmt) {
  for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s; s = sqlite3_next_stmt(db, s))
    if (s == stmt) return true;
  return false;
}

}  // namespace cpm_test
