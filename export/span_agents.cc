#include "export/span_agents.h"

#include <string_view>
#include <unordered_map>

#include "export/span_attrs.h"

namespace llmtap::exporting {

std::vector<std::string> agent_per_span(const Trace& trace) {
  const std::size_t n = trace.spans.size();
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) index.emplace(trace.spans[i].span_id, i);
  std::vector<std::string> agent(n);
  std::vector<char> done(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    // Walk up to the first agent or resolved span, then fill in the chain (bounded: a cycle stops).
    std::vector<std::size_t> chain;
    std::size_t cur = i;
    std::string found;
    for (std::size_t guard = 0; guard <= n; ++guard) {
      if (done[cur]) {
        found = agent[cur];
        break;
      }
      chain.push_back(cur);
      if (trace.spans[cur].kind == SpanKind::kAgent) {
        found = str_attr(trace.spans[cur], "gen_ai.agent.name");
        break;
      }
      auto p = index.find(trace.spans[cur].parent_span_id);
      if (p == index.end()) break;
      cur = p->second;
    }
    for (std::size_t c : chain) done[c] = 1, agent[c] = found;
  }
  return agent;
}

}  // namespace llmtap::exporting
