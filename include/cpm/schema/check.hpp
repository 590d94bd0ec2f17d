// cpm: does the database still match the models?
//
//   cpm::check_schema<user, organization, repository>(db);  // throws cpm::schema_mismatch
//   auto found = cpm::schema_differences<user, organization>(db);  // the same list, not thrown
//
// Each model's table is read with PRAGMA table_xinfo and compared with the model, and every
// difference found, in every table, is reported at once:
//   missing_table      the model's table does not exist
//   missing_column     a field has no column
//   extra_column       a column no field maps is NOT NULL and has no DEFAULT: inserts would fail
//   affinity_mismatch  the column's declared type has an affinity the field's values do not
//                      keep (SQLite's affinity rules; see below)
//   nullable_column    a field that is not std::optional maps a column that allows NULL
//   not_null_column    a std::optional field maps a NOT NULL column (unless the field is one of
//                      model_traits<T>::defaults and the column has a DEFAULT: then an empty
//                      field is left to the database)
//   primary_key        the model's key is not the table's primary key, or an integer key is
//                      not INTEGER PRIMARY KEY (the rowid alias that turns an id of 0 into a new id)
//   missing_default    a field model_traits<T>::defaults lists maps a column without a DEFAULT
//
// Affinity compatibility: a column is compatible when SQLite keeps what the mapping binds and
// gives back what it reads. Integers (and bool, and enums stored as integers) accept INTEGER
// and NUMERIC columns (BOOLEAN is NUMERIC); reals REAL and NUMERIC; text and named enums only
// TEXT; blobs only BLOB; time points TEXT and NUMERIC (DATETIME, DATE, TIMESTAMP: cpm's
// timestamp text never looks like a number, so NUMERIC keeps it as text). A column declared
// with no type at all keeps every value as it was bound, and is compatible with any field.
// Names are compared as SQLite compares them: ignoring ASCII case.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/schema/detail/column_types.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>

#include <fmt/core.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpm {

// One way a table differs from its model.
struct schema_difference {
  enum class kind {
    missing_table,
    missing_column,
    extra_column,
    affinity_mismatch,
    nullable_column,
    not_null_column,
    primary_key,
    missing_default,
  };

  kind what = kind::missing_table;
  std::string model{};     // the model type's name ("user")
  std::string table{};     // the table's name
  std::string column{};    // the column's name; empty for missing_table
  std::string field{};     // the field's name; empty for missing_table and extra_column
  std::string expected{};  // affinity_mismatch: the field's SQL type ("INTEGER")
  std::string actual{};    // affinity_mismatch: the column's declared type ("TEXT")

  // One line saying what differs, naming the table and column.
  [[nodiscard]] std::string message() const {
    const std::string where = detail::message("table \"{}\", column \"{}\"", table, column);
    const std::string which = detail::message("field {}::{}", model, field);
    switch (what) {
      case kind::missing_table:
        return detail::message("table \"{}\" does not exist (model {})", table, model);
      case kind::missing_column:
        return detail::message("{}: no such column ({})", where, which);
      case kind::extra_column:
        return detail::message("{}: NOT NULL without a DEFAULT, and model {} has no field for it: its inserts would fail",
                               where, model);
      case kind::affinity_mismatch:
        return detail::message("{}: declared {} ({} affinity), but {} is stored as {}", where,
                               actual.empty() ? std::string("without a type") : "'" + actual + "'",
                               detail::ddl::affinity_name(detail::ddl::affinity_of(actual)), which, expected);
      case kind::nullable_column:
        return detail::message("{}: allows NULL, but {} is not std::optional (reading a NULL would throw)", where, which);
      case kind::not_null_column:
        return detail::message("{}: NOT NULL, but {} is std::optional (an empty one cannot be stored)", where, which);
      case kind::primary_key:
        return detail::message("{}: {} is the model's key, but {}", where, which, actual);
      case kind::missing_default:
        return detail::message("{}: no DEFAULT, but {} is one the database fills in (model_traits defaults)", where,
                               which);
    }
    return where;
  }
};

// The database's tables differ from the models: every difference, in every table checked.
class schema_mismatch : public error {
 public:
  explicit schema_mismatch(std::vector<schema_difference> differences)
      : error(describe(differences)), differences_(std::move(differences)) {}

  [[nodiscard]] const std::vector<schema_difference>& differences() const noexcept { return differences_; }

 private:
  static std::string describe(const std::vector<schema_difference>& differences) {
    std::string text = detail::message("cpm: the database does not match the models ({} difference{}):",
                                       differences.size(), differences.size() == 1 ? "" : "s");
    for (const auto& d : differences) {
      text += "\n  - ";
      text += d.message();
    }
    return text;
  }

  std::vector<schema_difference> differences_;
};

namespace detail::ddl {

// A column as PRAGMA table_xinfo describes it.
struct table_column {
  std::string name;
  std::string type;
  bool not_null = false;
  bool has_default = false;
  int pk = 0;      // its position in the primary key, from 1; 0: not part of it
  int hidden = 0;  // 0 ordinary, 1 hidden (virtual tables), 2 and 3 generated
};

struct table_shape {
  std::vector<table_column> columns;
  bool has_pk_index = false;  // an index made for the primary key: WITHOUT ROWID, or no rowid alias

  // The column that is the rowid: the one primary key column, declared INTEGER, with no index
  // of its own (a WITHOUT ROWID table has one, and so does INTEGER PRIMARY KEY DESC).
  [[nodiscard]] const table_column* rowid_alias() const {
    const table_column* key = nullptr;
    for (const auto& c : columns) {
      if (c.pk == 0) continue;
      if (key) return nullptr;
      key = &c;
    }
    if (!key || has_pk_index || !equal_nocase(key->type, "INTEGER")) return nullptr;
    return key;
  }
  [[nodiscard]] std::size_t key_columns() const {
    std::size_t n = 0;
    for (const auto& c : columns) n += c.pk != 0 ? 1 : 0;
    return n;
  }
};

inline table_shape read_table(statement& columns, statement& indexes, std::string_view table) {
  table_shape shape;
  columns.bind(table);
  while (columns.step()) {
    table_column c;
    c.name = columns.column<std::string>(0);
    c.type = columns.column<std::optional<std::string>>(1).value_or("");
    c.not_null = columns.column<int>(2) != 0;
    c.has_default = columns.column<int>(3) != 0;
    c.pk = columns.column<int>(4);
    c.hidden = columns.column<int>(5);
    shape.columns.push_back(std::move(c));
  }
  columns.reset();
  indexes.bind(table);
  shape.has_pk_index = indexes.step() && indexes.column<int>(0) != 0;
  indexes.reset();
  return shape;
}

template <class T>
void compare_table(const table_shape& shape, std::vector<schema_difference>& out) {
  using info = model_info<T>;
  constexpr auto& types = field_column_types<T>;
  constexpr auto& nullable = field_nullable<T>;
  auto difference = [&](schema_difference::kind k, std::string_view column, std::string_view field) {
    schema_difference d;
    d.what = k;
    d.model = std::string(type_name<T>);
    d.table = std::string(info::table);
    d.column = std::string(column);
    d.field = std::string(field);
    return d;
  };
  if (shape.columns.empty()) {
    out.push_back(difference(schema_difference::kind::missing_table, {}, {}));
    return;
  }
  static constexpr auto field_names =
      []<std::size_t... I>(std::index_sequence<I...>) { return std::array<std::string_view, sizeof...(I)>{field_name<T, I>...}; }(
          std::make_index_sequence<info::size>{});
  const table_column* rowid = shape.rowid_alias();
  std::vector<bool> mapped(shape.columns.size(), false);
  for (std::size_t i = 0; i < info::size; ++i) {
    const std::string_view name = info::columns[i];
    std::size_t at = 0;
    while (at < shape.columns.size() && !equal_nocase(shape.columns[at].name, name)) ++at;
    if (at == shape.columns.size()) {
      out.push_back(difference(schema_difference::kind::missing_column, name, field_names[i]));
      continue;
    }
    mapped[at] = true;
    const table_column& column = shape.columns[at];
    const bool is_rowid = &column == rowid;
    // A column declared without a type keeps every value as it was bound.
    if (!column.type.empty() && (types[i].accepts & affinity_of(column.type)) == 0) {
      auto d = difference(schema_difference::kind::affinity_mismatch, column.name, field_names[i]);
      d.expected = std::string(types[i].name);
      d.actual = column.type;
      out.push_back(std::move(d));
    }
    const bool not_null = column.not_null || is_rowid;  // the rowid is never NULL
    if (!nullable[i] && !not_null) {
      out.push_back(difference(schema_difference::kind::nullable_column, column.name, field_names[i]));
    } else if (nullable[i] && not_null && !(info::defaulted[i] && column.has_default)) {
      out.push_back(difference(schema_difference::kind::not_null_column, column.name, field_names[i]));
    }
    if (info::defaulted[i] && !column.has_default)
      out.push_back(difference(schema_difference::kind::missing_default, column.name, field_names[i]));
    if (i == info::primary_key) {
      std::string problem;
      if (column.pk == 0 || shape.key_columns() != 1) {
        problem = "the column is not the table's primary key";
      } else if (info::rowid_key && !is_rowid) {
        problem = "the column is not INTEGER PRIMARY KEY (the rowid): an integer key of 0 is inserted as NULL for "
                  "the database to choose";
      }
      if (!problem.empty()) {
        auto d = difference(schema_difference::kind::primary_key, column.name, field_names[i]);
        d.actual = std::move(problem);
        out.push_back(std::move(d));
      }
    }
  }
  for (std::size_t at = 0; at < shape.columns.size(); ++at) {
    const table_column& column = shape.columns[at];
    if (mapped[at] || column.hidden != 0 || &column == rowid) continue;
    if (column.not_null && !column.has_default)
      out.push_back(difference(schema_difference::kind::extra_column, column.name, {}));
  }
}

}  // namespace detail::ddl

// Every difference between the models and their tables in `db`, in the order of the models
// and then of their fields; empty when they match.
template <model... Models>
[[nodiscard]] std::vector<schema_difference> schema_differences(connection& db) {
  std::vector<schema_difference> found;
  auto columns = db.prepare(R"(SELECT name, type, "notnull", dflt_value IS NOT NULL, pk, hidden )"
                            R"(FROM pragma_table_xinfo(?1))");
  auto indexes = db.prepare("SELECT count(*) FROM pragma_index_list(?1) WHERE origin = 'pk'");
  (detail::ddl::compare_table<Models>(detail::ddl::read_table(columns, indexes, model_info<Models>::table), found),
   ...);
  return found;
}

// Throws cpm::schema_mismatch listing every difference between the models and their tables.
template <model... Models>
void check_schema(connection& db) {
  auto found = schema_differences<Models...>(db);
  if (!found.empty()) throw schema_mismatch(std::move(found));
}

}  // namespace cpm
