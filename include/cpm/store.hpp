// cpm: the store layer: cpm's models, schema and every operation of the service.
#pragma once

#include <cpm/store/errors.hpp>
#include <cpm/store/location.hpp>
#include <cpm/store/maintenance.hpp>
#include <cpm/store/models.hpp>
#include <cpm/store/schema.hpp>
#include <cpm/store/schema_check.hpp>
#include <cpm/store/store.hpp>
#include <cpm/store/validation.hpp>
