#include "report/window_aggregates.h"

#include <algorithm>

#include "export/sqlite_store.h"

namespace llmtap::report {
namespace {

using exporting::AggregateKind;
using exporting::DecimalHistogram;
using exporting::GroupAggregate;
constexpr std::int64_t kHour = exporting::kAggregateHourNs;
constexpr std::size_t kMaxListedLoops = 1000;  // as report.cc lists

Quantiles quantiles(const DecimalHistogram& h, double sum, std::int64_t n) {
  Quantiles q;
  if (n <= 0) return q;
  q.p50 = h.percentile(50), q.p95 = h.percentile(95), q.p99 = h.percentile(99), q.max = h.max();
  q.avg = sum / static_cast<double>(n);
  return q;
}

CallGroup call_group(std::string key, const GroupAggregate& g) {
  CallGroup c;
  c.key = std::move(key);
  c.calls = g.counts[GroupAggregate::kCalls];
  c.errors = g.counts[GroupAggregate::kCallErrors];
  c.duration_ms = quantiles(g.hists[GroupAggregate::kCallDuration], g.sums[GroupAggregate::kCallDurationMs], c.calls);
  c.input_tokens = g.counts[GroupAggregate::kInputTokens];
  c.cached_tokens = g.counts[GroupAggregate::kCachedTokens];
  c.output_tokens = g.counts[GroupAggregate::kOutputTokens];
  c.reasoning_tokens = g.counts[GroupAggregate::kReasoningTokens];
  c.priced_calls = g.counts[GroupAggregate::kPricedCalls];
  c.unpriced_calls = g.counts[GroupAggregate::kUnpricedCalls];
  c.cost_usd = c.priced_calls > 0 ? g.sums[GroupAggregate::kCostUsd] : 0;
  return c;
}

std::optional<AggregateKind> kind_of(GroupBy by) {
  switch (by) {
    case GroupBy::kAgent: return AggregateKind::kAgent;
    case GroupBy::kModel: return AggregateKind::kModel;
    case GroupBy::kWorkflow: return AggregateKind::kWorkflow;
    case GroupBy::kUser: return AggregateKind::kUser;
    default: return std::nullopt;  // tools come apart; sessions and releases are not aggregated
  }
}

// Feeds the traces IDS (in order) to BUILDER.
std::string feed_ids(const StoreTraceSource& source, UnixNanos since, UnixNanos until, std::vector<std::string> ids,
                     ReportBuilder& builder) {
  if (ids.empty()) return "";
  TraceSelection sel;
  sel.since = since;
  sel.until = until;
  sel.trace_ids = std::move(ids);
  return source.for_each(sel, [&](const Trace& t) {
    builder.add(t);
    return true;
  });
}

}  // namespace

std::optional<WindowAggregates> WindowAggregates::read(const StoreTraceSource& source, UnixNanos since,
                                                      UnixNanos until, std::string* error) {
  WindowAggregates w;
  w.source_ = &source;
  w.since_ = since, w.until_ = until;
  exporting::AggregateMap rows;
  // Whole hours from the table, [FIRST * kHour, END * kHour); the rest of the window trace by trace.
  const std::int64_t first = since / kHour + (since % kHour != 0 ? 1 : 0);
  const std::int64_t end = std::max(first, until / kHour);
  auto edge = [&](UnixNanos from, UnixNanos to) -> std::string {
    if (from >= to) return "";
    TraceSelection sel;
    sel.since = from;
    sel.until = to;
    return source.for_each(sel, [&](const Trace& t) {
      if (!t.spans.empty())
        exporting::add_trace(rows, exporting::trace_facts(t), static_cast<std::int64_t>(t.spans.size()), 1);
      return true;
    });
  };
  std::string e;
  if (first >= end) {
    e = edge(since, until);
  } else {
    e = edge(since, first * kHour);
    if (e.empty()) e = edge(end * kHour, until);
    if (e.empty())
      e = exporting::read_aggregates(source.reader().connection(), first, end, std::nullopt,
                                     [&](exporting::AggregateKey&& k, GroupAggregate&& g) { rows[k].merge(g); });
  }
  if (!e.empty()) return *error = e, std::nullopt;
  for (auto& [k, g] : rows) {
    if (k.kind == AggregateKind::kTotal) {
      auto& h = w.hours_[k.hour];
      h.first += g.sums[GroupAggregate::kTraceCostUsd];
      h.second += g.counts[GroupAggregate::kTraces];
    }
    w.groups_[{k.kind, k.key}].merge(g);
  }
  return w;
}

std::vector<std::string> WindowAggregates::workflows() const {
  std::vector<std::string> out;
  for (const auto& [k, g] : groups_)
    if (k.first == AggregateKind::kWorkflow && g.counts[GroupAggregate::kTraces] > 0) out.push_back(k.second);
  return out;
}

std::map<std::int64_t, std::pair<double, std::int64_t>> WindowAggregates::cost_per_hour() const { return hours_; }

std::optional<Report> WindowAggregates::report(const ReportOptions& options, bool loops, std::string* error,
                                               const std::string* workflow) const {
  Report r;
  r.options = options;
  static const GroupAggregate kNone;
  auto find = [&](AggregateKind kind, const std::string& key) -> const GroupAggregate& {
    auto it = groups_.find({kind, key});
    return it == groups_.end() ? kNone : it->second;
  };
  const GroupAggregate& runs = workflow ? find(AggregateKind::kWorkflow, *workflow) : find(AggregateKind::kTotal, "");
  const auto& c = runs.counts;
  const auto& s = runs.sums;
  const auto& h = runs.hists;
  r.traces = c[GroupAggregate::kTraces];
  r.spans = c[GroupAggregate::kSpans];
  r.total = call_group("TOTAL", runs);
  r.traces_with_handoff = c[GroupAggregate::kHandoffTraces];
  r.priced_traces = c[GroupAggregate::kPricedTraces];
  r.unpriced_traces = c[GroupAggregate::kUnpricedTraces];
  r.trace_cost_usd = quantiles(h[GroupAggregate::kTraceCost], s[GroupAggregate::kTraceCostUsd], r.priced_traces);
  r.model_calls_per_run = quantiles(h[GroupAggregate::kModelCallsPerRun],
                                    static_cast<double>(c[GroupAggregate::kModelCallsSum]), r.traces);
  r.tool_calls_per_run = quantiles(h[GroupAggregate::kToolCallsPerRun],
                                   static_cast<double>(c[GroupAggregate::kToolCallsSum]), r.traces);
  r.failed_traces = c[GroupAggregate::kFailedTraces];
  r.trace_duration_ms = quantiles(h[GroupAggregate::kTraceDuration], s[GroupAggregate::kTraceDurationMs], r.traces);
  r.loop_runs = c[GroupAggregate::kLoopRuns];
  r.tool_arguments_missing = c[GroupAggregate::kArgumentsMissing] > 0;
  if (workflow) return r;

  // Groups and tools in the order ReportBuilder::finish() gives them.
  if (auto kind = kind_of(options.by))
    for (const auto& [k, g] : groups_)
      if (k.first == *kind && g.counts[GroupAggregate::kCalls] > 0) r.groups.push_back(call_group(k.second, g));
  std::stable_sort(r.groups.begin(), r.groups.end(), [](const CallGroup& a, const CallGroup& b) {
    if (a.cost_usd != b.cost_usd) return a.cost_usd > b.cost_usd;
    return a.calls > b.calls;
  });
  for (const auto& [k, g] : groups_) {
    if (k.first != AggregateKind::kTool || g.counts[GroupAggregate::kToolCalls] <= 0) continue;
    ToolGroup t;
    t.name = k.second;
    t.calls = g.counts[GroupAggregate::kToolCalls];
    t.failures = g.counts[GroupAggregate::kToolFailures];
    t.unanswered = g.counts[GroupAggregate::kToolUnanswered];
    t.latency_ms = quantiles(g.hists[GroupAggregate::kToolLatency], g.sums[GroupAggregate::kToolLatencyMs], t.calls);
    t.requesting_cost_usd = g.sums[GroupAggregate::kRequestingCostUsd];
    r.tools.push_back(std::move(t));
  }
  std::stable_sort(r.tools.begin(), r.tools.end(), [](const ToolGroup& a, const ToolGroup& b) { return a.calls > b.calls; });

  // The listed traces: read one by one, as few as the lists hold.
  sqlite3* db = source_->reader().connection();
  std::vector<std::string> ids;
  if (options.top > 0) {
    if (std::string e = exporting::most_expensive_traces(db, since_, until_, options.top, &ids); !e.empty())
      return *error = e, std::nullopt;
    ReportBuilder top(options);
    if (std::string e = feed_ids(*source_, since_, until_, std::move(ids), top); !e.empty()) return *error = e, std::nullopt;
    r.top_traces = top.finish().top_traces;
  }
  if (loops && r.loop_runs > 0) {
    ids.clear();
    if (std::string e = exporting::loop_traces(db, since_, until_, static_cast<int>(kMaxListedLoops), &ids); !e.empty())
      return *error = e, std::nullopt;
    ReportBuilder listed(options);
    if (std::string e = feed_ids(*source_, since_, until_, std::move(ids), listed); !e.empty())
      return *error = e, std::nullopt;
    r.loops = listed.finish().loops;
  }
  return r;
}

}  // namespace llmtap::report
