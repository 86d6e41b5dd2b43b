#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>


namespace llmtap::report {
namespace {

constexpr std::size_t kMaxListedLoops = 1000;

constexpr std::pair<GroupBy, std::string_view> kGroupNames[] = {
    {GroupBy::kAgent, "agent"}, {GroupBy::kTool, "tool"},       {GroupBy::kModel, "model"},
    {GroupBy::kWorkflow, "workflow"}, {GroupBy::kUser, "user"}, {GroupBy::kSession, "session"},
    {GroupBy::kRelease, "release"}};

// Nearest-rank percentiles (the smallest value with at least p% of values at or below it).
template <class T>
Quantiles quantiles(std::vector<T>& v) {
  Quantiles q;
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {
    auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return static_cast<double>(v[std::clamp<std::size_t>(i, 1, v.size()) - 1]);
  };
  q.p50 = rank(50), q.p95 = rank(95), q.p99 = rank(99);
  q.max = static_cast<double>(v.back());
  double sum = 0;
  for (auto x : v) sum += static_cast<double>(x);
  q.avg = sum / static_cast<double>(v.size());
  return q;
}

struct CallAcc {
  CallGroup g;
  std::vector<double> durations_ms;
  void add(const exporting::CallFacts& c) {
    ++g.calls;
    g.errors += c.error ? 1 : 0;
    durations_ms.push_back(c.duration_ms);
    g.input_tokens += c.input_tokens;
    g.cached_tokens += c.cached_tokens;
    g.output_tokens += c.output_tokens;
    g.reasoning_tokens += c.reasoning_tokens;
    if (c.cost_usd) {
      ++g.priced_calls;
      g.cost_usd += *c.cost_usd;
    } else if (c.usage_reported) {
      ++g.unpriced_calls;
    }
  }
  CallGroup done() {
    g.duration_ms = quantiles(durations_ms);
    return g;
  }
};

struct ToolAcc {
  ToolGroup g;
  std::vector<double> latencies_ms;
};

struct PathAcc {
  std::int64_t count = 0, completed = 0;
};

std::string or_dash(std::string s) { return s.empty() ? "-" : s; }

}  // namespace

std::optional<GroupBy> parse_group_by(std::string_view name) {
  for (const auto& [by, n] : kGroupNames)
    if (n == name) return by;
  return std::nullopt;
}

std::string_view to_string(GroupBy by) {
  for (const auto& [b, n] : kGroupNames)
    if (b == by) return n;
  return "agent";
}

struct ReportBuilder::State {
  ReportOptions options;
  Report report;
  CallAcc total;
  std::map<std::string, CallAcc> groups;
  std::map<std::string, ToolAcc> tools;
  std::map<std::pair<std::string, std::string>, PathAcc> paths;
  std::vector<double> trace_costs;
  std::vector<std::int64_t> model_calls, tool_calls;
  std::vector<double> trace_durations_ms;
  std::vector<TraceRow> top;  // min-heap on cost, at most options.top
};

ReportBuilder::ReportBuilder(ReportOptions options) : state_(std::make_unique<State>()) {
  state_->options = options;
  state_->report.options = options;
  state_->total.g.key = "TOTAL";
}

ReportBuilder::~ReportBuilder() = default;

void ReportBuilder::add(const Trace& trace) {
  if (trace.spans.empty()) return;
  add(trace.trace_id, static_cast<std::int64_t>(trace.spans.size()), exporting::trace_facts(trace));
}

void ReportBuilder::add(const std::string& trace_id, std::int64_t spans, const exporting::TraceFacts& f) {
  State& st = *state_;
  Report& r = st.report;
  ++r.traces;
  r.spans += spans;

  const std::string workflow = or_dash(f.workflow);
  TraceRow row;
  row.trace_id = trace_id;
  row.workflow = workflow;
  row.start_ns = f.start_ns;
  row.duration_ms = f.duration_ms;
  row.cost_usd = f.cost_usd;
  row.model_calls = f.model_calls;
  row.tool_calls = f.tool_calls;
  for (const auto& c : f.calls) {
    st.total.add(c);
    if (st.options.by == GroupBy::kTool) continue;
    std::string key;
    switch (st.options.by) {
      case GroupBy::kAgent: key = c.agent; break;
      case GroupBy::kModel: key = c.model; break;
      case GroupBy::kWorkflow: key = workflow; break;
      case GroupBy::kUser: key = c.user; break;
      case GroupBy::kSession: key = c.session; break;
      case GroupBy::kRelease: key = f.release; break;
      case GroupBy::kTool: break;
    }
    key = or_dash(std::move(key));
    auto& acc = st.groups[key];
    acc.g.key = key;
    acc.add(c);
  }
  st.trace_durations_ms.push_back(row.duration_ms);
  r.failed_traces += f.failed ? 1 : 0;
  r.tool_arguments_missing |= f.tool_arguments_missing;

  for (const auto& t : f.tools) {
    std::string name = or_dash(t.name);
    auto& acc = st.tools[name];
    acc.g.name = name;
    ++acc.g.calls;
    acc.g.failures += t.failed ? 1 : 0;
    acc.g.unanswered += t.unanswered ? 1 : 0;
    acc.latencies_ms.push_back(t.latency_ms);
    acc.g.requesting_cost_usd += t.requesting_cost_usd;
  }
  for (const auto& h : f.handoffs) {
    auto& p = st.paths[{or_dash(h.from), or_dash(h.to)}];
    ++p.count;
    p.completed += h.completed ? 1 : 0;
  }
  r.traces_with_handoff += f.handoffs.empty() ? 0 : 1;

  // Per run.
  st.model_calls.push_back(row.model_calls);
  st.tool_calls.push_back(row.tool_calls);
  if (f.cost_usd) {
    const double cost = *f.cost_usd;
    ++r.priced_traces;
    st.trace_costs.push_back(cost);
    auto cheaper = [](const TraceRow& a, const TraceRow& b) { return *a.cost_usd > *b.cost_usd; };
    if (st.options.top > 0) {
      if (st.top.size() < static_cast<std::size_t>(st.options.top)) {
        st.top.push_back(row);
        std::push_heap(st.top.begin(), st.top.end(), cheaper);
      } else if (cost > *st.top.front().cost_usd) {
        std::pop_heap(st.top.begin(), st.top.end(), cheaper);
        st.top.back() = row;
        std::push_heap(st.top.begin(), st.top.end(), cheaper);
      }
    }
  } else {
    ++r.unpriced_traces;
  }
  if (std::string reason = exporting::loop_reason(f, st.options.loop_repeats, st.options.loop_model_calls);
      !reason.empty()) {
    ++r.loop_runs;
    if (r.loops.size() < kMaxListedLoops) r.loops.push_back({row, std::move(reason)});
  }
}

Report ReportBuilder::finish() {
  State& st = *state_;
  Report r = std::move(st.report);
  r.total = st.total.done();
  for (auto& [k, acc] : st.groups) r.groups.push_back(acc.done());
  std::stable_sort(r.groups.begin(), r.groups.end(), [](const CallGroup& a, const CallGroup& b) {
    if (a.cost_usd != b.cost_usd) return a.cost_usd > b.cost_usd;
    return a.calls > b.calls;
  });
  for (auto& [k, acc] : st.tools) {
    acc.g.latency_ms = quantiles(acc.latencies_ms);
    r.tools.push_back(acc.g);
  }
  std::stable_sort(r.tools.begin(), r.tools.end(),
                   [](const ToolGroup& a, const ToolGroup& b) { return a.calls > b.calls; });
  for (auto& [k, p] : st.paths) r.handoff_paths.push_back({k.first, k.second, p.count, p.completed});
  std::stable_sort(r.handoff_paths.begin(), r.handoff_paths.end(),
                   [](const HandoffPath& a, const HandoffPath& b) { return a.count > b.count; });
  r.trace_cost_usd = quantiles(st.trace_costs);
  r.model_calls_per_run = quantiles(st.model_calls);
  r.tool_calls_per_run = quantiles(st.tool_calls);
  r.trace_duration_ms = quantiles(st.trace_durations_ms);
  r.top_traces = std::move(st.top);
  std::sort(r.top_traces.begin(), r.top_traces.end(), [](const TraceRow& a, const TraceRow& b) {
    if (*a.cost_usd != *b.cost_usd) return *a.cost_usd > *b.cost_usd;
    return a.trace_id < b.trace_id;
  });
  std::stable_sort(r.loops.begin(), r.loops.end(), [](const LoopRun& a, const LoopRun& b) {
    return a.trace.model_calls > b.trace.model_calls;
  });
  state_ = std::make_unique<State>();
  return r;
}

std::optional<Report> build_report(const TraceSource& source, const ReportOptions& options, std::string* error,
                                   TraceSelection selection) {
  selection.since = options.since;
  selection.until = options.until;
  selection.messages = false;
  ReportBuilder builder(options);
  std::string e = source.for_each(selection, [&](const Trace& t) {
    builder.add(t);
    return true;
  });
  if (!e.empty()) {
    if (error) *error = e;
    return std::nullopt;
  }
  return builder.finish();
}

}  // namespace llmtap::report
