// cpm: the value mapping between C++ types and SQLite values.
//
// One customisation point, cpm::value_traits<T>, with two static functions:
//
//   static void bind(cpm::parameter p, const T& value);   // put `value` into a parameter
//   static void read(cpm::field f, T& out);               // read a result column into `out`
//
// cpm maps all integer widths (range-checked on read), bool, float and double, std::string,
// std::string_view and const char* (bind only), blobs (std::vector<std::byte>, and
// std::span<const std::byte> for binding), std::optional<T> for NULL, std::chrono::sys_time
// (text like CURRENT_TIMESTAMP) and enums (by cpm::enum_names<E>, else the underlying integer).
// Reads never coerce: each type accepts the storage classes listed under "what each type
// reads" below, and anything else throws a cpm::value_error.
// Specialise value_traits<T> for your own types; cpm::converted_value helps when a type is
// stored as another mapped type.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/sqlite/detail/enum_probe.hpp>
#include <cpm/sqlite/detail/timestamp.hpp>
#include <cpm/sqlite/error.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpm {

// One parameter of a prepared statement, handed to value_traits<T>::bind.
//
// text() and blob() give SQLite its own copy of the bytes, so a value_traits may bind a
// string it builds (`p.text("tag:" + t.name)`). text_ref() and blob_ref() are for bytes that
// live inside the value being bound (std::string, std::vector<std::byte>, ...): they skip the
// copy when the binder knows that value outlives the statement's run (cpm's one-shot
// operations bind the caller's objects this way), and copy otherwise.
class parameter {
 public:
  parameter(sqlite3_stmt* stmt, int index, bool borrow = false) noexcept
      : stmt_(stmt), index_(index), borrow_(borrow) {}

  void null() const { check(sqlite3_bind_null(stmt_, index_)); }
  void integer(std::int64_t v) const { check(sqlite3_bind_int64(stmt_, index_, v)); }
  void real(double v) const { check(sqlite3_bind_double(stmt_, index_, v)); }
  void text(std::string_view v) const { bind_text(v, SQLITE_TRANSIENT); }
  void blob(std::span<const std::byte> v) const { bind_blob(v, SQLITE_TRANSIENT); }
  void text_ref(std::string_view v) const { bind_text(v, lifetime()); }
  void blob_ref(std::span<const std::byte> v) const { bind_blob(v, lifetime()); }

  [[nodiscard]] int index() const noexcept { return index_; }
  [[nodiscard]] sqlite3_stmt* native() const noexcept { return stmt_; }
  // True when text_ref() and blob_ref() bind without a copy.
  [[nodiscard]] bool borrows() const noexcept { return borrow_; }
  [[nodiscard]] std::string name() const { return detail::message("parameter {}", index_); }

  // Throws cpm::value_error naming this parameter.
  [[noreturn]] void fail(value_error::kind k, const std::string& detail) const {
    const char* sql = sqlite3_sql(stmt_);
    throw value_error(k, name(), detail + (sql ? std::string(" in: ") + sql : std::string()));
  }

 private:
  [[nodiscard]] sqlite3_destructor_type lifetime() const noexcept {
    return borrow_ ? SQLITE_STATIC : SQLITE_TRANSIENT;
  }
  void bind_text(std::string_view v, sqlite3_destructor_type keep) const {
    // A null data pointer would bind NULL; an empty string must stay an empty string.
    const char* data = v.data() ? v.data() : "";
    check(sqlite3_bind_text64(stmt_, index_, data, v.size(), keep, SQLITE_UTF8));
  }
  void bind_blob(std::span<const std::byte> v, sqlite3_destructor_type keep) const {
    if (v.empty()) {
      check(sqlite3_bind_zeroblob(stmt_, index_, 0));
    } else {
      check(sqlite3_bind_blob64(stmt_, index_, v.data(), v.size(), keep));
    }
  }
  void check(int rc) const {
    if (rc != SQLITE_OK) detail::throw_sqlite(sqlite3_db_handle(stmt_), rc, sqlite3_sql(stmt_));
  }

  sqlite3_stmt* stmt_;
  int index_;
  bool borrow_;
};

namespace detail {
// Where a result column is: statement and index (passed in two registers).
struct column_at {
  sqlite3_stmt* stmt;
  int index;
};
}  // namespace detail

// One column of the current result row, handed to value_traits<T>::read.
//
// integer(), real(), text() and blob() return the value as SQLite converts it (TEXT '12abc'
// as integer() is 12); only NULL throws. cpm's own value_traits look at type() first and read
// a value only from the storage classes that hold it without loss; a value_traits of your own
// can do the same, and call mismatch() for the rest.
//
// A field reads the column through its sqlite3_value (value(), asked for once, when the field
// is made), with the sqlite3_value_* functions: they skip the per-call bookkeeping of
// sqlite3_column_*. That value is what SQLite calls "unprotected", which is safe under cpm's
// contract that a connection is used by one thread at a time (connection.hpp); it is valid
// until the statement is stepped, reset or finalized.
//
// The error paths are out of line and take only where the column is (at(): two registers),
// and read it again there; so on the common path a field lives in registers, and a read costs
// its sqlite3 calls and a compare.
class field {
 public:
  field(sqlite3_stmt* stmt, int index) noexcept
      : stmt_(stmt), value_(sqlite3_column_value(stmt, index)), index_(index) {}
  explicit field(detail::column_at at) noexcept : field(at.stmt, at.index) {}

  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL: the column's type as
  // stepped (asked once; a std::optional<T> and then T's read may both want it).
  [[nodiscard]] int type() const noexcept {
    if (type_ < 0) type_ = sqlite3_value_type(value_);
    return type_;
  }
  [[nodiscard]] bool is_null() const noexcept { return type() == SQLITE_NULL; }

  // The column as an integer; NULL throws. (The storage class is only asked for when SQLite
  // returns 0, so the common case costs one call.)
  [[nodiscard]] std::int64_t integer() const {
    std::int64_t v = sqlite3_value_int64(value_);
    if (v == 0) require_value(at());
    return v;
  }
  [[nodiscard]] double real() const {
    double v = sqlite3_value_double(value_);
    if (v == 0.0) require_value(at());
    return v;
  }
  // The column as UTF-8 text, valid until the next step or reset; NULL throws.
  [[nodiscard]] std::string_view text() const {
    const unsigned char* p = sqlite3_value_text(value_);
    if (p == nullptr) [[unlikely]] {
      require_empty(at());
      return {};
    }
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_value_bytes(value_))};
  }
  // The column as bytes, valid until the next step or reset; NULL throws.
  [[nodiscard]] std::span<const std::byte> blob() const {
    const void* p = sqlite3_value_blob(value_);
    if (p == nullptr) [[unlikely]] {
      require_empty(at());
      return {};
    }
    return {static_cast<const std::byte*>(p), static_cast<std::size_t>(sqlite3_value_bytes(value_))};
  }

  [[nodiscard]] int index() const noexcept { return index_; }
  [[nodiscard]] sqlite3_stmt* native() const noexcept { return stmt_; }
  // Where the column is: what an out-of-line error path takes, to read it again (field(at)).
  [[nodiscard]] detail::column_at at() const noexcept { return {stmt_, index_}; }
  // The column's sqlite3_value, for the sqlite3_value_* functions. Valid until the statement
  // is stepped, reset or finalized; only for the thread using the connection (the value is
  // unprotected); never NULL.
  [[nodiscard]] sqlite3_value* value() const noexcept { return value_; }
  [[nodiscard]] std::string name() const { return name_at(at()); }

  // The stored value as read errors show it: its storage class, then the value ("INTEGER 7",
  // "REAL 3.7", "TEXT 'abc'", "BLOB x'00ff'", "NULL"); long text and blobs are shortened.
  // Call it before any read that converts the value (integer() on TEXT, ...).
  [[nodiscard]] std::string describe() const { return describe_at(at()); }

  // Throws cpm::value_error naming this column.
  [[noreturn]] void fail(value_error::kind k, const std::string& detail) const { fail_at(at(), k, detail); }

  // Throws for a value `target` (the C++ type's name) cannot be read from: null_value for NULL,
  // else type_mismatch; `accepted` says which storage classes `target` reads.
  [[noreturn]] void mismatch(std::string_view target, std::string_view accepted) const {
    mismatch_at(at(), target, accepted);
  }

 private:
  // The rare paths stay out of line, so that the reads above inline into the row readers.
  [[gnu::cold, gnu::noinline]] static std::string name_at(detail::column_at at) {
    const char* n = sqlite3_column_name(at.stmt, at.index);
    return n ? std::string(n) : detail::message("#{}", at.index);
  }
  [[gnu::cold, gnu::noinline]] static std::string describe_at(detail::column_at at) {
    const field f(at);
    switch (f.type()) {
      case SQLITE_NULL:
        return "NULL";
      case SQLITE_INTEGER:
        return detail::message("INTEGER {}", sqlite3_value_int64(f.value_));
      case SQLITE_FLOAT:
        return detail::message("REAL {}", sqlite3_value_double(f.value_));  // the shortest exact form
      case SQLITE_TEXT: {
        constexpr std::size_t shown = 64;
        std::string_view t = f.text();
        return detail::message(t.size() <= shown ? "TEXT '{}'" : "TEXT '{}...' ({} bytes)", t.substr(0, shown), t.size());
      }
      default: {
        constexpr std::size_t shown = 16;
        auto b = f.blob();
        char hex[2 * shown];
        std::size_t n = 0;
        for (; n < b.size() && n < shown; ++n) {
          auto byte = static_cast<unsigned>(b[n]);
          hex[2 * n] = "0123456789abcdef"[byte >> 4];
          hex[2 * n + 1] = "0123456789abcdef"[byte & 15];
        }
        return detail::message(b.size() <= shown ? "BLOB x'{}'" : "BLOB x'{}...' ({} bytes)", std::string_view(hex, 2 * n),
                               b.size());
      }
    }
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void fail_at(detail::column_at at, value_error::kind k,
                                                             const std::string& detail) {
    throw value_error(k, name_at(at), detail);
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void mismatch_at(detail::column_at at, std::string_view target,
                                                                 std::string_view accepted) {
    const field f(at);
    if (f.is_null())
      f.fail(value_error::kind::null_value, detail::message("NULL cannot be read as {} (use std::optional)", target));
    f.fail(value_error::kind::type_mismatch, detail::message("{} cannot be read as {} (it reads {})", f.describe(), target, accepted));
  }
  [[gnu::cold, gnu::noinline]] static void require_value(detail::column_at at) {
    if (field(at).is_null()) fail_at(at, value_error::kind::null_value, "NULL read into a type that cannot hold it (use std::optional)");
  }
  // No pointer for text or a blob: out of memory, NULL (refused), or an empty value. Memory
  // comes first: sqlite3_value_* report running out of it only by returning NULL, and leave
  // the value NULL. A sqlite3_column_* call records it on the connection (sqlite3_errcode),
  // as reading through sqlite3_column_text would have.
  [[gnu::cold, gnu::noinline]] static void require_empty(detail::column_at at) {
    (void)sqlite3_column_type(at.stmt, at.index);
    sqlite3* db = sqlite3_db_handle(at.stmt);
    if (int rc = sqlite3_errcode(db); rc == SQLITE_NOMEM) detail::throw_sqlite(db, rc, sqlite3_sql(at.stmt));
    require_value(at);
  }

  sqlite3_stmt* stmt_;
  sqlite3_value* value_;
  int index_;
  mutable int type_ = -1;
};

// The customisation point. The primary template is left undefined: a type without a
// specialisation is not mapped, and cpm refuses it at compile time.
template <class T>
struct value_traits;

// A type value_traits can both bind and read.
template <class T>
concept mapped_value = requires(const parameter& p, const field& f, const T& in, T& out) {
  value_traits<T>::bind(p, in);
  value_traits<T>::read(f, out);
};

// A type value_traits can bind (string_view, const char*, spans bind but are never read).
template <class T>
concept bindable_value = requires(const parameter& p, const T& in) { value_traits<T>::bind(p, in); };

// ---- what each type reads ------------------------------------------------------------------
//
// A read accepts only the storage classes that hold a value of the C++ type without loss, and
// throws cpm::value_error otherwise (type_mismatch; null_value for NULL; out_of_range for a
// number the type cannot hold), naming the column, the stored value and the C++ type:
//
//   integers      INTEGER in range; a REAL with an integral value in range (3.0, not 3.7)
//   bool          INTEGER 0 or 1
//   float, double INTEGER, REAL
//   std::string   TEXT
//   blob          BLOB, TEXT (its bytes)
//   time points   TEXT (a timestamp), INTEGER (Unix seconds), within the Duration's range
//   enums         with enum_names: TEXT naming an enumerator; without: INTEGER naming one
//   optional<T>   NULL, and what T reads

namespace detail {

// "std::int32_t": the name read errors give an integer type.
template <class T>
constexpr std::string_view integer_name() noexcept {
  if constexpr (std::is_same_v<T, char>) {
    return "char";
  } else {
    constexpr std::string_view names[2][4] = {{"std::uint8_t", "std::uint16_t", "std::uint32_t", "std::uint64_t"},
                                              {"std::int8_t", "std::int16_t", "std::int32_t", "std::int64_t"}};
    constexpr std::size_t width = sizeof(T) == 1 ? 0 : sizeof(T) == 2 ? 1 : sizeof(T) == 4 ? 2 : 3;
    return names[std::is_signed_v<T> ? 1 : 0][width];
  }
}

inline constexpr std::string_view integer_accepts = "INTEGER, or a REAL with an integral value";

[[noreturn, gnu::cold, gnu::noinline]] inline void integer_out_of_range(column_at at, std::string_view target,
                                                                       std::int64_t min, std::uint64_t max) {
  const field f(at);
  f.fail(value_error::kind::out_of_range, message("{} does not fit {} (range {}..{})", f.describe(), target, min, max));
}

// A column that is not INTEGER, read into an integer type holding [min, max]: a REAL with an
// integral value in range (what SQLite itself converts without loss), else the error.
[[gnu::cold, gnu::noinline]] inline std::int64_t read_integer_slow(column_at at, std::string_view target,
                                                                   std::int64_t min, std::uint64_t max) {
  const field f(at);
  if (f.type() != SQLITE_FLOAT) f.mismatch(target, integer_accepts);
  double r = sqlite3_value_double(f.value());
  if (r >= -0x1p63 && r < 0x1p63) {
    auto v = static_cast<std::int64_t>(r);
    if (static_cast<double>(v) != r)
      f.fail(value_error::kind::type_mismatch,
             message("{} cannot be read as {} without losing its fraction (it reads {})", f.describe(), target,
                     integer_accepts));
    if (v < min || (v > 0 && static_cast<std::uint64_t>(v) > max)) integer_out_of_range(at, target, min, max);
    return v;
  }
  if (r != r) f.mismatch(target, integer_accepts);  // NaN
  integer_out_of_range(at, target, min, max);
}

}  // namespace detail

// ---- integers and bool ---------------------------------------------------------------------

template <std::integral T>
  requires(!std::same_as<T, bool>)
struct value_traits<T> {
  // cpm's own: an IN list of more than 4096 of these is sent as JSON text that holds exactly
  // what bind() binds (query/where.hpp); a specialisation of your own is never sent so.
  static constexpr bool cpm_own = true;
  static void bind(const parameter& p, T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
        p.fail(value_error::kind::out_of_range, detail::message("{} does not fit SQLite's 64-bit signed integer", v));
    }
    p.integer(static_cast<std::int64_t>(v));
  }
  // INTEGER in T's range; a REAL only with an integral value in range (3.0 reads, 3.7 throws).
  [[gnu::always_inline]] static void read(const field& f, T& out) {
    std::int64_t v;
    if (f.type() == SQLITE_INTEGER) [[likely]] {
      v = sqlite3_value_int64(f.value());
      if (!fits(v)) [[unlikely]]
        detail::integer_out_of_range(f.at(), detail::integer_name<T>(), min, max);
    } else {
      v = detail::read_integer_slow(f.at(), detail::integer_name<T>(), min, max);
    }
    out = static_cast<T>(v);
  }

  static constexpr bool fits(std::int64_t v) noexcept {
    if constexpr (std::is_signed_v<T>) {
      return v >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
             v <= static_cast<std::int64_t>(std::numeric_limits<T>::max());
    } else {
      return v >= 0 && static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    }
  }

 private:
  static constexpr std::int64_t min = static_cast<std::int64_t>(std::numeric_limits<T>::min());
  static constexpr std::uint64_t max = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
};

// INTEGER 0 or 1 only.
template <>
struct value_traits<bool> {
  // cpm's own: an IN list of more than 4096 of these is sent as JSON text that holds exactly
  // what bind() binds (query/where.hpp); a specialisation of your own is never sent so.
  static constexpr bool cpm_own = true;
  static void bind(const parameter& p, bool v) { p.integer(v ? 1 : 0); }
  [[gnu::always_inline]] static void read(const field& f, bool& out) {
    if (f.type() != SQLITE_INTEGER) [[unlikely]]
      f.mismatch("bool", "INTEGER 0 or 1");
    std::int64_t v = sqlite3_value_int64(f.value());
    if (v != 0 && v != 1) [[unlikely]]
      not_0_or_1(f.at());
    out = v != 0;
  }

 private:
  [[noreturn, gnu::cold, gnu::noinline]] static void not_0_or_1(detail::column_at at) {
    const field f(at);
    f.fail(value_error::kind::out_of_range, f.describe() + " cannot be read as bool: it is not 0 or 1");
  }
};

// INTEGER or REAL.
template <std::floating_point T>
struct value_traits<T> {
  static void bind(const parameter& p, T v) { p.real(static_cast<double>(v)); }
  [[gnu::always_inline]] static void read(const field& f, T& out) {
    int type = f.type();
    if (type != SQLITE_FLOAT && type != SQLITE_INTEGER) [[unlikely]]
      f.mismatch(std::is_same_v<T, float> ? "float" : std::is_same_v<T, double> ? "double" : "long double",
                 "INTEGER, REAL");
    out = static_cast<T>(sqlite3_value_double(f.value()));
  }
};

// ---- text ----------------------------------------------------------------------------------

// TEXT only.
template <>
struct value_traits<std::string> {
  // cpm's own: an IN list of more than 4096 of these is sent as JSON text that holds exactly
  // what bind() binds (query/where.hpp); a specialisation of your own is never sent so.
  static constexpr bool cpm_own = true;
  static void bind(const parameter& p, const std::string& v) { p.text_ref(v); }
  [[gnu::always_inline]] static void read(const field& f, std::string& out) {
    if (f.type() != SQLITE_TEXT) [[unlikely]]
      f.mismatch("std::string", "TEXT");
    // clear() and append(): the same as assign() for text that cannot overlap `out`, without
    // assign's overlap handling (std::string::_M_replace), and inlined.
    const std::string_view text = f.text();
    out.clear();
    out.append(text.data(), text.size());
  }
};

template <>
struct value_traits<std::string_view> {
  static void bind(const parameter& p, std::string_view v) { p.text_ref(v); }
};

template <>
struct value_traits<const char*> {
  static void bind(const parameter& p, const char* v) {
    if (v == nullptr) p.null(); else p.text_ref(v);
  }
};

// A char array binds its text up to the first NUL (all N chars when there is none).
template <std::size_t N>
struct value_traits<char[N]> {
  static void bind(const parameter& p, const char (&v)[N]) {
    std::size_t n = 0;
    while (n < N && v[n] != '\0') ++n;
    p.text_ref(std::string_view(v, n));
  }
};

// ---- blobs ---------------------------------------------------------------------------------

// BLOB, or TEXT (whose bytes are exact).
template <>
struct value_traits<std::vector<std::byte>> {
  static void bind(const parameter& p, const std::vector<std::byte>& v) { p.blob_ref(v); }
  [[gnu::always_inline]] static void read(const field& f, std::vector<std::byte>& out) {
    int type = f.type();
    if (type != SQLITE_BLOB && type != SQLITE_TEXT) [[unlikely]]
      f.mismatch("std::vector<std::byte>", "BLOB, TEXT");
    auto bytes = f.blob();
    out.assign(bytes.begin(), bytes.end());
  }
};

template <>
struct value_traits<std::span<const std::byte>> {
  static void bind(const parameter& p, std::span<const std::byte> v) { p.blob_ref(v); }
};

// ---- NULL ----------------------------------------------------------------------------------

template <class T>
struct value_traits<std::optional<T>> {
  static void bind(const parameter& p, const std::optional<T>& v) {
    if (v) value_traits<T>::bind(p, *v); else p.null();
  }
  [[gnu::always_inline]] static void read(const field& f, std::optional<T>& out) {
    if (f.is_null()) {
      out.reset();
    } else {
      if (!out) out.emplace();
      value_traits<T>::read(f, *out);  // f has kept the type: T's read does not ask again
    }
  }
};

template <>
struct value_traits<std::nullopt_t> {
  static void bind(const parameter& p, std::nullopt_t) { p.null(); }
};

// ---- time ----------------------------------------------------------------------------------

namespace detail {

// "std::chrono::sys_seconds": the name read errors give a time point type.
template <class Duration>
constexpr std::string_view time_point_name() noexcept {
  using namespace std::chrono;
  if constexpr (std::is_same_v<Duration, seconds>) return "std::chrono::sys_seconds";
  else if constexpr (std::is_same_v<Duration, days>) return "std::chrono::sys_days";
  else if constexpr (std::is_same_v<Duration, milliseconds>) return "std::chrono::sys_time<std::chrono::milliseconds>";
  else if constexpr (std::is_same_v<Duration, microseconds>) return "std::chrono::sys_time<std::chrono::microseconds>";
  else if constexpr (std::is_same_v<Duration, nanoseconds>) return "std::chrono::sys_time<std::chrono::nanoseconds>";
  else if constexpr (std::is_same_v<Duration, minutes>) return "std::chrono::sys_time<std::chrono::minutes>";
  else if constexpr (std::is_same_v<Duration, hours>) return "std::chrono::sys_time<std::chrono::hours>";
  else return "std::chrono::sys_time<Duration>";
}

inline constexpr std::string_view time_point_accepts = "TEXT (a timestamp) or INTEGER (Unix seconds)";

[[noreturn, gnu::cold, gnu::noinline]] inline void time_point_out_of_range(column_at at, std::string_view target) {
  const field f(at);
  f.fail(value_error::kind::out_of_range, message("{} is outside the range of {}", f.describe(), target));
}

[[noreturn, gnu::cold, gnu::noinline]] inline void bad_timestamp(column_at at, std::string_view target) {
  const field f(at);
  f.fail(value_error::kind::bad_timestamp,
         message("{} is not a timestamp (expected YYYY-MM-DD HH:MM:SS) for {}", f.describe(), target));
}

}  // namespace detail

// Time points are stored as UTC text, "YYYY-MM-DD HH:MM:SS" like SQLite's CURRENT_TIMESTAMP
// (with fractional digits for finer durations). Reads accept the layouts in
// detail/timestamp.hpp, and INTEGER columns as Unix seconds; a time the Duration cannot hold
// (sys_time<nanoseconds> spans the years 1677 to 2262) is out_of_range.
template <class Duration>
struct value_traits<std::chrono::sys_time<Duration>> {
  // cpm's own: an IN list of more than 4096 of these is sent as JSON text that holds exactly
  // what bind() binds (query/where.hpp); a specialisation of your own is never sent so.
  static constexpr bool cpm_own = true;
  using time_point = std::chrono::sys_time<Duration>;

  static void bind(const parameter& p, time_point v) {
    char buf[detail::timestamp_buffer_size];
    std::size_t n = detail::format_timestamp(v, buf);
    if (n == 0) p.fail(value_error::kind::out_of_range, "time point outside the years 0000..9999");
    // The buffer dies with this call: let SQLite copy it.
    check(p, sqlite3_bind_text(p.native(), p.index(), buf, static_cast<int>(n), SQLITE_TRANSIENT));
  }

  static void read(const field& f, time_point& out) {
    constexpr std::string_view target = detail::time_point_name<Duration>();
    int type = f.type();
    std::int64_t seconds = 0;
    std::int64_t nanos = 0;
    if (type == SQLITE_TEXT) [[likely]] {
      detail::parsed_timestamp ts{};
      if (!detail::parse_timestamp(f.text(), ts)) [[unlikely]]
        detail::bad_timestamp(f.at(), target);
      seconds = ts.seconds.time_since_epoch().count();
      nanos = ts.fraction.count();
    } else if (type == SQLITE_INTEGER) {
      seconds = sqlite3_value_int64(f.value());
    } else {
      f.mismatch(target, detail::time_point_accepts);
    }
    if (!detail::to_time_point(seconds, nanos, out)) [[unlikely]]
      detail::time_point_out_of_range(f.at(), target);
  }

 private:
  static void check(const parameter& p, int rc) {
    if (rc != SQLITE_OK) detail::throw_sqlite(sqlite3_db_handle(p.native()), rc, sqlite3_sql(p.native()));
  }
};

// ---- enums ---------------------------------------------------------------------------------

// Specialise to store an enum as text:
//   template <> struct cpm::enum_names<role> {
//     static constexpr std::array values{std::pair{role::owner, std::string_view{"owner"}}, ...};
//   };
// Without a specialisation an enum is stored as its underlying integer, and a read accepts
// only an integer that names one of its enumerators: cpm finds them at compile time, among
// the values -128..127 (detail/enum_probe.hpp). An enum with enumerators outside that range
// needs cpm::enum_names or a value_traits of its own; an enum with no enumerator in it (enum
// class id : std::int64_t {}) accepts every integer of its underlying type.
template <class E>
struct enum_names;

template <class E>
concept named_enum = std::is_enum_v<E> && requires {
  { enum_names<E>::values.size() } -> std::convertible_to<std::size_t>;
};

// The text an enumerator is stored as; empty when it has no name.
template <named_enum E>
constexpr std::string_view enum_to_text(E value) noexcept {
  for (const auto& [e, name] : enum_names<E>::values)
    if (e == value) return name;
  return {};
}

// The enumerator stored as `text`, if any.
template <named_enum E>
constexpr std::optional<E> enum_from_text(std::string_view text) noexcept {
  for (const auto& [e, name] : enum_names<E>::values)
    if (name == text) return e;
  return std::nullopt;
}

namespace detail {

[[noreturn, gnu::cold, gnu::noinline]] inline void no_enumerator(column_at at, std::string_view target, bool named) {
  const field f(at);
  f.fail(value_error::kind::bad_enum,
         message(named ? "{} names no enumerator of {} in cpm::enum_names"
                       : "{} names no enumerator of {} (an enum without cpm::enum_names is read from its integer, "
                         "and cpm sees only the enumerators in {}..{}: give the enum cpm::enum_names, or "
                         "specialise cpm::value_traits, for others)",
                 f.describe(), target, enum_probe_min, enum_probe_max));
}

}  // namespace detail

template <class E>
  requires std::is_enum_v<E>
struct value_traits<E> {
  // cpm's own: an IN list of more than 4096 of these is sent as JSON text that holds exactly
  // what bind() binds (query/where.hpp); a specialisation of your own is never sent so.
  static constexpr bool cpm_own = true;
  static void bind(const parameter& p, E v) {
    if constexpr (named_enum<E>) {
      std::string_view name = enum_to_text(v);
      if (name.empty())
        p.fail(value_error::kind::bad_enum,
               detail::message("enumerator {} has no name in cpm::enum_names",
                               static_cast<long long>(static_cast<std::underlying_type_t<E>>(v))));
      p.text_ref(name);  // enum_names' text is static
    } else {
      value_traits<std::underlying_type_t<E>>::bind(p, static_cast<std::underlying_type_t<E>>(v));
    }
  }
  // Named: TEXT naming an enumerator. Otherwise: INTEGER naming an enumerator.
  static void read(const field& f, E& out) {
    if constexpr (named_enum<E>) {
      if (f.type() != SQLITE_TEXT) [[unlikely]]
        f.mismatch(detail::enum_type_name<E>, "TEXT: an enumerator's name in cpm::enum_names");
      auto e = enum_from_text<E>(f.text());
      if (!e) [[unlikely]]
        detail::no_enumerator(f.at(), detail::enum_type_name<E>, true);
      out = *e;
    } else {
      using U = std::underlying_type_t<E>;
      if constexpr (detail::enum_probe<E>::values.any) {
        if (f.type() != SQLITE_INTEGER) [[unlikely]]
          f.mismatch(detail::enum_type_name<E>, "INTEGER: the value of an enumerator");
        std::int64_t v = sqlite3_value_int64(f.value());
        if (!detail::enum_value_named<E>(v)) [[unlikely]]
          detail::no_enumerator(f.at(), detail::enum_type_name<E>, false);
        out = static_cast<E>(static_cast<U>(v));
      } else {
        // No enumerator to check against (enum class id : std::int64_t {}): any U.
        U raw{};
        value_traits<U>::read(f, raw);
        out = static_cast<E>(raw);
      }
    }
  }
};

// ---- types stored as another mapped type ----------------------------------------------------

// Base for value_traits of a type stored as another mapped type `Stored`:
//   template <> struct cpm::value_traits<email> : cpm::converted_value<email, std::string> {
//     static std::string to_stored(const email& e) { return e.text; }
//     static email from_stored(std::string s) { return email{std::move(s)}; }
//   };
template <class T, mapped_value Stored>
struct converted_value {
  static void bind(const parameter& p, const T& v) {
    // The stored form is a temporary: SQLite must copy it.
    value_traits<Stored>::bind(parameter(p.native(), p.index()), value_traits<T>::to_stored(v));
  }
  static void read(const field& f, T& out) {
    Stored stored{};
    value_traits<Stored>::read(f, stored);
    out = value_traits<T>::from_stored(std::move(stored));
  }
};

}  // namespace cpm
