// cpm: the sqlite layer, a thin RAII skin over the sqlite3 C API (knows no cpm tables).
//
// Online backups (cpm::backup, <cpm/sqlite/backup.hpp>) are not included here: they need the
// POSIX file-system headers. <cpm/cpm.hpp> includes them.
#pragma once

#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/sqlite/explain.hpp>
#include <cpm/sqlite/statement.hpp>
#include <cpm/sqlite/transaction.hpp>
#include <cpm/sqlite/value.hpp>
