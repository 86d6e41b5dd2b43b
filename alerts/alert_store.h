#pragma once
// Alerts as rows of the trace store (<data dir>/traces.db, table `alerts`): one row per firing,
// completed by its recovery. `llmtap alerts list` and the viewer read them through list_alerts().
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alerts/alert_event.h"

struct sqlite3;

namespace llmtap::alerts {

// The table, created where missing (the store's migrations may adopt it as is).
inline constexpr const char* kAlertsSchema = R"sql(
CREATE TABLE IF NOT EXISTS alerts(
  id INTEGER PRIMARY KEY,
  rule TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,          -- "" (all traffic), "user ID", "session ID", "tool NAME", "agent NAME"
  fired_ns INTEGER NOT NULL,
  value REAL NOT NULL,            -- what was measured when it fired (USD, rate, seconds, count)
  threshold REAL NOT NULL,
  trace_id TEXT NOT NULL,         -- the trace that set it off, "" when none
  resets_ns INTEGER,              -- budgets: when the period ends
  message TEXT NOT NULL,
  recovered_ns INTEGER,           -- NULL while firing
  recovery_message TEXT);
CREATE INDEX IF NOT EXISTS alerts_by_fired ON alerts(fired_ns DESC);
)sql";

struct AlertRow {
  std::int64_t id = 0;
  std::string rule, kind, subject;
  UnixNanos fired_ns = 0;
  double value = 0, threshold = 0;
  std::string trace_id;
  std::optional<UnixNanos> resets_ns;
  std::string message;
  std::optional<UnixNanos> recovered_ns;
  std::string recovery_message;
};

class AlertStore {
 public:
  // Opens the existing store at PATH for writing (creating the table). nullptr and *error if it
  // cannot.
  static std::unique_ptr<AlertStore> open(const std::string& path, std::string* error);
  ~AlertStore();
  // A firing adds a row; a recovery completes the newest open row of its rule and subject.
  // "" or why not.
  std::string record(const AlertEvent& event);

 private:
  explicit AlertStore(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

struct AlertQuery {
  UnixNanos since = 0;        // fired at or after, or still firing
  bool firing_only = false;
  int limit = 100;
};

// Newest first. A missing store or one without alerts yet is an empty list, not an error.
std::optional<std::vector<AlertRow>> list_alerts(const std::string& store_path, const AlertQuery& query,
                                                 std::string* error);
// The rows still firing (newest first), as the evaluator warms its rules from them at start.
std::vector<FiringAlert> firing_alerts(const std::vector<AlertRow>& rows);

// {"alerts": [{rule, kind, subject, state, fired_at, ...}]}: the shape of `llmtap alerts list --json`
// and of the viewer's API.
nlohmann::json alerts_json(const std::vector<AlertRow>& rows);

}  // namespace llmtap::alerts
