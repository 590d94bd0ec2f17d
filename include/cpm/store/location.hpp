// cpm: where the cpm database lives, and creating it privately.
//
// The default is ~/.cpm/cpm.db. A new ~/.cpm is made with mode 0700 and a new cpm.db with
// 0600 (SQLite gives its -wal and -shm files the database's mode): the file says who may
// read and write which repository.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/sqlite/error.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/core.h>

namespace cpm {

// A path could not be prepared for the database (a directory or file could not be made).
class location_error : public error {
 public:
  location_error(std::string path, int err)
      : error(detail::message("cpm: cannot prepare '{}': {}", path, std::strerror(err))), path_(std::move(path)) {}
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// $HOME/.cpm/cpm.db (the password database's home when HOME is unset).
inline std::string default_database_path() {
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    const passwd* pw = getpwuid(getuid());
    home = pw && pw->pw_dir ? pw->pw_dir : ".";
  }
  return std::string(home) + "/.cpm/cpm.db";
}

// Creates the missing directories of `path` (mode 0700) and the file itself (mode 0600) when
// it does not exist yet. Existing directories and files keep their modes.
inline void prepare_database_path(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw location_error(dir, errno);
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    throw location_error(path, errno);
  }
}

}  // namespace cpm
