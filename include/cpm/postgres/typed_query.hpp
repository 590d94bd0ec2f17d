// cpm: typed queries (cpm::from, cpm::join, cpm::col; cpm/query/select.hpp) on PostgreSQL.
//
//   using cpm::col;
//   auto db = cpm::pg::connection::open(conninfo);
//   auto q = cpm::from<item>.where(col<&item::owner> == 1 && col<&item::name>.like("a%")).limit(10);
//   for (const item& i : q.rows(db)) ...          // a cpm::pg::row_stream<item>, read lazily
//   std::optional<item> one = q.first(db);
//   std::int64_t n = cpm::from<item>.where(col<&item::id>.in(ids)).count(db);
//   cpm::from<item>.where(col<&item::rank> < 0).update(db, cpm::set<&item::rank>(0));
//   static_assert(cpm::pg::typed_sql<decltype(q)>::select == R"(SELECT ... WHERE "owner" = $1 AND ...)");
//
// The same query shapes as on SQLite, with the same meaning, written in PostgreSQL's SQL by the
// same generator: placeholders $1..$N; IS / IS NOT on optional fields as IS NOT DISTINCT FROM /
// IS DISTINCT FROM; an IN list as "column" = ANY($n), one array parameter of any length
// (no size classes); LIKE and GLOB as regular expression matches (~), the pattern translated
// when bound (LIKE as SQLite's: ASCII case ignored, no escape character); a negative limit as
// no limit, a negative offset as none. Each shape is one named server-side statement per connection
// (cpm::pg::connection::prepare_count() counts them). Rows are read by position, in binary.
// none_as_empty fields compare as on SQLite (none as '').
#pragma once

#include <cpm/postgres/array.hpp>
#include <cpm/postgres/connection.hpp>
#include <cpm/postgres/crud.hpp>
#include <cpm/postgres/value.hpp>
#include <cpm/query/join.hpp>
#include <cpm/query/select.hpp>
#include <cpm/query/where.hpp>
#include <cpm/reflect/model.hpp>

#include <boost/pfr/core.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpm::pg {

namespace detail {

// The UTF-8 character at text[i] (not split: PostgreSQL reads characters); advances i past it.
inline std::string_view next_character(std::string_view text, std::size_t& i) {
  std::size_t n = 1;
  auto lead = static_cast<unsigned char>(text[i]);
  if (lead >= 0xF0) n = 4; else if (lead >= 0xE0) n = 3; else if (lead >= 0xC0) n = 2;
  std::string_view c = text.substr(i, n);
  i += c.size();
  return c;
}

// Character c, matching itself in a regular expression (or in a bracket expression).
inline void regex_literal(std::string& out, std::string_view c) {
  unsigned char first = static_cast<unsigned char>(c[0]);
  bool alnum = (first >= '0' && first <= '9') || (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
  if (c.size() == 1 && !alnum) out += '\\';  // \ and a non-alphanumeric character: that character
  out += c;
}

}  // namespace detail

// SQLite's LIKE pattern (no ESCAPE) as a PostgreSQL regular expression (advanced flavour)
// matching the same strings: % any characters, _ one, ASCII letters in either case, every other
// character literal and case-sensitive (SQLite folds ASCII case only; ILIKE would fold every
// letter the collation knows), across newlines.
inline std::string like_to_regex(std::string_view like) {
  std::string out = "^";
  std::size_t i = 0;
  while (i < like.size()) {
    std::string_view c = detail::next_character(like, i);
    char ascii = c.size() == 1 ? c[0] : '\0';
    if (ascii == '%') {
      out += ".*";
    } else if (ascii == '_') {
      out += '.';
    } else if ((ascii >= 'a' && ascii <= 'z') || (ascii >= 'A' && ascii <= 'Z')) {
      char lower = static_cast<char>(ascii | 0x20);
      out += '[';
      out += lower;
      out += static_cast<char>(lower - 'a' + 'A');
      out += ']';
    } else {
      detail::regex_literal(out, c);
    }
  }
  out += '$';
  return out;
}

// SQLite's GLOB pattern as a PostgreSQL regular expression (advanced flavour) matching the
// same strings: * any characters, ? one, [...] a set ([^...] its complement, a-z ranges, ]
// first a member); everything else literal, case-sensitive, across newlines. A set left open
// matches nothing, as in SQLite.
inline std::string glob_to_regex(std::string_view glob) {
  auto next = [&](std::size_t& i) { return detail::next_character(glob, i); };
  auto literal = [](std::string& out, std::string_view c) { detail::regex_literal(out, c); };
  auto code_point = [](std::string_view c) {
    auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(c[k])); };
    if (c.size() == 1) return b(0);
    std::uint32_t v = b(0) & (0x3Fu >> (c.size() - 1));
    for (std::size_t k = 1; k < c.size(); ++k) v = (v << 6) | (b(k) & 0x3F);
    return v;
  };
  std::string out = "^";
  std::size_t i = 0;
  while (i < glob.size()) {
    std::string_view c = next(i);
    if (c == "*") {
      out += ".*";
    } else if (c == "?") {
      out += '.';
    } else if (c == "[") {
      bool negated = false;
      if (i < glob.size() && glob[i] == '^') {
        negated = true;
        ++i;
      }
      std::string members;
      bool closed = false;
      std::string_view prior;  // the member before, which a '-' may start a range from
      if (i < glob.size() && glob[i] == ']') literal(members, next(i));
      while (i < glob.size()) {
        std::string_view m = next(i);
        if (m == "]") {
          closed = true;
          break;
        }
        if (m == "-" && !prior.empty() && i < glob.size() && glob[i] != ']') {
          std::string_view high = next(i);
          // prior is a member already; a range upside down adds nothing (SQLite: c >= low && c <= high).
          if (code_point(high) > code_point(prior)) {
            members += '-';
            literal(members, high);
          }
          prior = {};
          continue;
        }
        literal(members, m);
        prior = m;
      }
      if (!closed) return "a^";  // a set left open matches nothing
      if (members.empty()) {
        if (!negated) return "a^";  // no member: no character matches
        out += '.';
      } else {
        out += negated ? "[^" : "[";
        out += members;
        out += ']';
      }
    } else {
      literal(out, c);
    }
  }
  out += '$';
  return out;
}

namespace detail {

using cpm::detail::between;
using cpm::detail::cmp_op;
using cpm::detail::compare;
using cpm::detail::in_list;
using cpm::detail::junction;
using cpm::detail::negation;
using cpm::detail::no_predicate;
using cpm::detail::null_test;

// The values a predicate binds, in the order its SQL names them: a tuple of references into
// the predicate (and of the few values made for PostgreSQL: GLOB's expression, IN's array).
inline std::tuple<> values_of(const no_predicate&) { return {}; }
template <auto M, bool Null>
std::tuple<> values_of(const null_test<M, Null>&) {
  return {};
}
template <auto M, cmp_op Op>
auto values_of(const compare<M, Op>& node) {
  using node_type = compare<M, Op>;
  if constexpr (Op == cmp_op::glob) {
    return std::make_tuple(glob_to_regex(node.value));
  } else if constexpr (Op == cmp_op::like) {
    return std::make_tuple(like_to_regex(node.value));
  } else if constexpr (cpm::detail::empty_is_none<typename node_type::model, field_index<M>>() &&
                       std::is_same_v<typename node_type::stored, std::optional<std::string>>) {
    return std::make_tuple(none_as_empty_arg{&node.value});  // none as ''
  } else {
    return std::tie(node.value);
  }
}
template <auto M>
auto values_of(const between<M>& node) {
  return std::tie(node.low, node.high);
}
template <auto M>
auto values_of(const in_list<M>& node) {
  using list = in_list<M>;
  return std::make_tuple(array_ref<typename list::stored, decltype(list::values)>{&node.values});
}
template <class L, class R, bool And>
auto values_of(const junction<L, R, And>& node);
template <class E>
auto values_of(const negation<E>& node);

template <class L, class R, bool And>
auto values_of(const junction<L, R, And>& node) {
  return std::tuple_cat(values_of(node.left), values_of(node.right));
}
template <class E>
auto values_of(const negation<E>& node) {
  return values_of(node.inner);
}

// A typed join's pair of rows: the left model's columns, then the right one's.
template <class Row, std::size_t Offset, std::size_t... I>
void read_fields(const PGresult* res, int row, Row& out, const Oid* types, std::index_sequence<I...>) {
  auto read_one = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
    auto& value = boost::pfr::get<J>(out);
    read_value(res, row, static_cast<int>(Offset + J), value, types);
    if constexpr (cpm::detail::empty_is_none<Row, J>()) {  // model_traits<Row>::none_as_empty
      if (value && value->empty()) value.reset();
    }
  };
  (read_one(std::integral_constant<std::size_t, I>{}), ...);
}

template <class L, class R>
struct row_parts<cpm::detail::joined_row<L, R>> {
  static constexpr bool split = true;
  static constexpr std::size_t width = model_info<L>::size + model_info<R>::size;
  static void read(const PGresult* res, int row, cpm::detail::joined_row<L, R>& out, const Oid* types) {
    read_fields<L, 0>(res, row, out.first, types, std::make_index_sequence<model_info<L>::size>{});
    read_fields<R, model_info<L>::size>(res, row, out.second, types, std::make_index_sequence<model_info<R>::size>{});
  }
};

// A limit as bound: a negative one is NULL, no limit (SQLite's LIMIT -1).
inline std::optional<std::int64_t> limit_value(std::int64_t n) {
  return n < 0 ? std::nullopt : std::optional<std::int64_t>(n);
}

// An offset as bound: a negative one is 0, as SQLite takes it (PostgreSQL refuses it).
inline std::int64_t offset_value(std::int64_t n) { return n < 0 ? 0 : n; }

// The value an assignment binds: none as '' for a none_as_empty field.
template <auto M>
auto set_value(const cpm::assignment<M>& a) {
  using node_type = cpm::assignment<M>;
  if constexpr (cpm::detail::empty_is_none<typename node_type::model, field_index<M>>() &&
                std::is_same_v<typename node_type::field, std::optional<std::string>>) {
    return std::make_tuple(none_as_empty_arg{&a.value});
  } else {
    return std::tie(a.value);
  }
}

}  // namespace detail

// The SQL of a typed query's shape on PostgreSQL, as compile-time constants (the counterpart
// of the query's own ::sql, ::count_sql, ... on SQLite).
template <class Q>
struct typed_sql {
  static constexpr std::string_view select = cpm::detail::select_text<Q, 0, cpm::detail::dialect::postgres>.view();
  static constexpr std::string_view count = cpm::detail::count_text<Q, 0, cpm::detail::dialect::postgres>.view();
  static constexpr std::string_view exists = cpm::detail::exists_text<Q, 0, cpm::detail::dialect::postgres>.view();
  static constexpr std::string_view remove = cpm::detail::delete_text<Q, 0, cpm::detail::dialect::postgres>.view();
  template <auto... Members>
  static constexpr std::string_view update =
      cpm::detail::update_text<Q, 0, cpm::detail::dialect::postgres, assignment<Members>...>.view();
};

}  // namespace cpm::pg

namespace cpm::detail {

template <>
struct typed_backend<pg::connection> {
  using connection_type = pg::connection;

  template <class Q>
  static auto rows(const Q& q, pg::connection& db) {
    auto stream = std::apply(
        [&](const auto&... args) {
          return db.stream<typename Q::row>(by_position, pg::typed_sql<Q>::select, args...);
        },
        std::tuple_cat(pg::detail::values_of(q.where_), paging(q)));
    if constexpr (reads_projection<Q>()) stream.after_read(&projection_none_as_empty<typename Q::source::row, typename Q::row>);
    return stream;
  }

  // The first row: the shape with a limit of (at most) one.
  template <class Q>
  static std::optional<typename Q::row> first(const Q& q, pg::connection& db) {
    using one = typed_query<typename Q::source, typename Q::row, typename Q::predicate, typename Q::order, true,
                            Q::has_offset>;
    std::int64_t limit = Q::has_limit && q.limit_ >= 0 && q.limit_ < 1 ? q.limit_ : 1;
    auto offset = [&] {
      if constexpr (Q::has_offset) {
        return std::make_tuple(pg::detail::offset_value(q.offset_));
      } else {
        return std::tuple<>();
      }
    }();
    auto row = std::apply(
        [&](const auto&... args) {
          return db.query_optional<typename Q::row>(by_position, pg::typed_sql<one>::select, args...);
        },
        std::tuple_cat(pg::detail::values_of(q.where_), std::make_tuple(limit), offset));
    if constexpr (reads_projection<Q>()) {
      if (row) projection_none_as_empty<typename Q::source::row>(*row);
    }
    return row;
  }

  template <class Q>
  static std::int64_t count(const Q& q, pg::connection& db) {
    return std::apply(
        [&](const auto&... args) { return db.query_one<std::int64_t>(pg::typed_sql<Q>::count, args...); },
        pg::detail::values_of(q.where_));
  }

  template <class Q>
  static bool exists(const Q& q, pg::connection& db) {
    return std::apply([&](const auto&... args) { return db.query_one<bool>(pg::typed_sql<Q>::exists, args...); },
                      pg::detail::values_of(q.where_));
  }

  template <class Q>
  static std::int64_t remove(const Q& q, pg::connection& db) {
    return std::apply([&](const auto&... args) { return db.execute(pg::typed_sql<Q>::remove, args...); },
                      pg::detail::values_of(q.where_));
  }

  template <class Q, auto... Members>
  static std::int64_t update(const Q& q, pg::connection& db, const assignment<Members>&... sets) {
    return std::apply(
        [&](const auto&... args) {
          return db.execute(pg::typed_sql<Q>::template update<Members...>, args...);
        },
        std::tuple_cat(pg::detail::set_value(sets)..., pg::detail::values_of(q.where_)));
  }

 private:
  // Whether Q reads a projection of a model with none_as_empty fields its row type does not name.
  template <class Q>
  static constexpr bool reads_projection() {
    if constexpr (Q::source::single && !std::is_same_v<typename Q::row, typename Q::source::row>) {
      return projection_reads_none_as_empty<typename Q::source::row, typename Q::row>();
    } else {
      return false;
    }
  }

  template <class Q>
  static auto paging(const Q& q) {
    if constexpr (Q::has_limit && Q::has_offset) {
      return std::make_tuple(pg::detail::limit_value(q.limit_), pg::detail::offset_value(q.offset_));
    } else if constexpr (Q::has_limit) {
      return std::make_tuple(pg::detail::limit_value(q.limit_));
    } else if constexpr (Q::has_offset) {
      return std::make_tuple(pg::detail::offset_value(q.offset_));
    } else {
      return std::tuple<>();
    }
  }
};

}  // namespace cpm::detail
