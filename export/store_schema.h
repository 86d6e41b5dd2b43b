#pragma once
// The trace store's schema, versioned in PRAGMA user_version, and the migrations from every version
// llmtap has shipped. A store is brought to kStoreSchemaVersion in one transaction (all steps or
// none); a store from a newer llmtap is refused, never rewritten.
//   1  traces, spans, attributes (one row per attribute)
//   2  attributes encoded per span (attrs/content blobs, attr_keys), spans keyed by rowid,
//      indexes for the report's selections (time, workflow), incremental vacuum for retention
//   3  traces.report: the report's projection of each trace (report_projection.h), written with it;
//      span_events: span events (an alert on the trace), one row each
//   4  report_hours and trace_stats: the report's aggregates per hour and group, kept at write time
//      (store_aggregates.h), so that the viewer's dashboards and user/session filters do not read
//      every trace
//   5  trace_stats keyed by (start_ns, trace_id), WITHOUT ROWID: a new row is an append, and the
//      start-ordered reads need no separate index (one B-tree insert fewer per trace)
//   6  traces.id (INTEGER PRIMARY KEY, insertion order) and spans.trace_row referring to it in
//      place of the trace id: the index a trace's spans are found by grows at its end
#include <string>

struct sqlite3;

namespace llmtap::exporting {

inline constexpr int kStoreSchemaVersion = 6;

// Creates or migrates DB (open read-write, WAL already set) to kStoreSchemaVersion. *FROM is the
// version found (0: a new store). false and *error (e.g. "trace store schema version 3 is newer
// than this llmtap (2)") otherwise; nothing is changed then.
bool bring_schema_up_to_date(sqlite3* db, int* from, std::string* error);

}  // namespace llmtap::exporting
