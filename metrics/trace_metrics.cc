#include "metrics/trace_metrics.h"

#include "report/span_agents.h"
#include "report/span_attrs.h"

namespace llmtap::metrics {
namespace {

using report::double_attr;
using report::int_attr;
using report::str_attr;

// The GenAI semantic conventions' advised bucket boundaries.
const std::vector<double> kTokenBounds = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                                          16777216, 67108864};
const std::vector<double> kDurationBounds = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24,
                                             20.48, 40.96, 81.92};



}  // namespace

TraceMetrics::TraceMetrics(std::size_t max)
    : token_usage_("gen_ai_client_token_usage", "Number of input and output tokens used (gen_ai.client.token.usage)",
                   {"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model",
                    "gen_ai_token_type"},
                   kTokenBounds, max),
      duration_("gen_ai_client_operation_duration_seconds",
                "GenAI operation duration (gen_ai.client.operation.duration)",
                {"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model",
                 "error_type"},
                kDurationBounds, max),
      cost_("llmtap_cost_usd_total", "Cost of priced model calls in US dollars", {"model", "agent", "workflow"}, max),
      unpriced_("llmtap_unpriced_model_calls_total", "Model calls with usage but no price", {"model"}, max),
      tool_calls_("llmtap_tool_calls_total", "Tool calls", {"tool", "agent"}, max),
      tool_failures_("llmtap_tool_failures_total", "Tool calls whose result reported an error", {"tool", "agent"}, max),
      traces_("llmtap_traces_total", "Traces closed", {"workflow"}, max),
      model_calls_("llmtap_model_calls_total", "Model calls (generation spans)", {"model", "agent", "workflow", "error"},
                   max) {}

void TraceMetrics::record(const Trace& trace) {
  if (trace.spans.empty()) return;
  const Span& first = trace.spans.front();
  const std::string workflow = first.kind == SpanKind::kWorkflow ? str_attr(first, "gen_ai.workflow.name") : "";
  traces_.add({workflow}, 1);
  const std::vector<std::string> agents = report::agent_per_span(trace);
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const Span& s = trace.spans[i];
    if (s.kind == SpanKind::kTool) {
      const std::string tool = str_attr(s, "gen_ai.tool.name");
      tool_calls_.add({tool, agents[i]}, 1);
      if (s.error) tool_failures_.add({tool, agents[i]}, 1);
      continue;
    }
    if (s.kind != SpanKind::kGeneration) continue;
    const std::string op = str_attr(s, "gen_ai.operation.name"), provider = str_attr(s, "gen_ai.provider.name");
    const std::string req = str_attr(s, "gen_ai.request.model"), resp = str_attr(s, "gen_ai.response.model");
    const std::string model = resp.empty() ? req : resp;
    std::string error = s.error ? str_attr(s, "error.type") : "";
    if (s.error && error.empty()) error = "_OTHER";  // the semantic conventions' fallback value
    duration_.observe({op, provider, req, resp, error}, static_cast<double>(s.end_ns - s.start_ns) / 1e9);
    if (auto in = int_attr(s, "gen_ai.usage.input_tokens")) token_usage_.observe({op, provider, req, resp, "input"}, static_cast<double>(*in));
    if (auto out = int_attr(s, "gen_ai.usage.output_tokens")) token_usage_.observe({op, provider, req, resp, "output"}, static_cast<double>(*out));
    model_calls_.add({model, agents[i], workflow, s.error ? "true" : "false"}, 1);
    if (auto c = double_attr(s, "llm.cost.total")) cost_.add({model, agents[i], workflow}, *c);
    else if (s.find("gen_ai.usage.input_tokens") || s.find("gen_ai.usage.output_tokens")) unpriced_.add({model}, 1);
  }
}

void TraceMetrics::write(Exposition& out) const {
  token_usage_.write(out);
  duration_.write(out);
  cost_.write(out);
  unpriced_.write(out);
  model_calls_.write(out);
  tool_calls_.write(out);
  tool_failures_.write(out);
  traces_.write(out);
}

}  // namespace llmtap::metrics
