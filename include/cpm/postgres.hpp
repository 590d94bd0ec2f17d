// cpm: the PostgreSQL backend, through libpq (Debian's libpq-dev; pkg-config libpq).
//
// Not included by <cpm/cpm.hpp>: only programs that use PostgreSQL need libpq. What exists
// and what does not yet is in docs/postgres.md.
#pragma once

#include <cpm/detail/config.hpp>
#include <cpm/postgres/connection.hpp>
#include <cpm/postgres/create_table.hpp>
#include <cpm/postgres/crud.hpp>
#include <cpm/postgres/errors.hpp>
#include <cpm/postgres/migration.hpp>
#include <cpm/postgres/store_queries.hpp>
#include <cpm/postgres/store.hpp>
#include <cpm/postgres/store_schema.hpp>
#include <cpm/postgres/transaction.hpp>
#include <cpm/postgres/typed_query.hpp>
#include <cpm/postgres/value.hpp>
