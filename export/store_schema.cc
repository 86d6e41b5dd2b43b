#include "export/store_schema.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "export/sqlite_util.h"
#include "export/store_aggregates.h"
#include "export/store_file.h"
#include "export/store_keys.h"
#include "export/store_rows.h"

namespace llmtap::exporting {
namespace {

using sql::Stmt;

// The tables of the current version, for a new store and as the target of the last migration.
// Schema 6: spans refer to their trace by the trace row's id, which only grows, so the index a
// trace's spans are found by takes each new trace at its right edge (an append) instead of at the
// random place of its trace id; the trace id's own index is the one random insert a trace costs.
constexpr const char* kTracesTable = R"sql(
CREATE TABLE traces(
  id INTEGER PRIMARY KEY,        -- schema 6: in insertion order, kept when the row is updated; spans refer to it
  trace_id TEXT NOT NULL UNIQUE,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  workflow TEXT NOT NULL,
  agents TEXT NOT NULL,          -- JSON array, in order of first appearance
  span_count INTEGER NOT NULL,
  cost_usd REAL,                 -- NULL when no span was priced
  error_count INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL,
  report BLOB);                  -- report_projection.h; NULL for traces written before schema 3
)sql";
constexpr const char* kSpansTable = R"sql(
CREATE TABLE spans(
  id INTEGER PRIMARY KEY,        -- insertion order: appends, not random B-tree inserts
  trace_row INTEGER NOT NULL,    -- traces.id of the span's trace
  span_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL,
  seq INTEGER NOT NULL,          -- position in the trace as emitted, breaks start-time ties
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  error INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  attrs BLOB NOT NULL,           -- attributes, span_codec.h encoding, keys from attr_keys
  content BLOB);                 -- the large content attributes (store_rows.h), last so that a row is read without it
)sql";
constexpr const char* kIndexes = R"sql(
CREATE TABLE IF NOT EXISTS attr_keys(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE UNIQUE INDEX IF NOT EXISTS spans_by_trace ON spans(trace_row, span_id);
CREATE INDEX IF NOT EXISTS traces_by_time ON traces(start_ns, trace_id);
CREATE INDEX IF NOT EXISTS traces_by_workflow ON traces(workflow, start_ns, trace_id);
)sql";

// The spans table and indexes as schema 2 made them (spans named their trace by its id), the target
// of the 1 -> 2 migration; 5 -> 6 takes them to the current ones.
constexpr const char* kSpansTableV2 = R"sql(
CREATE TABLE spans(
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  error INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  attrs BLOB NOT NULL,
  content BLOB);
)sql";
constexpr const char* kIndexesV2 = R"sql(
CREATE TABLE IF NOT EXISTS attr_keys(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE UNIQUE INDEX IF NOT EXISTS spans_by_trace ON spans(trace_id, span_id);
DROP INDEX IF EXISTS traces_by_start;
CREATE INDEX IF NOT EXISTS traces_by_time ON traces(start_ns, trace_id);
CREATE INDEX IF NOT EXISTS traces_by_workflow ON traces(workflow, start_ns, trace_id);
)sql";
constexpr const char* kEventsTable = R"sql(
CREATE TABLE span_events(
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  seq INTEGER NOT NULL,          -- the event's position on its span
  time_ns INTEGER NOT NULL,
  name TEXT NOT NULL,
  attrs BLOB NOT NULL);          -- span_codec.h encoding, keys written out (events are few)
CREATE INDEX span_events_by_trace ON span_events(trace_id);
)sql";

bool create_latest(sqlite3* db, std::string* error) {
  return sql::exec(db, kTracesTable, error) && sql::exec(db, kSpansTable, error) && sql::exec(db, kIndexes, error) &&
         sql::exec(db, kEventsTable, error) && sql::exec(db, kAggregateTables, error);
}

// Version 1 stored one row per attribute with its type as text.
AttrValue v1_value(const Stmt& st, std::string_view type, int col) {
  if (type == "int") return AttrValue(st.i64(col));
  if (type == "double") return AttrValue(st.dbl(col));
  if (type == "bool") return AttrValue(st.i64(col) != 0);
  if (type == "string[]") {
    auto j = nlohmann::json::parse(st.view(col), nullptr, false);
    std::vector<std::string> out;
    if (j.is_array())
      for (const auto& e : j)
        if (e.is_string()) out.push_back(e.get<std::string>());
    return AttrValue(std::move(out));
  }
  return AttrValue(st.text(col));
}

// 1 -> 2: each span's attribute rows become its two blobs; the spans table is rebuilt keyed by rowid.
bool v1_to_v2(sqlite3* db, std::string* error) {
  if (!sql::exec(db, "ALTER TABLE spans RENAME TO spans_v1", error) || !sql::exec(db, kSpansTableV2, error) ||
      !sql::exec(db, "CREATE TABLE attr_keys(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)", error))
    return false;
  KeyTable keys(db, /*writable=*/true);
  Stmt spans(db,
             "SELECT trace_id,span_id,parent_span_id,seq,name,kind,start_ns,end_ns,error,status_message FROM spans_v1 "
             "ORDER BY trace_id, span_id");
  Stmt attrs(db, "SELECT key,type,value FROM attributes WHERE trace_id=?1 AND span_id=?2 ORDER BY idx");
  Stmt put(db,
           "INSERT INTO spans(trace_id,span_id,parent_span_id,seq,name,kind,start_ns,end_ns,error,status_message,"
           "attrs,content) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
  for (auto* st : {&spans, &attrs, &put})
    if (!st->ok()) return *error = sqlite3_errmsg(db), false;
  std::string blob, content;
  int rc;
  while ((rc = spans.step()) == SQLITE_ROW) {
    Span s;
    attrs.bind(1, spans.view(0)).bind(2, spans.view(1));
    while (attrs.step() == SQLITE_ROW) s.attributes.push_back({attrs.text(0), v1_value(attrs, attrs.view(1), 2)});
    attrs.reset();
    if (!encode_span_attributes(s, keys, blob, content)) return *error = sqlite3_errmsg(db), false;
    for (int c = 0; c < 10; ++c) {
      if (spans.type(c) == SQLITE_INTEGER) put.bind(c + 1, spans.i64(c));
      else put.bind(c + 1, spans.view(c));
    }
    put.bind_blob(11, blob);
    if (content.empty()) put.bind_null(12); else put.bind_blob(12, content);
    if (!put.exec()) return *error = sqlite_reason(db, put.last_rc()), false;
  }
  if (rc != SQLITE_DONE) return *error = sqlite_reason(db, rc), false;
  return sql::exec(db, "DROP TABLE attributes; DROP TABLE spans_v1", error) && sql::exec(db, kIndexesV2, error);
}

// 2 -> 3: a column and a table. Traces stored before keep a NULL projection (the reader makes one
// from their spans when it needs it) and have no events.
bool v2_to_v3(sqlite3* db, std::string* error) {
  return sql::exec(db, "ALTER TABLE traces ADD COLUMN report BLOB", error) && sql::exec(db, kEventsTable, error);
}

// 3 -> 4: the write-time aggregates (store_aggregates.h), built from every trace stored.
bool v3_to_v4(sqlite3* db, std::string* error) { return build_aggregates(db, error); }

// 4 -> 5: trace_stats rows keyed by start (store_aggregates.h rekey_trace_stats).
bool v4_to_v5(sqlite3* db, std::string* error) { return rekey_trace_stats(db, error); }

// 5 -> 6: traces get an id column (their rowid, now stable under VACUUM) and spans refer to it
// instead of repeating the trace id. Both tables are copied in their row order; a span whose trace
// row is missing could never be read (every read starts from a trace row) and is not copied.
bool v5_to_v6(sqlite3* db, std::string* error) {
  const std::string sql = std::string(
      "DROP INDEX spans_by_trace; DROP INDEX traces_by_time; DROP INDEX traces_by_workflow;"
      "ALTER TABLE traces RENAME TO traces_v5; ALTER TABLE spans RENAME TO spans_v5;") +
      kTracesTable + kSpansTable +
      "INSERT INTO traces(id,trace_id,start_ns,end_ns,workflow,agents,span_count,cost_usd,error_count,updated_ns,report)"
      " SELECT rowid,trace_id,start_ns,end_ns,workflow,agents,span_count,cost_usd,error_count,updated_ns,report"
      " FROM traces_v5 ORDER BY rowid;"
      "INSERT INTO spans(id,trace_row,span_id,parent_span_id,seq,name,kind,start_ns,end_ns,error,status_message,attrs,content)"
      " SELECT s.id,t.id,s.span_id,s.parent_span_id,s.seq,s.name,s.kind,s.start_ns,s.end_ns,s.error,s.status_message,"
      "s.attrs,s.content FROM spans_v5 s JOIN traces t ON t.trace_id=s.trace_id ORDER BY s.id;"
      "DROP TABLE spans_v5; DROP TABLE traces_v5;" + kIndexes +
      // The old tables' pages go back to the file system (a store made with auto_vacuum=incremental;
      // elsewhere they are reused), or the copy would leave the file twice its size.
      "PRAGMA incremental_vacuum;";
  return sql::exec(db, sql.c_str(), error);
}

struct Migration {
  int from;  // applies to a store at this version, leaves it at from + 1
  bool (*apply)(sqlite3* db, std::string* error);
};
// Ordered; one entry per version ever shipped below kStoreSchemaVersion.
constexpr Migration kMigrations[] = {
    {1, v1_to_v2},
    {2, v2_to_v3},
    {3, v3_to_v4},
    {4, v4_to_v5},
    {5, v5_to_v6},
};
static_assert(sizeof kMigrations / sizeof kMigrations[0] == kStoreSchemaVersion - 1, "a migration per version");

int user_version(sqlite3* db) {
  Stmt v(db, "PRAGMA user_version");
  return v.step() == SQLITE_ROW ? static_cast<int>(v.i64(0)) : -1;
}

}  // namespace

bool bring_schema_up_to_date(sqlite3* db, int* from, std::string* error) {
  int version = user_version(db);
  *from = version;
  if (version < 0) return *error = std::string("cannot read the schema version: ") + sqlite3_errmsg(db), false;
  if (version > kStoreSchemaVersion) {
    *error = "trace store schema version " + std::to_string(version) + " is newer than this llmtap (" +
             std::to_string(kStoreSchemaVersion) + "); use that llmtap, or --export sqlite=ANOTHER_PATH";
    return false;
  }
  if (version == kStoreSchemaVersion) return true;
  // Page reuse for retention must be chosen before the first table exists (a migrated store keeps
  // its mode; deleted pages are still reused, the file only does not shrink).
  if (version == 0 && !sql::exec(db, "PRAGMA auto_vacuum=INCREMENTAL", error)) return false;
  if (!sql::exec(db, "BEGIN IMMEDIATE", error)) return false;
  // Read again under the write lock: another process may have migrated meanwhile.
  version = user_version(db);
  *from = version;
  bool ok = version >= 0 && version <= kStoreSchemaVersion;
  if (ok && version == 0) {
    ok = create_latest(db, error);
  } else {
    if (ok && version < kStoreSchemaVersion)
      spdlog::info("trace store {}: migrating schema {} -> {} (once; a store of 1 GB takes about 15 s)",
                   sqlite3_db_filename(db, "main"), version, kStoreSchemaVersion);
    for (const auto& m : kMigrations)
      if (ok && m.from >= version) ok = m.apply(db, error);
  }
  if (ok) ok = sql::exec(db, ("PRAGMA user_version=" + std::to_string(kStoreSchemaVersion)).c_str(), error);
  if (!ok || !sql::exec(db, "COMMIT", error)) {
    if (error->empty()) *error = "schema version changed during the migration";
    sql::exec(db, "ROLLBACK");
    return false;
  }
  return true;
}

}  // namespace llmtap::exporting
