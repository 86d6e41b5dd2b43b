#include "ui/ui_test_traces.h"

#include "report/report_test_traces.h"

namespace llmtap::ui::testing {

using namespace llmtap::report::testing;

Trace trace_d() {
  TraceMaker t("dddddddddddddddddddddddddddddddd", kT0 + 2 * kHour, "support");
  t.root().set("user.id", std::string("u1"));
  t.root().set("session.id", std::string("s1"));
  std::string triage = t.agent("Triage", 0, 300);
  Span& ask = t.generation(triage, "gpt-4o", 0, 200);
  usage(ask, 300, 40, 0.004);
  ask.set("gen_ai.system_instructions", std::string(R"([{"type":"text","content":"You are a support agent."}])"));
  ask.set("gen_ai.input.messages",
          std::string(R"([{"role":"user","parts":[{"type":"text","content":"Where is order 9? <b>now</b>"}]}])"));
  ask.set("gen_ai.output.messages",
          std::string(R"([{"role":"assistant","parts":[{"type":"tool_call","id":"call_9","name":"lookup_order",)"
                      R"("arguments":{"id":9}}],"finish_reason":"tool_call"}])"));
  Span& lookup = t.tool(triage, "lookup_order", 200, 250, R"({"id":9})");
  lookup.set("gen_ai.tool.call.id", std::string("call_9"));
  lookup.set("gen_ai.tool.call.result", std::string(R"({"status":"shipped"})"));
  Span& answer = t.generation(triage, "gpt-4o", 250, 300);
  usage(answer, 400, 20, 0.005);
  answer.set("gen_ai.output.messages",
             std::string(R"([{"role":"assistant","parts":[{"type":"text","content":"Order 9 has shipped."}],)"
                         R"("finish_reason":"stop"}])"));
  return t.take();
}

Trace trace_e() {
  TraceMaker t("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", kT0 + 3 * kHour, "live");
  t.root().set("user.id", std::string("u9"));
  std::string agent = t.agent("Triage", 0, 120);
  usage(t.generation(agent, "gpt-4o-mini", 0, 100), 100, 10, 0.001);
  Trace trace = t.take();
  trace.spans.front().events.push_back({"llmtap.alert", trace.spans.front().end_ns,
                                        {{"llmtap.alert.rule", std::string("big")},
                                         {"llmtap.alert.kind", std::string("trace_cost")}}});
  return trace;
}

std::string write_fixture_store(const std::string& path) {
  return write_store(path, {trace_a(), trace_b(), trace_c(), trace_d()});
}

}  // namespace llmtap::ui::testing
