#pragma once
// The store's write-time aggregates (schema 4): per hour of trace start, per group (the total, a
// workflow, agent, model, user or tool), what the report adds up (counts, token and cost sums, and
// mergeable histograms for its percentiles), so that the viewer's dashboards read a few rows per
// hour instead of every trace. Kept equal to the traces stored: the writer adds each trace (taking
// off what an earlier part of the same trace added), retention takes off what it deletes, and the
// 3 -> 4 migration builds them from the traces already stored. One row per trace in trace_stats
// serves what a sum cannot: the most expensive traces, the loop runs, cost over sub-hour buckets,
// and the user and session filters of the viewer's lists (indexed).
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/span.h"
#include "export/sqlite_util.h"
#include "export/trace_facts.h"

namespace llmtap::exporting {

class KeyTable;

inline constexpr std::int64_t kAggregateHourNs = 3600LL * 1'000'000'000LL;
// The loop rule the aggregates count with (the report's defaults, report/report.h).
inline constexpr int kAggregateLoopRepeats = 3, kAggregateLoopModelCalls = 25;

// Counts per value rounded to 3 significant digits (HdrHistogram's idea in decimal): a percentile
// read from it is within 0.5% of the exact nearest-rank value, and exact when the values have at
// most 3 significant digits. Mergeable, and subtractable (retention takes values off).
class DecimalHistogram {
 public:
  void add(double value, std::int64_t n = 1);
  void merge(const DecimalHistogram& other, int sign = 1);
  std::int64_t count() const;
  // Nearest-rank P (0..100) percentile, the bucket's value; 0 when empty.
  double percentile(double p) const;
  double max() const;
  bool empty() const { return counts_.empty(); }
  void encode(std::string& out) const;
  bool decode(std::string_view& in);
  static double rounded(double value);  // VALUE as its bucket reads it

 private:
  std::map<std::int32_t, std::int64_t> counts_;  // bucket -> count (zero counts are dropped)
};

enum class AggregateKind : int { kTotal = 0, kWorkflow = 1, kAgent = 2, kModel = 3, kUser = 4, kTool = 5 };

// What one group adds up to over one hour. Slots by name; a kind uses the slots that apply to it
// (calls: every kind but tools; runs: total and workflow; tool: tools).
struct GroupAggregate {
  enum Count {
    kCalls, kCallErrors, kInputTokens, kCachedTokens, kOutputTokens, kReasoningTokens, kPricedCalls, kUnpricedCalls,
    kTraces, kSpans, kFailedTraces, kHandoffTraces, kLoopRuns, kPricedTraces, kUnpricedTraces, kArgumentsMissing,
    kModelCallsSum, kToolCallsSum, kToolCalls, kToolFailures, kToolUnanswered, kCountSlots
  };
  enum Sum { kCostUsd, kCallDurationMs, kTraceDurationMs, kTraceCostUsd, kToolLatencyMs, kRequestingCostUsd, kSumSlots };
  enum Hist { kCallDuration, kTraceDuration, kModelCallsPerRun, kToolCallsPerRun, kTraceCost, kToolLatency, kHistSlots };
  std::array<std::int64_t, kCountSlots> counts{};
  std::array<double, kSumSlots> sums{};
  std::array<DecimalHistogram, kHistSlots> hists;

  void merge(const GroupAggregate& other, int sign = 1);
  void add_call(const CallFacts& c, int sign);
  void add_run(const TraceFacts& f, std::int64_t spans, int sign);
  void add_tool(const ToolFacts& t, int sign);
  std::string encode() const;
  bool decode(std::string_view in);
};

struct AggregateKey {
  std::int64_t hour;  // trace start / kAggregateHourNs
  AggregateKind kind;
  std::string key;    // the group's name as the report shows it ("-" when the trace does not say; "" for the total)
  auto operator<=>(const AggregateKey&) const = default;
};
using AggregateMap = std::map<AggregateKey, GroupAggregate>;

// Adds (SIGN 1) or takes off (-1) one trace's contribution to OUT.
void add_trace(AggregateMap& out, const TraceFacts& facts, std::int64_t spans, int sign);

// What one stored trace adds to the aggregates and its trace_stats row, computed from its whole
// stored form. Pure: encoders compute it off the store's thread with the rest of the rows
// (store_encoding.h).
struct AggregateFacts {
  TraceFacts facts;
  std::int64_t spans = 0;
  bool loop = false;  // the loop rule at the aggregates' thresholds
};
AggregateFacts aggregate_facts(const Trace& trace);

// The write side, on a connection inside the caller's transaction: the writer, retention and the
// migration share it. Contributions gather in memory and go to the tables in flush().
class AggregateWriter {
 public:
  AggregateWriter(sqlite3* db, KeyTable& keys);
  const std::string& error() const { return error_; }  // "" if every statement prepared
  // A trace with FACTS (aggregate_facts() of its whole stored form) is being stored under TRACE_ID.
  std::string add(std::string_view trace_id, const AggregateFacts& facts);
  // The stored trace TRACE_ID is about to be replaced or deleted: what it added comes off. Reads its
  // projection (or, for a trace stored before schema 3, its spans). A trace not stored is a no-op.
  std::string retract(std::string_view trace_id);
  // Writes what was gathered (call before COMMIT); "" or the error.
  std::string flush();
  void discard() {
    pending_.clear();
    stats_.clear();
    kept_.clear();
    written_.clear();
  }
  // A writer of many transactions keeps the report_hours rows its last one wrote (one batch's
  // groups: bounded) and its next flush() merges into them instead of reading and decoding each row
  // again. begin(), after BEGIN, lets go of them if the store changed since the last committed()
  // other than by this writer (another connection: PRAGMA data_version; this one, as retention or
  // a key insert: its change count); committed() after COMMIT keeps what flush() wrote. Without
  // begin() nothing is kept (retention, migrations). "" or the error.
  std::string begin();
  void committed();
  // The stored trace TRACE_ID as the report reads it (*FOUND false if it is not stored).
  std::string stored_trace(std::string_view trace_id, Trace& out, bool* found);

 private:

  sqlite3* db_;
  KeyTable& keys_;
  std::string error_;
  // A trace_stats row waiting for flush() (written many to a statement).
  struct StatsRow {
    std::string trace_id;
    UnixNanos start_ns;
    std::optional<double> cost_usd;
    bool loop;
    std::string user, session;
  };
  std::string write_stats();

  std::int64_t data_version();

  AggregateMap pending_;
  std::vector<StatsRow> stats_;  // in the order added (a later row of one trace replaces an earlier)
  bool keep_ = false;                 // begin() was called: flush() fills written_
  AggregateMap kept_, written_;       // rows as stored at the last committed(); as this transaction writes them
  std::int64_t kept_version_ = -1, kept_changes_ = -1;  // data_version and total changes at committed()
  sql::Stmt data_version_st_;
  sql::Stmt get_agg_, put_agg_, drop_agg_, drop_stats_, drop_stats_any_start_, get_report_, stored_spans_;
  sql::MultiRowInsert put_stats_;
};

// The aggregate tables of the current schema (also for a new store).
extern const char* const kAggregateTables;
// The 3 -> 4 migration's second half: every stored trace added to the (empty) aggregates.
bool build_aggregates(sqlite3* db, std::string* error);
// The 4 -> 5 migration: trace_stats keyed by (start_ns, trace_id) instead of trace_id, without its
// by-time index; the same rows.
bool rekey_trace_stats(sqlite3* db, std::string* error);

// The read side. Calls VISIT with every aggregate row of KIND (all kinds if nullopt) for hours in
// [FIRST_HOUR, END_HOUR); "" or the error.
std::string read_aggregates(sqlite3* db, std::int64_t first_hour, std::int64_t end_hour,
                            std::optional<AggregateKind> kind,
                            const std::function<void(AggregateKey&&, GroupAggregate&&)>& visit);

// trace_stats reads over trace start in [SINCE, UNTIL). Each "" or the error.
// The ids of the LIMIT most expensive priced traces, most expensive first (ties by id).
std::string most_expensive_traces(sqlite3* db, UnixNanos since, UnixNanos until, int limit, std::vector<std::string>* ids);
// The ids of the first LIMIT traces the loop rule holds for, in start order.
std::string loop_traces(sqlite3* db, UnixNanos since, UnixNanos until, int limit, std::vector<std::string>* ids);
// Every trace's start and cost (0 when unpriced), in start order.
std::string trace_costs(sqlite3* db, UnixNanos since, UnixNanos until,
                        const std::function<void(UnixNanos start, double cost)>& visit);
// The first and last trace start; nullopt when there is no trace.
std::string start_range(sqlite3* db, UnixNanos since, UnixNanos until, std::optional<std::pair<UnixNanos, UnixNanos>>* range);
// The ids of the traces whose user (COLUMN "user") or session ("session", trace_facts.h TraceParties)
// is VALUE, in the order of TraceStoreReader::scan (start and id; NEWEST_FIRST reversed).
std::string traces_of(sqlite3* db, const char* column, std::string_view value, UnixNanos since, UnixNanos until,
                      bool newest_first, std::vector<std::string>* ids);

}  // namespace llmtap::exporting
