// cpm: the lazy range every many-row query returns.
//
// rows<Row> reads one row per step straight into a Row it owns and hands it out by
// reference; nothing is materialised unless asked (to_vector(), ranges::to). It is a
// single-pass input range and a view, for std::ranges and range-v3 alike (for range-v3,
// include <cpm/ranges_v3.hpp>, which tells it so; cpm's other headers include none of range-v3):
//
//   for (const user& u : cpm::all<user>(db)) ...
//   auto names = cpm::all<user>(db) | std::views::transform(&user::username) | std::views::take(10);
//
// Copies of a rows share one cursor (as copies of an input view do): advancing one advances
// all. The cursor holds a statement leased from the connection's cache; when the last copy
// is destroyed (a loop left early included), or when the last row has been read, the
// statement is reset, which ends its read transaction. A rows keeps its connection's database
// handle open while it lives, so it stays valid when the connection is moved or destroyed.
#pragma once

#include <cpm/detail/spare_block.hpp>
#include <cpm/query/detail/row_io.hpp>
#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/error.hpp>

#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <utility>
#include <vector>

namespace cpm {

namespace detail {

// Supplies the statements of a query that runs as several statements in turn (an IN list
// sent in chunks); each comes bound and ready to step. An empty lease ends the query.
struct row_source {
  virtual ~row_source() = default;
  virtual statement_lease next() = 0;
};

template <class Row>
struct cursor {
  std::unique_ptr<row_source> source;  // before stmt: destroyed after it (stmt may view its values)
  statement_lease stmt;
  Row current{};
  bool started = false;
  bool has_row = false;
  // Reads a row instead of read_row, when set: a projection's, which reads as its model does.
  void (*read)(sqlite3_stmt*, Row&) = nullptr;
  // The copies of the rows that share this cursor. Not atomic: like the connection whose
  // statement it holds, a rows and its copies are used by one thread at a time.
  std::size_t refs = 1;

  // Steps to the next row and reads it into `current`; at the end, finishes.
  void advance();
  // The current statement is done (or there is none yet): steps the source's next ones, if
  // any, until one has a row (true); else finishes (false).
  [[gnu::noinline]] bool next_statement();
  // Resets the statement and gives it back to the cache; ends the query.
  void finish() noexcept;

  // The statement has stepped to a row: reads it into `current`.
  void read_current() {
    has_row = true;
    if (read) [[unlikely]] {
      read(stmt.native(), current);
    } else {
      read_row(stmt.native(), current);
    }
  }
};

// Defined outside the struct (not inline), so that cpm's store can compile them once for its
// row types (CPM_SEPARATE_STORE, see store.hpp).
template <class Row>
void cursor<Row>::advance() {
  try {
    if ((stmt && stmt.step()) || next_statement()) [[likely]] {
      read_current();
      return;
    }
  } catch (...) {
    finish();
    throw;
  }
}

template <class Row>
bool cursor<Row>::next_statement() {
  while (source) {
    stmt.release();  // done: reset it and give it back before the next one
    stmt = source->next();
    if (!stmt) break;
    if (stmt.step()) return true;
  }
  finish();
  return false;
}

template <class Row>
void cursor<Row>::finish() noexcept {
  has_row = false;
  stmt.release();
  source.reset();
}

}  // namespace detail

template <class Row>
class rows : public std::ranges::view_base {
 public:
  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = Row;
    using difference_type = std::ptrdiff_t;
    using reference = Row&;

    iterator() = default;
    explicit iterator(detail::cursor<Row>* c) noexcept : cursor_(c) {}

    Row& operator*() const noexcept { return cursor_->current; }
    Row* operator->() const noexcept { return &cursor_->current; }
    iterator& operator++() {
      cursor_->advance();
      return *this;
    }
    void operator++(int) { cursor_->advance(); }

    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return it.cursor_ == nullptr || !it.cursor_->has_row;
    }

   private:
    detail::cursor<Row>* cursor_ = nullptr;
  };

  rows() = default;
  explicit rows(statement_lease&& stmt) : cursor_(make_cursor()) { cursor_->stmt = std::move(stmt); }
  explicit rows(std::unique_ptr<detail::row_source> source) : cursor_(make_cursor()) {
    cursor_->source = std::move(source);
  }
  // Rows read by `read` instead of cpm's reader of Row.
  rows(statement_lease&& stmt, void (*read)(sqlite3_stmt*, Row&)) : rows(std::move(stmt)) { cursor_->read = read; }

  rows(const rows& other) noexcept : cursor_(other.cursor_) {
    if (cursor_) ++cursor_->refs;
  }
  rows(rows&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
  rows& operator=(rows other) noexcept {
    std::swap(cursor_, other.cursor_);
    return *this;
  }
  ~rows() {
    if (cursor_ && --cursor_->refs == 0) destroy(cursor_);
  }

  // Reads the first row on the first call; later calls continue where iteration stopped.
  iterator begin() const {
    if (!cursor_) return iterator();
    if (!cursor_->started) {
      cursor_->started = true;
      cursor_->advance();
    }
    return iterator(cursor_);
  }
  [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

  // Every remaining row, moved into a vector.
  [[nodiscard]] std::vector<Row> to_vector() const {
    std::vector<Row> out;
    for (Row& row : *this) out.push_back(std::move(row));
    return out;
  }

  // The first row, if any; the statement is released right away.
  [[nodiscard]] std::optional<Row> first() const {
    std::optional<Row> out;
    auto it = begin();
    if (it != end()) out.emplace(std::move(*it));
    if (cursor_) cursor_->finish();
    return out;
  }

  // The only row: cpm::not_found when there is none, cpm::usage_error when there are more.
  [[nodiscard]] Row one() const {
    // The SQL, for the messages. A cached statement stays alive (in the connection's cache)
    // when the cursor gives it back, so a view of its text is enough; only a private
    // statement, finalized on release, needs a copy.
    std::string owned;
    const char* text = nullptr;
    if (cursor_ && cursor_->stmt) {
      text = sqlite3_sql(cursor_->stmt.native());
      if (text && !cursor_->stmt.is_cached()) text = owned.assign(text).c_str();
    }
    if (!text) text = "";
    auto it = begin();
    if (it == end()) throw not_found(std::string("cpm: the query returned no row: ") + text);
    Row out = std::move(*it);
    ++it;
    bool more = it != end();
    cursor_->finish();
    if (more) throw usage_error(std::string("cpm: the query returned more than one row: ") + text);
    return out;
  }

 private:
  // One query after another on a thread reuse one block for the cursor (detail/spare_block.hpp).
  using block = detail::spare_block<sizeof(detail::cursor<Row>), alignof(detail::cursor<Row>)>;
  static detail::cursor<Row>* make_cursor() {
    void* p = block::take();
    try {
      return ::new (p) detail::cursor<Row>();
    } catch (...) {
      block::give(p);
      throw;
    }
  }
  static void destroy(detail::cursor<Row>* c) noexcept {
    c->~cursor();
    block::give(c);
  }

  detail::cursor<Row>* cursor_ = nullptr;  // shared by the copies (cursor::refs)
};

}  // namespace cpm
