// CHECK(cond) for the example programs of docs/: each runs as a test, and a check that does
// not hold prints itself and makes main() return 1.
#pragma once

#include <cstdio>

#define CHECK(cond)                                      \
  do {                                                   \
    if (!(cond)) {                                       \
      std::fprintf(stderr, "check failed: %s\n", #cond); \
      return 1;                                          \
    }                                                    \
  } while (0)
