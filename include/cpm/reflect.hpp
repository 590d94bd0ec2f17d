// cpm: the reflect layer: what Boost.PFR gives about an aggregate, plus field names.
#pragma once

#include <cpm/reflect/format.hpp>
#include <cpm/reflect/model.hpp>
