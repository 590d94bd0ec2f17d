// cpm: header-only C++20 data access for SQLite. Include this one header for everything.
#pragma once

#include <cpm/detail/config.hpp>  // below C++20: one #error, and nothing below is compiled

#if CPM_CPLUSPLUS >= 202002L
#include <cpm/version.hpp>
#include <cpm/sqlite.hpp>
#include <cpm/sqlite/backup.hpp>
#include <cpm/reflect.hpp>
#include <cpm/query.hpp>
#include <cpm/schema.hpp>
#include <cpm/store.hpp>
#include <cpm/pool.hpp>
#endif
