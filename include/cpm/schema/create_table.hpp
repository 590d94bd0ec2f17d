// cpm: the CREATE TABLE statement of a model, built at compile time.
//
//   static_assert(cpm::create_table_sql<note> ==
//                 R"(CREATE TABLE "note" ("id" INTEGER PRIMARY KEY, "text" TEXT NOT NULL))");
//
// Column types follow the value mapping (cpm/schema/detail/column_types.hpp); a field that is
// not std::optional is NOT NULL. The model's key is its column's PRIMARY KEY: an integer key
// is `INTEGER PRIMARY KEY`, SQLite's rowid (so an id of 0 lets the database choose it), any
// other is `PRIMARY KEY NOT NULL`. The rest is declared in cpm::model_traits<T>, every member
// optional, beside the ones cpm/reflect/model.hpp reads:
//
//   template <> struct cpm::model_traits<repo> {
//     static constexpr std::string_view table = "repos";
//     static constexpr auto defaults = std::tuple{&repo::created_at};  // empty: left to the database
//     // the DEFAULT clause of a column (every field `defaults` lists needs one):
//     static constexpr auto default_values = std::tuple{cpm::sql_default<&repo::created_at>{"CURRENT_TIMESTAMP"}};
//     // UNIQUE on one column, or on several together:
//     static constexpr auto unique = std::tuple{cpm::unique_key<&repo::path>{},
//                                               cpm::unique_key<&repo::org_id, &repo::name>{}};
//     // REFERENCES "orgs" ("id") ON DELETE CASCADE: the other model's table and column
//     static constexpr auto foreign_keys =
//         std::tuple{cpm::foreign_key<&repo::org_id, &org::id>{.on_delete = cpm::fk_action::cascade}};
//   };
//
// The text is a std::string_view constant, for a migration step or connection::exec.
#pragma once

#include <cpm/query/detail/sql_text.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/schema/detail/column_types.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace cpm {

// What a foreign key does when the row it references is deleted or its key changes.
enum class fk_action { no_action, restrict, set_null, set_default, cascade };

// The DEFAULT clause of the column of `Member`, as SQL: "CURRENT_TIMESTAMP", "0", "'member'",
// "(datetime('now'))" (an expression other than a literal needs its parentheses).
template <auto Member>
struct sql_default {
  std::string_view sql{};
};

// UNIQUE on the columns of `Members` (one column: a column constraint; several: a table
// constraint on all of them together).
template <auto... Members>
struct unique_key {};

// `Member` references `Target`, a field of another model (or of the same one): that model's
// primary key or a field it declares unique_key on alone. Written as a column constraint,
// REFERENCES "table" ("column") with the actions that are not no_action.
template <auto Member, auto Target>
struct foreign_key {
  fk_action on_delete = fk_action::no_action;
  fk_action on_update = fk_action::no_action;
};

namespace detail::ddl {

template <class T>
concept has_default_values = requires {
  std::tuple_size<std::remove_cvref_t<decltype(model_traits<T>::default_values)>>::value;
};
template <class T>
concept has_unique = requires { std::tuple_size<std::remove_cvref_t<decltype(model_traits<T>::unique)>>::value; };
template <class T>
concept has_foreign_keys = requires {
  std::tuple_size<std::remove_cvref_t<decltype(model_traits<T>::foreign_keys)>>::value;
};

template <class M>
using class_of = typename member_pointer<M>::class_type;

template <auto Member>
constexpr std::size_t index_in() {
  return model_info<class_of<decltype(Member)>>::template index_of<Member>;
}

// Calls f(item) for each item of the traits tuple (nothing when T declares none).
template <class T, class F>
constexpr void for_each_default(F&& f) {
  if constexpr (has_default_values<T>) std::apply([&](const auto&... item) { (f(item), ...); }, model_traits<T>::default_values);
}
template <class T, class F>
constexpr void for_each_unique(F&& f) {
  if constexpr (has_unique<T>) std::apply([&](const auto&... item) { (f(item), ...); }, model_traits<T>::unique);
}
template <class T, class F>
constexpr void for_each_foreign_key(F&& f) {
  if constexpr (has_foreign_keys<T>) std::apply([&](const auto&... item) { (f(item), ...); }, model_traits<T>::foreign_keys);
}

template <class Item>
inline constexpr bool is_sql_default = false;
template <auto Member>
inline constexpr bool is_sql_default<sql_default<Member>> = true;

template <class Item>
inline constexpr bool is_unique_key = false;
template <auto... Members>
inline constexpr bool is_unique_key<unique_key<Members...>> = true;

template <class Item>
inline constexpr bool is_foreign_key = false;
template <auto Member, auto Target>
inline constexpr bool is_foreign_key<foreign_key<Member, Target>> = true;

template <class T, auto Member>
consteval bool belongs_to() {
  if constexpr (std::is_member_object_pointer_v<decltype(Member)>) {
    return std::is_same_v<class_of<decltype(Member)>, T>;
  } else {
    return false;
  }
}

// The DEFAULT text of field `i`; empty when it has none.
template <class T>
constexpr std::string_view default_of(std::size_t i) {
  std::string_view found{};
  for_each_default<T>([&]<auto Member>(const sql_default<Member>& d) {
    if (index_in<Member>() == i) found = d.sql;
  });
  return found;
}

// True when field `i` alone carries a unique_key.
template <class T>
constexpr bool unique_alone(std::size_t i) {
  bool found = false;
  for_each_unique<T>([&]<auto... Members>(const unique_key<Members...>&) {
    if constexpr (sizeof...(Members) == 1) {
      if (((index_in<Members>() == i) && ...)) found = true;
    }
  });
  return found;
}

constexpr std::string_view action_sql(fk_action a) {
  switch (a) {
    case fk_action::no_action: return "NO ACTION";
    case fk_action::restrict: return "RESTRICT";
    case fk_action::set_null: return "SET NULL";
    case fk_action::set_default: return "SET DEFAULT";
    case fk_action::cascade: return "CASCADE";
  }
  return "";
}

// The checks on model_traits<T>'s schema members, each with its own message.
template <class T>
constexpr bool check_schema_traits() {
  using info = model_info<T>;
  if constexpr (info::has_primary_key) {
    static_assert(!is_optional<typename info::template field_type<(info::has_primary_key ? info::primary_key : 0)>>::value,
                  "cpm: the primary key of a model cannot be std::optional");
  }
  if constexpr (has_default_values<T>) {
    std::apply(
        [](const auto&... item) {
          static_assert((is_sql_default<std::remove_cvref_t<decltype(item)>> && ...),
                        "cpm: model_traits<T>::default_values holds cpm::sql_default<&T::field>{\"SQL\"} items only");
        },
        model_traits<T>::default_values);
    for_each_default<T>([]<auto Member>(const sql_default<Member>&) {
      static_assert(belongs_to<T, Member>(), "cpm: a cpm::sql_default in model_traits<T>::default_values names a field "
                                             "of another model");
    });
  }
  if constexpr (has_unique<T>) {
    std::apply(
        [](const auto&... item) {
          static_assert((is_unique_key<std::remove_cvref_t<decltype(item)>> && ...),
                        "cpm: model_traits<T>::unique holds cpm::unique_key<&T::field, ...>{} items only");
        },
        model_traits<T>::unique);
    for_each_unique<T>([]<auto... Members>(const unique_key<Members...>&) {
      static_assert(sizeof...(Members) > 0, "cpm: a cpm::unique_key names at least one field");
      static_assert((belongs_to<T, Members>() && ...), "cpm: a cpm::unique_key in model_traits<T>::unique names a "
                                                       "field of another model");
    });
  }
  if constexpr (has_foreign_keys<T>) {
    std::apply(
        [](const auto&... item) {
          static_assert((is_foreign_key<std::remove_cvref_t<decltype(item)>> && ...),
                        "cpm: model_traits<T>::foreign_keys holds cpm::foreign_key<&T::field, &Other::key>{...} items "
                        "only");
        },
        model_traits<T>::foreign_keys);
  }
  // Every field the database fills in on insert needs the DEFAULT that fills it.
  for (std::size_t i = 0; i < info::size; ++i)
    if (info::defaulted[i] && default_of<T>(i).empty()) return false;
  return true;
}

// The checks on one foreign key, each with its own message.
template <class T, auto Member, auto Target>
constexpr bool check_foreign_key(const foreign_key<Member, Target>& fk) {
  static_assert(belongs_to<T, Member>(), "cpm: a cpm::foreign_key<Member, Target> in model_traits<T>::foreign_keys "
                                         "must start from a field of T");
  static_assert(std::is_member_object_pointer_v<decltype(Target)>,
                "cpm: the Target of a cpm::foreign_key is a member pointer to the referenced model's field");
  using parent = class_of<decltype(Target)>;
  using parent_info = model_info<parent>;
  constexpr std::size_t target = index_in<Target>();
  static_assert(target == parent_info::primary_key || unique_alone<parent>(target),
                "cpm: a cpm::foreign_key must reference the other model's primary key or a field it declares "
                "cpm::unique_key on alone (SQLite refuses any other parent key)");
  using field = typename model_info<T>::template field_type<index_in<Member>()>;
  using target_field = typename parent_info::template field_type<target>;
  static_assert(column_type_of<unwrap_optional_t<field>>().name == column_type_of<unwrap_optional_t<target_field>>().name,
                "cpm: a cpm::foreign_key joins fields whose SQL column types differ");
  if (fk.on_delete == fk_action::set_null || fk.on_update == fk_action::set_null) {
    if (!is_optional<field>::value) return false;  // "ON ... SET NULL needs a std::optional field"
  }
  if (fk.on_delete == fk_action::set_default || fk.on_update == fk_action::set_default) {
    if (default_of<T>(index_in<Member>()).empty()) return false;  // "SET DEFAULT needs a default"
  }
  return true;
}

template <class T>
constexpr bool check_foreign_keys() {
  bool ok = true;
  for_each_foreign_key<T>([&]<auto Member, auto Target>(const foreign_key<Member, Target>& fk) {
    ok = ok && check_foreign_key<T>(fk);
  });
  return ok;
}

template <class T, class Out>
constexpr void references(Out& out, std::size_t i) {
  for_each_foreign_key<T>([&]<auto Member, auto Target>(const foreign_key<Member, Target>& fk) {
    if (index_in<Member>() != i) return;
    using parent_info = model_info<class_of<decltype(Target)>>;
    out << " REFERENCES ";
    identifier(out, parent_info::table);
    out << " (";
    identifier(out, parent_info::columns[index_in<Target>()]);
    out << ")";
    if (fk.on_delete != fk_action::no_action) out << " ON DELETE " << action_sql(fk.on_delete);
    if (fk.on_update != fk_action::no_action) out << " ON UPDATE " << action_sql(fk.on_update);
  });
}

// (On PostgreSQL: the types cpm::pg binds, and an integer key an identity column.)
template <class T, dialect Lang, class Out>
constexpr void create_table(Out& out) {
  using info = model_info<T>;
  constexpr auto& nullable = field_nullable<T>;
  out << "CREATE TABLE ";
  identifier(out, info::table);
  out << " (";
  for (std::size_t i = 0; i < info::size; ++i) {
    if (i) out << ", ";
    identifier(out, info::columns[i]);
    if constexpr (Lang == dialect::postgres) {
      out << " " << field_pg_column_types<T>[i];
    } else {
      out << " " << field_column_types<T>[i].name;
    }
    if (i == info::primary_key) {
      if (Lang == dialect::postgres && info::rowid_key) {
        out << " GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
      } else {
        out << (info::rowid_key ? " PRIMARY KEY" : " PRIMARY KEY NOT NULL");
      }
    } else {
      if (!nullable[i]) out << " NOT NULL";
      if (unique_alone<T>(i)) out << " UNIQUE";
    }
    if (std::string_view d = default_of<T>(i); !d.empty()) out << " DEFAULT " << d;
    references<T>(out, i);
  }
  for_each_unique<T>([&]<auto... Members>(const unique_key<Members...>&) {
    if constexpr (sizeof...(Members) > 1) {
      out << ", UNIQUE (";
      bool first = true;
      ((out << (first ? "" : ", "), identifier(out, info::columns[index_in<Members>()]), first = false), ...);
      out << ")";
    }
  });
  out << ")";
}

template <class T>
consteval bool check_create_table() {
  static_assert(check_schema_traits<T>(),
                "cpm: every field model_traits<T>::defaults lists needs the DEFAULT that fills it in "
                "model_traits<T>::default_values: cpm::sql_default<&T::field>{\"CURRENT_TIMESTAMP\"}");
  static_assert(check_foreign_keys<T>(),
                "cpm: a cpm::foreign_key with ON DELETE/UPDATE SET NULL needs a std::optional field, and one with "
                "SET DEFAULT a cpm::sql_default for its field");
  return true;
}

template <class T, dialect Lang = dialect::sqlite>
inline constexpr auto create_table_text = make_sql<Lang>([](auto& out) {
  static_assert(check_create_table<T>());
  create_table<T, Lang>(out);
});

}  // namespace detail::ddl

// The CREATE TABLE statement of model T (see the top of this file).
template <model T>
inline constexpr std::string_view create_table_sql = detail::ddl::create_table_text<T>.view();

}  // namespace cpm
