// cpm: formatting the text of its messages (and of SQL it builds at run time).
#pragma once

#include <fmt/core.h>

#include <string>

namespace cpm::detail {

// fmt::format with the format string checked at run time instead of compile time: the same
// text, without the compile-time check's instantiations, which cost more to compile than the
// rest of a cold error path. cpm's own format strings are covered by its tests.
template <class... Args>
std::string message(fmt::string_view text, const Args&... args) {
  return fmt::vformat(text, fmt::make_format_args(args...));
}

}  // namespace cpm::detail
