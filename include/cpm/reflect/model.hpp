// cpm: what cpm knows about a model, a plain aggregate struct mapped to one table.
//
// Defaults, with nothing to write:
//   - the table is named after the type ("user" for struct user);
//   - each field is a column named after the field;
//   - a field named `id` of integer type is the primary key, an alias of SQLite's rowid: on
//     insert, an id of 0 lets the database choose it.
//
// Overrides, without touching the struct (all members optional):
//   template <> struct cpm::model_traits<user> {
//     static constexpr std::string_view table = "users";
//     static constexpr std::array<std::string_view, 5> columns{"id", "login", ...};  // every field, in order
//     static constexpr auto primary_key = &user::id;
//     static constexpr auto defaults = std::tuple{&user::created_at};  // std::optional fields the
//         // database fills in (a DEFAULT clause) when they are left empty on insert
//     static constexpr auto none_as_empty = std::tuple{&user::public_key};  // std::optional<std::string>
//         // fields whose "none" is stored as '' (and '' read back as none), for tables other
//         // programs read with a plain string type
//   };
// or, inside the struct (PFR does not count static members):
//   static constexpr std::string_view cpm_table = "users";
#pragma once

#include <cpm/reflect/detail/names.hpp>
#include <cpm/sqlite/value.hpp>

#include <boost/pfr/core.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace cpm {

template <class T>
struct model_traits {};

namespace detail {

template <class T>
inline constexpr bool always_false = false;

template <class M>
struct member_pointer;
template <class C, class F>
struct member_pointer<F C::*> {
  using class_type = C;
  using field_type = F;
};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// Paren-initialisation of aggregates never elides braces, so it tells a C array member (which
// PFR counts element by element) from plain fields. g++ 12 has it; clang++ 14 does not, and
// there Boost.PFR's own check reports the array.
struct any_field {
  std::size_t index;
  template <class U>
  operator U&() const&& noexcept;  // never defined: only named in a requires-expression
};
template <class T, std::size_t... I>
constexpr bool paren_initializable(std::index_sequence<I...>) {
#if defined(__cpp_aggregate_paren_init) && __cpp_aggregate_paren_init >= 201902L
  return requires { T(any_field{I}...); };
#else
  return true;
#endif
}

// Converts only to a base class of T. Bases come first in aggregate initialisation, so
// T{base_probe<T>{}} compiles exactly when T has one (no field type of a model is a base of it).
// Boost.PFR would stop at a base with an error of its own; this check runs before PFR is asked.
template <class T>
struct base_probe {
  template <class U>
    requires(std::is_base_of_v<U, T> && !std::is_same_v<U, T>)
  operator U&() const&& noexcept;  // never defined: only named in a requires-expression
};
template <class T>
constexpr bool has_base_class() {
  return requires { T{base_probe<T>{}}; };
}

// How a diagnostic names field I of T. Both compilers print a failed check's template
// arguments, so the checks below take the model, this and the field type as theirs:
//   g++ 12:     In instantiation of 'consteval bool cpm::detail::check_model_field() [with Model = tagged;
//               auto Field = fixed_string<4>{"tags"}; FieldType = std::vector<int>]'
//   clang++ 14: static_assert failed due to requirement 'field_has_value_mapping<tagged,
//               cpm::detail::member_address<std::vector<int>>{&fake_object.value.tags}, std::vector<int>>'
// (clang++ prints a fixed_string as character codes, g++ a member address as a long path.)
template <class T, std::size_t I>
inline constexpr auto field_in_diagnostic =
#if defined(__clang__)
    member_address<pfr_field_t<T, I>>{&boost::pfr::get<I>(fake_object<T>.value)};
#else
    field_name_storage<T, I>;
#endif

// The declared type of field I, const included (pfr_field_t drops it).
template <class T, std::size_t I>
using declared_field_t = std::remove_reference_t<decltype(boost::pfr::get<I>(std::declval<T&>()))>;

template <class Model, auto Field, class FieldType>
inline constexpr bool field_is_not_const = !std::is_const_v<FieldType>;
template <class Model, auto Field, class FieldType>
inline constexpr bool field_has_value_mapping = mapped_value<FieldType>;

template <class Model, auto Field, class FieldType>
consteval bool check_model_field() {
  if constexpr (!field_is_not_const<Model, Field, FieldType>) {
    static_assert(field_is_not_const<Model, Field, FieldType>,
                  "cpm: a model field cannot be const (it is read into); drop the const "
                  "(the model, the field and its type are the template arguments named here)");
    return false;
  } else {
    static_assert(field_has_value_mapping<Model, Field, FieldType>,
                  "cpm: a field of this model has a type with no cpm::value_traits mapping "
                  "(the model, the field and its type are the template arguments named here)");
    return mapped_value<FieldType>;
  }
}

// The same checks for the row type of a hand-written query (cpm::query<Row>).
template <class Row, auto Field, class FieldType>
consteval bool check_query_row_field() {
  if constexpr (!field_is_not_const<Row, Field, FieldType>) {
    static_assert(field_is_not_const<Row, Field, FieldType>,
                  "cpm: a field of a query row type cannot be const (it is read into); drop the const "
                  "(the row type, the field and its type are the template arguments named here)");
    return false;
  } else {
    static_assert(field_has_value_mapping<Row, Field, FieldType>,
                  "cpm: a field of this query row type has a type with no cpm::value_traits mapping "
                  "(the row type, the field and its type are the template arguments named here)");
    return mapped_value<FieldType>;
  }
}

template <class T, bool QueryRow, std::size_t I>
consteval bool check_field() {
  if constexpr (QueryRow) {
    return check_query_row_field<T, field_in_diagnostic<T, I>, declared_field_t<T, I>>();
  } else {
    return check_model_field<T, field_in_diagnostic<T, I>, declared_field_t<T, I>>();
  }
}

template <class T, bool QueryRow, std::size_t... I>
consteval bool check_fields(std::index_sequence<I...>) {
  return (check_field<T, QueryRow, I>() && ...);
}

// Boost.PFR cannot reflect bit-fields: it binds a reference to every field, and a reference
// cannot bind to a bit-field (its own error comes from deep inside its tie_as_tuple). Its field
// count works, and so does its const access, where a bit-field binds a const reference to a
// temporary copy of its value. Made from the never-active member of fake_object, that copy
// reads an object that does not exist, so the access is not a constant expression exactly when
// T has a bit-field (any field: PFR binds them all at once). Ordinary fields are only bound,
// never read, as the field names are found.
template <class T>
consteval bool bind_fields_without_reading() {
  (void)boost::pfr::get<0>(fake_object<T>.value);
  return true;
}
template <class T>
concept without_bit_fields = requires { typename std::bool_constant<bind_fields_without_reading<T>()>; };

template <class Model>
inline constexpr bool model_has_no_bit_fields = without_bit_fields<Model>;

// Each check stops the next one from running, so the first error is the one that matters.
// QueryRow: T is the row type of a hand-written query rather than a model.
template <class T, bool QueryRow = false>
consteval bool check_model() {
  if constexpr (!std::is_class_v<T> || !std::is_aggregate_v<T>) {
    static_assert(always_false<T>,
                  "cpm: a model must be an aggregate struct: no user-declared constructors, no virtual "
                  "functions, no private fields, no base classes");
    return false;
  } else if constexpr (has_base_class<T>()) {
    static_assert(always_false<T>, "cpm: a model cannot have base classes; declare every field in the model itself");
    return false;
  } else if constexpr (std::is_polymorphic_v<T> || !std::is_default_constructible_v<T>) {
    static_assert(always_false<T>,
                  "cpm: a model must be default-constructible: no reference members and no const members "
                  "without an initializer");
    return false;
  } else if constexpr (!paren_initializable<T>(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{})) {
    static_assert(always_false<T>, "cpm: a model cannot have C array fields; use std::array<T, N> with a "
                                   "cpm::value_traits mapping, std::string or std::vector<std::byte>");
    return false;
  } else if constexpr (boost::pfr::tuple_size_v<T> == 0) {
    static_assert(always_false<T>, "cpm: a model needs at least one field");
    return false;
  } else if constexpr (!without_bit_fields<T>) {
    static_assert(model_has_no_bit_fields<T>,
                  "cpm: a model cannot have bit-fields (Boost.PFR cannot reflect them); declare the field "
                  "as a plain integer, bool or enum");
    return false;
  } else {
    return check_fields<T, QueryRow>(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
  }
}

// The row type of a hand-written query: a single mapped value, or an aggregate read by
// position, which the same checks as a model's apply to.
template <class Row>
consteval bool check_query_row() {
  if constexpr (mapped_value<Row>) {
    return true;
  } else {
    return check_model<Row, true>();
  }
}

template <class T>
concept has_traits_table = requires {
  { model_traits<T>::table } -> std::convertible_to<std::string_view>;
};
template <class T>
concept has_member_table = requires {
  { T::cpm_table } -> std::convertible_to<std::string_view>;
};
template <class T>
concept has_traits_columns = requires { model_traits<T>::columns.size(); };
template <class T>
concept has_traits_primary_key = requires { model_traits<T>::primary_key; };
template <class T>
concept has_traits_defaults = requires { std::tuple_size<std::remove_cvref_t<decltype(model_traits<T>::defaults)>>::value; };

template <class T>
concept has_traits_none_as_empty =
    requires { std::tuple_size<std::remove_cvref_t<decltype(model_traits<T>::none_as_empty)>>::value; };

template <class T, std::size_t... I>
consteval auto field_names(std::index_sequence<I...>) {
  return std::array<std::string_view, sizeof...(I)>{field_name<T, I>...};
}

// The index of the field `member` points to, found by comparing addresses in the fake object.
template <auto Member, std::size_t... I>
consteval std::size_t index_of_member(std::index_sequence<I...>) {
  using T = typename member_pointer<decltype(Member)>::class_type;
  std::size_t index = sizeof...(I);
  // (void): the fold is run for its assignment; clang warns on the unused result otherwise.
  (void)((static_cast<const void*>(&(fake_object<T>.value.*Member)) ==
            static_cast<const void*>(&boost::pfr::get<I>(fake_object<T>.value))
        ? (index = I, true)
        : false) ||
   ...);
  return index;
}

// As index_of_member, for a member pointer held in a (constexpr) variable.
template <class T, class M>
constexpr std::size_t index_of_member_value(M member) {
  static_assert(is_optional<typename member_pointer<M>::field_type>::value,
                "cpm: model_traits<T>::defaults may only list std::optional fields");
  std::size_t found = boost::pfr::tuple_size_v<T>;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (void)((static_cast<const void*>(&(fake_object<T>.value.*member)) ==
              static_cast<const void*>(&boost::pfr::get<I>(fake_object<T>.value))
          ? (found = I, true)
          : false) ||
     ...);
  }(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
  return found;
}

}  // namespace detail

// A type cpm can map to a table: an aggregate whose every field has a value mapping. The
// concept only asks for a class type: model_info's static_asserts then say what is wrong with
// one that cannot be mapped, where a stricter concept would only say "no matching function".
template <class T>
concept model = std::is_class_v<T>;

// Everything cpm derives from a model type, computed once at compile time.
template <class T>
struct model_info {
  // Runs the checks when the model is first used; their own static_asserts say what is wrong,
  // so a refused model adds no second error here.
  static_assert(detail::check_model<T>() || true);

  // 0 for a type check_model refused, so that its message is not buried under PFR's.
  static constexpr std::size_t size = [] {
    if constexpr (detail::check_model<T>()) {
      return boost::pfr::tuple_size_v<T>;
    } else {
      return std::size_t{0};
    }
  }();

  template <std::size_t I>
  using field_type = detail::pfr_field_t<T, I>;

  static constexpr std::string_view table = [] {
    if constexpr (detail::has_traits_table<T>) {
      return std::string_view(model_traits<T>::table);
    } else if constexpr (detail::has_member_table<T>) {
      return std::string_view(T::cpm_table);
    } else {
      return detail::type_name<T>;
    }
  }();

  static constexpr std::array<std::string_view, size> columns = [] {
    if constexpr (detail::has_traits_columns<T>) {
      static_assert(model_traits<T>::columns.size() == size,
                    "cpm: model_traits<T>::columns must name every field of the model, in order");
      std::array<std::string_view, size> names{};
      for (std::size_t i = 0; i < size; ++i) names[i] = model_traits<T>::columns[i];
      return names;
    } else {
      return detail::field_names<T>(std::make_index_sequence<size>{});
    }
  }();

  // The index of the field a member pointer of T points to.
  template <auto Member>
  static constexpr std::size_t index_of = [] {
    static_assert(std::is_same_v<typename detail::member_pointer<decltype(Member)>::class_type, T>,
                  "cpm: the member pointer belongs to another model");
    return detail::index_of_member<Member>(std::make_index_sequence<size>{});
  }();

  // The primary key's field index; `size` when the model has none.
  static constexpr std::size_t primary_key = [] {
    if constexpr (detail::has_traits_primary_key<T>) {
      return index_of<model_traits<T>::primary_key>;
    } else {
      for (std::size_t i = 0; i < size; ++i)
        if (detail::field_names<T>(std::make_index_sequence<size>{})[i] == "id") return i;
      return size;
    }
  }();

  static constexpr bool has_primary_key = primary_key < size;

  // True when the primary key is an integer: SQLite's rowid, chosen by the database when 0.
  static constexpr bool rowid_key = [] {
    if constexpr (has_primary_key) {
      using key = field_type<(has_primary_key ? primary_key : 0)>;
      return std::is_integral_v<key> && !std::is_same_v<key, bool>;
    } else {
      return false;
    }
  }();

  // Which fields the database fills in on insert when they are left empty.
  static constexpr std::array<bool, size> defaulted = [] {
    std::array<bool, size> flags{};
    if constexpr (detail::has_traits_defaults<T>) {
      std::apply([&](auto... member) { ((flags[detail::index_of_member_value<T>(member)] = true), ...); },
                 model_traits<T>::defaults);
    }
    return flags;
  }();

  static constexpr std::size_t defaulted_count = [] {
    std::size_t n = 0;
    for (bool d : defaulted) n += d ? 1 : 0;
    return n;
  }();

  // Which std::optional<std::string> fields store "none" as '' and read '' back as none.
  static constexpr std::array<bool, size> empty_is_none = [] {
    std::array<bool, size> flags{};
    if constexpr (detail::has_traits_none_as_empty<T>) {
      std::apply(
          [&](auto... member) {
            static_assert((std::is_same_v<typename detail::member_pointer<decltype(member)>::field_type,
                                          std::optional<std::string>> && ...),
                          "cpm: model_traits<T>::none_as_empty may only list std::optional<std::string> fields");
            ((flags[detail::index_of_member_value<T>(member)] = true), ...);
          },
          model_traits<T>::none_as_empty);
    }
    return flags;
  }();

};

// The index of the field `Member` (a pointer to a data member of a model) refers to.
template <auto Member>
inline constexpr std::size_t field_index =
    model_info<typename detail::member_pointer<decltype(Member)>::class_type>::template index_of<Member>;

}  // namespace cpm
