// cpm: a connection to a PostgreSQL server, through libpq, with its prepared statements.
//
//   auto db = cpm::pg::connection::open("host=/tmp/pg port=5432 dbname=app");  // or a URI
//   db.exec("CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT)");
//   db.execute("INSERT INTO t (name) VALUES ($1)", std::string("ada"));      // rows affected
//   std::vector<row> all = db.query<row>("SELECT id, name FROM t WHERE id > $1", 0);
//   row r = db.query_one<row>("SELECT id, name FROM t WHERE id = $1", 1);
//   std::int64_t n = db.query_one<std::int64_t>("SELECT count(*) FROM t");
//   for (row& each : db.stream<row>("SELECT id, name FROM t")) ...          // one row at a time
//
// Statements: every statement run with parameters (execute, query, stream) is prepared once
// per connection as a named server-side statement (cpm_1, cpm_2, ...), keyed by its SQL text
// and its parameter types, and reused; prepare_count() says how many were prepared.
// Parameters are sent typed by their C++ type, and results are read in binary format
// (cpm/postgres/value.hpp). exec() runs a script of statements without parameters.
//
// Rows: a single mapped value (std::int64_t, std::string, ...), a std::tuple (by position),
// or an aggregate whose fields take the columns in order; their names must match the fields'
// names ignoring ASCII case (cpm::column_name_mismatch), or pass cpm::by_position first. A
// column count that is not the row's field count throws cpm::column_count_mismatch.
//
// Streaming: stream<Row>() reads in libpq's single-row mode, so a result of any size is
// never held in memory at once. While a stream is open, the connection runs nothing else
// (cpm::usage_error); a stream left before its end reads and discards the rest of the result.
//
// Threads: a connection, and its streams and transactions, is used by one thread at a time.
// Lifetimes: a stream or transaction keeps the connection's state alive. A moved-from
// connection is not open; using it throws cpm::usage_error. A lost connection (the server
// ended the session, the network failed) throws cpm::pg::connection_lost from then on:
// open a new one.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/postgres/errors.hpp>
#include <cpm/postgres/value.hpp>
#include <cpm/query/raw.hpp>
#include <cpm/reflect/model.hpp>
#include <cpm/sqlite/error.hpp>

#include <boost/pfr/core.hpp>
#include <fmt/core.h>
#include <libpq-fe.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cpm::pg {

namespace detail {

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

struct prepared_statement {
  std::string name;
  int parameters = 0;
};

// A prepared statement's key: its parameter types and its SQL text. Stored as one string (the
// types' byte count in 4 bytes, the types, the text); looked up from the two parts without
// building that string.
struct statement_key {
  std::string_view types;
  std::string_view sql;
};

inline statement_key split_key(const std::string& stored) noexcept {
  std::uint32_t n = 0;
  std::memcpy(&n, stored.data(), sizeof n);
  std::string_view all(stored);
  return {all.substr(sizeof n, n), all.substr(sizeof n + n)};
}

struct statement_key_hash {
  using is_transparent = void;
  std::size_t operator()(statement_key k) const noexcept {
    std::size_t h = std::hash<std::string_view>{}(k.sql);
    return h ^ (std::hash<std::string_view>{}(k.types) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
  std::size_t operator()(const std::string& stored) const noexcept { return (*this)(split_key(stored)); }
};

struct statement_key_equal {
  using is_transparent = void;
  static bool same(statement_key a, statement_key b) noexcept { return a.types == b.types && a.sql == b.sql; }
  bool operator()(const std::string& a, const std::string& b) const noexcept { return a == b; }
  bool operator()(statement_key a, const std::string& b) const noexcept { return same(a, split_key(b)); }
  bool operator()(const std::string& a, statement_key b) const noexcept { return same(split_key(a), b); }
};

// What a connection is: libpq's handle and the statements prepared on it. Shared by the
// connection, its streams and its transactions.
struct connection_state {
  PGconn* conn = nullptr;
  // By parameter types and SQL text.
  std::unordered_map<std::string, prepared_statement, statement_key_hash, statement_key_equal> statements;
  // The same statements by the address of the SQL text they were last asked for with: most
  // SQL is a compile-time constant, asked for again at the same address, and finding it so
  // skips hashing the whole text. A hit is compared with the stored key (the address may be a
  // run-time string's, whose memory now holds another text), so it is only a shortcut.
  struct known_address {
    const std::string* key;  // in `statements` (its nodes do not move)
    const prepared_statement* statement;
  };
  std::unordered_map<const char*, known_address> by_address;
  std::size_t prepares = 0;
  std::size_t names = 0;  // statement names given: cpm_1, cpm_2, ... (never reused)
  std::size_t savepoints = 0;
  bool streaming = false;  // a stream is reading a result
  std::uint64_t stream_number = 0;  // of the last stream started (each has its own)
  std::vector<std::string> notices;

  connection_state() = default;
  connection_state(const connection_state&) = delete;
  connection_state& operator=(const connection_state&) = delete;
  ~connection_state() { PQfinish(conn); }

  void require_idle() const {
    if (streaming) [[unlikely]]
      throw usage_error(
          "cpm: the connection is reading a cpm::pg::row_stream; finish or destroy the stream first (or use "
          "another connection)");
  }

  [[noreturn]] void fail(const PGresult* res, std::string_view sql) const { throw_result(conn, res, sql); }

  // Ends the stream reading now, its rest unread (the stream, when read on, says so): for the
  // end of the transaction it was started in, which must not be left open behind it.
  void cancel_stream() noexcept {
    if (!streaming) return;
    while (PGresult* r = PQgetResult(conn)) PQclear(r);
    streaming = false;
  }

  // Runs a script without parameters (simple query protocol; several statements allowed).
  void exec(std::string_view script) {
    require_idle();
    std::string text(script);
    result_ptr res(PQexec(conn, text.c_str()));
    auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY)
      fail(res.get(), script);
  }

  // The prepared statement for `sql` with parameters of `types`, prepared on first use.
  const prepared_statement& prepare(std::string_view sql, const Oid* types, int count) {
    const auto type_bytes = static_cast<std::uint32_t>(sizeof(Oid) * static_cast<std::size_t>(count));
    std::string_view type_view(count ? reinterpret_cast<const char*>(types) : "", type_bytes);
    if (auto known = by_address.find(sql.data()); known != by_address.end()) {
      statement_key k = split_key(*known->second.key);
      if (k.sql == sql && k.types == type_view) [[likely]] {
        if (known->second.statement->parameters != count) wrong_count(known->second.statement->parameters, count, sql);
        return *known->second.statement;
      }
    }
    if (auto it = statements.find(statement_key{type_view, sql}); it != statements.end()) {
      by_address.insert_or_assign(sql.data(), known_address{&it->first, &it->second});
      if (it->second.parameters != count) wrong_count(it->second.parameters, count, sql);
      return it->second;
    }
    std::string key(sizeof type_bytes, '\0');
    std::memcpy(key.data(), &type_bytes, sizeof type_bytes);
    key.append(type_view);
    key.append(sql);
    std::string name = detail::message("cpm_{}", ++names);
    std::string text(sql);
    result_ptr res(PQprepare(conn, name.c_str(), text.c_str(), count, count ? types : nullptr));
    if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) fail(res.get(), sql);
    ++prepares;
    // The parameter count the statement wants ($1..$N), so that a call with fewer values is
    // refused here, not by the server mid-protocol.
    result_ptr described(PQdescribePrepared(conn, name.c_str()));
    if (!described || PQresultStatus(described.get()) != PGRES_COMMAND_OK) fail(described.get(), sql);
    int wanted = PQnparams(described.get());
    auto added = statements.emplace(std::move(key), prepared_statement{std::move(name), wanted}).first;
    by_address.insert_or_assign(sql.data(), known_address{&added->first, &added->second});
    if (wanted != count) wrong_count(wanted, count, sql);
    return added->second;
  }

  // After `res` failed: when the server refuses the statement because the type of a column it
  // reads changed since it was prepared (SQLSTATE 0A000, "cached plan must not change result
  // type"), the statement is forgotten, so that its next use prepares it again; true then. The
  // server's copy is deallocated when the connection is outside a transaction (inside one, that
  // would fail too; it stays, unused, under its name, which is never given again).
  [[gnu::cold]] bool forget_stale(const PGresult* res, std::string_view sql) {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    if (state == nullptr || std::string_view(state) != "0A000") return false;
    bool idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
    bool found = false;
    for (auto it = statements.begin(); it != statements.end();) {
      if (split_key(it->first).sql != sql) {
        ++it;
        continue;
      }
      if (idle) result_ptr(PQexec(conn, ("DEALLOCATE " + it->second.name).c_str()));
      it = statements.erase(it);
      found = true;
    }
    if (found) by_address.clear();  // some point into what was erased
    return found;
  }

  [[noreturn, gnu::cold]] static void wrong_count(int wanted, int given, std::string_view sql) {
    throw usage_error(
        detail::message("cpm: the statement has {} parameters but {} values were given: {}", wanted, given, sql));
  }
};

inline void collect_notice(void* arg, const char* message) {
  auto* s = static_cast<connection_state*>(arg);
  if (s->notices.size() < 64) s->notices.emplace_back(trimmed(message));
}

// The parameters of one call, bound from the caller's arguments (which outlive the call).
template <std::size_t N>
struct parameter_pack {
  std::array<parameter, N> params;
  std::array<Oid, N> types{};
  std::array<const char*, N> values{};
  std::array<int, N> lengths{};
  std::array<int, N> formats{};

  template <class... Args>
  explicit parameter_pack(const Args&... args) {
    std::size_t i = 0;
    (bind(i++, args), ...);
  }

  template <class T>
  void bind(std::size_t i, const T& value) {
    using U = std::remove_cvref_t<T>;
    static_assert(bindable_value<U>,
                  "cpm: this type has no cpm::pg::value_traits<T>::bind; specialise cpm::pg::value_traits for it");
    params[i].set_index(static_cast<int>(i) + 1);
    value_traits<U>::bind(params[i], value);
    types[i] = params[i].type();
    values[i] = params[i].value();
    lengths[i] = params[i].length();
    formats[i] = params[i].format();
  }

  [[nodiscard]] const Oid* type_data() const noexcept { return N ? types.data() : nullptr; }
  [[nodiscard]] const char* const* value_data() const noexcept { return N ? values.data() : nullptr; }
  [[nodiscard]] const int* length_data() const noexcept { return N ? lengths.data() : nullptr; }
  [[nodiscard]] const int* format_data() const noexcept { return N ? formats.data() : nullptr; }
};

// ---- rows ----------------------------------------------------------------------------------

template <class T>
struct is_tuple : std::false_type {};
template <class... T>
struct is_tuple<std::tuple<T...>> : std::true_type {};

// A row read from consecutive runs of columns, part after part (a typed join's pair of rows):
// specialised with `width` and `read(res, row, column, out)` (cpm/postgres/typed_query.hpp).
template <class Row>
struct row_parts {
  static constexpr bool split = false;
};

template <class Row>
constexpr std::size_t row_width() {
  if constexpr (row_parts<Row>::split) {
    return row_parts<Row>::width;
  } else if constexpr (mapped_value<Row>) {
    return 1;
  } else if constexpr (is_tuple<Row>::value) {
    return std::tuple_size_v<Row>;
  } else {
    static_assert(std::is_aggregate_v<Row> && std::is_default_constructible_v<Row>,
                  "cpm: a row type is a mapped value, a std::tuple, or a default-constructible aggregate");
    return boost::pfr::tuple_size_v<Row>;
  }
}

// Checks a result's columns against Row (count always; names for aggregates unless ByName is
// false).
template <class Row, bool ByName>
void check_shape(const PGresult* res, std::string_view sql) {
  constexpr std::size_t width = row_width<Row>();
  auto columns = static_cast<std::size_t>(PQnfields(res));
  if (columns != width) throw column_count_mismatch(width, columns, std::string(sql));
  if constexpr (ByName && !mapped_value<Row> && !is_tuple<Row>::value && !row_parts<Row>::split) {
    for (std::size_t i = 0; i < width; ++i) {
      const char* name = PQfname(res, static_cast<int>(i));
      std::string_view actual = name ? std::string_view(name) : std::string_view();
      if (!cpm::detail::same_identifier(actual, cpm::detail::row_field_names<Row>[i]) &&
          !cpm::detail::same_identifier(actual, cpm::detail::row_column_name<Row>(i)))
        throw column_name_mismatch(i, std::string(cpm::detail::row_column_name<Row>(i)), std::string(actual),
                                   std::string(sql));
    }
  }
}

template <class T>
void read_value(const PGresult* res, int row, int column, T& out, const Oid* types = nullptr) {
  static_assert(mapped_value<T>, "cpm: this type has no cpm::pg::value_traits mapping; specialise cpm::pg::value_traits");
  value_traits<T>::read(field(res, row, column, types), out);
}

// Row `row` of `res` into `out`; `types`, when given, holds the result's column types (looked
// up once for a result of many rows).
template <class Row>
void read_row(const PGresult* res, int row, Row& out, const Oid* types = nullptr) {
  if constexpr (row_parts<Row>::split) {
    row_parts<Row>::read(res, row, out, types);
  } else if constexpr (mapped_value<Row>) {
    read_value(res, row, 0, out, types);
  } else if constexpr (is_tuple<Row>::value) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (read_value(res, row, static_cast<int>(I), std::get<I>(out), types), ...);
    }(std::make_index_sequence<std::tuple_size_v<Row>>{});
  } else {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      auto read_one = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
        auto& value = boost::pfr::get<J>(out);
        read_value(res, row, static_cast<int>(J), value, types);
        if constexpr (cpm::detail::empty_is_none<Row, J>()) {  // model_traits<Row>::none_as_empty
          if (value && value->empty()) value.reset();
        }
      };
      (read_one(std::integral_constant<std::size_t, I>{}), ...);
    }(std::make_index_sequence<boost::pfr::tuple_size_v<Row>>{});
  }
}

}  // namespace detail

// A lazy input range over the rows of one statement, read one at a time (single-row mode).
// From connection::stream. Iterate it once.
template <class Row, bool ByName = true>
class row_stream {
 public:
  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using value_type = Row;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    explicit iterator(row_stream* s) noexcept : s_(s) {}
    Row& operator*() const noexcept { return s_->row_; }
    Row* operator->() const noexcept { return &s_->row_; }
    iterator& operator++() {
      s_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.at_end(); }

   private:
    [[nodiscard]] bool at_end() const noexcept { return s_->done_; }

    row_stream* s_ = nullptr;
  };

  row_stream(std::shared_ptr<detail::connection_state> state, std::string sql)
      : state_(std::move(state)), sql_(std::move(sql)), number_(state_->stream_number) {}
  row_stream(row_stream&& other) noexcept
      : state_(std::move(other.state_)),
        sql_(std::move(other.sql_)),
        number_(other.number_),
        row_(std::move(other.row_)),
        after_read_(other.after_read_),
        started_(other.started_),
        done_(std::exchange(other.done_, true)),
        checked_(other.checked_),
        rows_(other.rows_) {}
  row_stream& operator=(row_stream&&) = delete;
  row_stream(const row_stream&) = delete;
  row_stream& operator=(const row_stream&) = delete;
  ~row_stream() {
    if (!done_) finish_quietly();
  }

  // The first row (read on the first call). Call it once.
  iterator begin() {
    if (started_) throw usage_error("cpm: a cpm::pg::row_stream is iterated once");
    started_ = true;
    next();
    return iterator(this);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  // Calls `f` on each row once it is read (a typed projection's none_as_empty fields).
  void after_read(void (*f)(Row&)) noexcept { after_read_ = f; }

  // Rows read so far.
  [[nodiscard]] std::size_t rows_read() const noexcept { return rows_; }
  // True once the result has been read to its end (or failed).
  [[nodiscard]] bool finished() const noexcept { return done_; }

 private:
  void next() {
    if (done_) return;
    if (!active()) [[unlikely]] {
      done_ = true;
      throw usage_error("cpm: a cpm::pg::row_stream was read after the transaction it was started in ended, which "
                        "ended the stream too (its rest is unread): read a stream to its end inside its transaction: " +
                        sql_);
    }
    PGconn* conn = state_->conn;
    detail::result_ptr res(PQgetResult(conn));
    if (!res) return end_stream();
    switch (PQresultStatus(res.get())) {
      case PGRES_SINGLE_TUPLE:
        if (!checked_) {
          try {
            detail::check_shape<Row, ByName>(res.get(), sql_);
          } catch (...) {
            finish_quietly();
            throw;
          }
          checked_ = true;
        }
        try {
          detail::read_row(res.get(), 0, row_);
          if (after_read_) after_read_(row_);
        } catch (...) {
          finish_quietly();
          throw;
        }
        ++rows_;
        return;
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        // The end: libpq then answers null.
        drain();
        return end_stream();
      default: {
        // The server's error: read up to the end of this query, then throw it.
        auto failed = std::move(res);
        drain();
        end_stream();
        (void)state_->forget_stale(failed.get(), sql_);  // prepared again on its next use
        detail::throw_result(conn, failed.get(), sql_);
      }
    }
  }

  // Whether this stream is the one the connection is reading (not ended by its transaction).
  [[nodiscard]] bool active() const noexcept { return state_->streaming && state_->stream_number == number_; }
  void drain() noexcept {
    if (!active()) return;
    while (PGresult* r = PQgetResult(state_->conn)) PQclear(r);
  }
  void end_stream() noexcept {
    done_ = true;
    if (active()) state_->streaming = false;
  }
  void finish_quietly() noexcept {
    drain();
    end_stream();
  }

  std::shared_ptr<detail::connection_state> state_;
  std::string sql_;
  std::uint64_t number_ = 0;
  Row row_{};
  void (*after_read_)(Row&) = nullptr;
  bool started_ = false;
  bool done_ = false;
  bool checked_ = false;
  std::size_t rows_ = 0;
};

class connection {
 public:
  // Connects with a libpq connection string ("host=... port=... dbname=...") or URI
  // ("postgresql://user@host:port/db"). Throws cpm::pg::connect_error.
  static connection open(const std::string& conninfo) { return connection(conninfo); }

  connection() = default;
  connection(connection&&) noexcept = default;
  connection& operator=(connection&&) noexcept = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() = default;

  [[nodiscard]] bool is_open() const noexcept { return static_cast<bool>(state_); }
  // True while the connection to the server is up (false after the session was ended).
  [[nodiscard]] bool is_healthy() const noexcept { return state_ && PQstatus(state_->conn) == CONNECTION_OK; }
  // Closes the connection now (streams and transactions made from it keep it open until they end).
  void close() noexcept { state_.reset(); }

  // Runs a script of one or more statements, without parameters and ignoring rows.
  void exec(std::string_view script) { state().exec(script); }

  // Runs one statement with parameters $1..$N; returns the rows it inserted, updated or
  // deleted (0 for other statements).
  template <class... Args>
  std::int64_t execute(std::string_view sql, const Args&... args) {
    auto res = run(sql, args...);
    const char* n = PQcmdTuples(res.get());
    std::int64_t count = 0;
    for (; n && *n >= '0' && *n <= '9'; ++n) count = count * 10 + (*n - '0');
    return count;
  }

  // Every row of the result, read at once.
  template <class Row, class... Args>
  std::vector<Row> query(std::string_view sql, const Args&... args) {
    return collect<Row, true>(sql, args...);
  }
  template <class Row, class... Args>
  std::vector<Row> query(by_position_t, std::string_view sql, const Args&... args) {
    return collect<Row, false>(sql, args...);
  }

  // The only row: cpm::not_found when there is none, cpm::usage_error when there are more.
  template <class Row, class... Args>
  Row query_one(std::string_view sql, const Args&... args) {
    return one<Row, true>(sql, args...);
  }
  template <class Row, class... Args>
  Row query_one(by_position_t, std::string_view sql, const Args&... args) {
    return one<Row, false>(sql, args...);
  }

  // The row if there is one; cpm::usage_error when there are more.
  template <class Row, class... Args>
  std::optional<Row> query_optional(std::string_view sql, const Args&... args) {
    return optional<Row, true>(sql, args...);
  }
  template <class Row, class... Args>
  std::optional<Row> query_optional(by_position_t, std::string_view sql, const Args&... args) {
    return optional<Row, false>(sql, args...);
  }

  // The rows one at a time, never all in memory: a lazy input range (see the top of this file).
  template <class Row, class... Args>
  row_stream<Row, true> stream(std::string_view sql, const Args&... args) {
    return start_stream<Row, true>(sql, args...);
  }
  template <class Row, class... Args>
  row_stream<Row, false> stream(by_position_t, std::string_view sql, const Args&... args) {
    return start_stream<Row, false>(sql, args...);
  }

  // How many statements this connection has prepared on the server.
  [[nodiscard]] std::size_t prepare_count() { return state().prepares; }
  // How many prepared statements it holds now.
  [[nodiscard]] std::size_t statement_count() { return state().statements.size(); }
  // A name no other savepoint of this connection uses.
  [[nodiscard]] std::string next_savepoint_name() { return detail::message("cpm_sp_{}", ++state().savepoints); }
  // The server's process id for this session (pg_backend_pid()).
  [[nodiscard]] int backend_pid() { return PQbackendPID(state().conn); }
  // The server's version, as 150004 for 15.4.
  [[nodiscard]] int server_version() { return PQserverVersion(state().conn); }
  // True inside a transaction block (also when it failed and awaits its rollback).
  [[nodiscard]] bool in_transaction() {
    auto s = PQtransactionStatus(state().conn);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
  }
  // The server's NOTICE and WARNING messages since the last call (at most 64 kept).
  [[nodiscard]] std::vector<std::string> take_notices() { return std::exchange(state().notices, {}); }

  [[nodiscard]] PGconn* native() { return state().conn; }
  // The state shared with streams and transactions.
  [[nodiscard]] std::shared_ptr<detail::connection_state> share() {
    state();
    return state_;
  }

 private:
  explicit connection(const std::string& conninfo) : state_(std::make_shared<detail::connection_state>()) {
    auto& s = *state_;
    s.conn = PQconnectdb(conninfo.c_str());
    if (s.conn == nullptr) throw connect_error(error_fields{{}, "cpm: libpq could not allocate a connection", {}, {}, {}, {}, {}, {}, {}});
    if (PQstatus(s.conn) != CONNECTION_OK) fail_connect("cannot connect to PostgreSQL");
    PQsetNoticeProcessor(s.conn, detail::collect_notice, &s);
    if (PQsetClientEncoding(s.conn, "UTF8") != 0) fail_connect("cannot set the client encoding to UTF8");
    // Time points are UTC. A TIMESTAMP (without time zone) column stores the TIMESTAMPTZ cpm binds
    // in the session's TimeZone and reads back as UTC: the two agree only when that zone is UTC,
    // which a server, database, role or PGTZ setting may have made otherwise.
    if (const char* zone = PQparameterStatus(s.conn, "TimeZone");
        zone == nullptr || (std::string_view(zone) != "UTC" && std::string_view(zone) != "Etc/UTC")) {
      PGresult* set = PQexec(s.conn, "SET TimeZone TO 'UTC'");
      bool ok = PQresultStatus(set) == PGRES_COMMAND_OK;
      PQclear(set);
      if (!ok) fail_connect("cannot set the session's TimeZone to UTC");
    }
    const char* datetimes = PQparameterStatus(s.conn, "integer_datetimes");
    if (datetimes == nullptr || std::string_view(datetimes) != "on")
      fail_connect("the server does not store timestamps as integers (integer_datetimes is off)");
  }

  [[noreturn]] void fail_connect(std::string_view what) {
    error_fields f;
    f.message = detail::message("cpm: {}: {}", what, detail::trimmed(PQerrorMessage(state_->conn)));
    // The connection string may hold a password: name only where it went.
    const char* host = PQhost(state_->conn);
    const char* port = PQport(state_->conn);
    const char* db = PQdb(state_->conn);
    f.detail = detail::message("host={} port={} dbname={}", host ? host : "", port ? port : "", db ? db : "");
    throw connect_error(std::move(f));
  }

  detail::connection_state& state() const {
    if (!state_) [[unlikely]]
      throw usage_error("cpm: the PostgreSQL connection is not open (it was moved from or closed)");
    return *state_;
  }

  template <class... Args>
  detail::result_ptr run(std::string_view sql, const Args&... args) {
    auto& s = state();
    s.require_idle();
    constexpr int n = static_cast<int>(sizeof...(Args));
    detail::parameter_pack<sizeof...(Args)> pack(args...);
    auto execute = [&] {
      const auto& stmt = s.prepare(sql, pack.type_data(), n);
      return detail::result_ptr(PQexecPrepared(s.conn, stmt.name.c_str(), n, pack.value_data(), pack.length_data(),
                                               pack.format_data(), 1));
    };
    auto failed = [](const detail::result_ptr& r) {
      auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
      return status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
    };
    detail::result_ptr res = execute();
    if (failed(res)) [[unlikely]] {
      // A statement prepared before a column it reads changed type: prepared again and run once
      // more, when no transaction was aborted by the failure (inside one, the caller retries).
      if (s.forget_stale(res.get(), sql) && PQtransactionStatus(s.conn) == PQTRANS_IDLE) res = execute();
      if (failed(res)) s.fail(res.get(), sql);
    }
    return res;
  }

  template <class Row, bool ByName, class... Args>
  std::vector<Row> collect(std::string_view sql, const Args&... args) {
    auto res = run(sql, args...);
    detail::check_shape<Row, ByName>(res.get(), sql);
    int count = PQntuples(res.get());
    std::vector<Row> out(static_cast<std::size_t>(count));
    std::array<Oid, detail::row_width<Row>()> types{};  // the shape check made the width match
    for (std::size_t c = 0; c < types.size(); ++c) types[c] = PQftype(res.get(), static_cast<int>(c));
    for (int i = 0; i < count; ++i) detail::read_row(res.get(), i, out[static_cast<std::size_t>(i)], types.data());
    return out;
  }

  template <class Row, bool ByName, class... Args>
  std::optional<Row> optional(std::string_view sql, const Args&... args) {
    auto res = run(sql, args...);
    detail::check_shape<Row, ByName>(res.get(), sql);
    int count = PQntuples(res.get());
    if (count > 1) throw usage_error(detail::message("cpm: the query returned {} rows, not at most one: {}", count, sql));
    if (count == 0) return std::nullopt;
    std::optional<Row> out(std::in_place);
    detail::read_row(res.get(), 0, *out);
    return out;
  }

  template <class Row, bool ByName, class... Args>
  Row one(std::string_view sql, const Args&... args) {
    auto row = optional<Row, ByName>(sql, args...);
    if (!row) throw not_found(detail::message("cpm: the query returned no row: {}", sql));
    return std::move(*row);
  }

  template <class Row, bool ByName, class... Args>
  row_stream<Row, ByName> start_stream(std::string_view sql, const Args&... args) {
    auto& s = state();
    s.require_idle();
    constexpr int n = static_cast<int>(sizeof...(Args));
    detail::parameter_pack<sizeof...(Args)> pack(args...);
    const auto& stmt = s.prepare(sql, pack.type_data(), n);
    if (!PQsendQueryPrepared(s.conn, stmt.name.c_str(), n, pack.value_data(), pack.length_data(), pack.format_data(), 1))
      s.fail(nullptr, sql);
    if (!PQsetSingleRowMode(s.conn)) {
      while (PGresult* r = PQgetResult(s.conn)) PQclear(r);
      throw usage_error(detail::message("cpm: libpq refused single-row mode for: {}", sql));
    }
    s.streaming = true;
    ++s.stream_number;
    return row_stream<Row, ByName>(state_, std::string(sql));
  }

  std::shared_ptr<detail::connection_state> state_;
};

}  // namespace cpm::pg
