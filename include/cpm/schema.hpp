// cpm: the schema layer: versioned migrations, safe table rebuilds, the CREATE TABLE of a
// model, and the check that the tables still match the models.
#pragma once

#include <cpm/schema/check.hpp>
#include <cpm/schema/create_table.hpp>
#include <cpm/schema/migration.hpp>
#include <cpm/schema/rebuild.hpp>
