// cpm: EXPLAIN QUERY PLAN, typed: which tables a statement scans or searches, by which index.
//
//   auto plan = cpm::explain(db, "SELECT * FROM users WHERE username = ?");
//   assert(plan.searches("users", "sqlite_autoindex_users_1"));
//   assert(!plan.scans("users"));
//
// Tables are named as the plan names them: by their alias when the query gives one.
#pragma once

#include <cpm/sqlite/connection.hpp>
#include <cpm/sqlite/statement.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cpm {

struct plan_step {
  enum class kind {
    scan,    // SCAN t: every row of t (or of an index of t)
    search,  // SEARCH t: a range of an index, or rowids
    other,   // COMPOUND QUERY, USE TEMP B-TREE FOR ORDER BY, ...
  };

  int id = 0;
  int parent = 0;
  std::string detail;  // SQLite's text, e.g. "SEARCH users USING INDEX sqlite_autoindex_users_1 (username=?)"
  kind what = kind::other;
  std::string table;   // for scans and searches
  std::string index;   // the index used, if any ("" for a plain table scan or a rowid lookup)
  bool covering = false;      // USING COVERING INDEX
  bool primary_key = false;   // USING INTEGER PRIMARY KEY (a rowid lookup)
};

struct query_plan {
  std::vector<plan_step> steps;

  // True when some step reads every row of `table` (by the table or any index).
  [[nodiscard]] bool scans(std::string_view table) const {
    for (const auto& s : steps)
      if (s.what == plan_step::kind::scan && s.table == table) return true;
    return false;
  }
  // True when some step searches `table`, by `index` when one is named ("" accepts any,
  // "rowid" asks for a primary key lookup).
  [[nodiscard]] bool searches(std::string_view table, std::string_view index = {}) const {
    for (const auto& s : steps) {
      if (s.what != plan_step::kind::search || s.table != table) continue;
      if (index.empty() || s.index == index || (index == "rowid" && s.primary_key)) return true;
    }
    return false;
  }
  // True when some step needs a temporary b-tree (for ORDER BY, DISTINCT, GROUP BY or UNION).
  [[nodiscard]] bool uses_temp_btree() const {
    for (const auto& s : steps)
      if (s.detail.find("TEMP B-TREE") != std::string::npos) return true;
    return false;
  }
  // The plan as SQLite's shell prints it, one step per line, indented by depth.
  [[nodiscard]] std::string text() const {
    std::string out;
    for (const auto& s : steps) {
      int depth = 0;
      for (int p = s.parent; p != 0; ++depth) {
        int next = 0;
        for (const auto& q : steps)
          if (q.id == p) next = q.parent;
        p = next;
      }
      out.append(static_cast<std::size_t>(depth) * 2, ' ');
      out += s.detail;
      out += '\n';
    }
    return out;
  }
};

namespace detail {

inline plan_step parse_plan_step(int id, int parent, std::string detail) {
  plan_step step;
  step.id = id;
  step.parent = parent;
  std::string_view text = detail;
  auto word = [&](std::string_view prefix) {
    if (text.substr(0, prefix.size()) != prefix) return false;
    text.remove_prefix(prefix.size());
    return true;
  };
  if (word("SCAN ")) {
    step.what = plan_step::kind::scan;
  } else if (word("SEARCH ")) {
    step.what = plan_step::kind::search;
  }
  if (step.what != plan_step::kind::other) {
    auto end = text.find(' ');
    step.table = std::string(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (word("USING COVERING INDEX ")) {
      step.covering = true;
    } else if (word("USING INDEX ")) {
    } else if (word("USING INTEGER PRIMARY KEY") || word("USING PRIMARY KEY")) {
      step.primary_key = true;
      text = {};
    } else {
      text = {};
    }
    if (!text.empty()) step.index = std::string(text.substr(0, text.find(' ')));
  }
  step.detail = std::move(detail);
  return step;
}

}  // namespace detail

// The plan SQLite chooses for `sql` on this connection (nothing is run).
inline query_plan explain(connection& db, std::string_view sql) {
  auto stmt = db.prepare("EXPLAIN QUERY PLAN " + std::string(sql));
  query_plan plan;
  while (stmt.step()) {
    plan.steps.push_back(detail::parse_plan_step(stmt.column<int>(0), stmt.column<int>(1), stmt.column<std::string>(3)));
  }
  return plan;
}

}  // namespace cpm
