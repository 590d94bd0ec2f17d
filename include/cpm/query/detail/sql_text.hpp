// cpm: the SQL text generated for a model, built at compile time.
//
// Every piece of dialect lives here: identifier quoting, placeholders, RETURNING, upsert.
// A builder writes to an output that knows its dialect (out.lang): SQLite's text, or
// PostgreSQL's, whose placeholders are numbered ($1, $2, ...) in the order they are written.
#pragma once

#include <cpm/detail/fixed_string.hpp>
#include <cpm/reflect/model.hpp>

#include <array>
#include <cstddef>
#include <string_view>

namespace cpm::detail {

enum class dialect : unsigned char { sqlite, postgres };

// Two passes over the same builder: one counts, one writes. `params` counts the placeholders
// written so far (PostgreSQL numbers them).
struct sql_length {
  std::size_t size = 0;
  dialect lang = dialect::sqlite;
  unsigned params = 0;
  constexpr sql_length& operator<<(std::string_view text) {
    size += text.size();
    return *this;
  }
};

struct sql_writer {
  char* out;
  dialect lang = dialect::sqlite;
  unsigned params = 0;
  constexpr sql_writer& operator<<(std::string_view text) {
    for (char c : text) *out++ = c;
    return *this;
  }
};

// Runs `Build` (a captureless lambda taking the output) into a fixed_string of exact size.
template <dialect Lang = dialect::sqlite, class Build>
consteval auto make_sql(Build) {
  constexpr std::size_t size = [] {
    sql_length length{0, Lang};
    Build{}(length);
    return length.size;
  }();
  fixed_string<size> text;
  sql_writer writer{text.data, Lang};
  Build{}(writer);
  return text;
}

template <class Out>
constexpr bool is_postgres(const Out& out) {
  return out.lang == dialect::postgres;
}

// "name", with embedded quotes doubled.
template <class Out>
constexpr void identifier(Out& out, std::string_view name) {
  out << "\"";
  std::size_t start = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '"') {
      out << name.substr(start, i + 1 - start) << "\"";
      start = i + 1;
    }
  }
  out << name.substr(start) << "\"";
}

// ? on SQLite; $1, $2, ... on PostgreSQL.
template <class Out>
constexpr void placeholder(Out& out) {
  if (!is_postgres(out)) {
    out << "?";
    return;
  }
  char digits[12]{};
  std::size_t k = sizeof digits;
  unsigned n = ++out.params;
  do {
    digits[--k] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out << "$" << std::string_view(digits + k, sizeof digits - k);
}

// "a", "b", "c" — every column of T.
template <class T, class Out>
constexpr void column_list(Out& out) {
  using info = model_info<T>;
  for (std::size_t i = 0; i < info::size; ++i) {
    if (i) out << ", ";
    identifier(out, info::columns[i]);
  }
}

// alias."a", alias."b", ... — every column of T, qualified by a table alias.
template <class T, class Out>
constexpr void qualified_column_list(Out& out, std::string_view alias) {
  using info = model_info<T>;
  for (std::size_t i = 0; i < info::size; ++i) {
    if (i) out << ", ";
    out << alias << ".";
    identifier(out, info::columns[i]);
  }
}

template <class T, class Out>
constexpr void select_from(Out& out) {
  out << "SELECT ";
  column_list<T>(out);
  out << " FROM ";
  identifier(out, model_info<T>::table);
}

template <class T, class Out>
constexpr void order_by_key(Out& out) {
  if constexpr (model_info<T>::has_primary_key) {
    out << " ORDER BY ";
    identifier(out, model_info<T>::columns[model_info<T>::primary_key]);
  }
}

template <class T, class Out>
constexpr void returning(Out& out) {
  out << " RETURNING ";
  column_list<T>(out);
}

// True when field `i` is written by an insert whose omitted defaulted fields are `omit`
// (bit k set: the k-th defaulted field is left to the database).
template <class T>
constexpr bool inserted(std::size_t i, unsigned omit) {
  using info = model_info<T>;
  unsigned bit = 0;
  for (std::size_t j = 0; j < info::size; ++j) {
    if (!info::defaulted[j]) continue;
    if (j == i) return (omit & (1u << bit)) == 0;
    ++bit;
  }
  return true;
}

// (`key` false: the primary key is left out too, for the database to choose; PostgreSQL's
// identity columns take no NULL, where SQLite's INTEGER PRIMARY KEY does.)
template <class T, unsigned Omit, class Out>
constexpr void insert_into(Out& out, bool key = true) {
  using info = model_info<T>;
  auto written = [&](std::size_t i) { return inserted<T>(i, Omit) && (key || i != info::primary_key); };
  out << "INSERT INTO ";
  identifier(out, info::table);
  out << " (";
  bool first = true;
  for (std::size_t i = 0; i < info::size; ++i) {
    if (!written(i)) continue;
    if (!first) out << ", ";
    identifier(out, info::columns[i]);
    first = false;
  }
  out << ") VALUES (";
  first = true;
  for (std::size_t i = 0; i < info::size; ++i) {
    if (!written(i)) continue;
    if (!first) out << ", ";
    placeholder(out);
    first = false;
  }
  out << ")";
}

// INSERT ... RETURNING every column (Returning) or nothing.
template <class T, unsigned Omit, bool Returning>
inline constexpr auto insert_sql = make_sql([](auto& out) {
  insert_into<T, Omit>(out);
  if constexpr (Returning) returning<T>(out);
});

// ON CONFLICT (keys) DO UPDATE SET every other inserted column ... RETURNING *, after an INSERT.
template <class T, unsigned Omit, std::size_t... Keys, class Out>
constexpr void on_conflict_update(Out& out) {
  using info = model_info<T>;
  out << " ON CONFLICT (";
  std::array<std::size_t, sizeof...(Keys)> keys{Keys...};
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (k) out << ", ";
    identifier(out, info::columns[keys[k]]);
  }
  out << ") DO UPDATE SET ";
  bool first = true;
  for (std::size_t i = 0; i < info::size; ++i) {
    bool is_key = false;
    for (std::size_t k : keys) is_key = is_key || k == i;
    if (is_key || i == info::primary_key || !inserted<T>(i, Omit)) continue;
    if (!first) out << ", ";
    identifier(out, info::columns[i]);
    out << " = excluded.";
    identifier(out, info::columns[i]);
    first = false;
  }
  if (first) {  // nothing else to set: a no-op update still returns the stored row
    identifier(out, info::columns[keys[0]]);
    out << " = excluded.";
    identifier(out, info::columns[keys[0]]);
  }
  returning<T>(out);
}

// INSERT ... ON CONFLICT (keys) DO UPDATE SET every other inserted column ... RETURNING *.
template <class T, unsigned Omit, std::size_t... Keys>
inline constexpr auto upsert_sql = make_sql([](auto& out) {
  insert_into<T, Omit>(out);
  on_conflict_update<T, Omit, Keys...>(out);
});

template <class T, class Out>
constexpr void write_select_all(Out& out) {
  select_from<T>(out);
  order_by_key<T>(out);
}

template <class T>
inline constexpr auto select_all_sql = make_sql([](auto& out) { write_select_all<T>(out); });

template <class T, class Out>
constexpr void write_select_by_key(Out& out) {
  select_from<T>(out);
  out << " WHERE ";
  identifier(out, model_info<T>::columns[model_info<T>::primary_key]);
  out << " = ";
  placeholder(out);
}

template <class T>
inline constexpr auto select_by_key_sql = make_sql([](auto& out) { write_select_by_key<T>(out); });

// Keyset pagination: rows after a key, in key order, at most a limit.
template <class T, class Out>
constexpr void write_select_page(Out& out) {
  select_from<T>(out);
  out << " WHERE ";
  identifier(out, model_info<T>::columns[model_info<T>::primary_key]);
  out << " > ";
  placeholder(out);
  order_by_key<T>(out);
  out << " LIMIT ";
  placeholder(out);
}

template <class T>
inline constexpr auto select_page_sql = make_sql([](auto& out) { write_select_page<T>(out); });

// Equality on one column (IS for optional fields, so that NULL finds NULL; PostgreSQL's
// IS NOT DISTINCT FROM; for a none_as_empty field, coalesce("column", '') = ?).
template <class T, std::size_t Column, class Out>
constexpr void select_where(Out& out) {
  using info = model_info<T>;
  select_from<T>(out);
  out << " WHERE ";
  if (info::empty_is_none[Column]) {
    // A none_as_empty field: none is stored as '' (NULL, written by another program, reads as
    // none too); the argument is bound as text, none as ''.
    out << "coalesce(";
    identifier(out, info::columns[Column]);
    out << ", '') = ";
  } else if (is_optional<typename info::template field_type<Column>>::value) {
    identifier(out, info::columns[Column]);
    out << (is_postgres(out) ? " IS NOT DISTINCT FROM " : " IS ");
  } else {
    identifier(out, info::columns[Column]);
    out << " = ";
  }
  placeholder(out);
  order_by_key<T>(out);
}

template <class T, std::size_t Column>
inline constexpr auto select_where_sql = make_sql([](auto& out) { select_where<T, Column>(out); });

template <class T, std::size_t Column, std::size_t Count>
inline constexpr auto select_in_sql = make_sql([](auto& out) {
  using info = model_info<T>;
  select_from<T>(out);
  out << " WHERE ";
  identifier(out, info::columns[Column]);
  out << " IN (";
  for (std::size_t i = 0; i < Count; ++i) {
    if (i) out << ", ";
    placeholder(out);
  }
  out << ")";
  order_by_key<T>(out);
});

// UPDATE every non-key column by key. A defaulted field left empty keeps its stored value.
template <class T, class Out>
constexpr void write_update(Out& out) {
  using info = model_info<T>;
  out << "UPDATE ";
  identifier(out, info::table);
  out << " SET ";
  bool first = true;
  for (std::size_t i = 0; i < info::size; ++i) {
    if (i == info::primary_key) continue;
    if (!first) out << ", ";
    identifier(out, info::columns[i]);
    out << " = ";
    if (info::defaulted[i]) {
      out << "coalesce(";
      placeholder(out);
      out << ", ";
      identifier(out, info::columns[i]);
      out << ")";
    } else {
      placeholder(out);
    }
    first = false;
  }
  out << " WHERE ";
  identifier(out, info::columns[info::primary_key]);
  out << " = ";
  placeholder(out);
}

template <class T>
inline constexpr auto update_sql = make_sql([](auto& out) { write_update<T>(out); });

// UPDATE the columns a patch names: "col" = CASE WHEN ? THEN ? ELSE "col" END, by key.
template <class T, std::size_t... Columns, class Out>
constexpr void write_patch(Out& out) {
  using info = model_info<T>;
  out << "UPDATE ";
  identifier(out, info::table);
  out << " SET ";
  std::array<std::size_t, sizeof...(Columns)> columns{Columns...};
  for (std::size_t k = 0; k < columns.size(); ++k) {
    if (k) out << ", ";
    identifier(out, info::columns[columns[k]]);
    out << " = CASE WHEN ";
    placeholder(out);
    out << " THEN ";
    placeholder(out);
    out << " ELSE ";
    identifier(out, info::columns[columns[k]]);
    out << " END";
  }
  out << " WHERE ";
  identifier(out, info::columns[info::primary_key]);
  out << " = ";
  placeholder(out);
}

template <class T, std::size_t... Columns>
inline constexpr auto patch_sql = make_sql([](auto& out) { write_patch<T, Columns...>(out); });

template <class T, class Out>
constexpr void write_delete(Out& out) {
  out << "DELETE FROM ";
  identifier(out, model_info<T>::table);
  out << " WHERE ";
  identifier(out, model_info<T>::columns[model_info<T>::primary_key]);
  out << " = ";
  placeholder(out);
}

template <class T>
inline constexpr auto delete_sql = make_sql([](auto& out) { write_delete<T>(out); });

template <class T, class Out>
constexpr void write_count(Out& out) {
  out << "SELECT count(*) FROM ";
  identifier(out, model_info<T>::table);
}

template <class T>
inline constexpr auto count_sql = make_sql([](auto& out) { write_count<T>(out); });

}  // namespace cpm::detail
