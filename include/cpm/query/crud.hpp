// cpm: create, read, update and delete for any model, by its primary key.
//
//   user u = cpm::insert(db, user{.username = "alice", .email = "a@example.org"});  // stored row back
//   std::optional<user> found = cpm::get<user>(db, u.id);
//   u.email = "alice@example.org";
//   cpm::update(db, u);
//   cpm::remove<user>(db, u.id);
//   for (const user& each : cpm::all<user>(db)) ...
//
// Each statement's SQL is a compile-time constant (cpm::sql_text<...> shows it) and is
// prepared once per connection, then reused.
#pragma once

#include <cpm/query/detail/row_io.hpp>
#include <cpm/query/detail/sql_text.hpp>
#include <cpm/query/rows.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/transaction.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ranges>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpm {

namespace detail {

template <const auto& Text>
statement_lease lease(connection& db) {
  return db.cached(sql_constant<Text>{});
}

// Runs a write ... RETURNING the row (the statement `make` returns, bound) and reads the row
// back. In autocommit SQLite commits the write before the row is read, so a read that fails
// (a DEFAULT the field's type cannot hold, say) would leave the row behind for a caller who
// was told it failed: outside a transaction the two run in one, and nothing stays on error.
template <class T, class Make>
T write_returning(connection& db, Make&& make) {
  std::optional<transaction> tx;
  if (!db.in_transaction()) tx.emplace(db, tx_mode::immediate);
  T stored{};
  {
    statement_lease stmt = make();
    if (stmt.step()) read_row(stmt.native(), stored);
    stmt.run();
  }
  if (tx) tx->commit();
  return stored;
}

// (A model the model checks refused has no fields for cpm: their message is the one error.)
template <class T>
consteval void require_primary_key() {
  static_assert(model_info<T>::has_primary_key || model_info<T>::size == 0,
                "cpm: this operation needs a primary key: name a field `id`, or set "
                "cpm::model_traits<T>::primary_key");
}

// Stands in for the key of a model that has none: any argument converts to it, so that a call
// reaches require_primary_key's message instead of failing as "no matching function".
struct missing_primary_key {
  template <class U>
  missing_primary_key(const U&) noexcept {}
};

template <class T>
using key_t = std::conditional_t<
    model_info<T>::has_primary_key,
    typename model_info<T>::template field_type<(model_info<T>::has_primary_key ? model_info<T>::primary_key : 0)>,
    missing_primary_key>;

// A key argument of type V may stand for a primary key of type K by the rule find's arguments
// follow (detail::value_for, cpm/query/find.hpp): K can be made from it without narrowing (an
// int for an int64, a literal for a std::string; not a double for an integer), and an
// argument for a scoped enum is of that enum.
template <class V, class K>
concept key_value_for = requires(const V& v) { K{v}; } && (!std::is_enum_v<K> || std::convertible_to<const V&, K>);

// The checks below name what they check in their template arguments, which the compilers
// print with the error (g++: "In instantiation of ... [with Model = user; Key = long int;
// Argument = double]"; clang++: the failed requirement).
template <class Model, class Key, class Argument>
inline constexpr bool key_argument_converts = key_value_for<Argument, Key>;

template <class Model, class Key, class Argument>
consteval bool check_key_argument() {
  static_assert(key_argument_converts<Model, Key, Argument>,
                "cpm: the key argument must convert to the model's primary key type without narrowing "
                "(the model, the key type and the argument type are the template arguments named here)");
  return true;  // the static_assert above is the one error
}

template <class T, class K>
consteval bool check_key() {
  if constexpr (model_info<T>::has_primary_key) {
    return check_key_argument<T, key_t<T>, K>();
  } else {
    return true;  // require_primary_key says what is wrong
  }
}

// A primary key argument as the key type: itself when it is of that type, else a converted
// copy (bind it to a const auto& local, which keeps it alive while the statement runs).
template <class T, class K>
decltype(auto) key_value(const K& key) {
  if constexpr (std::is_same_v<K, key_t<T>> || !model_info<T>::has_primary_key ||
                !key_value_for<K, key_t<T>>) {
    return (key);
  } else {
    return key_t<T>{key};
  }
}

template <class Model, auto Key>
inline constexpr bool upsert_key_of_model = [] {
  if constexpr (std::is_member_object_pointer_v<decltype(Key)>) {
    return std::is_same_v<typename member_pointer<decltype(Key)>::class_type, Model>;
  } else {
    return false;
  }
}();

template <class Model, auto Key>
consteval bool check_upsert_key() {
  static_assert(upsert_key_of_model<Model, Key>,
                "cpm: each upsert key must be a member pointer of the model upserted: upsert<&T::field>(db, t) "
                "(the model and the key are the template arguments named here)");
  return true;  // the static_assert above is the one error
}

template <class Model>
inline constexpr bool has_field_besides_key = !model_info<Model>::has_primary_key || model_info<Model>::size > 1;

}  // namespace detail

// The SQL cpm generates for a model, readable at compile time:
//   static_assert(cpm::sql_text::select_all<user> == R"(SELECT "id", ... FROM "users" ORDER BY "id")");
namespace sql_text {
template <class T>
inline constexpr std::string_view select_all = detail::select_all_sql<T>.view();
template <class T>
inline constexpr std::string_view select_by_key = detail::select_by_key_sql<T>.view();
// Every field written, RETURNING the stored row.
template <class T>
inline constexpr std::string_view insert = detail::insert_sql<T, 0, true>.view();
template <class T>
inline constexpr std::string_view update = detail::update_sql<T>.view();
template <class T>
inline constexpr std::string_view remove = detail::delete_sql<T>.view();
template <class T>
inline constexpr std::string_view count = detail::count_sql<T>.view();
}  // namespace sql_text

// Inserts `obj` and returns the row as stored: the id the database chose (when obj's integer
// key is 0) and the defaults it filled in (for defaulted fields left empty).
template <model T>
[[nodiscard("the stored row carries the new id")]] T insert(connection& db, const T& obj) {
  return detail::with_omit_mask<T>(detail::omitted_defaults(obj), [&](auto omit) {
    return detail::write_returning<T>(db, [&] {
      auto stmt = detail::lease<detail::insert_sql<T, decltype(omit)::value, true>>(db);
      detail::bind_inserted<T, decltype(omit)::value>(stmt, obj);
      return stmt;
    });
  });
}

// Inserts every element of `objects` in one transaction (a savepoint when one is open) and
// returns how many were inserted; either all are stored or, on error, none.
template <std::ranges::input_range Range, model T = std::ranges::range_value_t<Range>>
std::size_t insert_all(connection& db, Range&& objects) {
  transaction tx(db);
  std::size_t count = 0;
  for (const T& obj : objects) {
    detail::with_omit_mask<T>(detail::omitted_defaults(obj), [&](auto omit) {
      auto stmt = detail::lease<detail::insert_sql<T, decltype(omit)::value, false>>(db);
      detail::bind_inserted<T, decltype(omit)::value>(stmt, obj);
      stmt.run();
    });
    ++count;
  }
  tx.commit();
  return count;
}

// Inserts `obj`, or when a row with the same value(s) of the unique key `Keys...` exists,
// updates that row's other fields. Returns the row as stored.
//   cpm::upsert<&user::username>(db, u);
template <auto... Keys, model T>
[[nodiscard("the stored row carries its id")]] T upsert(connection& db, const T& obj) {
  static_assert(sizeof...(Keys) > 0, "cpm: upsert needs the unique key's member pointers: upsert<&T::field>(db, obj)");
  static_assert((detail::check_upsert_key<T, Keys>() && ...));
  return detail::with_omit_mask<T>(detail::omitted_defaults(obj), [&](auto omit) {
    return detail::write_returning<T>(db, [&] {
      auto stmt = detail::lease<detail::upsert_sql<T, decltype(omit)::value, field_index<Keys>...>>(db);
      detail::bind_inserted<T, decltype(omit)::value>(stmt, obj);
      return stmt;
    });
  });
}

// The row with primary key `key`, if any.
//   cpm::get<user>(db, 1.9) does not compile: the key must convert to the key type without narrowing.
template <model T, class K = detail::key_t<T>>
[[nodiscard]] std::optional<T> get(connection& db, const K& key) {
  detail::require_primary_key<T>();
  static_assert(detail::check_key<T, K>());
  auto stmt = detail::lease<detail::select_by_key_sql<T>>(db);
  const auto& bound = detail::key_value<T>(key);
  stmt.bind_ref(1, bound);
  std::optional<T> out;
  if (stmt.step()) detail::read_row(stmt.native(), out.emplace());
  return out;
}

// Writes every field of `obj` to the row with its primary key; false when there is no such row.
// (A defaulted field left empty keeps its stored value; cpm::patch sets one to NULL.)
template <model T>
bool update(connection& db, const T& obj) {
  detail::require_primary_key<T>();
  // With only a key, the statement would be "UPDATE t SET  WHERE ...", which SQLite refuses.
  static_assert(detail::has_field_besides_key<T>,
                "cpm: update needs a field besides the primary key (this model has only its key)");
  using info = model_info<T>;
  auto stmt = detail::lease<detail::update_sql<T>>(db);
  int index = 1;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((I != info::primary_key ? (detail::bind_field<T, I>(stmt, index++, obj), 0) : 0), ...);
  }(std::make_index_sequence<info::size>{});
  stmt.bind_ref(index, boost::pfr::get<info::primary_key>(obj));
  stmt.run();
  return db.changes() > 0;
}

// Deletes the row with primary key `key`; false when there was none.
template <model T, class K = detail::key_t<T>>
bool remove(connection& db, const K& key) {
  detail::require_primary_key<T>();
  static_assert(detail::check_key<T, K>());
  auto stmt = detail::lease<detail::delete_sql<T>>(db);
  const auto& bound = detail::key_value<T>(key);
  stmt.bind_ref(1, bound);
  stmt.run();
  return db.changes() > 0;
}

// Every row, in primary key order.
template <model T>
[[nodiscard]] rows<T> all(connection& db) {
  return rows<T>(detail::lease<detail::select_all_sql<T>>(db));
}

// At most `limit` rows whose key is greater than `after`, in key order: pass the last key
// seen to get the next page (keyset pagination; every page is an index range, however deep).
template <model T, class K = detail::key_t<T>>
[[nodiscard]] rows<T> page(connection& db, const K& after, std::int64_t limit) {
  detail::require_primary_key<T>();
  static_assert(detail::check_key<T, K>());
  auto stmt = detail::lease<detail::select_page_sql<T>>(db);
  stmt.bind_at(1, detail::key_value<T>(after));
  stmt.bind_at(2, limit);
  return rows<T>(std::move(stmt));
}

template <model T>
[[nodiscard]] std::int64_t count(connection& db) {
  auto stmt = detail::lease<detail::count_sql<T>>(db);
  stmt.step();
  return stmt.template column<std::int64_t>(0);
}

}  // namespace cpm
