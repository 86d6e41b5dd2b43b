// The end-of-run report comes from the traces built in memory (RunTraces), not from the store:
// trees and the cost summary are printed whatever the exporters are, memory stays bounded.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "cli/run_report.h"
#include "export/test_spans.h"

namespace llmtap::cli {
namespace {

std::string report(const RunTraces& traces, const std::vector<std::string>& destinations = {}) {
  char* buf = nullptr;
  std::size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  print_run_report(out, traces.snapshot(), destinations);
  std::fclose(out);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

// Each workflow its own span ids, as the assembler gives them (a continued trace's re-emitted root
// keeps its id, and counts once: RunReport.ContinuedTraceCountsItsWorkflowOnce).
Trace trace_with(const std::string& id, int workflows, double cost_each) {
  static int next_span = 0;
  Trace t;
  t.trace_id = id;
  for (int n = 0; n < workflows; ++n) {
    const int w = next_span++;
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

TEST(RunReport, EachTraceIdCountedOnceWorkflowsCounted) {
  // Two workflows share the client's trace id (each closed on its own); a third has its own id.
  RunTraces traces;
  traces.on_trace(trace_with("t1", 1, 0.25));
  traces.on_trace(trace_with("t1", 1, 0.25));
  traces.on_trace(trace_with("t2", 1, 0.5));
  const std::string out = report(traces);
  EXPECT_NE(out.find("llmtap: 2 traces (3 workflows"), std::string::npos) << out;
  EXPECT_NE(out.find("over 3 model calls"), std::string::npos) << out;
  EXPECT_NE(out.find("$1.00"), std::string::npos) << out;
  RunTraces plain;
  plain.on_trace(trace_with("t3", 1, 0.5));
  const std::string one = report(plain);
  EXPECT_NE(one.find("llmtap: 1 trace\n"), std::string::npos) << one;
}

TEST(RunReport, ContinuedTraceCountsItsWorkflowOnce) {
  // A run continued after the idle timeout comes again with its root re-emitted (same span id).
  RunTraces traces;
  const Trace part = trace_with("t4", 1, 0.25);
  traces.on_trace(part);
  traces.on_trace(part);
  const std::string out = report(traces);
  EXPECT_NE(out.find("llmtap: 1 trace\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("workflows"), std::string::npos) << out;
}

TEST(RunReport, TheProxyKeepsNoTreesOnlyCounts) {
  // Nothing per trace: no tree, no id (the proxy closes millions; a list of ids grew without bound).
  RunTraces traces(0);
  for (int i = 0; i < 3000; ++i) traces.on_trace(exporting::testing::numbered_trace(i, 2));
  EXPECT_EQ(traces.total(), 3000u);
  const auto snap = traces.snapshot();
  EXPECT_TRUE(snap.kept.empty());
  EXPECT_TRUE(snap.not_kept_ids.empty());
  EXPECT_EQ(snap.not_listed, 0u);
}

TEST(RunReport, ListsTheIdsOfTracesNotKeptUpToACapAndCountsTheRest) {
  RunTraces traces(/*max_kept_bytes=*/1);  // no tree fits
  const std::size_t n = RunTraces::kMaxListedIds + 7;
  for (std::size_t i = 0; i < n; ++i) traces.on_trace(exporting::testing::numbered_trace(static_cast<int>(i), 2));
  const auto snap = traces.snapshot();
  EXPECT_EQ(snap.total, n);
  EXPECT_TRUE(snap.kept.empty());
  EXPECT_EQ(snap.not_kept_ids.size(), RunTraces::kMaxListedIds);
  EXPECT_EQ(snap.not_listed, 7u);
  const std::string out = report(traces);
  EXPECT_NE(out.find("(" + std::to_string(n) + " more traces, too many"), std::string::npos) << out.substr(0, 300);
  EXPECT_NE(out.find("(and 7 more, not listed"), std::string::npos);
  EXPECT_NE(out.find("trace " + snap.not_kept_ids.back() + "\n"), std::string::npos);
}

TEST(RunReport, ShowsTreesAndCostFromMemoryWithNoStore) {
  RunTraces traces;
  traces.on_trace(exporting::testing::support_trace());
  std::string out = report(traces, {"otlp: delivered"});
  EXPECT_NE(out.find("llmtap: 1 trace\n"), std::string::npos) << out;
  EXPECT_NE(out.find("trace 0af7651916cd43dd8448eb211c80319c"), std::string::npos) << out;
  EXPECT_NE(out.find("Billing Agent"), std::string::npos) << out;  // the tree itself
  EXPECT_NE(out.find("\ncost: $"), std::string::npos) << out;
  EXPECT_EQ(out.find("add --export sqlite"), std::string::npos) << out;
  EXPECT_NE(out.find("otlp: delivered\n"), std::string::npos) << out;
}

TEST(RunReport, KeepsTreesWithinTheMemoryBudgetButCountsAndPricesEveryTrace) {
  RunTraces traces(/*max_kept_bytes=*/16 << 10);
  for (int i = 0; i < 200; ++i) {
    Trace t = exporting::testing::numbered_trace(i, 4);
    // Content is not kept for the tree: a huge prompt must not use up the budget.
    t.spans.back().set("gen_ai.input.messages", std::string(1 << 20, 'x'));
    traces.on_trace(t);
  }
  auto snap = traces.snapshot();
  EXPECT_EQ(snap.total, 200u);
  ASSERT_GT(snap.kept.size(), 2u);
  ASSERT_GT(snap.not_kept_ids.size(), 0u);
  EXPECT_EQ(snap.kept.size() + snap.not_kept_ids.size(), 200u);
  EXPECT_EQ(snap.kept[0].spans.back().find("gen_ai.input.messages"), nullptr);
  EXPECT_EQ(snap.cost.generations, summarize_costs({exporting::testing::numbered_trace(0, 4)}).generations * 200);
  std::string out = report(traces);
  EXPECT_NE(out.find("llmtap: 200 traces"), std::string::npos) << out;
  EXPECT_NE(out.find(std::to_string(snap.not_kept_ids.size()) + " more trace"), std::string::npos) << out;
  for (const auto& id : snap.not_kept_ids) EXPECT_NE(out.find("trace " + id), std::string::npos);
}

TEST(RunReport, SummaryAddsGenerationsOnly) {
  Trace t = exporting::testing::support_trace();
  CostSummary s = summarize_costs({t});
  CostSummary incremental;
  incremental.add(t);
  EXPECT_EQ(s.generations, incremental.generations);
  EXPECT_EQ(s.input_tokens, incremental.input_tokens);
  ASSERT_TRUE(s.cost_usd.has_value());
  EXPECT_GT(s.generations, 0);
}

}  // namespace
}  // namespace llmtap::cli
