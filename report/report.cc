#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "report/span_attrs.h"

namespace llmtap::report {
namespace {

constexpr std::size_t kMaxListedLoops = 1000;

constexpr std::pair<GroupBy, std::string_view> kGroupNames[] = {
    {GroupBy::kAgent, "agent"}, {GroupBy::kTool, "tool"},       {GroupBy::kModel, "model"},
    {GroupBy::kWorkflow, "workflow"}, {GroupBy::kUser, "user"}, {GroupBy::kSession, "session"},
    {GroupBy::kRelease, "release"}};

double ms(UnixNanos d) { return static_cast<double>(d) / 1e6; }

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
  void add(const Span& s) {
    ++g.calls;
    g.errors += s.error ? 1 : 0;
    durations_ms.push_back(ms(s.end_ns - s.start_ns));
    g.input_tokens += int_attr(s, "gen_ai.usage.input_tokens").value_or(0);
    g.cached_tokens += int_attr(s, "gen_ai.usage.cache_read.input_tokens").value_or(0);
    g.output_tokens += int_attr(s, "gen_ai.usage.output_tokens").value_or(0);
    g.reasoning_tokens += int_attr(s, "gen_ai.usage.reasoning.output_tokens").value_or(0);
    if (auto c = double_attr(s, "llm.cost.total")) {
      ++g.priced_calls;
      g.cost_usd += *c;
    } else if (s.find("gen_ai.usage.input_tokens") || s.find("gen_ai.usage.output_tokens")) {
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
  State& st = *state_;
  Report& r = st.report;
  if (trace.spans.empty()) return;
  ++r.traces;
  r.spans += static_cast<std::int64_t>(trace.spans.size());

  const Span* root = trace.spans.front().kind == SpanKind::kWorkflow ? &trace.spans.front() : nullptr;
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < trace.spans.size(); ++i) index.emplace(trace.spans[i].span_id, i);
  // Nearest agent ancestor's name, per span (memoized walk up the parents).
  std::vector<const std::string*> agent_of(trace.spans.size(), nullptr);
  std::vector<std::string> agent_names(trace.spans.size());
  std::vector<char> resolved(trace.spans.size(), 0);
  auto agent = [&](std::size_t i) -> const std::string& {
    std::vector<std::size_t> chain;
    std::size_t cur = i;
    const std::string* found = nullptr;
    for (std::size_t guard = 0; guard <= trace.spans.size(); ++guard) {
      if (resolved[cur]) {
        found = agent_of[cur];
        break;
      }
      chain.push_back(cur);
      const Span& s = trace.spans[cur];
      if (s.kind == SpanKind::kAgent) {
        agent_names[cur] = str_attr(s, "gen_ai.agent.name");
        found = &agent_names[cur];
        break;
      }
      auto p = index.find(s.parent_span_id);
      if (p == index.end()) break;
      cur = p->second;
    }
    static const std::string kNone;
    for (auto c : chain) resolved[c] = 1, agent_of[c] = found;
    return found ? *found : kNone;
  };

  const std::string workflow = root ? or_dash(str_attr(*root, "gen_ai.workflow.name")) : "-";
  const std::string root_user = root ? str_attr(*root, "user.id") : "";
  const std::string root_session = root ? str_attr(*root, "session.id") : "";
  const std::string release = root ? str_attr(*root, "llmtap.release") : "";

  TraceRow row;
  row.trace_id = trace.trace_id;
  row.workflow = workflow;
  row.start_ns = trace.spans.front().start_ns;
  UnixNanos end = trace.spans.front().end_ns;
  double cost = 0;
  bool priced = false, failed = false;

  // Generations, and the per-parent list tools look their requesting generation up in.
  std::unordered_map<std::string_view, std::vector<std::size_t>> gens_by_parent;
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const Span& s = trace.spans[i];
    row.start_ns = std::min(row.start_ns, s.start_ns);
    end = std::max(end, s.end_ns);
    failed |= s.error;
    if (s.kind != SpanKind::kGeneration) continue;
    ++row.model_calls;
    gens_by_parent[s.parent_span_id].push_back(i);
    if (auto c = double_attr(s, "llm.cost.total")) cost += *c, priced = true;
    st.total.add(s);
    if (st.options.by == GroupBy::kTool) continue;
    std::string key;
    switch (st.options.by) {
      case GroupBy::kAgent: key = agent(i); break;
      case GroupBy::kModel:
        key = str_attr(s, "gen_ai.response.model");
        if (key.empty()) key = str_attr(s, "gen_ai.request.model");
        break;
      case GroupBy::kWorkflow: key = workflow; break;
      case GroupBy::kUser:
        key = str_attr(s, "user.id");
        if (key.empty()) key = root_user;
        break;
      case GroupBy::kSession:
        key = str_attr(s, "session.id");
        if (key.empty()) key = root_session;
        break;
      case GroupBy::kRelease: key = release; break;
      case GroupBy::kTool: break;
    }
    key = or_dash(std::move(key));
    auto& acc = st.groups[key];
    acc.g.key = key;
    acc.add(s);
  }
  row.duration_ms = ms(end - row.start_ns);
  if (priced) row.cost_usd = cost;
  st.trace_durations_ms.push_back(row.duration_ms);
  r.failed_traces += failed ? 1 : 0;

  // Tools. The requesting generation: the latest generation under the same agent that started
  // before the tool did (a tool span starts when that response ended). Its cost is split evenly
  // over the tool calls it requested.
  std::vector<std::pair<std::size_t, std::size_t>> tool_gen;  // (tool index, generation index)
  std::unordered_map<std::size_t, int> requested;
  std::map<std::pair<std::string, std::string>, int> repeats;
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const Span& s = trace.spans[i];
    if (s.kind != SpanKind::kTool) continue;
    ++row.tool_calls;
    std::size_t gen = trace.spans.size();
    if (auto it = gens_by_parent.find(s.parent_span_id); it != gens_by_parent.end())
      for (std::size_t g : it->second)
        if (trace.spans[g].start_ns < s.start_ns && (gen == trace.spans.size() || trace.spans[g].start_ns >= trace.spans[gen].start_ns))
          gen = g;
    tool_gen.emplace_back(i, gen);
    if (gen != trace.spans.size()) ++requested[gen];
    const AttrValue* args = s.find("gen_ai.tool.call.arguments");
    if (args == nullptr) r.tool_arguments_missing = true;
    ++repeats[{str_attr(s, "gen_ai.tool.name"), args ? str_attr(s, "gen_ai.tool.call.arguments") : std::string()}];
  }
  for (auto [i, gen] : tool_gen) {
    const Span& s = trace.spans[i];
    std::string name = or_dash(str_attr(s, "gen_ai.tool.name"));
    auto& acc = st.tools[name];
    acc.g.name = name;
    ++acc.g.calls;
    acc.g.failures += s.error ? 1 : 0;
    if (s.find("llmtap.tool.unanswered")) ++acc.g.unanswered;
    acc.latencies_ms.push_back(ms(s.end_ns - s.start_ns));
    if (gen != trace.spans.size())
      if (auto c = double_attr(trace.spans[gen], "llm.cost.total")) acc.g.requesting_cost_usd += *c / requested[gen];
  }

  // Handoffs: completed when the target agent made a model call without error after the handoff.
  bool any_handoff = false;
  for (const Span& h : trace.spans) {
    if (h.kind != SpanKind::kHandoff) continue;
    any_handoff = true;
    std::string from = or_dash(str_attr(h, "llmtap.handoff.from_agent"));
    std::string to = or_dash(str_attr(h, "llmtap.handoff.to_agent"));
    bool completed = false;
    for (std::size_t i = 0; i < trace.spans.size() && !completed; ++i) {
      const Span& g = trace.spans[i];
      completed = g.kind == SpanKind::kGeneration && !g.error && g.start_ns >= h.start_ns && agent(i) == to;
    }
    auto& p = st.paths[{from, to}];
    ++p.count;
    p.completed += completed ? 1 : 0;
  }
  r.traces_with_handoff += any_handoff ? 1 : 0;

  // Per run.
  st.model_calls.push_back(row.model_calls);
  st.tool_calls.push_back(row.tool_calls);
  if (priced) {
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

  std::string reason;
  const std::pair<const std::pair<std::string, std::string>, int>* worst = nullptr;
  for (const auto& e : repeats)
    if (worst == nullptr || e.second > worst->second) worst = &e;
  if (worst && worst->second >= st.options.loop_repeats) {
    reason = or_dash(worst->first.first) + " x" + std::to_string(worst->second) +
             (worst->first.second.empty() ? " (arguments not recorded)" : " with the same arguments");
  }
  if (row.model_calls > st.options.loop_model_calls) {
    if (!reason.empty()) reason += "; ";
    reason += std::to_string(row.model_calls) + " model calls";
  }
  if (!reason.empty()) {
    ++r.loop_runs;
    if (r.loops.size() < kMaxListedLoops) r.loops.push_back({row, reason});
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
