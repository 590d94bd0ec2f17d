// cpm: header-only C++20 data access for SQLite. Include this one header for everything.
#pragma once

#include <cpm/version.hpp>
#include <cpm/sqlite.hpp>
#include <cpm/reflect.hpp>
#include <cpm/query.hpp>
#include <cpm/schema.hpp>
#include <cpm/store.hpp>
#include <cpm/pool.hpp>
