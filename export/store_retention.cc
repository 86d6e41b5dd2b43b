#include "export/store_retention.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "export/sqlite_util.h"
#include "export/store_aggregates.h"
#include "export/store_file.h"
#include "export/store_keys.h"

namespace llmtap::exporting {
namespace {

constexpr std::int64_t kDay = 86'400'000'000'000;
constexpr std::int64_t kHour = 3'600'000'000'000;

std::string age_text(std::int64_t ns) {
  if (ns % kDay == 0) return std::to_string(ns / kDay) + "d";
  if (ns % kHour == 0) return std::to_string(ns / kHour) + "h";
  return std::to_string(ns / 1'000'000'000) + "s";
}

std::string mb_text(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::int64_t pragma_int(sqlite3* db, const char* pragma) {
  sql::Stmt st(db, pragma);
  return st.step() == SQLITE_ROW ? st.i64(0) : 0;
}

// Deletes the traces SELECT_IDS returns (bound by BIND), with their spans, in one transaction.
// The number deleted, or -1 with *error.
std::int64_t delete_chunk(sqlite3* db, sql::Stmt& select_ids, std::uint64_t* spans, std::string* error) {
  std::vector<std::string> ids;
  while (select_ids.step() == SQLITE_ROW) ids.push_back(select_ids.text(0));
  select_ids.reset();
  if (ids.empty()) return 0;
  sql::Stmt del_spans(db, "DELETE FROM spans WHERE trace_row=(SELECT id FROM traces WHERE trace_id=?1)");
  sql::Stmt del_events(db, "DELETE FROM span_events WHERE trace_id=?1");
  sql::Stmt del_trace(db, "DELETE FROM traces WHERE trace_id=?1");
  if (!del_spans.ok() || !del_events.ok() || !del_trace.ok()) return *error = sqlite3_errmsg(db), -1;
  // The aggregates keep to the traces that remain: what each deleted trace added comes off.
  KeyTable keys(db, /*writable=*/false);
  if (!keys.load(error)) return -1;
  AggregateWriter aggregates(db, keys);
  if (!aggregates.error().empty()) return *error = aggregates.error(), -1;
  for (const auto& id : ids) {
    if (std::string e = aggregates.retract(id); !e.empty()) return *error = e, -1;
    if (!del_spans.bind(1, std::string_view(id)).exec()) return *error = sqlite_reason(db, del_spans.last_rc()), -1;
    *spans += static_cast<std::uint64_t>(sqlite3_changes(db));
    if (!del_events.bind(1, std::string_view(id)).exec()) return *error = sqlite_reason(db, del_events.last_rc()), -1;
    if (!del_trace.bind(1, std::string_view(id)).exec()) return *error = sqlite_reason(db, del_trace.last_rc()), -1;
  }
  if (std::string e = aggregates.flush(); !e.empty()) return *error = e, -1;
  return static_cast<std::int64_t>(ids.size());
}

bool has_alerts_table(sqlite3* db) {
  sql::Stmt st(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alerts'");
  return st.ok() && st.step() == SQLITE_ROW;
}

// Alert rows (alerts/alert_store.h: the table alerting adds to the store) whose last event, the
// recovery or else the firing, is before CUTOFF. The number deleted, or -1 with *error.
std::int64_t delete_alerts_before(sqlite3* db, UnixNanos cutoff, std::string* error) {
  if (!has_alerts_table(db)) return 0;
  sql::Stmt del(db, "DELETE FROM alerts WHERE COALESCE(recovered_ns, fired_ns) < ?1");
  if (!del.ok()) return *error = sqlite3_errmsg(db), -1;
  if (!del.bind(1, cutoff).exec()) return *error = sqlite_reason(db, del.last_rc()), -1;
  return sqlite3_changes(db);
}

}  // namespace

RetentionPolicy default_retention() {
  RetentionPolicy p;
  p.max_age_ns = 30 * kDay;
  p.max_bytes = std::int64_t{1024} << 20;
  return p;
}

std::string parse_retention_age(const std::string& value, std::int64_t* max_age_ns) {
  if (value == "off" || value == "0") return *max_age_ns = 0, "";
  const std::string bad = "--retention wants an age such as 7d, 12h, 90m, 2w or off, got '" + value + "'";
  if (value.size() < 2) return bad;
  std::int64_t unit = 0;
  switch (value.back()) {
    case 's': unit = 1'000'000'000; break;
    case 'm': unit = 60'000'000'000; break;
    case 'h': unit = kHour; break;
    case 'd': unit = kDay; break;
    case 'w': unit = 7 * kDay; break;
    default: return bad;
  }
  std::int64_t n = 0;
  for (std::size_t i = 0; i + 1 < value.size(); ++i) {
    if (value[i] < '0' || value[i] > '9' || n > 100'000'000) return bad;
    n = n * 10 + (value[i] - '0');
  }
  if (n == 0 || n > std::numeric_limits<std::int64_t>::max() / unit) return bad;
  *max_age_ns = n * unit;
  return "";
}

std::string parse_megabytes(std::string_view option, const std::string& value, std::uint64_t* bytes,
                            std::string_view zero_means) {
  std::uint64_t n = 0;
  bool ok = !value.empty() && value.size() <= 9;
  for (char c : value) ok &= c >= '0' && c <= '9', n = n * 10 + static_cast<std::uint64_t>(c - '0');
  if (!ok)
    return std::string(option) + " wants a whole number of megabytes (0: " + std::string(zero_means) + "), got '" +
           value + "'";
  *bytes = n << 20;
  return "";
}

std::string parse_max_store_mb(const std::string& value, std::int64_t* max_bytes) {
  std::uint64_t bytes = 0;
  if (std::string e = parse_megabytes("--max-store-mb", value, &bytes); !e.empty()) return e;
  *max_bytes = static_cast<std::int64_t>(bytes);
  return "";
}

std::string RetentionPolicy::describe() const {
  std::string out = max_age_ns > 0 ? "retention " + age_text(max_age_ns) : "no age limit";
  out += max_bytes > 0 ? ", cap " + std::to_string(max_bytes / (1024 * 1024)) + " MB" : ", no size cap";
  return out;
}

std::string PruneResult::describe(const RetentionPolicy& policy) const {
  if (traces() == 0)
    return "deleted " + std::to_string(alerts) + " alert" + (alerts == 1 ? "" : "s") + " older than " +
           age_text(policy.max_age_ns) + "; store " + mb_text(bytes_before) + " -> " + mb_text(bytes_after);
  std::string out = "deleted " + std::to_string(traces()) + " trace" + (traces() == 1 ? "" : "s") + " (" +
                    std::to_string(spans) + " spans):";
  if (traces_by_age > 0) out += " " + std::to_string(traces_by_age) + " older than " + age_text(policy.max_age_ns);
  if (traces_by_size > 0)
    out += std::string(traces_by_age > 0 ? "," : "") + " " + std::to_string(traces_by_size) + " oldest over the " +
           std::to_string(policy.max_bytes / (1024 * 1024)) + " MB cap";
  if (alerts > 0) out += "; " + std::to_string(alerts) + " alert" + (alerts == 1 ? "" : "s") + " with them";
  return out + "; store " + mb_text(bytes_before) + " -> " + mb_text(bytes_after);
}

std::int64_t store_bytes(sqlite3* db) {
  return (pragma_int(db, "PRAGMA page_count") - pragma_int(db, "PRAGMA freelist_count")) *
         pragma_int(db, "PRAGMA page_size");
}

PruneResult prune(sqlite3* db, const RetentionPolicy& policy, UnixNanos now, std::uint64_t max_traces,
                  std::uint64_t chunk, const std::function<bool()>& stop_requested) {
  PruneResult r;
  r.bytes_before = r.bytes_after = store_bytes(db);
  auto in_transaction = [&](sql::Stmt& ids, std::uint64_t* counter) -> std::int64_t {
    if (!sql::exec(db, "BEGIN IMMEDIATE", &r.error)) return -1;
    std::int64_t n = delete_chunk(db, ids, &r.spans, &r.error);
    if (n < 0 || !sql::exec(db, "COMMIT", &r.error)) {
      sql::exec(db, "ROLLBACK");
      return -1;
    }
    *counter += static_cast<std::uint64_t>(n);
    return n;
  };
  auto budget = [&]() -> std::uint64_t {
    if (stop_requested && stop_requested()) return 0;
    return std::min<std::uint64_t>(chunk, max_traces - std::min(max_traces, r.traces()));
  };

  if (policy.max_age_ns > 0) {
    sql::Stmt old(db, "SELECT trace_id FROM traces WHERE start_ns < ?1 ORDER BY start_ns LIMIT ?2");
    if (!old.ok()) return r.error = sqlite3_errmsg(db), r;
    for (;;) {
      const std::uint64_t take = budget();
      if (take == 0) return r.more = true, r.bytes_after = store_bytes(db), r;
      old.bind(1, now - policy.max_age_ns).bind(2, static_cast<std::int64_t>(take));
      std::int64_t n = in_transaction(old, &r.traces_by_age);
      if (n < 0) return r;
      if (n == 0) break;
    }
  }
  if (policy.max_bytes > 0 && store_bytes(db) > policy.max_bytes) {
    const auto target = static_cast<std::int64_t>(static_cast<double>(policy.max_bytes) * 0.9);
    sql::Stmt oldest(db, "SELECT trace_id FROM traces ORDER BY start_ns, trace_id LIMIT ?1");
    if (!oldest.ok()) return r.error = sqlite3_errmsg(db), r;
    for (std::int64_t used = store_bytes(db); used > target; used = store_bytes(db)) {
      const std::uint64_t take = budget();
      if (take == 0) return r.more = true, r.bytes_after = store_bytes(db), r;
      // Deleting a share of the traces frees about that share of the pages (a bit less: index pages
      // keyed by random trace ids empty slowly), so the loop takes a few chunks at most.
      const std::int64_t count = pragma_int(db, "SELECT COUNT(*) FROM traces");
      if (count == 0) break;
      auto share = static_cast<std::uint64_t>(
          std::ceil(static_cast<double>(count) * static_cast<double>(used - target) / static_cast<double>(used)));
      oldest.bind(1, static_cast<std::int64_t>(std::clamp<std::uint64_t>(share, 1, take)));
      std::int64_t n = in_transaction(oldest, &r.traces_by_size);
      if (n <= 0) break;
    }
  }
  // Alerts follow the traces: older than the age limit, or older than the oldest trace kept under
  // the size cap (all of them once no trace is left).
  UnixNanos alert_cutoff = policy.max_age_ns > 0 ? now - policy.max_age_ns : 0;
  if (r.traces_by_size > 0) {
    sql::Stmt first(db, "SELECT MIN(start_ns) FROM traces");
    const bool any = first.ok() && first.step() == SQLITE_ROW && !first.is_null(0);
    alert_cutoff = std::max(alert_cutoff, any ? first.i64(0) : std::numeric_limits<UnixNanos>::max());
  }
  if (alert_cutoff > 0) {
    const std::int64_t n = delete_alerts_before(db, alert_cutoff, &r.error);
    if (n > 0) r.alerts = static_cast<std::uint64_t>(n);
  }
  if (r.traces() > 0 || r.alerts > 0) {
    // Only a store created with auto_vacuum=incremental gives pages back; elsewhere they are reused.
    sql::exec(db, "PRAGMA incremental_vacuum");
    sql::exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
  }
  r.bytes_after = store_bytes(db);
  return r;
}

}  // namespace llmtap::exporting
