// cpm: the value mapping between C++ types and PostgreSQL values.
//
// One customisation point, cpm::pg::value_traits<T>, as on the SQLite side:
//
//   static void bind(cpm::pg::parameter& p, const T& value);   // put `value` into a parameter
//   static void read(const cpm::pg::field& f, T& out);         // read a result column into `out`
//
// Parameters and results travel in PostgreSQL's binary format, except text parameters:
//
//   C++                                 parameter type         reads from
//   std::int16_t, std::int8_t, char     INT2                   INT2, INT4, INT8 (range-checked)
//   std::int32_t, std::uint8_t/16       INT4                   INT2, INT4, INT8 (range-checked)
//   std::int64_t, std::uint32_t/64      INT8                   INT2, INT4, INT8 (range-checked)
//   bool                                BOOL                   BOOL
//   double, float                       FLOAT8                 FLOAT4, FLOAT8, INT2, INT4, INT8
//   std::string (string_view, char*)    text, typed by the     TEXT, VARCHAR, BPCHAR, NAME, JSON
//                                       server from context
//   std::vector<std::byte> (span)       BYTEA                  BYTEA
//   std::chrono::sys_time<D>            TIMESTAMPTZ (UTC)      TIMESTAMPTZ, TIMESTAMP (as UTC), DATE
//   std::optional<T>                    NULL, or as T          NULL, or as T
//   enums with cpm::enum_names          text                   text naming an enumerator
//   other enums                         the underlying type    an integer naming an enumerator
//
// A read that does not fit throws the cpm::value_error the SQLite side throws: out_of_range
// for an INT8 that does not fit an int, null_value for NULL into a non-optional, bad_enum,
// type_mismatch for a column type the C++ type does not read (cast it in SQL: `::int8`).
// Text parameters cannot hold a NUL byte (PostgreSQL text cannot): a std::string with one
// throws cpm::value_error before anything is sent; store such bytes as BYTEA. Timestamps
// are microseconds on the server: a finer time point is bound floored to the microsecond.
#pragma once

#include <cpm/detail/message.hpp>
#include <cpm/postgres/errors.hpp>
#include <cpm/sqlite/detail/enum_probe.hpp>
#include <cpm/sqlite/detail/timestamp.hpp>
#include <cpm/sqlite/error.hpp>
#include <cpm/sqlite/value.hpp>

#include <fmt/core.h>
#include <libpq-fe.h>

#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cpm::pg {

// The type OIDs cpm maps (pg_type.oid; fixed since PostgreSQL 7).
namespace oid {
inline constexpr Oid unknown = 0;
inline constexpr Oid boolean = 16;
inline constexpr Oid bytea = 17;
inline constexpr Oid name = 19;
inline constexpr Oid int8 = 20;
inline constexpr Oid int2 = 21;
inline constexpr Oid int4 = 23;
inline constexpr Oid text = 25;
inline constexpr Oid json = 114;
inline constexpr Oid float4 = 700;
inline constexpr Oid float8 = 701;
inline constexpr Oid unknown_literal = 705;
inline constexpr Oid bpchar = 1042;
inline constexpr Oid varchar = 1043;
inline constexpr Oid date = 1082;
inline constexpr Oid timestamp = 1114;
inline constexpr Oid timestamptz = 1184;
}  // namespace oid

namespace detail {

using cpm::detail::message;  // run-time formatted messages (cpm/detail/message.hpp)

// The name of a type OID in messages.
inline std::string type_name(Oid type) {
  switch (type) {
    case oid::boolean: return "BOOLEAN";
    case oid::bytea: return "BYTEA";
    case oid::name: return "NAME";
    case oid::int8: return "INT8";
    case oid::int2: return "INT2";
    case oid::int4: return "INT4";
    case oid::text: return "TEXT";
    case oid::json: return "JSON";
    case oid::float4: return "FLOAT4";
    case oid::float8: return "FLOAT8";
    case oid::unknown_literal: return "UNKNOWN";
    case oid::bpchar: return "BPCHAR";
    case oid::varchar: return "VARCHAR";
    case oid::date: return "DATE";
    case oid::timestamp: return "TIMESTAMP";
    case oid::timestamptz: return "TIMESTAMPTZ";
    case 1700: return "NUMERIC";
    case 3802: return "JSONB";
    case 2950: return "UUID";
    default: return detail::message("type oid {}", type);
  }
}

// Big-endian encoding, as the binary wire format has it (U: an unsigned integer type). One
// load or store and a byte swap, where the byte-at-a-time form costs some 25 instructions.
template <class U>
constexpr U from_big_endian(U v) noexcept {
  if constexpr (std::endian::native == std::endian::big || sizeof(U) == 1) {
    return v;
  } else {
#if defined(__GNUC__) || defined(__clang__)
    if constexpr (sizeof(U) == 2) return __builtin_bswap16(v);
    else if constexpr (sizeof(U) == 4) return __builtin_bswap32(v);
    else return __builtin_bswap64(v);
#else
    U out = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i, v >>= 8) out = static_cast<U>((out << 8) | (v & 0xff));
    return out;
#endif
  }
}
template <class U>
inline void put_be(char* out, U v) noexcept {
  v = from_big_endian(v);  // the same swap both ways
  std::memcpy(out, &v, sizeof v);
}
template <class U>
inline U get_be(const char* in) noexcept {
  U v;
  std::memcpy(&v, in, sizeof v);
  return from_big_endian(v);
}

// Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch.
inline constexpr std::int64_t pg_epoch_seconds = 946'684'800;

}  // namespace detail

// One parameter of a statement about to run, handed to value_traits<T>::bind. Binary values
// up to 8 bytes live in the parameter itself; longer ones point into the bound value, which
// outlives the statement's run (cpm binds the caller's arguments during the call).
class parameter {
 public:
  parameter() = default;
  parameter(const parameter&) = delete;
  parameter& operator=(const parameter&) = delete;

  void null(Oid type) noexcept {
    type_ = type;
    value_ = nullptr;
    length_ = 0;
    format_ = 1;
  }
  // A binary value of at most 8 bytes, copied.
  void binary(Oid type, const char* bytes, std::size_t n) noexcept {
    std::memcpy(buf_, bytes, n);
    type_ = type;
    value_ = buf_;
    length_ = static_cast<int>(n);
    format_ = 1;
  }
  void int2(std::int16_t v) noexcept { put(oid::int2, static_cast<std::uint16_t>(v)); }
  void int4(std::int32_t v) noexcept { put(oid::int4, static_cast<std::uint32_t>(v)); }
  void int8(std::int64_t v) noexcept { put(oid::int8, static_cast<std::uint64_t>(v)); }
  void float8(double v) noexcept {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    put(oid::float8, bits);
  }
  void boolean(bool v) noexcept {
    char b = v ? 1 : 0;
    binary(oid::boolean, &b, 1);
  }
  // Microseconds since 2000-01-01 UTC.
  void timestamptz(std::int64_t micros) noexcept { put(oid::timestamptz, static_cast<std::uint64_t>(micros)); }
  // Bytes that stay alive until the statement has run (BYTEA, binary).
  void bytes_ref(Oid type, std::span<const std::byte> v) {
    if (v.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      fail(value_error::kind::out_of_range, detail::message("{} bytes exceed libpq's limit for one parameter", v.size()));
    type_ = type;
    value_ = v.empty() ? "" : reinterpret_cast<const char*>(v.data());
    length_ = static_cast<int>(v.size());
    format_ = 1;
  }
  // Text whose type the server infers from the statement (text format), without a copy: `v`
  // must stay alive and unchanged until the statement has run. No NUL byte inside.
  void text_ref(const std::string& v) {
    check_text(v);
    set_text(v.c_str(), v.size());
  }
  // A NUL-terminated string, without a copy (as text_ref above).
  void text_ref(const char* v) {
    std::string_view text(v);
    check_text(text);
    set_text(v, text.size());
  }
  // As text_ref, for text that is not NUL-terminated or does not outlive the call: copied.
  void text(std::string_view v) {
    check_text(v);
    owned_.assign(v);
    set_text(owned_.c_str(), v.size());
  }

  [[nodiscard]] Oid type() const noexcept { return type_; }
  [[nodiscard]] const char* value() const noexcept { return value_; }
  [[nodiscard]] int length() const noexcept { return length_; }
  [[nodiscard]] int format() const noexcept { return format_; }
  [[nodiscard]] int index() const noexcept { return index_; }
  void set_index(int index) noexcept { index_ = index; }
  [[nodiscard]] std::string name() const { return detail::message("parameter ${}", index_); }

  [[noreturn, gnu::cold]] void fail(value_error::kind k, const std::string& detail) const {
    throw value_error(k, name(), detail);
  }

 private:
  template <class U>
  void put(Oid type, U v) noexcept {
    char b[sizeof(U)];
    detail::put_be(b, v);
    binary(type, b, sizeof(U));
  }
  void set_text(const char* terminated, std::size_t n) noexcept {
    type_ = oid::unknown;
    value_ = terminated;
    length_ = static_cast<int>(n);
    format_ = 0;
  }
  void check_text(std::string_view v) const {
    if (v.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      fail(value_error::kind::out_of_range, detail::message("{} bytes of text exceed libpq's limit for one parameter", v.size()));
    if (auto at = v.find('\0'); at != std::string_view::npos)
      fail(value_error::kind::type_mismatch,
           detail::message("the text holds a NUL byte at offset {} (of {}), which PostgreSQL text cannot store; "
                           "bind such bytes as std::vector<std::byte> into a BYTEA column",
                           at, v.size()));
  }

  Oid type_ = oid::unknown;
  const char* value_ = nullptr;
  int length_ = 0;
  int format_ = 1;
  int index_ = 0;
  char buf_[8]{};
  std::string owned_;
};

// One column of a result row (binary format), handed to value_traits<T>::read.
class field {
 public:
  // `types`: the result's column types, when the reader looked them up once for all its rows.
  field(const PGresult* res, int row, int column, const Oid* types = nullptr) noexcept
      : res_(res), types_(types), row_(row), column_(column) {}

  [[nodiscard]] Oid type() const noexcept { return types_ ? types_[column_] : PQftype(res_, column_); }
  // Asked once: a std::optional<T> and then T's read may both want it.
  [[nodiscard]] bool is_null() const noexcept {
    if (null_ < 0) null_ = PQgetisnull(res_, row_, column_) != 0 ? 1 : 0;
    return null_ != 0;
  }
  [[nodiscard]] const char* data() const noexcept { return PQgetvalue(res_, row_, column_); }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(PQgetlength(res_, row_, column_)); }
  [[nodiscard]] std::string_view bytes() const noexcept { return {data(), size()}; }
  [[nodiscard]] int index() const noexcept { return column_; }
  [[nodiscard]] std::string name() const {
    const char* n = PQfname(res_, column_);
    return n ? std::string(n) : detail::message("#{}", column_);
  }

  // The value as messages show it: "INT8 5000000000", "TEXT 'abc'", "NULL", "BYTEA (12 bytes)".
  [[nodiscard, gnu::cold]] std::string describe() const {
    if (is_null()) return "NULL";
    Oid t = type();
    switch (t) {
      case oid::int2: return detail::message("INT2 {}", static_cast<std::int16_t>(detail::get_be<std::uint16_t>(data())));
      case oid::int4: return detail::message("INT4 {}", static_cast<std::int32_t>(detail::get_be<std::uint32_t>(data())));
      case oid::int8: return detail::message("INT8 {}", static_cast<std::int64_t>(detail::get_be<std::uint64_t>(data())));
      case oid::text:
      case oid::varchar:
      case oid::bpchar:
      case oid::name: {
        constexpr std::size_t shown = 64;
        std::string_view v = bytes();
        return detail::message(v.size() <= shown ? "{} '{}'" : "{} '{}...' ({} bytes)", detail::type_name(t),
                               v.substr(0, shown), v.size());
      }
      default: return detail::message("{} ({} bytes)", detail::type_name(t), size());
    }
  }

  [[noreturn, gnu::cold, gnu::noinline]] void fail(value_error::kind k, const std::string& detail) const {
    throw value_error(k, name(), detail);
  }
  // NULL into a type that cannot hold it, or a column type `target` does not read.
  [[noreturn, gnu::cold, gnu::noinline]] void mismatch(std::string_view target, std::string_view accepted) const {
    if (is_null())
      fail(value_error::kind::null_value, detail::message("NULL cannot be read as {} (use std::optional)", target));
    fail(value_error::kind::type_mismatch,
         detail::message("{} cannot be read as {} (it reads {}; cast the column in SQL)", describe(), target, accepted));
  }

 private:
  const PGresult* res_;
  const Oid* types_;
  int row_;
  int column_;
  mutable signed char null_ = -1;
};

template <class T>
struct value_traits;

template <class T>
concept mapped_value = requires(parameter& p, const field& f, const T& in, T& out) {
  value_traits<T>::bind(p, in);
  value_traits<T>::read(f, out);
};

template <class T>
concept bindable_value = requires(parameter& p, const T& in) { value_traits<T>::bind(p, in); };

namespace detail {

inline constexpr std::string_view integer_accepts = "INT2, INT4, INT8";

// An integer column (INT2, INT4, INT8) as int64; anything else is `target`'s mismatch.
inline std::int64_t read_int64(const field& f, std::string_view target) {
  if (f.is_null()) [[unlikely]]
    f.mismatch(target, integer_accepts);
  switch (f.type()) {
    case oid::int8: return static_cast<std::int64_t>(get_be<std::uint64_t>(f.data()));
    case oid::int4: return static_cast<std::int32_t>(get_be<std::uint32_t>(f.data()));
    case oid::int2: return static_cast<std::int16_t>(get_be<std::uint16_t>(f.data()));
    default: f.mismatch(target, integer_accepts);
  }
}

}  // namespace detail

// ---- integers and bool ---------------------------------------------------------------------

template <std::integral T>
  requires(!std::same_as<T, bool>)
struct value_traits<T> {
  static void bind(parameter& p, T v) {
    if constexpr (std::is_signed_v<T> && sizeof(T) <= 2) {
      p.int2(static_cast<std::int16_t>(v));
    } else if constexpr ((std::is_signed_v<T> && sizeof(T) == 4) || (std::is_unsigned_v<T> && sizeof(T) <= 2)) {
      p.int4(static_cast<std::int32_t>(v));
    } else {
      if constexpr (std::is_unsigned_v<T> && sizeof(T) >= 8) {
        if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
          p.fail(value_error::kind::out_of_range, detail::message("{} does not fit PostgreSQL's INT8", v));
      }
      p.int8(static_cast<std::int64_t>(v));
    }
  }
  static void read(const field& f, T& out) {
    constexpr std::string_view target = cpm::detail::integer_name<T>();
    std::int64_t v = detail::read_int64(f, target);
    if (!fits(v)) [[unlikely]]
      f.fail(value_error::kind::out_of_range,
             detail::message("{} does not fit {} (range {}..{})", f.describe(), target,
                             static_cast<std::int64_t>(std::numeric_limits<T>::min()),
                             static_cast<std::uint64_t>(std::numeric_limits<T>::max())));
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
};

template <>
struct value_traits<bool> {
  static void bind(parameter& p, bool v) { p.boolean(v); }
  static void read(const field& f, bool& out) {
    if (f.is_null() || f.type() != oid::boolean || f.size() != 1) [[unlikely]]
      f.mismatch("bool", "BOOLEAN");
    out = f.data()[0] != 0;
  }
};

template <std::floating_point T>
struct value_traits<T> {
  static void bind(parameter& p, T v) { p.float8(static_cast<double>(v)); }
  static void read(const field& f, T& out) {
    constexpr std::string_view target = std::is_same_v<T, float> ? "float" : std::is_same_v<T, double> ? "double" : "long double";
    if (f.is_null()) [[unlikely]]
      f.mismatch(target, "FLOAT4, FLOAT8, INT2, INT4, INT8");
    switch (f.type()) {
      case oid::float8: {
        std::uint64_t bits = detail::get_be<std::uint64_t>(f.data());
        double d;
        std::memcpy(&d, &bits, sizeof d);
        out = static_cast<T>(d);
        return;
      }
      case oid::float4: {
        std::uint32_t bits = detail::get_be<std::uint32_t>(f.data());
        float d;
        std::memcpy(&d, &bits, sizeof d);
        out = static_cast<T>(d);
        return;
      }
      case oid::int2:
      case oid::int4:
      case oid::int8: out = static_cast<T>(detail::read_int64(f, target)); return;
      default: f.mismatch(target, "FLOAT4, FLOAT8, INT2, INT4, INT8");
    }
  }
};

// ---- text ----------------------------------------------------------------------------------

namespace detail {
inline constexpr std::string_view text_accepts = "TEXT, VARCHAR, BPCHAR, NAME, JSON";
inline bool is_text(Oid t) noexcept {
  return t == oid::text || t == oid::varchar || t == oid::bpchar || t == oid::name || t == oid::json ||
         t == oid::unknown_literal;
}
}  // namespace detail

template <>
struct value_traits<std::string> {
  static void bind(parameter& p, const std::string& v) { p.text_ref(v); }
  static void read(const field& f, std::string& out) {
    // NULL has length 0: only an empty value asks whether it is NULL.
    const std::size_t n = f.size();
    if ((n == 0 && f.is_null()) || !detail::is_text(f.type())) [[unlikely]]
      f.mismatch("std::string", detail::text_accepts);
    out.clear();
    out.append(f.data(), n);
  }
};

template <>
struct value_traits<std::string_view> {
  static void bind(parameter& p, std::string_view v) { p.text(v); }
};

template <>
struct value_traits<const char*> {
  static void bind(parameter& p, const char* v) {
    if (v == nullptr) p.null(oid::unknown); else p.text_ref(v);
  }
};

template <std::size_t N>
struct value_traits<char[N]> {
  static void bind(parameter& p, const char (&v)[N]) {
    std::size_t n = 0;
    while (n < N && v[n] != '\0') ++n;
    p.text(std::string_view(v, n));
  }
};

// ---- blobs ---------------------------------------------------------------------------------

template <>
struct value_traits<std::vector<std::byte>> {
  static void bind(parameter& p, const std::vector<std::byte>& v) { p.bytes_ref(oid::bytea, v); }
  static void read(const field& f, std::vector<std::byte>& out) {
    if (f.is_null() || f.type() != oid::bytea) [[unlikely]]
      f.mismatch("std::vector<std::byte>", "BYTEA");
    auto p = reinterpret_cast<const std::byte*>(f.data());
    out.assign(p, p + f.size());
  }
};

template <>
struct value_traits<std::span<const std::byte>> {
  static void bind(parameter& p, std::span<const std::byte> v) { p.bytes_ref(oid::bytea, v); }
};

// ---- NULL ----------------------------------------------------------------------------------

namespace detail {
// The type a NULL of T is sent as: what T binds as, found by binding a default T.
// (g++ 12 at -O3 sees the empty optional's unused string as maybe uninitialized.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class T>
Oid null_type() {
  if constexpr (std::is_default_constructible_v<T>) {
    parameter probe;
    try {
      value_traits<T>::bind(probe, T{});
    } catch (const cpm::error&) {
      return oid::unknown;  // an enum whose 0 names nothing: the server infers the type
    }
    return probe.type();
  } else {
    return oid::unknown;
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}  // namespace detail

template <class T>
struct value_traits<std::optional<T>> {
  static void bind(parameter& p, const std::optional<T>& v) {
    if (v) {
      value_traits<T>::bind(p, *v);
    } else {
      static const Oid type = detail::null_type<T>();
      p.null(type);
    }
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
  static void bind(parameter& p, std::nullopt_t) { p.null(oid::unknown); }
};

// ---- time ----------------------------------------------------------------------------------

// TIMESTAMPTZ, binary: microseconds since 2000-01-01 00:00 UTC. Bound floored to the
// microsecond; read into any sys_time the value fits (floored to its Duration).
// TIMESTAMP columns read as UTC; DATE as its midnight UTC. 'infinity' is out_of_range.
template <class Duration>
struct value_traits<std::chrono::sys_time<Duration>> {
  using time_point = std::chrono::sys_time<Duration>;

  static void bind(parameter& p, time_point v) {
    using namespace std::chrono;
    std::int64_t micros = 0;
    if constexpr (std::ratio_less_equal_v<typename Duration::period, std::micro>) {
      micros = static_cast<std::int64_t>(floor<microseconds>(v.time_since_epoch()).count());
    } else {
      // Coarser ticks (seconds, days): multiplied up, checked for overflow.
      using per = std::ratio_divide<typename Duration::period, std::micro>;
      static_assert(per::den == 1, "cpm: this time point's period is not supported");
      auto ticks = static_cast<std::int64_t>(v.time_since_epoch().count());
      if (__builtin_mul_overflow(ticks, static_cast<std::int64_t>(per::num), &micros))
        p.fail(value_error::kind::out_of_range, "time point outside the range of TIMESTAMPTZ");
    }
    constexpr std::int64_t shift = detail::pg_epoch_seconds * 1'000'000;
    if (micros < std::numeric_limits<std::int64_t>::min() + shift)
      p.fail(value_error::kind::out_of_range, "time point outside the range of TIMESTAMPTZ");
    p.timestamptz(micros - shift);
  }

  static void read(const field& f, time_point& out) {
    constexpr std::string_view target = cpm::detail::time_point_name<Duration>();
    if (f.is_null()) [[unlikely]]
      f.mismatch(target, "TIMESTAMPTZ, TIMESTAMP, DATE");
    std::int64_t seconds = 0;
    std::int64_t nanos = 0;
    Oid t = f.type();
    if (t == oid::timestamptz || t == oid::timestamp) {
      auto micros = static_cast<std::int64_t>(detail::get_be<std::uint64_t>(f.data()));
      if (micros == std::numeric_limits<std::int64_t>::max() || micros == std::numeric_limits<std::int64_t>::min())
        f.fail(value_error::kind::out_of_range, detail::message("{} is infinity, which {} cannot hold", detail::type_name(t), target));
      seconds = cpm::detail::floor_div(micros, 1'000'000) + detail::pg_epoch_seconds;
      nanos = (micros - cpm::detail::floor_div(micros, 1'000'000) * 1'000'000) * 1000;
    } else if (t == oid::date) {
      auto days = static_cast<std::int32_t>(detail::get_be<std::uint32_t>(f.data()));
      if (days == std::numeric_limits<std::int32_t>::max() || days == std::numeric_limits<std::int32_t>::min())
        f.fail(value_error::kind::out_of_range, detail::message("DATE is infinity, which {} cannot hold", target));
      seconds = static_cast<std::int64_t>(days) * 86'400 + detail::pg_epoch_seconds;
    } else {
      f.mismatch(target, "TIMESTAMPTZ, TIMESTAMP, DATE");
    }
    if (!cpm::detail::to_time_point(seconds, nanos, out)) [[unlikely]]
      f.fail(value_error::kind::out_of_range, detail::message("{} is outside the range of {}", detail::type_name(t), target));
  }
};

// ---- enums ---------------------------------------------------------------------------------

// As on the SQLite side: with cpm::enum_names, the enumerator's name as text; without, the
// underlying integer, and a read accepts only an integer that names an enumerator.
template <class E>
  requires std::is_enum_v<E>
struct value_traits<E> {
  static void bind(parameter& p, E v) {
    using U = std::underlying_type_t<E>;
    if constexpr (named_enum<E>) {
      std::string_view name = enum_to_text(v);
      if (name.empty())
        p.fail(value_error::kind::bad_enum, detail::message("enumerator {} has no name in cpm::enum_names",
                                                            static_cast<long long>(static_cast<U>(v))));
      p.text(name);
    } else {
      value_traits<U>::bind(p, static_cast<U>(v));
    }
  }
  static void read(const field& f, E& out) {
    using U = std::underlying_type_t<E>;
    constexpr std::string_view target = cpm::detail::enum_type_name<E>;
    if constexpr (named_enum<E>) {
      if (f.is_null() || !detail::is_text(f.type())) [[unlikely]]
        f.mismatch(target, "text: an enumerator's name in cpm::enum_names");
      auto e = enum_from_text<E>(f.bytes());
      if (!e) f.fail(value_error::kind::bad_enum, detail::message("{} names no enumerator of {} in cpm::enum_names", f.describe(), target));
      out = *e;
    } else if constexpr (cpm::detail::enum_probe<E>::values.any) {
      std::int64_t v = detail::read_int64(f, target);
      if (!cpm::detail::enum_value_named<E>(v)) [[unlikely]]
        f.fail(value_error::kind::bad_enum,
               detail::message("{} names no enumerator of {} (cpm sees the enumerators in {}..{}; give the enum "
                               "cpm::enum_names, or specialise cpm::pg::value_traits, for others)",
                               f.describe(), target, cpm::detail::enum_probe_min, cpm::detail::enum_probe_max));
      out = static_cast<E>(static_cast<U>(v));
    } else {
      U raw{};
      value_traits<U>::read(f, raw);
      out = static_cast<E>(raw);
    }
  }
};

}  // namespace cpm::pg
