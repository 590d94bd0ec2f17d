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

  // Steps to the next row and reads it into `current`; at the end, finishes.
  void advance();
  // Resets the statement and gives it back to the cache; ends the query.
  void finish() noexcept;
};

// Defined outside the struct (not inline), so that cpm's store can compile them once for its
// row types (CPM_SEPARATE_STORE, see store.hpp).
template <class Row>
void cursor<Row>::advance() {
  try {
    for (;;) {
      if (!stmt) {
        if (!source || !(stmt = source->next())) {
          finish();
          return;
        }
      }
      has_row = stmt.step();
      if (has_row) {
        if (read) [[unlikely]] {
          read(stmt.native(), current);
        } else {
          read_row(stmt.native(), current);
        }
        return;
      }
      stmt = statement_lease();  // done: reset it and give it back now
    }
  } catch (...) {
    finish();
    throw;
  }
}

template <class Row>
void cursor<Row>::finish() noexcept {
  has_row = false;
  stmt = statement_lease();
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
  explicit rows(statement_lease stmt) : cursor_(std::make_shared<detail::cursor<Row>>()) {
    cursor_->stmt = std::move(stmt);
  }
  explicit rows(std::unique_ptr<detail::row_source> source) : cursor_(std::make_shared<detail::cursor<Row>>()) {
    cursor_->source = std::move(source);
  }
  // Rows read by `read` instead of cpm's reader of Row.
  rows(statement_lease stmt, void (*read)(sqlite3_stmt*, Row&)) : rows(std::move(stmt)) { cursor_->read = read; }

  // Reads the first row on the first call; later calls continue where iteration stopped.
  iterator begin() const {
    if (!cursor_) return iterator();
    if (!cursor_->started) {
      cursor_->started = true;
      cursor_->advance();
    }
    return iterator(cursor_.get());
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
  std::shared_ptr<detail::cursor<Row>> cursor_;
};

}  // namespace cpm
