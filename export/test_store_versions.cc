#include "export/test_store_versions.h"

#include <sqlite3.h>

namespace llmtap::exporting::testing {

std::string downgrade_store_to_v5(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open " + path;
  }
  const char* sql = R"sql(
BEGIN IMMEDIATE;
DROP INDEX spans_by_trace; DROP INDEX traces_by_time; DROP INDEX traces_by_workflow;
ALTER TABLE traces RENAME TO t6; ALTER TABLE spans RENAME TO s6;
CREATE TABLE traces(trace_id TEXT PRIMARY KEY, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
  workflow TEXT NOT NULL, agents TEXT NOT NULL, span_count INTEGER NOT NULL, cost_usd REAL,
  error_count INTEGER NOT NULL, updated_ns INTEGER NOT NULL, report BLOB);
CREATE TABLE spans(id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, span_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
  start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, error INTEGER NOT NULL,
  status_message TEXT NOT NULL, attrs BLOB NOT NULL, content BLOB);
INSERT INTO traces SELECT trace_id,start_ns,end_ns,workflow,agents,span_count,cost_usd,error_count,updated_ns,report
  FROM t6 ORDER BY id;
INSERT INTO spans SELECT s.id,t.trace_id,s.span_id,s.parent_span_id,s.seq,s.name,s.kind,s.start_ns,s.end_ns,
  s.error,s.status_message,s.attrs,s.content FROM s6 s JOIN t6 t ON t.id=s.trace_row ORDER BY s.id;
DROP TABLE s6; DROP TABLE t6;
CREATE UNIQUE INDEX spans_by_trace ON spans(trace_id, span_id);
CREATE INDEX traces_by_time ON traces(start_ns, trace_id);
CREATE INDEX traces_by_workflow ON traces(workflow, start_ns, trace_id);
PRAGMA user_version=5;
COMMIT;
)sql";
  char* msg = nullptr;
  std::string error;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) error = msg ? msg : "downgrade failed";
  sqlite3_free(msg);
  sqlite3_close(db);
  return error;
}

}  // namespace llmtap::exporting::testing
