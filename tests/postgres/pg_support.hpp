// Shared by the PostgreSQL tests: the server to use, and a schema of each test's own.
//
// The connection string comes from CPM_PG_CONNINFO, else from the file CPM_PG_CONNINFO_FILE
// names (the ctest fixture's scripts/pg-cluster.sh writes it). Without either the tests fail:
// nothing here passes without a server.
#pragma once

#include <cpm/postgres.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace pg_test {

inline std::string conninfo() {
  if (const char* env = std::getenv("CPM_PG_CONNINFO"); env && *env) return env;
  if (const char* file = std::getenv("CPM_PG_CONNINFO_FILE"); file && *file) {
    std::ifstream in(file);
    std::string line;
    if (in && std::getline(in, line) && !line.empty()) return line;
    throw std::runtime_error(std::string("CPM_PG_CONNINFO_FILE names ") + file +
                             ", which holds no connection string (is the cluster up? scripts/pg-cluster.sh start DIR)");
  }
  throw std::runtime_error(
      "set CPM_PG_CONNINFO to a libpq connection string (scripts/pg-cluster.sh start DIR prints one), or run "
      "these tests through ctest, whose fixture starts a cluster");
}

// A schema created for one test and dropped with everything in it at its end; connections
// from open() have it as their search_path, so tests running side by side never meet.
class scratch {
 public:
  scratch() : admin_(cpm::pg::connection::open(conninfo())) {
    static std::atomic<int> counter{0};
    name_ = "cpm_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    admin_.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE; CREATE SCHEMA " + name_);
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  ~scratch() {
    try {
      auto db = cpm::pg::connection::open(conninfo());
      db.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (...) {
    }
  }

  [[nodiscard]] cpm::pg::connection open() const {
    auto db = cpm::pg::connection::open(conninfo());
    db.exec("SET search_path TO " + name_);
    return db;
  }
  [[nodiscard]] const std::string& schema() const noexcept { return name_; }

 private:
  cpm::pg::connection admin_;
  std::string name_;
};

}  // namespace pg_test
