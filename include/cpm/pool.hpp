// cpm: the connection pool: many threads, one database (cpm::pool; docs/pool.md).
#pragma once

#include <cpm/pool/pool.hpp>
