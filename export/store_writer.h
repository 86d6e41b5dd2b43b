#pragma once
// Writes batches of traces into the store (schema 3) in one transaction each, with statements
// prepared once per connection: per span one row (attributes encoded, store_rows.h), per trace one
// summary row computed in memory (or, for a trace delivered in parts, from every span stored) with
// the trace's report projection, and a row per span event.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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
struct EncodedTrace;
class CommittedKeys;

class StoreWriter {
 public:
  explicit StoreWriter(sqlite3* db);
  ~StoreWriter();
  // "" if every statement prepared, else why not.
  const std::string& error() const { return error_; }
  // "" once BATCH is committed, else why not (the transaction rolled back, nothing written).
  // ROWS, when given, holds BATCH's rows encoded beforehand (prepare()), one per trace.
  std::string write(const std::vector<Trace>& batch, const std::vector<EncodedTrace>* rows = nullptr);
  // Encodes TRACE's rows into OUT with the keys committed so far (store_encoding.h). Any thread.
  void prepare(const Trace& trace, EncodedTrace& out) const;
  // Commits the keys encoders met before the writer did (CommittedKeys::want), in a transaction of
  // their own, so that prepare() can encode with them from now on. "" or why not.
  std::string add_wanted_keys();

 private:
  // BATCH[AT...]'s traces rows as if each trace were new, in multi-row INSERTs that leave a row stored
  // before alone, then the rest of each trace (write_trace) in order.
  std::string write_traces(const std::vector<Trace>& batch, const std::vector<EncodedTrace>* rows,
                           const std::vector<std::size_t>& at);
  // TRACE's spans, events and aggregates, after its traces row (id TRACE_ROW) went in (EXISTED: a row
  // was stored before, so the trace is a later part and its totals are recomputed from every span
  // stored).
  std::string write_trace(const Trace& trace, const EncodedTrace* rows, bool existed, std::int64_t trace_row);
  // *ROW: the id of TRACE_ID's traces row. "" or why not.
  std::string stored_row(const std::string& trace_id, std::int64_t* row);
  // Binds the traces row from totals T at parameters FIRST.. of ST (10 columns).
  void bind_trace_row(sql::Stmt& st, int first, const std::string& trace_id, const TraceTotals& t,
                      std::string_view agents, std::string_view report);
  // SPAN's events (REPLACE: after dropping those stored for it before).
  std::string write_events(const std::string& trace_id, const Span& span, bool replace);

  sqlite3* db_;
  std::string error_;
  KeyTable keys_;
  std::shared_ptr<CommittedKeys> committed_;
  sql::Stmt put_trace_, stored_spans_, put_event_, drop_events_;
  sql::MultiRowInsert put_spans_;   // a trace's spans, up to 16 per statement
  sql::MultiRowInsert add_traces_;  // new traces rows, up to 32 per statement
  sql::Stmt inserted_ids_;          // the trace ids of a range of traces row ids
  sql::Stmt row_of_;                // the row id of a trace id
  // The traces rows of one add_traces_ statement, for traces the writer encodes itself (their bytes
  // must outlive the statement's step).
  struct FreshRow {
    TraceTotals totals;
    std::string agents, report;
  };
  std::vector<FreshRow> fresh_rows_;
  // The trace ids an add_traces_ statement inserted and their row ids, when not all went in.
  std::vector<std::pair<std::string, std::int64_t>> inserted_;
  std::unique_ptr<AggregateWriter> aggregates_;  // store_aggregates.h, kept with every trace written
  std::string attrs_, report_;  // reused encoding buffers
  std::vector<std::pair<std::string, std::string>> span_blobs_;  // one INSERT's spans: attrs, content
};

}  // namespace llmtap::exporting
