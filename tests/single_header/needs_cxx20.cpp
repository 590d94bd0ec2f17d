// Built with -std=c++17 by the test cpm.single_header.needs_cxx20, which expects the single
// header's one #error line; built with C++20 in every build (cpm_single_header_cxx20) as the
// control, so that the test cannot pass on an unrelated error.
#include <cpm/cpm.hpp>
