#include "export/trace_facts.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>

#include "export/span_agents.h"
#include "export/span_attrs.h"

namespace llmtap::exporting {
namespace {

double ms(UnixNanos d) { return static_cast<double>(d) / 1e6; }

std::string or_dash(std::string s) { return s.empty() ? "-" : s; }

}  // namespace

TraceParties trace_parties(const Trace& trace) {
  TraceParties p;
  if (trace.spans.empty()) return p;
  if (const Span& root = trace.spans.front(); root.kind == SpanKind::kWorkflow) {
    p.user = str_attr(root, "user.id");
    p.session = str_attr(root, "gen_ai.conversation.id");
    if (p.session.empty()) p.session = str_attr(root, "session.id");
  }
  for (const Span& s : trace.spans) {
    if (!p.user.empty() && !p.session.empty()) break;
    if (s.kind != SpanKind::kGeneration) continue;
    if (p.user.empty()) p.user = str_attr(s, "user.id");
    if (p.session.empty()) p.session = str_attr(s, "session.id");
  }
  return p;
}

TraceFacts trace_facts(const Trace& trace) {
  TraceFacts f;
  if (trace.spans.empty()) return f;
  const Span* root = trace.spans.front().kind == SpanKind::kWorkflow ? &trace.spans.front() : nullptr;
  const std::vector<std::string> agent = agent_per_span(trace);
  f.workflow = root ? str_attr(*root, "gen_ai.workflow.name") : "";
  f.release = root ? str_attr(*root, "llmtap.release") : "";
  f.parties = trace_parties(trace);
  const std::string root_user = root ? str_attr(*root, "user.id") : "";
  const std::string root_session = root ? str_attr(*root, "session.id") : "";

  f.start_ns = trace.spans.front().start_ns;
  UnixNanos end = trace.spans.front().end_ns;
  double cost = 0;
  bool priced = false;
  // Generations, and the per-parent list tools look their requesting generation up in.
  std::unordered_map<std::string_view, std::vector<std::size_t>> gens_by_parent;
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const Span& s = trace.spans[i];
    f.start_ns = std::min(f.start_ns, s.start_ns);
    end = std::max(end, s.end_ns);
    f.failed |= s.error;
    if (s.kind != SpanKind::kGeneration) continue;
    ++f.model_calls;
    gens_by_parent[s.parent_span_id].push_back(i);
    CallFacts c;
    c.span = i;
    c.agent = agent[i];
    c.model = str_attr(s, "gen_ai.response.model");
    if (c.model.empty()) c.model = str_attr(s, "gen_ai.request.model");
    c.user = str_attr(s, "user.id");
    if (c.user.empty()) c.user = root_user;
    c.session = str_attr(s, "session.id");
    if (c.session.empty()) c.session = root_session;
    c.error = s.error;
    c.duration_ms = ms(s.end_ns - s.start_ns);
    c.input_tokens = int_attr(s, "gen_ai.usage.input_tokens").value_or(0);
    c.cached_tokens = int_attr(s, "gen_ai.usage.cache_read.input_tokens").value_or(0);
    c.output_tokens = int_attr(s, "gen_ai.usage.output_tokens").value_or(0);
    c.reasoning_tokens = int_attr(s, "gen_ai.usage.reasoning.output_tokens").value_or(0);
    c.cost_usd = double_attr(s, "llm.cost.total");
    c.usage_reported = s.find("gen_ai.usage.input_tokens") || s.find("gen_ai.usage.output_tokens");
    if (c.cost_usd) cost += *c.cost_usd, priced = true;
    f.calls.push_back(std::move(c));
  }
  f.duration_ms = ms(end - f.start_ns);
  if (priced) f.cost_usd = cost;

  // Tools. The requesting generation: the latest generation under the same agent that started
  // before the tool did (a tool span starts when that response ended). Its cost is split evenly
  // over the tool calls it requested.
  const std::size_t none = trace.spans.size();
  std::vector<std::pair<std::size_t, std::size_t>> tool_gen;  // (tool index, generation index)
  std::unordered_map<std::size_t, int> requested;
  std::map<std::pair<std::string, std::string>, int> repeats;
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const Span& s = trace.spans[i];
    if (s.kind != SpanKind::kTool) continue;
    ++f.tool_calls;
    std::size_t gen = none;
    if (auto it = gens_by_parent.find(s.parent_span_id); it != gens_by_parent.end())
      for (std::size_t g : it->second)
        if (trace.spans[g].start_ns < s.start_ns && (gen == none || trace.spans[g].start_ns >= trace.spans[gen].start_ns))
          gen = g;
    tool_gen.emplace_back(i, gen);
    if (gen != none) ++requested[gen];
    const AttrValue* args = s.find("gen_ai.tool.call.arguments");
    if (args == nullptr) f.tool_arguments_missing = true;
    ++repeats[{str_attr(s, "gen_ai.tool.name"), args ? str_attr(s, "gen_ai.tool.call.arguments") : std::string()}];
  }
  for (auto [i, gen] : tool_gen) {
    const Span& s = trace.spans[i];
    ToolFacts t;
    t.name = str_attr(s, "gen_ai.tool.name");
    t.failed = s.error;
    t.unanswered = s.find("llmtap.tool.unanswered") != nullptr;
    t.latency_ms = ms(s.end_ns - s.start_ns);
    if (gen != none)
      if (auto c = double_attr(trace.spans[gen], "llm.cost.total")) t.requesting_cost_usd = *c / requested[gen];
    f.tools.push_back(std::move(t));
  }
  for (const auto& [key, n] : repeats)
    if (n > f.repeats) f.repeated_tool = key.first, f.repeated_arguments = key.second, f.repeats = n;

  // Handoffs: completed when the target agent made a model call without error after the handoff.
  for (const Span& h : trace.spans) {
    if (h.kind != SpanKind::kHandoff) continue;
    HandoffFacts p;
    p.from = str_attr(h, "llmtap.handoff.from_agent");
    p.to = str_attr(h, "llmtap.handoff.to_agent");
    const std::string to = or_dash(p.to);
    for (std::size_t i = 0; i < trace.spans.size() && !p.completed; ++i) {
      const Span& g = trace.spans[i];
      p.completed = g.kind == SpanKind::kGeneration && !g.error && g.start_ns >= h.start_ns && agent[i] == to;
    }
    f.handoffs.push_back(std::move(p));
  }
  return f;
}

std::string loop_reason(const TraceFacts& f, int loop_repeats, int loop_model_calls) {
  std::string reason;
  if (f.repeats > 0 && f.repeats >= loop_repeats)
    reason = or_dash(f.repeated_tool) + " x" + std::to_string(f.repeats) +
             (f.repeated_arguments.empty() ? " (arguments not recorded)" : " with the same arguments");
  if (f.model_calls > loop_model_calls) {
    if (!reason.empty()) reason += "; ";
    reason += std::to_string(f.model_calls) + " model calls";
  }
  return reason;
}

}  // namespace llmtap::exporting
