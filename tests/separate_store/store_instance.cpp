// The one translation unit that compiles cpm's store operations (CPM_STORE_IMPLEMENTATION);
// the other files of the program were built with CPM_SEPARATE_STORE and only call them.
// [snippet:implementation]
// store_instance.cpp: the one file of the program that compiles the store
#define CPM_STORE_IMPLEMENTATION
#include <cpm/cpm.hpp>
// [end:implementation]
