#include "report/trace_overview.h"

#include <algorithm>

#include "export/trace_facts.h"
#include "report/span_attrs.h"

namespace llmtap::report {
namespace {

void add_distinct(std::vector<std::string>& v, std::string s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

}  // namespace

TraceOverview overview_of(const Trace& trace) {
  TraceOverview o;
  o.trace_id = trace.trace_id;
  if (trace.spans.empty()) return o;
  const Span* root = trace.spans.front().kind == SpanKind::kWorkflow ? &trace.spans.front() : nullptr;
  if (root) o.workflow = str_attr(*root, "gen_ai.workflow.name");
  auto parties = exporting::trace_parties(trace);
  o.user = std::move(parties.user);
  o.session = std::move(parties.session);
  o.start_ns = trace.spans.front().start_ns;
  o.end_ns = trace.spans.front().end_ns;
  double cost = 0;
  bool priced = false;
  for (const Span& s : trace.spans) {
    ++o.spans;
    o.start_ns = std::min(o.start_ns, s.start_ns);
    o.end_ns = std::max(o.end_ns, s.end_ns);
    o.errors += s.error ? 1 : 0;
    switch (s.kind) {
      case SpanKind::kAgent: add_distinct(o.agents, str_attr(s, "gen_ai.agent.name")); break;
      case SpanKind::kTool: ++o.tool_calls; break;
      case SpanKind::kGeneration: {
        ++o.model_calls;
        std::string model = str_attr(s, "gen_ai.response.model");
        add_distinct(o.models, model.empty() ? str_attr(s, "gen_ai.request.model") : model);
        o.input_tokens += int_attr(s, "gen_ai.usage.input_tokens").value_or(0);
        o.output_tokens += int_attr(s, "gen_ai.usage.output_tokens").value_or(0);
        if (auto c = double_attr(s, "llm.cost.total")) cost += *c, priced = true;
        break;
      }
      default: break;
    }
  }
  if (priced) o.cost_usd = cost;
  return o;
}

bool TraceFilter::matches(const TraceOverview& t) const {
  if (!user.empty() && t.user != user) return false;
  if (!session.empty() && t.session != session) return false;
  if (!model.empty() && std::find(t.models.begin(), t.models.end(), model) == t.models.end()) return false;
  if (errors == Errors::kOnly && t.errors == 0) return false;
  if (errors == Errors::kNone && t.errors != 0) return false;
  if ((min_cost || max_cost) && !t.cost_usd) return false;
  if (min_cost && *t.cost_usd < *min_cost) return false;
  if (max_cost && *t.cost_usd > *max_cost) return false;
  return true;
}

}  // namespace llmtap::report
