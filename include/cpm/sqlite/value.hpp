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
// Specialise value_traits<T> for your own types; cpm::converted_value helps when a type is
// stored as another mapped type.
#pragma once

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
  [[nodiscard]] std::string name() const { return fmt::format("parameter {}", index_); }

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

// One column of the current result row, handed to value_traits<T>::read.
class field {
 public:
  field(sqlite3_stmt* stmt, int index) noexcept : stmt_(stmt), index_(index) {}

  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL: the column's type as
  // stepped (asked once; a std::optional<T> and then T's read may both want it).
  [[nodiscard]] int type() const noexcept {
    if (type_ < 0) type_ = sqlite3_column_type(stmt_, index_);
    return type_;
  }
  [[nodiscard]] bool is_null() const noexcept { return type() == SQLITE_NULL; }

  // The column as an integer; NULL throws. (The storage class is only asked for when SQLite
  // returns 0, so the common case costs one call.)
  [[nodiscard]] std::int64_t integer() const {
    std::int64_t v = sqlite3_column_int64(stmt_, index_);
    if (v == 0) require_value();
    return v;
  }
  [[nodiscard]] double real() const {
    double v = sqlite3_column_double(stmt_, index_);
    if (v == 0.0) require_value();
    return v;
  }
  // The column as UTF-8 text, valid until the next step or reset; NULL throws.
  [[nodiscard]] std::string_view text() const {
    const unsigned char* p = sqlite3_column_text(stmt_, index_);
    if (p == nullptr) [[unlikely]] {
      require_empty();
      return {};
    }
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index_))};
  }
  // The column as bytes, valid until the next step or reset; NULL throws.
  [[nodiscard]] std::span<const std::byte> blob() const {
    const void* p = sqlite3_column_blob(stmt_, index_);
    if (p == nullptr) [[unlikely]] {
      require_empty();
      return {};
    }
    return {static_cast<const std::byte*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index_))};
  }

  [[nodiscard]] int index() const noexcept { return index_; }
  [[nodiscard]] sqlite3_stmt* native() const noexcept { return stmt_; }
  [[nodiscard]] std::string name() const {
    const char* n = sqlite3_column_name(stmt_, index_);
    return n ? std::string(n) : fmt::format("#{}", index_);
  }

  // Throws cpm::value_error naming this column.
  [[noreturn]] void fail(value_error::kind k, const std::string& detail) const {
    throw value_error(k, name(), detail);
  }

 private:
  // The rare paths stay out of line, so that the reads above inline into the row readers.
  [[gnu::cold, gnu::noinline]] void require_value() const {
    if (is_null()) fail(value_error::kind::null_value, "NULL read into a type that cannot hold it (use std::optional)");
  }
  // No pointer for text or a blob: an empty value, or NULL (refused), or out of memory.
  [[gnu::cold, gnu::noinline]] void require_empty() const {
    require_value();
    sqlite3* db = sqlite3_db_handle(stmt_);
    if (int rc = sqlite3_errcode(db); rc == SQLITE_NOMEM) detail::throw_sqlite(db, rc, sqlite3_sql(stmt_));
  }

  sqlite3_stmt* stmt_;
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

// ---- integers and bool ---------------------------------------------------------------------

template <std::integral T>
  requires(!std::same_as<T, bool>)
struct value_traits<T> {
  static void bind(const parameter& p, T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
        p.fail(value_error::kind::out_of_range, fmt::format("{} does not fit SQLite's 64-bit signed integer", v));
    }
    p.integer(static_cast<std::int64_t>(v));
  }
  static void read(const field& f, T& out) {
    std::int64_t v = f.integer();
    if (!fits(v)) out_of_range(f, v);
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
  [[noreturn]] static void out_of_range(const field& f, std::int64_t v) {
    f.fail(value_error::kind::out_of_range,
           fmt::format("{} does not fit a {}-bit {} integer", v, sizeof(T) * 8, std::is_signed_v<T> ? "signed" : "unsigned"));
  }
};

template <>
struct value_traits<bool> {
  static void bind(const parameter& p, bool v) { p.integer(v ? 1 : 0); }
  static void read(const field& f, bool& out) { out = f.integer() != 0; }
};

template <std::floating_point T>
struct value_traits<T> {
  static void bind(const parameter& p, T v) { p.real(static_cast<double>(v)); }
  static void read(const field& f, T& out) { out = static_cast<T>(f.real()); }
};

// ---- text ----------------------------------------------------------------------------------

template <>
struct value_traits<std::string> {
  static void bind(const parameter& p, const std::string& v) { p.text_ref(v); }
  static void read(const field& f, std::string& out) { out.assign(f.text()); }
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

template <std::size_t N>
struct value_traits<char[N]> {
  static void bind(const parameter& p, const char (&v)[N]) { p.text(std::string_view(v, N > 0 && v[N - 1] == '\0' ? N - 1 : N)); }
};

// ---- blobs ---------------------------------------------------------------------------------

template <>
struct value_traits<std::vector<std::byte>> {
  static void bind(const parameter& p, const std::vector<std::byte>& v) { p.blob_ref(v); }
  static void read(const field& f, std::vector<std::byte>& out) {
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
  static void read(const field& f, std::optional<T>& out) {
    if (f.is_null()) {
      out.reset();
    } else {
      if (!out) out.emplace();
      value_traits<T>::read(f, *out);
    }
  }
};

template <>
struct value_traits<std::nullopt_t> {
  static void bind(const parameter& p, std::nullopt_t) { p.null(); }
};

// ---- time ----------------------------------------------------------------------------------

// Time points are stored as UTC text, "YYYY-MM-DD HH:MM:SS" like SQLite's CURRENT_TIMESTAMP
// (with fractional digits for finer durations). Reads accept the layouts in
// detail/timestamp.hpp, and INTEGER columns as Unix seconds.
template <class Duration>
struct value_traits<std::chrono::sys_time<Duration>> {
  using time_point = std::chrono::sys_time<Duration>;

  static void bind(const parameter& p, time_point v) {
    char buf[detail::timestamp_buffer_size];
    std::size_t n = detail::format_timestamp(v, buf);
    if (n == 0) p.fail(value_error::kind::out_of_range, "time point outside the years 0000..9999");
    // The buffer dies with this call: let SQLite copy it.
    check(p, sqlite3_bind_text(p.native(), p.index(), buf, static_cast<int>(n), SQLITE_TRANSIENT));
  }

  static void read(const field& f, time_point& out) {
    using namespace std::chrono;
    if (f.type() == SQLITE_INTEGER) {
      out = time_point{duration_cast<Duration>(seconds{f.integer()})};
      return;
    }
    std::string_view text = f.text();
    detail::parsed_timestamp ts{};
    if (!detail::parse_timestamp(text, ts))
      f.fail(value_error::kind::bad_timestamp, "'" + std::string(text) + "' is not a timestamp (expected YYYY-MM-DD HH:MM:SS)");
    if constexpr (std::ratio_greater_equal_v<typename Duration::period, std::ratio<1>>) {
      out = floor<Duration>(ts.seconds);
    } else {
      out = time_point{duration_cast<Duration>(ts.seconds.time_since_epoch()) + floor<Duration>(ts.fraction)};
    }
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
// Without a specialisation an enum is stored as its underlying integer.
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

template <class E>
  requires std::is_enum_v<E>
struct value_traits<E> {
  static void bind(const parameter& p, E v) {
    if constexpr (named_enum<E>) {
      std::string_view name = enum_to_text(v);
      if (name.empty())
        p.fail(value_error::kind::bad_enum,
               fmt::format("enumerator {} has no name in cpm::enum_names",
                           static_cast<long long>(static_cast<std::underlying_type_t<E>>(v))));
      p.text_ref(name);  // enum_names' text is static
    } else {
      value_traits<std::underlying_type_t<E>>::bind(p, static_cast<std::underlying_type_t<E>>(v));
    }
  }
  static void read(const field& f, E& out) {
    if constexpr (named_enum<E>) {
      std::string_view text = f.text();
      auto e = enum_from_text<E>(text);
      if (!e) f.fail(value_error::kind::bad_enum, "'" + std::string(text) + "' names no enumerator");
      out = *e;
    } else {
      std::underlying_type_t<E> raw{};
      value_traits<std::underlying_type_t<E>>::read(f, raw);
      out = static_cast<E>(raw);
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
