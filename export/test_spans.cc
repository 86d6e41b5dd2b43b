#include "export/test_spans.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace llmtap::exporting::testing {

Trace support_trace(const std::string& trace_id, const std::string& secret) {
  Trace t;
  t.trace_id = trace_id;
  auto span = [&](const char* id, const char* parent, SpanKind kind, std::string name, int start_ms, int end_ms) {
    Span s;
    s.trace_id = trace_id;
    s.span_id = id;
    s.parent_span_id = parent;
    s.kind = kind;
    s.name = std::move(name);
    s.start_ns = kT0 + start_ms * kMs;
    s.end_ns = kT0 + end_ms * kMs;
    s.set("llmtap.span.kind", std::string(to_string(kind)));
    return s;
  };
  Span root = span("b7ad6b7169203331", "", SpanKind::kWorkflow, "invoke_workflow Support Agent", 0, 380);
  root.set("gen_ai.operation.name", std::string("invoke_workflow"));
  root.set("gen_ai.workflow.name", std::string("Support Agent"));
  root.set("llm.cost.total", 0.0142);
  Span tool = span("00f067aa0ba902b7", "b7ad6b7169203331", SpanKind::kTool, "execute_tool search_knowledge_base", 10, 55);
  tool.set("gen_ai.tool.name", std::string("search_knowledge_base"));
  tool.set("gen_ai.tool.call.id", std::string("call_1"));
  Span gen = span("53995c3f42cd8ad8", "b7ad6b7169203331", SpanKind::kGeneration, "chat gpt-4o", 60, 240);
  gen.set("gen_ai.request.model", std::string("gpt-4o"));
  gen.set("gen_ai.response.model", std::string("gpt-4o"));
  gen.set("gen_ai.usage.input_tokens", std::int64_t{1200});
  gen.set("gen_ai.usage.output_tokens", std::int64_t{80});
  gen.set("gen_ai.request.stream", true);
  gen.set("gen_ai.response.finish_reasons", std::vector<std::string>{"tool_calls"});
  gen.set("llm.cost.total", 0.009);
  Span handoff = span("1111111111111111", "b7ad6b7169203331", SpanKind::kHandoff,
                      "handoff Support Agent -> Billing Agent", 240, 241);
  handoff.set("llmtap.handoff.from_agent", std::string("Support Agent"));
  handoff.set("llmtap.handoff.to_agent", std::string("Billing Agent"));
  Span billing = span("2222222222222222", "1111111111111111", SpanKind::kAgent, "invoke_agent Billing Agent", 245, 380);
  billing.set("gen_ai.agent.name", std::string("Billing Agent"));
  Span refund = span("3333333333333333", "2222222222222222", SpanKind::kTool, "execute_tool refund", 250, 1750);
  refund.set("gen_ai.tool.name", std::string("refund"));
  refund.error = true;
  refund.status_message = "order not found";
  if (!secret.empty()) {
    gen.set("gen_ai.input.messages", std::string("[{\"role\":\"user\",\"content\":\"my key is " + secret + "\"}]"));
    gen.set("http.request.header.authorization", std::string("Bearer " + secret));
    refund.set("gen_ai.tool.call.arguments", std::string("{\"api_key\": \"" + secret + "\"}"));
    refund.status_message = "invalid key " + secret;
  }
  t.spans = {root, tool, gen, handoff, billing, refund};
  return t;
}

bool any_file_contains(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (data.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::size_t file_count(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

Trace numbered_trace(int n, int spans) {
  char tid[40], sid[20];
  std::snprintf(tid, sizeof tid, "%032x", n + 1);
  Trace t;
  t.trace_id = tid;
  for (int i = 0; i < spans; ++i) {
    std::snprintf(sid, sizeof sid, "%08x%08x", n + 1, i + 1);
    Span s;
    s.trace_id = tid;
    s.span_id = sid;
    if (i > 0) s.parent_span_id = t.spans.front().span_id;
    s.kind = i == 0 ? SpanKind::kWorkflow : SpanKind::kGeneration;
    s.name = i == 0 ? "invoke_workflow run" + std::to_string(n) : "chat gpt-4o-mini";
    s.start_ns = kT0 + (n * 1000 + i) * kMs;
    s.end_ns = s.start_ns + 5 * kMs;
    s.set("gen_ai.operation.name", std::string(i == 0 ? "invoke_workflow" : "chat"));
    t.spans.push_back(std::move(s));
  }
  return t;
}

}  // namespace llmtap::exporting::testing
