// cpm: the query layer: SQL generated from models, prepared once per connection, lazy ranges.
#pragma once

#include <cpm/query/crud.hpp>
#include <cpm/query/find.hpp>
#include <cpm/query/join.hpp>
#include <cpm/query/patch.hpp>
#include <cpm/query/raw.hpp>
#include <cpm/query/rows.hpp>
#include <cpm/query/select.hpp>
#include <cpm/query/where.hpp>
