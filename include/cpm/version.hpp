// cpm: the library's version, defined here and nowhere else (CMake reads it from this file).
#pragma once

#define CPM_VERSION_MAJOR 0
#define CPM_VERSION_MINOR 1
#define CPM_VERSION_PATCH 0

#define CPM_VERSION (CPM_VERSION_MAJOR * 10000 + CPM_VERSION_MINOR * 100 + CPM_VERSION_PATCH)

#define CPM_DETAIL_STR2(x) #x
#define CPM_DETAIL_STR(x) CPM_DETAIL_STR2(x)
#define CPM_VERSION_STRING \
  CPM_DETAIL_STR(CPM_VERSION_MAJOR) "." CPM_DETAIL_STR(CPM_VERSION_MINOR) "." CPM_DETAIL_STR(CPM_VERSION_PATCH)

#include <string_view>

namespace cpm {

struct version_info {
  int major, minor, patch;
  std::string_view text;
};

inline constexpr version_info version{CPM_VERSION_MAJOR, CPM_VERSION_MINOR, CPM_VERSION_PATCH,
                                      CPM_VERSION_STRING};

}  // namespace cpm
