#include "ui/alerts_panel.h"

#include <sqlite3.h>

#include <memory>

namespace llmtap::ui {
namespace {

using nlohmann::json;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Statement = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Statement prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  return Statement(st);
}

json column(sqlite3_stmt* st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return sqlite3_column_int64(st, i);
    case SQLITE_FLOAT: return sqlite3_column_double(st, i);
    case SQLITE_NULL: return nullptr;
    default: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      return std::string(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
    }
  }
}

}  // namespace

ApiResult alerts_endpoint(const ApiContext& ctx) {
  if (std::string e = ctx.params.check_known({"limit"}); !e.empty()) return api_error(400, e);
  std::string error;
  auto limit = ctx.params.integer("limit", 100, 1, 1000, &error);
  if (!limit) return api_error(400, error);
  json out = {{"table", kAlertsTable}, {"available", false}, {"alerts", json::array()}};
  // Only a store the trace reader accepted (owned, not a link, not damaged) is opened here.
  auto source = ctx.store.source(&error);
  out["store"] = store_status(ctx.store, source ? "" : error);
  if (!source) return {200, out};
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(ctx.store.path().c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return api_error(500, "cannot open the store for alerts: " + std::string(raw ? sqlite3_errmsg(raw) : "out of memory"));
  sqlite3_busy_timeout(db.get(), 2000);
  auto exists = prepare(db.get(), "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1");
  if (!exists) return api_error(500, std::string("cannot read the store: ") + sqlite3_errmsg(db.get()));
  sqlite3_bind_text(exists.get(), 1, kAlertsTable, -1, SQLITE_STATIC);
  if (sqlite3_step(exists.get()) != SQLITE_ROW) return {200, out};  // alerting never ran here
  out["available"] = true;
  auto rows = prepare(db.get(), std::string("SELECT * FROM \"") + kAlertsTable + "\" ORDER BY rowid DESC LIMIT ?1");
  if (!rows) return api_error(500, std::string("cannot read the alerts table: ") + sqlite3_errmsg(db.get()));
  sqlite3_bind_int64(rows.get(), 1, *limit);
  while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
    json row = json::object();
    for (int i = 0; i < sqlite3_column_count(rows.get()); ++i) row[sqlite3_column_name(rows.get(), i)] = column(rows.get(), i);
    out["alerts"].push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return api_error(500, std::string("cannot read the alerts table: ") + sqlite3_errmsg(db.get()));
  return {200, out};
}

}  // namespace llmtap::ui
