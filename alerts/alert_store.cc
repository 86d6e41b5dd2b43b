#include "alerts/alert_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>

#include "alerts/time_text.h"
#include "export/sqlite_util.h"
#include "export/sqlite_store.h"

namespace llmtap::alerts {
namespace {

using exporting::sql::Stmt;

}  // namespace

std::unique_ptr<AlertStore> AlertStore::open(const std::string& path, std::string* error) {
  sqlite3* db = nullptr;
  // No CREATE: the trace store makes the file (owner-only, checked); alerts only join it.
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
                           nullptr);
  if (rc != SQLITE_OK) {
    *error = "cannot open trace store " + path + " for alerts: " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  std::string e;
  if (!exporting::sql::exec(db, kAlertsSchema, &e)) {
    *error = "cannot add the alerts table to " + path + ": " + e;
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<AlertStore>(new AlertStore(db));
}

AlertStore::~AlertStore() { sqlite3_close(db_); }

std::string AlertStore::record(const AlertEvent& e) {
  if (e.state == AlertEvent::State::kFired) {
    Stmt st(db_,
            "INSERT INTO alerts(rule,kind,subject,fired_ns,value,threshold,trace_id,resets_ns,message) "
            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    st.bind(1, std::string_view(e.rule)).bind(2, std::string_view(to_string(e.kind))).bind(3, std::string_view(e.subject));
    st.bind(4, std::int64_t{e.at}).bind(5, e.value).bind(6, e.threshold).bind(7, std::string_view(e.trace_id));
    if (e.resets_at) st.bind(8, std::int64_t{e.resets_at});
    else st.bind_null(8);
    st.bind(9, std::string_view(e.message));
    if (!st.exec()) return std::string("cannot record alert: ") + sqlite3_errmsg(db_);
    return "";
  }
  Stmt st(db_,
          "UPDATE alerts SET recovered_ns=?1, recovery_message=?2 WHERE id=(SELECT id FROM alerts WHERE rule=?3 AND "
          "subject=?4 AND recovered_ns IS NULL ORDER BY fired_ns DESC LIMIT 1)");
  st.bind(1, std::int64_t{e.at}).bind(2, std::string_view(e.message)).bind(3, std::string_view(e.rule));
  st.bind(4, std::string_view(e.subject));
  if (!st.exec()) return std::string("cannot record recovery: ") + sqlite3_errmsg(db_);
  return "";
}

std::optional<std::vector<AlertRow>> list_alerts(const std::string& path, const AlertQuery& q, std::string* error) {
  std::vector<AlertRow> rows;
  struct stat sb{};
  if (::stat(path.c_str(), &sb) != 0) return rows;  // nothing recorded yet
  std::string e;
  auto reader = exporting::TraceStoreReader::open(path, &e);  // same checks as `llmtap traces`
  if (!reader) {
    *error = e;
    return std::nullopt;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, nullptr) != SQLITE_OK) {
    *error = "cannot open trace store " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return std::nullopt;
  }
  sqlite3_busy_timeout(db, 5000);
  bool has_table = false;
  {
    Stmt has(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alerts'");
    has_table = has.step() == SQLITE_ROW;
  }  // statements are finalized before the close
  if (has_table) {
    Stmt st(db,
            "SELECT id,rule,kind,subject,fired_ns,value,threshold,trace_id,resets_ns,message,recovered_ns,"
            "recovery_message FROM alerts WHERE (fired_ns>=?1 OR recovered_ns IS NULL) AND (?2=0 OR recovered_ns IS "
            "NULL) ORDER BY fired_ns DESC, id DESC LIMIT ?3");
    st.bind(1, std::int64_t{q.since}).bind(2, q.firing_only ? 1 : 0).bind(3, q.limit);
    while (st.step() == SQLITE_ROW) {
      AlertRow r;
      r.id = st.i64(0);
      r.rule = st.text(1);
      r.kind = st.text(2);
      r.subject = st.text(3);
      r.fired_ns = st.i64(4);
      r.value = st.dbl(5);
      r.threshold = st.dbl(6);
      r.trace_id = st.text(7);
      if (!st.is_null(8)) r.resets_ns = st.i64(8);
      r.message = st.text(9);
      if (!st.is_null(10)) r.recovered_ns = st.i64(10);
      r.recovery_message = st.text(11);
      rows.push_back(std::move(r));
    }
  }
  sqlite3_close(db);
  return rows;
}

std::vector<FiringAlert> firing_alerts(const std::vector<AlertRow>& rows) {
  std::vector<FiringAlert> out;
  for (const auto& r : rows)
    if (!r.recovered_ns) out.push_back({r.rule, r.kind, r.subject, r.fired_ns, r.value, r.resets_ns.value_or(0)});
  return out;
}

nlohmann::json alerts_json(const std::vector<AlertRow>& rows) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"id", r.id},
                        {"rule", r.rule},
                        {"kind", r.kind},
                        {"subject", r.subject},
                        {"state", r.recovered_ns ? "recovered" : "firing"},
                        {"fired_at", rfc3339_ms(r.fired_ns)},
                        {"fired_ns", r.fired_ns},
                        {"value", r.value},
                        {"threshold", r.threshold},
                        {"trace_id", r.trace_id},
                        {"message", r.message}};
    if (r.resets_ns) j["resets_at"] = rfc3339_ms(*r.resets_ns);
    if (r.recovered_ns) {
      j["recovered_at"] = rfc3339_ms(*r.recovered_ns);
      j["recovered_ns"] = *r.recovered_ns;
      j["recovery_message"] = r.recovery_message;
    }
    list.push_back(std::move(j));
  }
  return {{"alerts", std::move(list)}};
}

}  // namespace llmtap::alerts
