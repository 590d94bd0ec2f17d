// cpm: typed partial updates.
//
// A patch is an aggregate of std::optional fields named like some of the model's fields.
// Fields left empty stay unchanged; for a nullable column, set the field to
// std::optional<T>{} (an engaged optional holding an empty one) to store NULL.
//
//   struct user_patch { std::optional<std::string> email; std::optional<std::optional<std::string>> public_key; };
//   cpm::patch<user>(db, id, user_patch{.email = "new@example.org"});
//
// One statement, prepared once: "col" = CASE WHEN ? THEN ? ELSE "col" END for each field.
#pragma once

#include <cpm/query/crud.hpp>
#include <cpm/query/detail/row_io.hpp>
#include <cpm/query/detail/sql_text.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/connection.hpp>

#include <boost/pfr/core.hpp>

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace cpm {

namespace detail {

// The model column a patch field names.
template <class T, class Patch, std::size_t J>
consteval std::size_t patch_column() {
  constexpr std::string_view name = field_name<Patch, J>;
  for (std::size_t i = 0; i < model_info<T>::size; ++i)
    if (field_names<T>(std::make_index_sequence<model_info<T>::size>{})[i] == name) return i;
  return model_info<T>::size;
}

template <class T, class Patch, std::size_t J>
consteval bool check_patch_field() {
  constexpr std::size_t column = patch_column<T, Patch, J>();
  static_assert(column < model_info<T>::size, "cpm: a patch field names no field of the model");
  if constexpr (column < model_info<T>::size) {
    using expected = std::optional<typename model_info<T>::template field_type<column>>;
    static_assert(std::is_same_v<pfr_field_t<Patch, J>, expected>,
                  "cpm: a patch field must be std::optional<type of the model field it names>");
    static_assert(column != model_info<T>::primary_key, "cpm: a patch cannot change the primary key");
  }
  return true;
}

template <class T, class Patch, std::size_t... J>
bool apply_patch(connection& db, const key_t<T>& key, const Patch& p, std::index_sequence<J...>) {
  // With no field, the statement would be "UPDATE t SET  WHERE ...", which SQLite refuses.
  static_assert(sizeof...(J) > 0, "cpm: a patch needs at least one field");
  static_assert((check_patch_field<T, Patch, J>() && ...));
  auto stmt = lease<patch_sql<T, patch_column<T, Patch, J>()...>>(db);
  int index = 1;
  auto bind_one = [&]<std::size_t Column>(const auto& field, std::integral_constant<std::size_t, Column>) {
    stmt.bind_at(index++, field.has_value());
    if constexpr (empty_is_none<T, Column>()) {
      if (field) bind_none_as_empty(stmt, index, *field);
      ++index;
    } else if (field) {
      stmt.bind_ref(index++, *field);
    } else {
      parameter(stmt.native(), index++).null();
    }
  };
  (bind_one(boost::pfr::get<J>(p), std::integral_constant<std::size_t, patch_column<T, Patch, J>()>{}), ...);
  stmt.bind_ref(index, key);
  stmt.run();
  return db.changes() > 0;
}

}  // namespace detail

// Applies `p` to the row with primary key `key`; false when there is no such row. The key
// converts to the key type without narrowing, as get's does.
template <model T, class Patch, class K = detail::key_t<T>>
bool patch(connection& db, const K& key, const Patch& p) {
  detail::require_primary_key<T>();
  static_assert(detail::check_key<T, K>());
  static_assert(std::is_aggregate_v<Patch>, "cpm: a patch must be an aggregate of std::optional fields");
  return detail::apply_patch<T>(db, detail::key_value<T>(key), p,
                                std::make_index_sequence<boost::pfr::tuple_size_v<Patch>>{});
}

}  // namespace cpm
