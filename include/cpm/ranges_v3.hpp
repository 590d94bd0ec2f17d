// cpm: range-v3 interoperability, opt-in. Include this in every file that passes a
// cpm::rows to range-v3 (ranges::views::..., ranges::to): it declares rows<Row> a view for
// range-v3, as it is for std::ranges, so that a temporary rows composes with `|`. The other
// cpm headers include nothing of range-v3, so that programs that do not use it do not pay
// for its headers.
//
//   #include <cpm/cpm.hpp>
//   #include <cpm/ranges_v3.hpp>
//   auto names = cpm::all<user>(db) | ranges::views::transform(&user::username) | ranges::to<std::vector>();
#pragma once

#include <cpm/query/rows.hpp>

#include <range/v3/range/concepts.hpp>

namespace ranges {
template <class Row>
inline constexpr bool enable_view<cpm::rows<Row>> = true;
}  // namespace ranges
