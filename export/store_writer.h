#pragma once
// Writes batches of traces into the store (schema 3) in one transaction each, with statements
// prepared once per connection: per span one row (attributes encoded, store_rows.h), per trace one
// summary row computed in memory (or, for a trace delivered in parts, from every span stored) with
// the trace's report projection, and a row per span event.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/span.h"
#include "export/sqlite_util.h"
#include "export/store_keys.h"

namespace llmtap::exporting {

// The traces row of a trace (what `llmtap traces list` shows).
struct TraceTotals {
  UnixNanos start_ns = 0, end_ns = 0;
  std::int64_t span_count = 0, error_count = 0;
  std::optional<double> cost_usd;  // the root's rolled-up cost, else the sum over priced generations
  std::string workflow;            // gen_ai.workflow.name of the earliest span with one, else the root's name
  std::vector<std::string> agents; // gen_ai.agent.name values in order of first appearance
};
TraceTotals trace_totals(const Trace& trace);

class AggregateWriter;

class StoreWriter {
 public:
  explicit StoreWriter(sqlite3* db);
  ~StoreWriter();
  // "" if every statement prepared, else why not.
  const std::string& error() const { return error_; }
  // "" once BATCH is committed, else why not (the transaction rolled back, nothing written).
  std::string write(const std::vector<Trace>& batch);

 private:
  std::string write_trace(const Trace& trace);
  // SPAN's events (REPLACE: after dropping those stored for it before).
  std::string write_events(const std::string& trace_id, const Span& span, bool replace);
  // Binds the traces row (T, the projection in report_) to ST and runs it.
  std::string put_trace_row(sql::Stmt& st, const std::string& trace_id, const TraceTotals& t);

  sqlite3* db_;
  std::string error_;
  KeyTable keys_;
  sql::Stmt put_span_, put_trace_, put_new_trace_, stored_spans_, put_event_, drop_events_;
  std::unique_ptr<AggregateWriter> aggregates_;  // store_aggregates.h, kept with every trace written
  std::string attrs_, content_, report_;  // reused encoding buffers
};

}  // namespace llmtap::exporting
