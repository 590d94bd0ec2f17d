// cpm: queries by any column, named by a member pointer.
//
//   for (const repository& r : cpm::find<&repository::org_id>(db, org)) ...
//   std::optional<user> u = cpm::find_one<&user::username>(db, "alice");
//   auto some = cpm::find_in<&user::id>(db, std::vector<std::int64_t>{1, 2, 3});
//
// The member's type must be constructible from the value without narrowing:
// find<&user::username>(db, 42) does not compile.
#pragma once

#include <cpm/query/crud.hpp>
#include <cpm/query/detail/row_io.hpp>
#include <cpm/query/detail/sql_text.hpp>
#include <cpm/query/rows.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/connection.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpm {

namespace detail {

template <auto Member>
using member_class_t = typename member_pointer<decltype(Member)>::class_type;
template <auto Member>
using member_field_t = typename member_pointer<decltype(Member)>::field_type;

// A value of type V may stand for a field of type F: F can be made from it without narrowing
// (a std::string_view or a literal for a std::string, an int for an int64; not an int for a
// string, nor a double for an integer).
template <class V, class F>
concept value_for = requires(V&& v) { F{std::forward<V>(v)}; } &&
                    // F{int} compiles for a scoped enum over int, but an int names no enumerator.
                    (!std::is_enum_v<F> || std::convertible_to<V, F>);

template <class T>
inline constexpr bool is_text_like = std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
                                     std::is_same_v<T, const char*> || std::is_same_v<T, char*> ||
                                     (std::is_array_v<T> && std::is_same_v<std::remove_extent_t<T>, char>);
template <class T>
inline constexpr bool is_plain_integer = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// True when an argument of type V binds exactly as a value of field type F would: the same
// type, text for a text field, an integer for an integer field, nothing for an optional one.
template <class V, class F>
consteval bool binds_like() {
  if constexpr (std::is_same_v<V, F>) {
    return true;
  } else if constexpr (is_optional<F>::value) {
    return std::is_same_v<V, std::nullopt_t> || binds_like<V, typename F::value_type>();
  } else if constexpr (std::is_same_v<F, std::string>) {
    return is_text_like<V>;
  } else if constexpr (is_plain_integer<F>) {
    return is_plain_integer<V>;
  } else {
    return false;
  }
}

// Binds a find argument as the field type F: through the field's own mapping, so that an
// argument of another type (a sys_seconds for a millisecond time point, a reference_wrapper)
// is stored exactly as the field would be. Arguments that bind alike are bound as they are;
// others are converted to F, and the converted copy is copied into the statement. `Borrow`:
// the argument outlives the statement's run.
template <class F, bool Borrow, class V>
void bind_as(statement_base& stmt, int index, const V& value) {
  if constexpr (binds_like<std::remove_cvref_t<V>, F>()) {
    if constexpr (Borrow) {
      stmt.bind_ref(index, value);
    } else {
      stmt.bind_at(index, value);
    }
  } else {
    stmt.bind_at(index, F(value));
  }
}

// Binds a find argument for column `Column` of T. A none_as_empty field's argument is bound as
// its stored text: none (and '', which reads back as none) as ''; the statement compares
// coalesce("column", ''), so that rows holding NULL are found as none too.
template <class T, std::size_t Column, bool Borrow, class V>
void bind_find_value(statement_base& stmt, int index, const V& value) {
  using F = typename model_info<T>::template field_type<Column>;
  if constexpr (empty_is_none<T, Column>()) {
    const F text{value};
    if (!text || text->empty()) {
      parameter(stmt.native(), index).text_ref(std::string_view(""));
    } else {
      stmt.bind_at(index, *text);  // a copy: `text` is gone before the statement runs
    }
  } else {
    bind_as<F, Borrow>(stmt, index, value);
  }
}

}  // namespace detail

// Rows whose field `Member` equals `value` (IS, for std::optional fields: std::nullopt finds
// NULL; for a none_as_empty field, it finds '' and NULL), in key order.
template <auto Member, class V>
  requires detail::value_for<const V&, detail::member_field_t<Member>>
[[nodiscard]] rows<detail::member_class_t<Member>> find(connection& db, const V& value) {
  using T = detail::member_class_t<Member>;
  auto stmt = detail::lease<detail::select_where_sql<T, field_index<Member>>>(db);
  detail::bind_find_value<T, field_index<Member>, false>(stmt, 1, value);  // the range outlives the call
  return rows<T>(std::move(stmt));
}

// The first row (in key order) whose field `Member` equals `value`; for unique columns, the row.
template <auto Member, class V>
  requires detail::value_for<const V&, detail::member_field_t<Member>>
[[nodiscard]] std::optional<detail::member_class_t<Member>> find_one(connection& db, const V& value) {
  using T = detail::member_class_t<Member>;
  auto stmt = detail::lease<detail::select_where_sql<T, field_index<Member>>>(db);
  detail::bind_find_value<T, field_index<Member>, true>(stmt, 1, value);
  std::optional<T> out;
  if (stmt.step()) detail::read_row(stmt.native(), out.emplace());
  return out;
}

namespace detail {

// Chunks of an IN list: the smallest size that holds the list, else the largest size.
inline constexpr std::size_t in_chunk_sizes[] = {8, 64, 512};

template <class T, std::size_t Column>
class in_list_source : public row_source {
 public:
  using value_type = typename model_info<T>::template field_type<Column>;

  // `with_null`: the list held NULL (std::nullopt), which IN never matches: its rows are
  // found by a last `IS NULL` query.
  in_list_source(connection& db, std::vector<value_type> values, bool with_null)
      : state_(db.share()), values_(std::move(values)), with_null_(with_null) {}

  statement_lease next() override {
    if (offset_ >= values_.size()) {
      if (!with_null_) return {};
      with_null_ = false;
      auto stmt = lease_constant<select_where_sql<T, Column>>(*state_);
      if constexpr (empty_is_none<T, Column>()) {
        bind_find_value<T, Column, false>(stmt, 1, std::nullopt);  // '' and NULL
      } else {
        stmt.bind_at(1, std::nullopt);
      }
      return stmt;
    }
    std::size_t remaining = values_.size() - offset_;
    if (remaining <= in_chunk_sizes[0]) return chunk<in_chunk_sizes[0]>();
    if (remaining <= in_chunk_sizes[1]) return chunk<in_chunk_sizes[1]>();
    return chunk<in_chunk_sizes[2]>();
  }

 private:
  // Binds the next Size values; a short last chunk repeats its last value, which IN ignores.
  template <std::size_t Size>
  statement_lease chunk() {
    auto stmt = lease_constant<select_in_sql<T, Column, Size>>(*state_);
    std::size_t end = std::min(values_.size(), offset_ + Size);
    for (std::size_t i = 0; i < Size; ++i) {
      std::size_t at = offset_ + i < end ? offset_ + i : end - 1;
      stmt.bind_ref(static_cast<int>(i) + 1, values_[at]);  // values_ outlives the statement's run
    }
    offset_ = end;
    return stmt;
  }

  state_ref state_;  // the connection's, kept alive while the range is
  std::vector<value_type> values_;
  std::size_t offset_ = 0;
  bool with_null_ = false;
};

}  // namespace detail

// Rows whose field `Member` is one of `values`, each once. Lists of any length work: they are
// sent in chunks well under SQLite's limit on parameters. Rows come in key order within a
// chunk (lists are sorted first when their values can be). For an optional field, a
// std::nullopt in the list finds the rows where the field is NULL, as find(nullopt) does (for
// a none_as_empty field, the rows holding '' or NULL).
template <auto Member, std::ranges::input_range Values>
  requires detail::value_for<std::ranges::range_reference_t<Values>, detail::member_field_t<Member>>
[[nodiscard]] rows<detail::member_class_t<Member>> find_in(connection& db, Values&& values) {
  using T = detail::member_class_t<Member>;
  using F = detail::member_field_t<Member>;
  std::vector<F> list;
  for (auto&& v : values) list.emplace_back(std::forward<decltype(v)>(v));
  bool with_null = false;
  if constexpr (detail::is_optional<F>::value) {
    // (For a none_as_empty field, '' is none too.)
    with_null = std::erase_if(list, [](const F& v) {
                  if constexpr (detail::empty_is_none<T, field_index<Member>>()) return !v || v->empty();
                  return !v.has_value();
                }) > 0;
  }
  if constexpr (std::totally_ordered<F>) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  if (list.empty() && !with_null) return rows<T>();
  auto source = std::make_unique<detail::in_list_source<T, field_index<Member>>>(db, std::move(list), with_null);
  return rows<T>(std::move(source));
}

}  // namespace cpm
