// cpm: typed queries: SELECT, count, exists, UPDATE and DELETE of one model, built in C++ and
// made into SQL at compile time.
//
//   using cpm::col;
//   auto recent = cpm::from<item>
//                     .where(col<&item::owner> == owner && col<&item::rank> >= 10)
//                     .order_by(cpm::desc<&item::rank>, cpm::asc<&item::name>)
//                     .limit(20);
//   for (const item& i : recent.rows(db)) ...             // lazy, a cpm::rows<item>
//   std::int64_t n = cpm::from<item>.where(col<&item::owner> == owner).count(db);
//   auto names = cpm::from<item>.select<item_name>().rows(db);   // only item_name's columns
//   cpm::from<item>.where(col<&item::rank> < 0).update(db, cpm::set<&item::rank>(0));
//   cpm::from<item>.where(col<&item::note>.is_null()).remove(db);
//
// A query's type is its shape; its SQL is a constant of that type, readable at compile time:
//   static_assert(decltype(recent)::sql == R"(SELECT ... WHERE "owner" = ? AND "rank" >= ? ...)");
// Each shape is prepared once per connection and reused; the values are bound on each run.
// Without order_by, rows come in primary key order (as find's do).
#pragma once

#include <cpm/query/crud.hpp>
#include <cpm/query/detail/row_io.hpp>
#include <cpm/query/detail/sql_text.hpp>
#include <cpm/query/raw.hpp>
#include <cpm/query/rows.hpp>
#include <cpm/query/where.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/connection.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpm {

namespace detail {

// No WHERE clause.
struct no_predicate {
  static constexpr unsigned in_lists = 0;
  template <class Out>
  static constexpr void write(Out&, unsigned, unsigned&) {}
  template <bool Borrow>
  void bind(statement_base&, int&) const noexcept {}
  void choose(unsigned&, unsigned&) const noexcept {}
};

// One term of ORDER BY.
template <auto Member, bool Descending>
struct order_term {
  using model = member_class_t<Member>;
  template <class Out>
  static constexpr void write(Out& out, const sql_context& cx) {
    write_column<Member>(out, cx);
    if (Descending) out << " DESC";
  }
};

template <class... Terms>
struct order_list {};

// The model column a field of a projection row names (as patch fields do); size when none.
template <class T, class Row, std::size_t J>
consteval std::size_t projected_column() {
  constexpr std::string_view name = field_name<Row, J>;
  for (std::size_t i = 0; i < model_info<T>::size; ++i)
    if (field_names<T>(std::make_index_sequence<model_info<T>::size>{})[i] == name) return i;
  return model_info<T>::size;
}

// Whether a projection row reads a none_as_empty field of its model that the row's own
// model_traits do not name: it is read by read_projection, which knows.
template <class Model, class Row>
consteval bool projection_reads_none_as_empty() {
  return []<std::size_t... J>(std::index_sequence<J...>) {
    return ((projected_column<Model, Row, J>() < model_info<Model>::size &&
             model_info<Model>::empty_is_none[projected_column<Model, Row, J>()] && !empty_is_none<Row, J>()) ||
            ...);
  }(std::make_index_sequence<boost::pfr::tuple_size_v<Row>>{});
}

// A projection row as its model reads those columns: '' as none in a none_as_empty field.
template <class Model, class Row>
void projection_none_as_empty(Row& row) {
  [&]<std::size_t... J>(std::index_sequence<J...>) {
    auto none = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
      constexpr std::size_t column = projected_column<Model, Row, I>();
      if constexpr (column < model_info<Model>::size && model_info<Model>::empty_is_none[column]) {
        auto& value = boost::pfr::get<I>(row);
        if (value && value->empty()) value.reset();
      }
    };
    (none(std::integral_constant<std::size_t, J>{}), ...);
  }(std::make_index_sequence<boost::pfr::tuple_size_v<Row>>{});
}

template <class Model, class Row>
void read_projection(sqlite3_stmt* stmt, Row& row) {
  read_row(stmt, row);
  projection_none_as_empty<Model>(row);
}

template <class Model, class Row, std::size_t J>
consteval bool check_projection_field() {
  constexpr std::size_t column = projected_column<Model, Row, J>();
  static_assert(column < model_info<Model>::size,
                "cpm: a field of the projection row names no field of the model (the model, the row type "
                "and the field's index are the template arguments named here)");
  if constexpr (column < model_info<Model>::size) {
    static_assert(std::is_same_v<pfr_field_t<Row, J>, typename model_info<Model>::template field_type<column>>,
                  "cpm: a field of the projection row must have the type of the model field it names "
                  "(the model, the row type and the field's index are the template arguments named here)");
  }
  return true;  // the static_asserts above are the one error
}

template <class T, class Row>
consteval bool check_projection() {
  if constexpr (std::is_same_v<T, Row>) {
    return true;
  } else {
    static_assert(check_query_row<Row>() || true);
    return []<std::size_t... J>(std::index_sequence<J...>) {
      return (check_projection_field<T, Row, J>() && ...);
    }(std::make_index_sequence<boost::pfr::tuple_size_v<Row>>{});
  }
}

template <class T, class Row, class Out>
constexpr void projected_columns(Out& out) {
  if constexpr (std::is_same_v<T, Row>) {
    column_list<T>(out);
  } else {
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      std::size_t k = 0;
      // (A field that names no column, which check_projection reports, is left out.)
      constexpr std::size_t size = model_info<T>::size;
      constexpr std::array<std::size_t, sizeof...(J)> columns{projected_column<T, Row, J>()...};
      for (std::size_t c : columns) {
        if (c >= size) continue;
        out << (k++ ? ", " : "");
        identifier(out, model_info<T>::columns[c]);
      }
    }(std::make_index_sequence<boost::pfr::tuple_size_v<Row>>{});
  }
}

// What a typed query reads from: one model's table (table_source), or two joined
// (join_source, cpm/query/join.hpp). A source writes its FROM clause, its columns and its
// default order, and says which models' fields its predicates may name.
template <class T>
struct table_source {
  using row = T;
  static constexpr bool qualified = false;  // columns written without their table
  static constexpr bool single = true;      // one table: UPDATE, DELETE and projections apply
  template <class M>
  static constexpr bool has = std::is_same_v<M, T>;

  template <class Out>
  static constexpr void from(Out& out) {
    identifier(out, model_info<T>::table);
  }
  template <class Out>
  static constexpr void columns(Out& out) {
    column_list<T>(out);
  }
  template <class Out>
  static constexpr void default_order(Out& out) {
    order_by_key<T>(out);
  }
};

template <class Source, class Where, class Out>
constexpr void where_clause(Out& out, unsigned code) {
  if constexpr (!std::is_same_v<Where, no_predicate>) {
    sql_context cx{code, 0, Source::qualified};
    out << " WHERE ";
    Where::write(out, cx);
  }
}

template <class Source, class... Terms, class Out>
constexpr void order_clause(Out& out, order_list<Terms...>*) {
  if constexpr (sizeof...(Terms) == 0) {
    Source::default_order(out);
  } else {
    out << " ORDER BY ";
    std::size_t k = 0;
    sql_context cx{0, 0, Source::qualified};
    ((out << (k++ ? ", " : ""), Terms::write(out, cx)), ...);
  }
}

// The statements of a query shape, one per IN-list variant `Code` (on PostgreSQL, one: an IN
// list is one array parameter).
template <class Q, unsigned Code, dialect Lang = dialect::sqlite>
inline constexpr auto select_text = make_sql<Lang>([](auto& out) {
  using S = typename Q::source;
  out << "SELECT ";
  if constexpr (std::is_same_v<typename Q::row, typename S::row>) {
    S::columns(out);
  } else {
    projected_columns<typename S::row, typename Q::row>(out);
  }
  out << " FROM ";
  S::from(out);
  where_clause<S, typename Q::predicate>(out, Code);
  order_clause<S>(out, static_cast<typename Q::order*>(nullptr));
  if constexpr (Q::has_limit) {
    out << " LIMIT ";
    placeholder(out);
  }
  if constexpr (Q::has_offset) {
    out << (Q::has_limit || is_postgres(out) ? " OFFSET " : " LIMIT -1 OFFSET ");
    placeholder(out);
  }
});

template <class Q, unsigned Code, dialect Lang = dialect::sqlite>
inline constexpr auto count_text = make_sql<Lang>([](auto& out) {
  out << "SELECT count(*) FROM ";
  Q::source::from(out);
  where_clause<typename Q::source, typename Q::predicate>(out, Code);
});

template <class Q, unsigned Code, dialect Lang = dialect::sqlite>
inline constexpr auto exists_text = make_sql<Lang>([](auto& out) {
  out << "SELECT EXISTS (SELECT 1 FROM ";
  Q::source::from(out);
  where_clause<typename Q::source, typename Q::predicate>(out, Code);
  out << ")";
});

template <class Q, unsigned Code, dialect Lang = dialect::sqlite>
inline constexpr auto delete_text = make_sql<Lang>([](auto& out) {
  out << "DELETE FROM ";
  Q::source::from(out);
  where_clause<typename Q::source, typename Q::predicate>(out, Code);
});

template <class Q, unsigned Code, dialect Lang, class... Sets>
inline constexpr auto update_text = make_sql<Lang>([](auto& out) {
  out << "UPDATE ";
  Q::source::from(out);
  out << " SET ";
  std::size_t k = 0;
  ((out << (k++ ? ", " : ""), Sets::write(out)), ...);
  where_clause<typename Q::source, typename Q::predicate>(out, Code);
});

// The number of statement variants of a predicate: one per size class of each IN list it holds.
constexpr unsigned variants(unsigned in_lists) {
  unsigned n = 1;
  for (unsigned i = 0; i < in_lists; ++i) n *= in_list_classes;
  return n;
}

using lease_fn = statement_lease (*)(connection&);

template <template <unsigned> class Text, unsigned... C>
constexpr std::array<lease_fn, sizeof...(C)> lease_table(std::integer_sequence<unsigned, C...>) {
  return {&lease<Text<C>::value>...};
}

// Leases the statement of variant `code` among Count made by Text<C>: a table of leases, not a
// recursion (and no list of variants in the function's mangled name).
template <template <unsigned> class Text, unsigned Count>
statement_lease lease_variant(connection& db, unsigned code) {
  static constexpr std::array<lease_fn, Count> table = lease_table<Text>(std::make_integer_sequence<unsigned, Count>{});
  return table[code](db);
}

template <class Q>
struct texts {
  template <unsigned C>
  struct select {
    static constexpr const auto& value = select_text<Q, C>;
  };
  template <unsigned C>
  struct count {
    static constexpr const auto& value = count_text<Q, C>;
  };
  template <unsigned C>
  struct exists {
    static constexpr const auto& value = exists_text<Q, C>;
  };
  template <unsigned C>
  struct remove {
    static constexpr const auto& value = delete_text<Q, C>;
  };
  template <class... Sets>
  struct update {
    template <unsigned C>
    struct of {
      static constexpr const auto& value = update_text<Q, C, dialect::sqlite, Sets...>;
    };
  };
};

// How a typed query runs on a connection of another backend than SQLite's: specialised by
// that backend (cpm/postgres/typed_query.hpp, for cpm::pg::connection), with rows, first,
// count, exists, remove and update taking the query and the connection.
template <class Db>
struct typed_backend;

template <class Db>
concept other_backend = requires { typename typed_backend<Db>::connection_type; };

// Whether a source reads the fields of Model: the query's model, or one of a join's two.
template <class Source, class Model>
consteval bool check_source_model() {
  if constexpr (Source::single) {
    return check_same_model<typename Source::row, Model>();
  } else {
    static_assert(Source::template has<Model>,
                  "cpm: a join's predicate or order names a field of neither joined model (the join and the "
                  "model are the template arguments named here)");
    return true;  // the static_assert above is the one error
  }
}

}  // namespace detail

// ORDER BY terms: cpm::asc<&item::name>, cpm::desc<&item::rank>.
template <auto Member>
inline constexpr detail::order_term<Member, false> asc{};
template <auto Member>
inline constexpr detail::order_term<Member, true> desc{};

// A typed query over a source (one model's table, or a join of two): rows of type Row (the
// source's rows, or a projection), those for which Where holds, in the order Order, with a
// LIMIT and an OFFSET when HasLimit and HasOffset. Made by cpm::from<T> (or cpm::join) and
// its member functions; each returns a new query.
template <class Source, class Row, class Where, class Order, bool HasLimit, bool HasOffset>
class typed_query {
 public:
  using source = Source;
  using row = Row;
  using predicate = Where;
  using order = Order;
  static constexpr bool has_limit = HasLimit;
  static constexpr bool has_offset = HasOffset;

  static_assert(Where::in_lists <= detail::max_in_lists, "cpm: a typed query may hold at most two IN lists");

  // The SELECT, COUNT, EXISTS and DELETE of this shape (IN lists at their first size, 8).
  static constexpr std::string_view sql = detail::select_text<typed_query, 0>.view();
  static constexpr std::string_view count_sql = detail::count_text<typed_query, 0>.view();
  static constexpr std::string_view exists_sql = detail::exists_text<typed_query, 0>.view();
  static constexpr std::string_view remove_sql = detail::delete_text<typed_query, 0>.view();
  // The UPDATE that sets the fields Members (in this order).
  template <auto... Members>
  static constexpr std::string_view update_sql = detail::update_text<typed_query, 0, detail::dialect::sqlite, assignment<Members>...>.view();

  typed_query() = default;
  typed_query(Where where, std::int64_t limit, std::int64_t offset)
      : where_(std::move(where)), limit_(limit), offset_(offset) {}

  // Rows for which `p` holds (and, when a predicate is there already, it too).
  template <detail::predicate P>
  [[nodiscard]] auto where(P p) const {
    static_assert(detail::check_source_model<Source, typename P::model>());
    if constexpr (std::is_same_v<Where, detail::no_predicate>) {
      return typed_query<Source, Row, P, Order, HasLimit, HasOffset>(std::move(p), limit_, offset_);
    } else {
      using both = detail::junction<Where, P, true>;
      return typed_query<Source, Row, both, Order, HasLimit, HasOffset>(both{{}, where_, std::move(p)}, limit_, offset_);
    }
  }

  // ORDER BY the terms, after any given before.
  template <auto... Members, bool... Descending>
  [[nodiscard]] auto order_by(detail::order_term<Members, Descending>...) const {
    static_assert((detail::check_source_model<Source, detail::member_class_t<Members>>() && ...));
    return append_order(static_cast<Order*>(nullptr), static_cast<detail::order_list<detail::order_term<Members, Descending>...>*>(nullptr));
  }

  // At most `n` rows.
  [[nodiscard]] typed_query<Source, Row, Where, Order, true, HasOffset> limit(std::int64_t n) const {
    return {where_, n, offset_};
  }
  // The rows after the first `n`.
  [[nodiscard]] typed_query<Source, Row, Where, Order, HasLimit, true> offset(std::int64_t n) const {
    return {where_, limit_, n};
  }

  // Only the columns the fields of `Projection` name, read into it: an aggregate whose fields
  // are named (and typed) like fields of the model.
  template <class Projection>
  [[nodiscard]] typed_query<Source, Projection, Where, Order, HasLimit, HasOffset> select() const {
    static_assert(Source::single, "cpm: a projection reads from one model (not a join)");
    static_assert(detail::check_projection<typename Source::row, Projection>());
    return {where_, limit_, offset_};
  }

  // On another backend's connection (cpm::pg::connection, with <cpm/postgres.hpp>): the same
  // operations, in that backend's SQL (cpm::pg::typed_sql) and with its result types.
  template <detail::other_backend Db>
  [[nodiscard]] auto rows(Db& db) const {
    return detail::typed_backend<Db>::rows(*this, db);
  }
  template <detail::other_backend Db>
  [[nodiscard]] std::optional<Row> first(Db& db) const {
    return detail::typed_backend<Db>::first(*this, db);
  }
  template <detail::other_backend Db>
  [[nodiscard]] std::int64_t count(Db& db) const {
    static_assert(!HasLimit && !HasOffset, "cpm: count() counts every row the predicate holds for: drop limit and offset");
    return detail::typed_backend<Db>::count(*this, db);
  }
  template <detail::other_backend Db>
  [[nodiscard]] bool exists(Db& db) const {
    static_assert(!HasLimit && !HasOffset, "cpm: exists() looks at every row: drop limit and offset");
    return detail::typed_backend<Db>::exists(*this, db);
  }
  template <detail::other_backend Db>
  std::int64_t remove(Db& db) const {
    static_assert(Source::single, "cpm: remove() deletes from one model (not a join)");
    static_assert(!HasLimit && !HasOffset && std::is_same_v<Order, detail::order_list<>>,
                  "cpm: remove() deletes every row the predicate holds for: drop order_by, limit and offset");
    return detail::typed_backend<Db>::remove(*this, db);
  }
  template <detail::other_backend Db, auto... Members>
  std::int64_t update(Db& db, const assignment<Members>&... sets) const {
    static_assert(sizeof...(Members) > 0, "cpm: update needs at least one cpm::set<&T::field>(value)");
    static_assert(Source::single, "cpm: update() changes one model (not a join)");
    static_assert(!HasLimit && !HasOffset && std::is_same_v<Order, detail::order_list<>>,
                  "cpm: update() changes every row the predicate holds for: drop order_by, limit and offset");
    static_assert((detail::check_source_model<Source, detail::member_class_t<Members>>() && ...));
    return detail::typed_backend<Db>::update(*this, db, sets...);
  }

  // The rows, lazily: the values are copied into the statement, so the query may die first.
  [[nodiscard]] cpm::rows<Row> rows(connection& db) const {
    auto stmt = lease_bound<false, detail::texts<typed_query>::template select>(db);
    int index = stmt.second;
    if constexpr (HasLimit) stmt.first.bind_at(index++, limit_);
    if constexpr (HasOffset) stmt.first.bind_at(index++, offset_);
    if constexpr (Source::single && !std::is_same_v<Row, typename Source::row>) {
      if constexpr (detail::projection_reads_none_as_empty<typename Source::row, Row>())
        return cpm::rows<Row>(std::move(stmt.first), &detail::read_projection<typename Source::row, Row>);
    }
    return cpm::rows<Row>(std::move(stmt.first));
  }

  // The first row, if any.
  [[nodiscard]] std::optional<Row> first(connection& db) const { return rows(db).first(); }

  // How many rows the predicate holds for (limit and offset do not apply).
  [[nodiscard]] std::int64_t count(connection& db) const {
    static_assert(!HasLimit && !HasOffset, "cpm: count() counts every row the predicate holds for: drop limit and offset");
    auto stmt = lease_bound<true, detail::texts<typed_query>::template count>(db);
    stmt.first.step();
    return stmt.first.template column<std::int64_t>(0);
  }

  // Whether the predicate holds for any row.
  [[nodiscard]] bool exists(connection& db) const {
    static_assert(!HasLimit && !HasOffset, "cpm: exists() looks at every row: drop limit and offset");
    auto stmt = lease_bound<true, detail::texts<typed_query>::template exists>(db);
    stmt.first.step();
    return stmt.first.template column<std::int64_t>(0) != 0;
  }

  // Deletes the rows the predicate holds for (every row without one); returns how many.
  std::int64_t remove(connection& db) const {
    static_assert(Source::single, "cpm: remove() deletes from one model (not a join)");
    static_assert(!HasLimit && !HasOffset && std::is_same_v<Order, detail::order_list<>>,
                  "cpm: remove() deletes every row the predicate holds for: drop order_by, limit and offset");
    auto stmt = lease_bound<true, detail::texts<typed_query>::template remove>(db);
    return detail::run_update(db, stmt.first);
  }

  // Sets the fields `sets` name (cpm::set<&T::field>(value), ...) in the rows the predicate
  // holds for (every row without one); returns how many rows changed.
  template <auto... Members>
  std::int64_t update(connection& db, const assignment<Members>&... sets) const {
    static_assert(sizeof...(Members) > 0, "cpm: update needs at least one cpm::set<&T::field>(value)");
    static_assert(Source::single, "cpm: update() changes one model (not a join)");
    static_assert(!HasLimit && !HasOffset && std::is_same_v<Order, detail::order_list<>>,
                  "cpm: update() changes every row the predicate holds for: drop order_by, limit and offset");
    static_assert((detail::check_source_model<Source, detail::member_class_t<Members>>() && ...));
    unsigned code = 0;
    unsigned place = 1;
    where_.choose(code, place);
    auto stmt = detail::lease_variant<detail::texts<typed_query>::template update<assignment<Members>...>::template of,
                                      detail::variants(Where::in_lists)>(db, code);
    int index = 1;
    (sets.bind(stmt, index), ...);
    where_.template bind<true>(stmt, index);
    return detail::run_update(db, stmt);
  }

 private:
  template <class... Old, class... New>
  auto append_order(detail::order_list<Old...>*, detail::order_list<New...>*) const {
    return typed_query<Source, Row, Where, detail::order_list<Old..., New...>, HasLimit, HasOffset>(where_, limit_,
                                                                                                   offset_);
  }

  // The statement of this shape for the IN lists' sizes, with the predicate's values bound;
  // and the next parameter's index.
  template <bool Borrow, template <unsigned> class Text>
  std::pair<statement_lease, int> lease_bound(connection& db) const {
    unsigned code = 0;
    unsigned place = 1;
    where_.choose(code, place);
    auto stmt = detail::lease_variant<Text, detail::variants(Where::in_lists)>(db, code);
    int index = 1;
    where_.template bind<Borrow>(stmt, index);
    return {std::move(stmt), index};
  }

  template <class Db>
  friend struct detail::typed_backend;

  Where where_{};
  std::int64_t limit_ = 0;
  std::int64_t offset_ = 0;
};

// The query of every row of T, to refine: cpm::from<item>.where(...).order_by(...).limit(n).
template <model T>
inline constexpr typed_query<detail::table_source<T>, T, detail::no_predicate, detail::order_list<>, false, false> from{};

}  // namespace cpm
