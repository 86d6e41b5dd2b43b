#include "alerts/trace_facts.h"

#include <algorithm>
#include <map>

#include "report/span_agents.h"
#include "report/span_attrs.h"

namespace llmtap::alerts {

using report::double_attr;
using report::str_attr;

TraceFacts trace_facts(const Trace& trace) {
  TraceFacts f;
  f.trace_id = trace.trace_id;
  if (trace.spans.empty()) return f;
  if (trace.spans.front().kind == SpanKind::kWorkflow) f.workflow = str_attr(trace.spans.front(), "gen_ai.workflow.name");
  const std::vector<std::string> agents = report::agent_per_span(trace);
  double cost = 0;
  bool priced = false;
  std::map<std::pair<std::string, std::string>, std::int64_t> repeats;
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const Span& s = trace.spans[i];
    f.end_ns = std::max(f.end_ns, s.end_ns);
    if (s.kind == SpanKind::kGeneration) {
      ++f.model_calls;
      if (auto c = double_attr(s, "llm.cost.total")) cost += *c, priced = true;
      f.generations.push_back({agents[i], static_cast<double>(s.end_ns - s.start_ns) / 1e9});
    } else if (s.kind == SpanKind::kTool) {
      std::string name = str_attr(s, "gen_ai.tool.name");
      auto& n = repeats[{name, str_attr(s, "gen_ai.tool.call.arguments")}];
      if (++n > f.most_repeats) f.most_repeats = n, f.most_repeated_tool = name;
      f.tools.push_back({std::move(name), s.error});
    }
  }
  if (priced) f.cost_usd = cost;
  return f;
}

}  // namespace llmtap::alerts
