// cpm: typed predicates over a model's fields, written as C++ and made into SQL at compile time.
//
//   using cpm::col;
//   auto p = col<&item::owner> == 1 && (col<&item::rank> > 10 || col<&item::note>.is_null());
//   // "owner" = ? AND ("rank" > ? OR "note" IS NULL)
//
// A predicate's type is its shape (which fields, which operators, how they nest); the values
// it compares with are held in it and bound at run time. Predicates are used by cpm::from
// (cpm/query/select.hpp) for SELECT, count, exists, UPDATE and DELETE.
//
// Operators: ==, !=, <, <=, >, >= against a value; .like(pattern), .glob(pattern) on text;
// .is_null(), .is_not_null() on std::optional fields; .in(values); .between(low, high);
// combined with &&, || and !. On a std::optional field, == and != are IS and IS NOT (so that
// == std::nullopt finds the NULLs, as find does); the ordering operators, LIKE, GLOB, IN and
// BETWEEN take the value type and never match a NULL.
//
// A value must be one the field's type can be made from without narrowing (the rule of
// cpm::find); a predicate over fields of two models does not compile. Each mistake is one
// static_assert, its message beginning "cpm:".
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/detail/spare_block.hpp>
#include <cpm/query/detail/row_io.hpp>
#include <cpm/query/detail/sql_text.hpp>
#include <cpm/query/find.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/sqlite/statement.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpm {

namespace detail {

template <class F>
struct unwrap_optional {
  using type = F;
};
template <class F>
struct unwrap_optional<std::optional<F>> {
  using type = F;
};
// The type a field holds when it holds a value: F, or T for std::optional<T>.
template <class F>
using value_of_t = typename unwrap_optional<F>::type;

template <auto Member>
inline constexpr std::string_view column_of =
    model_info<member_class_t<Member>>::columns[field_index<Member>];

// Binds a value of field I of model T (or of that field's value type): "none" as '' for a
// none_as_empty field. Borrow: the value outlives the statement's run (else it is copied).
template <class T, std::size_t I, bool Borrow, class V>
void bind_field_value(statement_base& stmt, int index, const V& value) {
  if constexpr (empty_is_none<T, I>() && std::is_same_v<V, std::optional<std::string>>) {
    if (!value) {
      parameter(stmt.native(), index).text_ref(std::string_view(""));
      return;
    }
  }
  if constexpr (Borrow) {
    stmt.bind_ref(index, value);
  } else {
    stmt.bind_at(index, value);
  }
}

// ---- IN lists: one statement per size class ---------------------------------------------------

// The size classes of an IN list: a list is sent with the smallest that holds it, a list of 1
// to 8 values with exactly its size, 9 to 4096 with 64, 512 or 4096 parameters (a short list
// repeating its last value, which IN ignores). A longer list is one parameter, the values as a
// JSON array: "column" IN (SELECT +value FROM json_each(?)) (the unary + leaves the value no
// affinity, so that the column's affinity and collation apply as they do to an IN list's
// parameters). The last class, 0 parameters, is the empty list (SQLite's "x IN ()", false;
// NOT of it true). Class 0 is 8 parameters: the SQL a query shape shows (`::sql`).
inline constexpr std::size_t in_list_json = static_cast<std::size_t>(-1);
inline constexpr std::size_t in_list_sizes[] = {8, 1, 2, 3, 4, 5, 6, 7, 64, 512, 4096, in_list_json, 0};
inline constexpr unsigned in_list_classes = 13;
inline constexpr unsigned in_list_json_class = 11;
inline constexpr unsigned in_list_empty_class = 12;
inline constexpr std::size_t in_list_max_parameters = 4096;
// At most this many IN lists in one statement: each multiplies the statements a shape has.
inline constexpr unsigned max_in_lists = 2;

// Which size class holds n values.
constexpr unsigned in_list_class(std::size_t n) noexcept {
  if (n == 0) return in_list_empty_class;
  if (n <= 8) return n == 8 ? 0u : static_cast<unsigned>(n);
  if (n <= 64) return 8;
  if (n <= 512) return 9;
  if (n <= in_list_max_parameters) return 10;
  return in_list_json_class;
}

// The size class of the IN list numbered `ordinal` in a statement variant `code` (base 13 digits).
constexpr std::size_t in_list_size(unsigned code, unsigned ordinal) {
  for (unsigned i = 0; i < ordinal; ++i) code /= in_list_classes;
  return in_list_sizes[code % in_list_classes];
}

template <class T>
struct in_list_time_point : std::false_type {};
template <class Duration>
struct in_list_time_point<std::chrono::sys_time<Duration>> : std::true_type {};

// Whether a list of T can be sent as a JSON array whose json_each values are exactly what
// binding each T would bind: integers, bool (0 and 1), text, enums (their name or their
// integer), time points (their text), each as cpm's own value_traits binds it (not a
// specialisation of your own, which may bind otherwise), and types stored as one of those
// (cpm::converted_value). Not doubles (SQLite's JSON reader does not promise to read every
// double back exactly) nor blobs (JSON has no blob).
template <class T>
consteval bool in_list_json_exact() {
  if constexpr (requires(const T& v) { value_traits<T>::to_stored(v); }) {
    return in_list_json_exact<std::remove_cvref_t<decltype(value_traits<T>::to_stored(std::declval<const T&>()))>>();
  } else if constexpr (requires { requires value_traits<T>::cpm_own; }) {
    return std::is_integral_v<T> || std::is_enum_v<T> || std::is_same_v<T, std::string> || in_list_time_point<T>::value;
  } else {
    return false;
  }
}

// Appends `text` as a JSON string. False for text holding a NUL, which json_each would cut.
inline bool append_json_text(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      if (c == 0) return false;
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;  // UTF-8 (and any other byte) as it is
    }
  }
  out += '"';
  return true;
}

// Appends `v` as a JSON value, as value_traits<T>::bind would bind it; throws as it would.
template <class T>
void append_json_value(std::string& out, const parameter& p, const T& v) {
  if constexpr (requires { value_traits<T>::to_stored(v); }) {
    append_json_value(out, p, value_traits<T>::to_stored(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    out += v ? '1' : '0';
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
        p.fail(value_error::kind::out_of_range, detail::message("{} does not fit SQLite's 64-bit signed integer", v));
    }
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v)).ptr;
    out.append(buf, end);
  } else if constexpr (std::is_enum_v<T>) {
    if constexpr (named_enum<T>) {
      std::string_view name = enum_to_text(v);
      if (name.empty())
        p.fail(value_error::kind::bad_enum,
               detail::message("enumerator {} has no name in cpm::enum_names",
                               static_cast<long long>(static_cast<std::underlying_type_t<T>>(v))));
      append_json_value(out, p, std::string(name));
    } else {
      append_json_value(out, p, static_cast<std::underlying_type_t<T>>(v));
    }
  } else if constexpr (in_list_time_point<T>::value) {
    char buf[timestamp_buffer_size];
    std::size_t n = format_timestamp(v, buf);
    if (n == 0) p.fail(value_error::kind::out_of_range, "time point outside the years 0000..9999");
    append_json_value(out, p, std::string(buf, n));
  } else {
    static_assert(std::is_same_v<T, std::string>);
    if (!append_json_text(out, v))
      throw usage_error("cpm: an IN list of more than 4096 values is sent as JSON, which cannot hold a text "
                        "value with a NUL character: split the list");
  }
}

// The values of a list as one JSON array.
template <class Values>
std::string in_list_json_text(const Values& values, const parameter& p) {
  std::string out;
  out.reserve(values.size() * 8 + 2);
  out += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    append_json_value(out, p, values[i]);
  }
  out += ']';
  return out;
}

// How a predicate is written: which IN-list variant (`code`), the next IN list's number, and
// whether columns are qualified by their table (in a join).
struct sql_context {
  unsigned code = 0;
  unsigned ordinal = 0;
  bool qualified = false;
};

// "column", or "table"."column" in a join.
template <auto Member, class Out>
constexpr void write_column(Out& out, const sql_context& cx) {
  if (cx.qualified) {
    identifier(out, model_info<member_class_t<Member>>::table);
    out << ".";
  }
  identifier(out, column_of<Member>);
}

// Marks the node types of a predicate.
struct predicate_node {};

template <class E>
concept predicate = std::is_base_of_v<predicate_node, E>;

// The SQL spelling of each comparison. On PostgreSQL, IS and IS NOT are IS NOT DISTINCT FROM
// and IS DISTINCT FROM; LIKE and GLOB are regular expression matches (~), the pattern
// translated when it is bound (cpm/postgres/typed_query.hpp: SQLite's LIKE ignores ASCII case
// only and has no escape character).
enum class cmp_op : unsigned char { eq, ne, lt, le, gt, ge, like, glob };

constexpr std::string_view cmp_op_text(cmp_op op, bool optional, bool postgres) {
  switch (op) {
    case cmp_op::eq: return optional ? (postgres ? " IS NOT DISTINCT FROM " : " IS ") : " = ";
    case cmp_op::ne: return optional ? (postgres ? " IS DISTINCT FROM " : " IS NOT ") : " <> ";
    case cmp_op::lt: return " < ";
    case cmp_op::le: return " <= ";
    case cmp_op::gt: return " > ";
    case cmp_op::ge: return " >= ";
    case cmp_op::like: return postgres ? " ~ " : " LIKE ";
    case cmp_op::glob: return postgres ? " ~ " : " GLOB ";
  }
  return "";
}

// Precedence, for parentheses: a leaf binds tightest, then NOT, AND, OR.
inline constexpr int leaf_precedence = 4;

// The column as a comparison sees it. A none_as_empty field reads both '' and NULL as none:
// == and != (Equality, none bound as '') compare coalesce("column", ''), so that none finds
// both; the other comparisons nullif("column", ''), so that none, like NULL, matches none of them.
template <auto Member, bool Equality, class Out>
constexpr void write_compared_column(Out& out, const sql_context& cx) {
  if constexpr (empty_is_none<member_class_t<Member>, field_index<Member>>()) {
    out << (Equality ? "coalesce(" : "nullif(");
    write_column<Member>(out, cx);
    out << ", '')";
  } else {
    write_column<Member>(out, cx);
  }
}

// "column" <op> ?
template <auto Member, cmp_op Op>
struct compare : predicate_node {
  using model = member_class_t<Member>;
  using field = member_field_t<Member>;
  // == and != on an optional field compare with the optional (IS, IS NOT); the others with its
  // value type; LIKE and GLOB with text.
  using stored = std::conditional_t<Op == cmp_op::eq || Op == cmp_op::ne, field,
                                    std::conditional_t<Op == cmp_op::like || Op == cmp_op::glob, std::string,
                                                       value_of_t<field>>>;
  static constexpr int precedence = leaf_precedence;
  static constexpr unsigned in_lists = 0;

  stored value;

  template <class Out>
  static constexpr void write(Out& out, sql_context& cx) {
    write_compared_column<Member, Op == cmp_op::eq || Op == cmp_op::ne>(out, cx);
    out << cmp_op_text(Op, is_optional<field>::value, is_postgres(out));
    placeholder(out);
  }
  template <bool Borrow>
  void bind(statement_base& stmt, int& index) const {
    bind_field_value<model, field_index<Member>, Borrow>(stmt, index++, value);
  }
  void choose(unsigned&, unsigned&) const noexcept {}
};

// "column" IS NULL, "column" IS NOT NULL; for a none_as_empty field, which stores "none" as
// '', coalesce("column", '') = '' and <> ''.
template <auto Member, bool Null>
struct null_test : predicate_node {
  using model = member_class_t<Member>;
  static constexpr int precedence = leaf_precedence;
  static constexpr unsigned in_lists = 0;

  template <class Out>
  static constexpr void write(Out& out, sql_context& cx) {
    if constexpr (empty_is_none<model, field_index<Member>>()) {
      out << "coalesce(";
      write_column<Member>(out, cx);
      out << (Null ? ", '') = ''" : ", '') <> ''");
    } else {
      write_column<Member>(out, cx);
      out << (Null ? " IS NULL" : " IS NOT NULL");
    }
  }
  template <bool Borrow>
  void bind(statement_base&, int&) const noexcept {}
  void choose(unsigned&, unsigned&) const noexcept {}
};

// "column" BETWEEN ? AND ?
template <auto Member>
struct between : predicate_node {
  using model = member_class_t<Member>;
  using stored = value_of_t<member_field_t<Member>>;
  static constexpr int precedence = leaf_precedence;
  static constexpr unsigned in_lists = 0;

  stored low;
  stored high;

  template <class Out>
  static constexpr void write(Out& out, sql_context& cx) {
    write_compared_column<Member, false>(out, cx);
    out << " BETWEEN ";
    placeholder(out);
    out << " AND ";
    placeholder(out);
  }
  template <bool Borrow>
  void bind(statement_base& stmt, int& index) const {
    bind_field_value<model, field_index<Member>, Borrow>(stmt, index++, low);
    bind_field_value<model, field_index<Member>, Borrow>(stmt, index++, high);
  }
  void choose(unsigned&, unsigned&) const noexcept {}
};

// "column" IN (?, ?, ...): as many parameters as the list's size class; above 4096 values,
// "column" IN (SELECT +value FROM json_each(?)). On PostgreSQL "column" = ANY($n), the list
// bound as one array.
template <auto Member>
struct in_list : predicate_node {
  using model = member_class_t<Member>;
  using stored = value_of_t<member_field_t<Member>>;
  static constexpr int precedence = leaf_precedence;
  static constexpr unsigned in_lists = 1;

  // Made unique (and sorted, when the type can be). A short list reuses its thread's last
  // block of that size (detail/spare_block.hpp): no malloc per query.
  std::vector<stored, spare_allocator<stored>> values;

  template <class Out>
  static constexpr void write(Out& out, sql_context& cx) {
    write_column<Member>(out, cx);
    if (is_postgres(out)) {  // one array parameter, whatever the list's size
      out << " = ANY(";
      placeholder(out);
      out << ")";
      return;
    }
    const std::size_t size = in_list_size(cx.code, cx.ordinal++);
    if (size == in_list_json) {
      out << " IN (SELECT +value FROM json_each(";
      placeholder(out);
      out << "))";
      return;
    }
    out << " IN (";
    for (std::size_t i = 0; i < size; ++i) {
      if (i) out << ", ";
      placeholder(out);
    }
    out << ")";
  }
  // Binds the size class's parameters: a short list repeats its last value, which IN ignores;
  // a list above 4096 values is one JSON array (a copy: it is made here).
  template <bool Borrow>
  void bind(statement_base& stmt, int& index) const {
    if (values.empty()) return;
    const unsigned c = in_list_class(values.size());
    if (c == in_list_json_class) {
      if constexpr (in_list_json_exact<stored>()) {
        const parameter p(stmt.native(), index++);
        p.text(in_list_json_text(values, p));
      }
      return;
    }
    const std::size_t size = in_list_sizes[c];
    for (std::size_t i = 0; i < size; ++i)
      bind_field_value<model, field_index<Member>, Borrow>(stmt, index++, values[std::min(i, values.size() - 1)]);
  }
  // Adds this list's size class to the statement variant `code`, as digit `place`.
  void choose(unsigned& code, unsigned& place) const {
    const unsigned c = in_list_class(values.size());
    if constexpr (!in_list_json_exact<stored>()) {
      if (c == in_list_json_class)
        throw usage_error("cpm: an IN list of more than 4096 values (after removing duplicates) is sent as a JSON "
                          "array, which cannot hold this field's type exactly (a double, a blob, or a type bound by a "
                          "value_traits of your own): split the list");
    }
    code += c * place;
    place *= in_list_classes;
  }
};

// L AND R, L OR R
template <class L, class R, bool And>
struct junction : predicate_node {
  using model = typename L::model;
  static constexpr int precedence = And ? 2 : 1;
  static constexpr unsigned in_lists = L::in_lists + R::in_lists;

  L left;
  R right;

  template <class E, class Out>
  static constexpr void write_side(Out& out, sql_context& cx) {
    // AND inside OR needs no parentheses; OR inside AND does. NOT is written with its own.
    if constexpr (E::precedence < precedence) {
      out << "(";
      E::write(out, cx);
      out << ")";
    } else {
      E::write(out, cx);
    }
  }
  template <class Out>
  static constexpr void write(Out& out, sql_context& cx) {
    write_side<L>(out, cx);
    out << (And ? " AND " : " OR ");
    write_side<R>(out, cx);
  }
  template <bool Borrow>
  void bind(statement_base& stmt, int& index) const {
    left.template bind<Borrow>(stmt, index);
    right.template bind<Borrow>(stmt, index);
  }
  void choose(unsigned& code, unsigned& place) const {
    left.choose(code, place);
    right.choose(code, place);
  }
};

// NOT (E)
template <class E>
struct negation : predicate_node {
  using model = typename E::model;
  static constexpr int precedence = 3;
  static constexpr unsigned in_lists = E::in_lists;

  E inner;

  template <class Out>
  static constexpr void write(Out& out, sql_context& cx) {
    out << "NOT (";
    E::write(out, cx);
    out << ")";
  }
  template <bool Borrow>
  void bind(statement_base& stmt, int& index) const {
    inner.template bind<Borrow>(stmt, index);
  }
  void choose(unsigned& code, unsigned& place) const { inner.choose(code, place); }
};

// The checks name what they check in their template arguments, which the compilers print
// with the error (the field's model and type, and the value's type).
template <class Model, class FieldType, class Value>
inline constexpr bool value_fits_field = value_for<const Value&, FieldType>;

template <class Model, class FieldType, class Value>
consteval bool check_value() {
  static_assert(value_fits_field<Model, FieldType, Value>,
                "cpm: a typed query compares a field with a value its type cannot be made from without "
                "narrowing (the model, the field's type and the value's type are the template arguments named here)");
  return value_fits_field<Model, FieldType, Value>;
}

template <class LeftModel, class RightModel>
inline constexpr bool same_model = std::is_same_v<LeftModel, RightModel>;

template <class LeftModel, class RightModel>
consteval bool check_same_model() {
  static_assert(same_model<LeftModel, RightModel>,
                "cpm: a predicate combines fields of two different models (the two models are the "
                "template arguments named here)");
  return true;  // the static_assert above is the one error
}

template <class F>
inline constexpr bool is_text_field = std::is_same_v<value_of_t<F>, std::string>;

// A node made from a value the field accepts; when it does not, check_value's message is the
// one error and the node is left empty.
template <class Node, class Stored, class V>
Node node_from(const V& v) {
  if constexpr (value_for<const V&, Stored>) {
    return Node{{}, Stored(v)};
  } else {
    return Node{};
  }
}

}  // namespace detail

// A field of a model in a typed query: cpm::col<&item::owner>.
template <auto Member>
struct column {
  static_assert(std::is_member_object_pointer_v<decltype(Member)>,
                "cpm: cpm::col takes a pointer to a data member of a model: cpm::col<&T::field>");
  using model = detail::member_class_t<Member>;
  using field = detail::member_field_t<Member>;

  // "column" LIKE ? (text fields only)
  template <class V>
  [[nodiscard]] detail::compare<Member, detail::cmp_op::like> like(const V& pattern) const {
    return text_match<detail::cmp_op::like>(pattern);
  }
  // "column" GLOB ? (text fields only)
  template <class V>
  [[nodiscard]] detail::compare<Member, detail::cmp_op::glob> glob(const V& pattern) const {
    return text_match<detail::cmp_op::glob>(pattern);
  }
  // "column" IS NULL (std::optional fields only)
  [[nodiscard]] detail::null_test<Member, true> is_null() const {
    static_assert(detail::is_optional<field>::value, "cpm: is_null() is for std::optional fields");
    return {};
  }
  // "column" IS NOT NULL (std::optional fields only)
  [[nodiscard]] detail::null_test<Member, false> is_not_null() const {
    static_assert(detail::is_optional<field>::value, "cpm: is_not_null() is for std::optional fields");
    return {};
  }
  // "column" BETWEEN ? AND ?
  template <class V, class W>
  [[nodiscard]] detail::between<Member> between(const V& low, const W& high) const {
    using stored = detail::value_of_t<field>;
    if constexpr (detail::check_value<model, stored, V>() && detail::check_value<model, stored, W>()) {
      return {{}, stored(low), stored(high)};
    } else {
      return {};
    }
  }
  // "column" IN (...): any input range of values; duplicates are sent once. An empty list
  // matches no row. IN never matches NULL: for those, add || col<...>.is_null().
  template <std::ranges::input_range Values>
  [[nodiscard]] detail::in_list<Member> in(Values&& values) const {
    using stored = detail::value_of_t<field>;
    using value = std::ranges::range_value_t<Values>;
    detail::in_list<Member> out;
    if constexpr (detail::check_value<model, stored, value>()) {
      if constexpr (std::ranges::sized_range<Values>) out.values.reserve(std::ranges::size(values));
      for (auto&& v : values) out.values.emplace_back(std::forward<decltype(v)>(v));
      unique_values(out.values);
    }
    return out;
  }
  template <class V>
  [[nodiscard]] detail::in_list<Member> in(std::initializer_list<V> values) const {
    using stored = detail::value_of_t<field>;
    detail::in_list<Member> out;
    if constexpr (detail::check_value<model, stored, V>()) {
      out.values.reserve(values.size());
      for (const V& v : values) out.values.emplace_back(v);
      unique_values(out.values);
    }
    return out;
  }

 private:
  template <class Values>
  static void unique_values(Values& values) {
    if constexpr (std::totally_ordered<typename Values::value_type>) {
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
    }
  }
  template <detail::cmp_op Op, class V>
  static detail::compare<Member, Op> text_match(const V& pattern) {
    static_assert(detail::is_text_field<field>, "cpm: LIKE and GLOB are for text fields (std::string)");
    if constexpr (detail::is_text_field<field> && detail::check_value<model, std::string, V>()) {
      return detail::node_from<detail::compare<Member, Op>, std::string>(pattern);
    } else {
      return {};
    }
  }
};

template <auto Member>
inline constexpr column<Member> col{};

namespace detail {

template <auto Member, cmp_op Op, class V>
compare<Member, Op> make_compare(const V& value) {
  using node = compare<Member, Op>;
  if constexpr (check_value<member_class_t<Member>, typename node::stored, V>()) {
    return node_from<node, typename node::stored>(value);
  } else {
    return {};
  }
}

}  // namespace detail

template <auto M, class V>
[[nodiscard]] detail::compare<M, detail::cmp_op::eq> operator==(column<M>, const V& value) {
  return detail::make_compare<M, detail::cmp_op::eq>(value);
}
template <auto M, class V>
[[nodiscard]] detail::compare<M, detail::cmp_op::ne> operator!=(column<M>, const V& value) {
  return detail::make_compare<M, detail::cmp_op::ne>(value);
}
template <auto M, class V>
[[nodiscard]] detail::compare<M, detail::cmp_op::lt> operator<(column<M>, const V& value) {
  return detail::make_compare<M, detail::cmp_op::lt>(value);
}
template <auto M, class V>
[[nodiscard]] detail::compare<M, detail::cmp_op::le> operator<=(column<M>, const V& value) {
  return detail::make_compare<M, detail::cmp_op::le>(value);
}
template <auto M, class V>
[[nodiscard]] detail::compare<M, detail::cmp_op::gt> operator>(column<M>, const V& value) {
  return detail::make_compare<M, detail::cmp_op::gt>(value);
}
template <auto M, class V>
[[nodiscard]] detail::compare<M, detail::cmp_op::ge> operator>=(column<M>, const V& value) {
  return detail::make_compare<M, detail::cmp_op::ge>(value);
}

namespace detail {

// In the namespace of the predicate nodes, where argument-dependent lookup finds them.
template <predicate L, predicate R>
[[nodiscard]] junction<L, R, true> operator&&(L left, R right) {
  static_assert(check_same_model<typename L::model, typename R::model>());
  return {{}, std::move(left), std::move(right)};
}
template <predicate L, predicate R>
[[nodiscard]] junction<L, R, false> operator||(L left, R right) {
  static_assert(check_same_model<typename L::model, typename R::model>());
  return {{}, std::move(left), std::move(right)};
}
template <predicate E>
[[nodiscard]] negation<E> operator!(E inner) {
  return {{}, std::move(inner)};
}

}  // namespace detail

// An assignment of an UPDATE: cpm::set<&item::rank>(5) is "rank" = ?.
template <auto Member>
struct assignment {
  using model = detail::member_class_t<Member>;
  using field = detail::member_field_t<Member>;
  field value;

  template <class Out>
  static constexpr void write(Out& out) {
    detail::identifier(out, detail::column_of<Member>);
    out << " = ";
    detail::placeholder(out);
  }
  void bind(statement_base& stmt, int& index) const {
    detail::bind_field_value<model, field_index<Member>, true>(stmt, index++, value);
  }
};

template <auto Member, class V>
[[nodiscard]] assignment<Member> set(const V& value) {
  using F = detail::member_field_t<Member>;
  if constexpr (detail::check_value<detail::member_class_t<Member>, F, V>()) {
    return {F(value)};
  } else {
    return {};
  }
}

}  // namespace cpm
