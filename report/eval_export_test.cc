#include "report/eval_export.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "export/sqlite_store.h"
#include "export/test_spans.h"
#include "report/report_test_traces.h"

namespace llmtap::report {
namespace {

using namespace testing;
using nlohmann::json;

// A run recorded with content capture: two top-level calls around a tool, and an agent run as a
// tool whose own call must not be taken for the run's final output.
Trace content_trace() {
  TraceMaker t("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", kT0, "support");
  t.root().set("user.id", std::string("h_0123"));
  std::string a = t.agent("Triage", 0, 300);
  Span& g1 = t.generation(a, "gpt-4o", 0, 100);
  usage(g1, 100, 10, 0.001);
  g1.set("gen_ai.system_instructions", std::string(R"([{"type":"text","content":"You are triage"}])"));
  g1.set("gen_ai.input.messages", std::string(R"([{"role":"user","parts":[{"type":"text","content":"where is order 7?"}]}])"));
  Span& tool = t.tool(a, "lookup_order", 100, 150, R"({"id":7})");
  tool.set("gen_ai.tool.call.id", std::string("call_1"));
  tool.set("gen_ai.tool.call.result", std::string(R"({"status":"shipped"})"));
  std::string nested = t.agent("Helper", 110, 140, tool.span_id);
  Span& inner = t.generation(nested, "gpt-4o", 110, 140);
  inner.set("gen_ai.output.messages", std::string(R"([{"role":"assistant","parts":[{"type":"text","content":"inner"}]}])"));
  Span& g2 = t.generation(a, "gpt-4o", 150, 300);
  usage(g2, 200, 20, 0.002);
  g2.set("gen_ai.output.messages",
         std::string(R"([{"role":"assistant","parts":[{"type":"text","content":"Order 7 has shipped."}]}])"));
  return t.take();
}

TEST(EvalExport, InputToolCallsOutputCostAndLatency) {
  json j = eval_case_json(content_trace());
  EXPECT_EQ(j["trace_id"], "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
  EXPECT_EQ(j["workflow"], "support");
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 300);
  EXPECT_NEAR(j["cost_usd"].get<double>(), 0.003, 1e-12);
  EXPECT_EQ(j["model_calls"], 3);
  EXPECT_EQ(j["user.id"], "h_0123");
  EXPECT_EQ(j["input"]["messages"][0]["parts"][0]["content"], "where is order 7?");
  EXPECT_EQ(j["input"]["system_instructions"][0]["content"], "You are triage");
  ASSERT_EQ(j["tool_calls"].size(), 1u);
  EXPECT_EQ(j["tool_calls"][0]["name"], "lookup_order");
  EXPECT_EQ(j["tool_calls"][0]["agent"], "Triage");
  EXPECT_EQ(j["tool_calls"][0]["call_id"], "call_1");
  EXPECT_EQ(j["tool_calls"][0]["arguments"]["id"], 7);
  EXPECT_EQ(j["tool_calls"][0]["result"]["status"], "shipped");
  EXPECT_DOUBLE_EQ(j["tool_calls"][0]["duration_ms"].get<double>(), 50);
  EXPECT_EQ(j["output"][0]["parts"][0]["content"], "Order 7 has shipped.");
  EXPECT_EQ(j["agents"], json({"Triage", "Helper"}));
  EXPECT_TRUE(j["content_recorded"].get<bool>());
}

TEST(EvalExport, SecretsAreRedactedAsInEveryExport) {
  const std::string secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
  json j = eval_case_json(exporting::testing::support_trace("0af7651916cd43dd8448eb211c80319c", secret));
  std::string text = j.dump();
  EXPECT_EQ(text.find(secret), std::string::npos) << text;
  EXPECT_NE(text.find("[REDACTED]"), std::string::npos);
  EXPECT_EQ(j["handoffs"][0]["to"], "Billing Agent");
  EXPECT_EQ(j["tool_calls"][1]["error"], true);
}

TEST(EvalExport, SelectsFromTheStoreByIdWindowAndWorkflow) {
  exporting::testing::TempDir dir;
  const std::string path = dir.path + "/traces.db";
  ASSERT_EQ(write_store(path, {trace_a(), trace_b(), trace_c(), content_trace()}), "");
  std::string error;
  auto source = StoreTraceSource::open(path, &error);
  ASSERT_TRUE(source) << error;
  auto lines = [&](const TraceSelection& sel, long limit = -1) {
    std::FILE* f = std::tmpfile();
    long n = export_eval_cases(*source, sel, f, &error, limit);
    std::rewind(f);
    std::vector<json> out;
    char buf[65536];
    while (std::fgets(buf, sizeof buf, f)) out.push_back(json::parse(buf));
    std::fclose(f);
    EXPECT_EQ(n, static_cast<long>(out.size()));
    return out;
  };
  TraceSelection by_id;
  by_id.trace_ids = {"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"};
  auto two = lines(by_id);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0]["trace_id"], "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
  EXPECT_FALSE(two[0]["content_recorded"].get<bool>());
  EXPECT_EQ(two[1]["output"][0]["parts"][0]["content"], "Order 7 has shipped.");  // content loaded

  TraceSelection window;
  window.since = kT0 - kHour;
  EXPECT_EQ(lines(window).size(), 3u);  // not trace C
  TraceSelection old;
  old.workflow = "old";
  auto o = lines(old);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0]["trace_id"], "cccccccccccccccccccccccccccccccc");
  TraceSelection billing;
  billing.agent = "Billing";
  EXPECT_EQ(lines(billing).size(), 1u);
  EXPECT_EQ(lines(TraceSelection{}, 2).size(), 2u);
}

}  // namespace
}  // namespace llmtap::report
