// cpm: the language version it needs. <cpm/cpm.hpp> (and so the single header) includes this
// first and compiles nothing else below C++20, so such a build stops with one line that says
// what to do instead of pages of errors from the code that follows.
#pragma once

// MSVC keeps __cplusplus at 199711L unless /Zc:__cplusplus is given; _MSVC_LANG holds the
// standard it compiles.
#if defined(_MSVC_LANG)
#define CPM_CPLUSPLUS _MSVC_LANG
#else
#define CPM_CPLUSPLUS __cplusplus
#endif

#if CPM_CPLUSPLUS < 202002L
#error "cpm needs C++20: compile with -std=c++20 (MSVC: /std:c++20)"
#endif
