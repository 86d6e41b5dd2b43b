// Metrics of the known traces of report/report_test_traces.h (trace A: Triage two gpt-4o calls,
// $0.010 + $0.012; Billing a gpt-4o-mini call $0.001 and a failed one; lookup_order and a failing
// refund tool).
#include "metrics/trace_metrics.h"

#include <gtest/gtest.h>

#include "report/report_test_traces.h"

namespace llmtap::metrics {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(TraceMetrics, GenAiHistogramsCostAndTools) {
  TraceMetrics m;
  Trace a = report::testing::trace_a();
  for (auto& s : a.spans)
    if (s.kind == SpanKind::kGeneration) {
      s.set("gen_ai.operation.name", std::string("chat"));
      s.set("gen_ai.provider.name", std::string("openai"));
    }
  m.record(a);
  Exposition out;
  m.write(out);
  const std::string& t = out.text();
  EXPECT_TRUE(has_line(t, "# TYPE gen_ai_client_token_usage histogram")) << t;
  EXPECT_TRUE(has_line(t, "# TYPE gen_ai_client_operation_duration_seconds histogram")) << t;
  // gpt-4o: 1000 and 1200 input tokens, both in the (256, 1024] and (1024, 4096] buckets.
  const std::string gpt4o = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o\","
                            "gen_ai_response_model=\"gpt-4o\"";
  EXPECT_TRUE(has_line(t, "gen_ai_client_token_usage_bucket{" + gpt4o + ",gen_ai_token_type=\"input\",le=\"1024\"} 1")) << t;
  EXPECT_TRUE(has_line(t, "gen_ai_client_token_usage_bucket{" + gpt4o + ",gen_ai_token_type=\"input\",le=\"4096\"} 2")) << t;
  EXPECT_TRUE(has_line(t, "gen_ai_client_token_usage_sum{" + gpt4o + ",gen_ai_token_type=\"input\"} 2200")) << t;
  EXPECT_TRUE(has_line(t, "gen_ai_client_token_usage_sum{" + gpt4o + ",gen_ai_token_type=\"output\"} 80")) << t;
  // Durations 100 ms and 60 ms.
  EXPECT_TRUE(has_line(t, "gen_ai_client_operation_duration_seconds_bucket{" + gpt4o + ",error_type=\"\",le=\"0.08\"} 1")) << t;
  EXPECT_TRUE(has_line(t, "gen_ai_client_operation_duration_seconds_count{" + gpt4o + ",error_type=\"\"} 2")) << t;
  // The failed gpt-4o-mini call, without an error.type: the conventions' _OTHER.
  EXPECT_NE(t.find("gen_ai_request_model=\"gpt-4o-mini\",gen_ai_response_model=\"gpt-4o-mini\",error_type=\"_OTHER\"} 1\n"),
            std::string::npos) << t;
  EXPECT_TRUE(has_line(t, "llmtap_cost_usd_total{model=\"gpt-4o\",agent=\"Triage\",workflow=\"support\"} 0.022")) << t;
  EXPECT_TRUE(has_line(t, "llmtap_cost_usd_total{model=\"gpt-4o-mini\",agent=\"Billing\",workflow=\"support\"} 0.001")) << t;
  EXPECT_TRUE(has_line(t, "llmtap_tool_calls_total{tool=\"refund\",agent=\"Billing\"} 1")) << t;
  EXPECT_TRUE(has_line(t, "llmtap_tool_failures_total{tool=\"refund\",agent=\"Billing\"} 1")) << t;
  EXPECT_TRUE(has_line(t, "llmtap_tool_calls_total{tool=\"lookup_order\",agent=\"Triage\"} 1")) << t;
  EXPECT_FALSE(has_line(t, "llmtap_tool_failures_total{tool=\"lookup_order\",agent=\"Triage\"} 1")) << t;
  EXPECT_TRUE(has_line(t, "llmtap_traces_total{workflow=\"support\"} 1")) << t;
  EXPECT_TRUE(has_line(t, "llmtap_model_calls_total{model=\"gpt-4o-mini\",agent=\"Billing\",workflow=\"support\",error=\"true\"} 1")) << t;
}

}  // namespace
}  // namespace llmtap::metrics
