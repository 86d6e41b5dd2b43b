// The run summary (cli/run_report.cc): each trace id summed once, workflows counted.
#include "cli/run_report.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace llmtap::cli {
namespace {

Trace trace_with(const std::string& id, int workflows, double cost_each) {
  Trace t;
  t.trace_id = id;
  for (int w = 0; w < workflows; ++w) {
    Span root;
    root.kind = SpanKind::kWorkflow;
    root.trace_id = id;
    root.span_id = "w" + std::to_string(w);
    root.name = "invoke_workflow x";
    t.spans.push_back(root);
    Span gen;
    gen.kind = SpanKind::kGeneration;
    gen.trace_id = id;
    gen.span_id = "g" + std::to_string(w);
    gen.parent_span_id = root.span_id;
    gen.name = "chat m";
    gen.set("llm.cost.total", cost_each);
    gen.set("gen_ai.usage.input_tokens", std::int64_t{10});
    t.spans.push_back(gen);
  }
  return t;
}

std::string report(const std::vector<Trace>& traces, const std::vector<std::string>& ids) {
  char* buf = nullptr;
  std::size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  print_run_report(f, traces, "", ids);
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

TEST(RunReport, EachTraceIdSummedOnceWorkflowsCounted) {
  // Two workflows share the client's trace id (the store holds them under it once); a third has its own.
  Trace shared = trace_with("t1", 2, 0.25);
  Trace own = trace_with("t2", 1, 0.5);
  const std::string out = report({shared, shared, own}, {"t1", "t1", "t2"});
  EXPECT_NE(out.find("llmtap: 2 traces (3 workflows"), std::string::npos) << out;
  EXPECT_NE(out.find("over 3 model calls"), std::string::npos) << out;
  EXPECT_NE(out.find("$1.00"), std::string::npos) << out;
  EXPECT_EQ(summarize_costs({shared, own}).generations, 3);
  const std::string plain = report({own}, {"t2"});
  EXPECT_NE(plain.find("llmtap: 1 trace\n"), std::string::npos) << plain;
}

}  // namespace
}  // namespace llmtap::cli
