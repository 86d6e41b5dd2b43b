#pragma once
// The report over a time window from the store's write-time aggregates (export/store_aggregates.h)
// instead of every trace: the whole hours inside the window from their aggregate rows, the traces of
// the partial hours at either end read one by one (so any window gives the same traces as a full
// pass). Counts, token sums and the sets of traces are exact; cost and duration sums may differ from
// a full pass in the last bits (another order of addition); p50/p95/p99 and max come from decimal
// histograms, within 0.5% of the exact nearest-rank value (exact for values with at most 3
// significant digits). The most expensive traces and the loop runs come from the trace_stats index
// and are the full pass's (loop runs use the report's default thresholds). SPEC.md "Viewer API".
#include <map>
#include <optional>
#include <string>

#include "export/store_aggregates.h"
#include "report/report.h"

namespace llmtap::report {

class WindowAggregates {
 public:
  // Reads [SINCE, UNTIL) of SOURCE's store. nullopt and *error on a read error.
  static std::optional<WindowAggregates> read(const StoreTraceSource& source, UnixNanos since, UnixNanos until,
                                              std::string* error);

  // The report ReportBuilder(OPTIONS) would give over the window (groups by options.by: agent,
  // model, workflow or user; tools always), with the most expensive traces (options.top) and the
  // loop runs (when LOOPS). With WORKFLOW, only that workflow's runs and calls (no groups or tools).
  std::optional<Report> report(const ReportOptions& options, bool loops, std::string* error,
                               const std::string* workflow = nullptr) const;
  // Workflows with traces in the window, as the report names them.
  std::vector<std::string> workflows() const;
  // Cost and traces per hour of trace start (hours with traces only).
  std::map<std::int64_t, std::pair<double, std::int64_t>> cost_per_hour() const;

 private:
  const StoreTraceSource* source_ = nullptr;
  UnixNanos since_ = 0, until_ = 0;
  std::map<std::pair<exporting::AggregateKind, std::string>, exporting::GroupAggregate> groups_;
  std::map<std::int64_t, std::pair<double, std::int64_t>> hours_;
};

}  // namespace llmtap::report
