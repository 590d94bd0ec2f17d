// cpm: the schema layer: versioned migrations and safe table rebuilds.
#pragma once

#include <cpm/schema/migration.hpp>
#include <cpm/schema/rebuild.hpp>
