#pragma once
// Thin RAII over the SQLite C API: prepared statements that finalize themselves.
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::exporting::sql {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) st_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return st_ != nullptr; }
  Stmt& bind(int i, std::string_view s) {
    sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) { sqlite3_bind_int64(st_, i, v); return *this; }
  Stmt& bind(int i, int v) { sqlite3_bind_int64(st_, i, v); return *this; }
  Stmt& bind(int i, double v) { sqlite3_bind_double(st_, i, v); return *this; }
  Stmt& bind_null(int i) { sqlite3_bind_null(st_, i); return *this; }
  Stmt& bind_blob(int i, std::string_view b) {
    sqlite3_bind_blob(st_, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Without SQLite's copy: the caller keeps the bytes unchanged until the statement is reset (exec()
  // resets it). The store's writer binds this way, a copy per column per row being a tenth of its CPU.
  Stmt& bind_ref(int i, std::string_view s) {
    sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_blob_ref(int i, std::string_view b) {
    sqlite3_bind_blob(st_, i, b.data(), static_cast<int>(b.size()), SQLITE_STATIC);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return st_ ? sqlite3_step(st_) : SQLITE_MISUSE; }
  // One step then reset; false on an error, whose code last_rc() keeps.
  bool exec() {
    last_rc_ = step();
    reset();
    return last_rc_ == SQLITE_DONE || last_rc_ == SQLITE_ROW;
  }
  int last_rc() const { return last_rc_; }
  void reset() { if (st_) { sqlite3_reset(st_); sqlite3_clear_bindings(st_); } }

  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string();
  }
  // Valid until the next step/reset of this statement.
  std::string_view view(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string_view();
  }
  // Valid until the next step/reset of this statement.
  std::string_view blob(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(st_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string_view();
  }
  sqlite3_stmt* handle() const { return st_; }
  std::int64_t i64(int col) const { return sqlite3_column_int64(st_, col); }
  double dbl(int col) const { return sqlite3_column_double(st_, col); }
  bool is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  int type(int col) const { return sqlite3_column_type(st_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int last_rc_ = SQLITE_OK;
};

// HEAD ("INSERT INTO t(a,b) VALUES") with 1..MAX_ROWS rows of COLUMNS parameters, then TAIL (an
// upsert or RETURNING clause, or nothing), one statement per row count prepared on first use: a
// statement's fixed cost (cursors opened, the halt) is shared by its rows. Row r's column c (both
// from 0) is parameter r * COLUMNS + c + 1.
class MultiRowInsert {
 public:
  MultiRowInsert(sqlite3* db, std::string head, int columns, std::size_t max_rows, std::string tail = "")
      : db_(db), head_(std::move(head)), tail_(std::move(tail)), columns_(columns), statements_(max_rows) {}
  std::size_t max_rows() const { return statements_.size(); }
  // The first parameter of row R.
  int param(std::size_t r, int column = 0) const { return static_cast<int>(r) * columns_ + column + 1; }
  Stmt& rows(std::size_t n) {
    std::unique_ptr<Stmt>& st = statements_[n - 1];
    if (!st) {
      std::string text = head_;
      for (std::size_t r = 0; r < n; ++r) {
        text += r ? ",(" : "(";
        for (int c = 0; c < columns_; ++c) text += (c ? ",?" : "?") + std::to_string(param(r, c));
        text += ")";
      }
      text += tail_;
      st = std::make_unique<Stmt>(db_, text.c_str());
    }
    return *st;
  }

 private:
  sqlite3* db_;
  std::string head_, tail_;
  int columns_;
  std::vector<std::unique_ptr<Stmt>> statements_;  // [n - 1]: n rows
};

inline bool exec(sqlite3* db, const char* sql, std::string* error = nullptr) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
  if (rc != SQLITE_OK && error) *error = msg ? msg : sqlite3_errstr(rc);
  sqlite3_free(msg);
  return rc == SQLITE_OK;
}

}  // namespace llmtap::exporting::sql
