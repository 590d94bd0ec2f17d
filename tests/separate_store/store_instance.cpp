// The one translation unit that compiles cpm's store operations (CPM_STORE_IMPLEMENTATION);
// the other files of the program were built with CPM_SEPARATE_STORE and only call them.
#define CPM_STORE_IMPLEMENTATION
#include <cpm/cpm.hpp>
