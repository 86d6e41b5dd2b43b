// End-to-end scenarios for trace reconstruction, built from hand-made model-call sequences.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

constexpr const char* kSdkPrefix =
    "# System context\nYou are part of a multi-agent system called the Agents SDK, designed to make agent "
    "coordination and execution easy. Handoffs are achieved by calling a handoff function, generally named "
    "`transfer_to_<agent_name>`.\n\n";

struct Harness {
  TraceOptions options;
  FakePricer pricer;
  RecordingSink sink;
  std::unique_ptr<TraceBuilder> builder;
  explicit Harness(bool capture = false) {
    options.capture_content = capture;
    options.workflow_name = "test-flow";
    builder = std::make_unique<TraceBuilder>(options, &pricer, sink);
  }
  void feed(const std::vector<ModelCall>& calls) {
    for (const auto& c : calls) builder->on_model_call(c);
  }
  const std::vector<Trace>& close() {
    builder->close_all(kT0 + 3600 * 1000 * kMs);
    return sink.traces;
  }
};

std::vector<Turn> weather_run(const std::string& city = "Paris", const std::string& id = "call_1",
                              UnixNanos t = kT0) {
  const std::string instr = "You are a weather agent. Answer questions about the weather.";
  return {
      {instr, {"get_weather"}, {user("Weather in " + city + "?")},
       assistant("", {call(id, "get_weather", "{\"city\":\"" + city + "\"}")}), t, t + 100 * kMs},
      {instr, {"get_weather"}, {tool_result(id, "sunny")}, assistant("It is sunny in " + city + "."),
       t + 150 * kMs, t + 250 * kMs},
  };
}

// Triage -> Billing -> Refund, the way the Agents SDK hands off.
std::vector<Turn> handoff_chain_run() {
  const std::string triage = std::string(kSdkPrefix) + "You are a triage agent. Route the customer.";
  const std::string billing = std::string(kSdkPrefix) + "Handle invoices and payments.";
  const std::string refund = "Issue refunds when asked.";
  return {
      {triage, {"transfer_to_Billing_Agent"}, {user("Refund invoice 42 please")},
       assistant("", {call("call_t1", "transfer_to_Billing_Agent")}), kT0, kT0 + 100 * kMs},
      {billing, {"get_invoice", "transfer_to_Refund_Agent"}, {tool_result("call_t1", "{\"assistant\":\"Billing Agent\"}")},
       assistant("", {call("call_c2", "get_invoice", "{\"id\":42}")}), kT0 + 110 * kMs, kT0 + 200 * kMs},
      {billing, {"get_invoice", "transfer_to_Refund_Agent"}, {tool_result("call_c2", "{\"amount\":10}")},
       assistant("", {call("call_t3", "transfer_to_Refund_Agent")}), kT0 + 260 * kMs, kT0 + 300 * kMs},
      {refund, {}, {tool_result("call_t3", "{\"assistant\":\"Refund Agent\"}")}, assistant("Refund issued."),
       kT0 + 310 * kMs, kT0 + 400 * kMs},
  };
}

TEST(TraceScenarios, SingleAgentWithTools) {
  Harness h;
  h.feed(render(weather_run(), Form::kChat));
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 1u);
  const Trace& t = traces[0];
  EXPECT_EQ(shape(t), "workflow[agent:Weather Agent[generation,tool:get_weather,generation]]");
  const Span* tool = find_span(t, SpanKind::kTool);
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->name, "execute_tool get_weather");
  EXPECT_EQ(tool->start_ns, kT0 + 100 * kMs);  // end of the response that asked for it
  EXPECT_EQ(tool->end_ns, kT0 + 150 * kMs);    // start of the request carrying the result
  EXPECT_EQ(str_attr(*tool, "gen_ai.tool.call.id"), "call_1");
  EXPECT_FALSE(tool->error);
  const Span* root = &t.spans[0];
  EXPECT_EQ(root->kind, SpanKind::kWorkflow);
  EXPECT_EQ(root->name, "invoke_workflow test-flow");
  EXPECT_EQ(root->start_ns, kT0);
  EXPECT_EQ(root->end_ns, kT0 + 250 * kMs);
  const Span* agent = find_span(t, SpanKind::kAgent);
  EXPECT_EQ(agent->name, "invoke_agent Weather Agent");
  EXPECT_EQ(agent->start_ns, kT0);
  EXPECT_EQ(agent->end_ns, kT0 + 250 * kMs);
  for (const auto& s : t.spans) {
    EXPECT_EQ(s.trace_id, t.trace_id);
    EXPECT_EQ(s.span_id.size(), 16u);
    EXPECT_NE(s.find("llmtap.span.kind"), nullptr) << s.name;
    EXPECT_NE(s.find("openinference.span.kind"), nullptr) << s.name;
  }
}

TEST(TraceScenarios, ParallelToolsBecomeParallelSpans) {
  const std::string instr = "You are a weather agent.";
  std::vector<Turn> run = {
      {instr, {"get_weather"}, {user("Paris and Rome?")},
       assistant("", {call("c1", "get_weather", "{\"city\":\"Paris\"}"), call("c2", "get_weather", "{\"city\":\"Rome\"}")}),
       kT0, kT0 + 100 * kMs},
      {instr, {"get_weather"}, {tool_result("c1", "sunny"), tool_result("c2", "rain")}, assistant("Sunny and rain."),
       kT0 + 180 * kMs, kT0 + 250 * kMs},
  };
  for (Form form : {Form::kChat, Form::kResponses, Form::kAnthropic, Form::kGemini}) {
    Harness h;
    h.feed(render(run, form));
    const auto& traces = h.close();
    ASSERT_EQ(traces.size(), 1u);
    auto tools = spans_of(traces[0], SpanKind::kTool);
    ASSERT_EQ(tools.size(), 2u);
    EXPECT_EQ(tools[0]->start_ns, tools[1]->start_ns);
    EXPECT_EQ(tools[0]->end_ns, kT0 + 180 * kMs);
    EXPECT_EQ(tools[1]->end_ns, kT0 + 180 * kMs);
    EXPECT_EQ(tools[0]->parent_span_id, tools[1]->parent_span_id);
    EXPECT_EQ(shape(traces[0]), "workflow[agent:Weather Agent[generation,tool:get_weather,tool:get_weather,generation]]");
  }
}

TEST(TraceScenarios, HandoffChainAtoBtoC) {
  Harness h;
  h.feed(render(handoff_chain_run(), Form::kResponses));
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 1u);
  const Trace& t = traces[0];
  EXPECT_EQ(shape(t),
            "workflow[agent:Triage Agent[generation,handoff:Triage Agent->Billing Agent],"
            "agent:Billing Agent[generation,tool:get_invoice,generation,handoff:Billing Agent->Refund Agent],"
            "agent:Refund Agent[generation]]");
  auto handoffs = spans_of(t, SpanKind::kHandoff);
  ASSERT_EQ(handoffs.size(), 2u);
  EXPECT_EQ(handoffs[0]->name, "handoff Triage Agent -> Billing Agent");
  EXPECT_EQ(str_attr(*handoffs[0], "gen_ai.tool.call.id"), "call_t1");
  EXPECT_EQ(handoffs[0]->find("llmtap.handoff.inferred"), nullptr);
  EXPECT_EQ(handoffs[0]->start_ns, kT0 + 100 * kMs);
  EXPECT_EQ(handoffs[0]->end_ns, kT0 + 110 * kMs);
  // The handoff closes the first agent's span.
  const Span* triage = by_id(t, handoffs[0]->parent_span_id);
  ASSERT_NE(triage, nullptr);
  EXPECT_EQ(triage->end_ns, handoffs[0]->end_ns);
  // Transfer calls are handoffs, not tool executions.
  for (const Span* tool : spans_of(t, SpanKind::kTool)) EXPECT_EQ(str_attr(*tool, "gen_ai.tool.name"), "get_invoice");
  // Distinct agents, stable ids.
  auto agents = spans_of(t, SpanKind::kAgent);
  ASSERT_EQ(agents.size(), 3u);
  EXPECT_NE(str_attr(*agents[0], "gen_ai.agent.id"), str_attr(*agents[1], "gen_ai.agent.id"));
  EXPECT_EQ(str_attr(*agents[1], "llmtap.agent.name_source"), "handoff");
  EXPECT_EQ(str_attr(*agents[0], "llmtap.agent.name_source"), "derived");
}

TEST(TraceScenarios, AgentSwitchWithoutTransferIsInferredHandoff) {
  std::vector<Turn> run = {
      {"You are a planner agent.", {}, {user("Plan a trip")}, assistant("Plan: go to Rome."), kT0, kT0 + 100 * kMs},
      {"You are a critic agent.", {}, {user("Critique it")}, assistant("Looks fine."), kT0 + 150 * kMs, kT0 + 200 * kMs},
  };
  Harness h;
  h.feed(render(run, Form::kChat));
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(shape(traces[0]),
            "workflow[agent:Planner Agent[generation,handoff:Planner Agent->Critic Agent],agent:Critic Agent[generation]]");
  const Span* hs = find_span(traces[0], SpanKind::kHandoff);
  ASSERT_NE(attr<bool>(*hs, "llmtap.handoff.inferred"), nullptr);
  EXPECT_TRUE(*attr<bool>(*hs, "llmtap.handoff.inferred"));
  EXPECT_EQ(hs->start_ns, kT0 + 100 * kMs);
  EXPECT_EQ(hs->end_ns, kT0 + 150 * kMs);
}

TEST(TraceScenarios, HandoffWithHistoryFilterStaysInTheRun) {
  // The handoff's input filter removed all tool items: Billing sees only the user's question.
  auto run = handoff_chain_run();
  for (Form form : {Form::kChat, Form::kResponses, Form::kAnthropic}) {
    auto calls = render({run[0], run[1]}, form);
    calls[1].input.erase(std::remove_if(calls[1].input.begin(), calls[1].input.end(),
                                        [](const Message& m) { return m.role == "tool" || !m.tool_calls.empty(); }),
                         calls[1].input.end());
    // A concurrent new run asking the same question to the triage agent is not mistaken for it.
    auto other = render({run[0]}, form, "other");
    other[0].output[0].tool_calls[0].id = "call_other";
    other[0].connection_id = 8;  // its own connection; same question, same transfer, same times
    Harness h;
    h.feed({calls[0], other[0], calls[1]});
    const auto& traces = h.close();
    ASSERT_EQ(traces.size(), 2u) << static_cast<int>(form);
    const Trace& t = spans_of(traces[0], SpanKind::kHandoff).empty() ? traces[1] : traces[0];
    EXPECT_EQ(shape(t),
              "workflow[agent:Triage Agent[generation,handoff:Triage Agent->Billing Agent],agent:Billing Agent[generation,"
              "tool:get_invoice]]");
    const Span* hs = find_span(t, SpanKind::kHandoff);
    ASSERT_NE(hs, nullptr);
    EXPECT_EQ(str_attr(*hs, "gen_ai.tool.call.id"), "call_t1");
    EXPECT_NE(hs->find("llmtap.handoff.history_filtered"), nullptr);
  }
}

// Parent agent calls a tool that runs another agent (Agents SDK agent.asTool()).
// `nested_prompt`: the nested run's user message; "hello" is the tool's argument verbatim (the
// evidence that nests it at once), anything else leaves only the result as a hint.
std::vector<ModelCall> agent_as_tool_calls(const std::string& nested_answer, const std::string& tool_result_text,
                                           const std::string& nested_prompt = "hello") {
  const std::string parent = "You are an orchestrator agent. Use the translator tool.";
  const std::string nested = "You are a translation agent. Translate to French.";
  std::vector<Turn> outer = {
      {parent, {"translate_to_french"}, {user("Say hello in French")},
       assistant("", {call("call_p1", "translate_to_french", "{\"input\":\"hello\"}")}), kT0, kT0 + 100 * kMs},
      {parent, {"translate_to_french"}, {tool_result("call_p1", tool_result_text)}, assistant("Done: bonjour"),
       kT0 + 300 * kMs, kT0 + 400 * kMs},
  };
  std::vector<Turn> inner = {
      {nested, {}, {user(nested_prompt)}, assistant(nested_answer), kT0 + 120 * kMs, kT0 + 250 * kMs},
  };
  auto o = render(outer, Form::kResponses, "outer");
  auto i = render(inner, Form::kResponses, "inner");
  return {o[0], i[0], o[1]};
}

TEST(TraceScenarios, AgentAsToolNestsUnderToolSpan) {
  Harness h;
  h.feed(agent_as_tool_calls("bonjour", "bonjour"));
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(shape(traces[0]),
            "workflow[agent:Orchestrator Agent[generation,tool:translate_to_french[agent:Translation Agent[generation]],"
            "generation]]");
  // Cost of the nested agent rolls up into the parent agent and the workflow.
  const Span* root = &traces[0].spans[0];
  ASSERT_NE(attr<double>(*root, "llm.cost.total"), nullptr);
  EXPECT_DOUBLE_EQ(*attr<double>(*root, "llm.cost.total"), pico_to_usd(3 * (100 * 2'500'000 + 20 * 10'000'000)));
}

TEST(TraceScenarios, NestedRunWaitsForItsToolResultAcrossIdleTicks) {
  TraceOptions o;
  o.idle_timeout_ns = 100 * kMs;
  RecordingSink sink;
  TraceBuilder b(o, nullptr, sink);
  auto calls = agent_as_tool_calls("bonjour", "bonjour", "Translate: hello");  // only the result will tell
  b.on_model_call(calls[0]);          // parent's tool call opens at +100 ms
  b.tick(kT0 + 199 * kMs);
  b.on_model_call(calls[1]);          // nested run ends at +250 ms
  // The parent has been quiet for 190 ms itself, but the run that may be nested under its
  // open tool call was active 90 ms ago: neither closes.
  b.tick(kT0 + 340 * kMs);
  EXPECT_TRUE(sink.traces.empty());
  EXPECT_EQ(b.open_traces(), 2u);
  b.on_model_call(calls[2]);          // the result arrives: the nested run moves under the tool
  EXPECT_EQ(b.open_traces(), 1u);
  b.tick(kT0 + 501 * kMs);
  ASSERT_EQ(sink.traces.size(), 1u);
  EXPECT_EQ(shape(sink.traces[0]),
            "workflow[agent:Orchestrator Agent[generation,tool:translate_to_french[agent:Translation Agent[generation]],"
            "generation]]");
}

TEST(TraceScenarios, DeferredRunClosesOnceOverdue) {
  TraceOptions o;
  o.idle_timeout_ns = 50 * kMs;
  RecordingSink sink;
  TraceBuilder b(o, nullptr, sink);
  auto calls = agent_as_tool_calls("bonjour", "bonjour", "Translate: hello");
  b.on_model_call(calls[0]);
  b.on_model_call(calls[1]);
  b.tick(kT0 + 10'000 * kMs);  // both long idle: the parent closes (tool unanswered), then the other
  ASSERT_EQ(sink.traces.size(), 2u);
  EXPECT_EQ(b.open_traces(), 0u);
}

TEST(TraceScenarios, UnrelatedRunDuringToolCallStaysSeparate) {
  Harness h;
  // The result does not carry the other run's output, nor are the tool's arguments its prompt.
  h.feed(agent_as_tool_calls("guten tag", "bonjour", "hallo"));
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 2u);
  for (const auto& t : traces) EXPECT_EQ(spans_of(t, SpanKind::kAgent).size(), 1u);
}

TEST(TraceScenarios, ConcurrentRunsWithIdenticalPromptsDoNotMix) {
  auto a = render(weather_run("Paris", "call_a"), Form::kChat);
  auto b = render(weather_run("Rome", "call_b", kT0 + 10 * kMs), Form::kChat);
  for (auto& c : b) c.connection_id = 7;  // same connection, interleaved
  Harness h(true);
  h.feed({a[0], b[0], b[1], a[1]});
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 2u);
  for (const auto& t : traces) {
    EXPECT_EQ(shape(t), "workflow[agent:Weather Agent[generation,tool:get_weather,generation]]");
    auto gens = spans_of(t, SpanKind::kGeneration);
    ASSERT_EQ(gens.size(), 2u);
    // Both generations of a trace talk about the same city.
    const std::string first = str_attr(*gens[0], "gen_ai.input.messages");
    const std::string second = str_attr(*gens[1], "gen_ai.output.messages");
    const bool paris = first.find("Paris") != std::string::npos;
    EXPECT_EQ(second.find(paris ? "Paris" : "Rome") != std::string::npos, true) << second;
  }
}

TEST(TraceScenarios, IdenticalConcurrentRunsSeparatedByCallIds) {
  auto a = render(weather_run("Paris", "call_a"), Form::kResponses, "a");
  auto b = render(weather_run("Paris", "call_b"), Form::kResponses, "b");
  Harness h;
  h.feed({a[0], b[0], b[1], a[1]});
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 2u);
  for (const auto& t : traces) {
    auto tools = spans_of(t, SpanKind::kTool);
    ASSERT_EQ(tools.size(), 1u);
    EXPECT_EQ(tools[0]->find("llmtap.tool.unanswered"), nullptr);
  }
}

TEST(TraceScenarios, NewRunSharingOnlySystemPromptStartsNewTrace) {
  Harness h;
  h.feed(render(weather_run("Paris", "call_1"), Form::kChat));
  // Same system prompt, a later run: once with a new user turn, once repeating the same question.
  h.feed(render(weather_run("Oslo", "call_2", kT0 + 1000 * kMs), Form::kChat));
  h.feed(render(weather_run("Paris", "call_3", kT0 + 2000 * kMs), Form::kChat));
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 3u);
  for (const auto& t : traces) EXPECT_EQ(spans_of(t, SpanKind::kGeneration).size(), 2u);
}

TEST(TraceScenarios, PreviousResponseIdChainSendsOnlyNewItems) {
  auto calls = render(handoff_chain_run(), Form::kResponsesChained);
  for (std::size_t k = 1; k < calls.size(); ++k) {
    ASSERT_EQ(calls[k].input.size(), 1u);  // only the new tool result
    EXPECT_EQ(calls[k].input[0].role, "tool");
  }
  Harness h;
  h.feed(calls);
  const auto& traces = h.close();
  ASSERT_EQ(traces.size(), 1u);
  Harness full;
  full.feed(render(handoff_chain_run(), Form::kResponses));
  EXPECT_EQ(shape(traces[0]), shape(full.close()[0]));
}

TEST(TraceScenarios, SameRunInEveryApiFormHasSameTreeShape) {
  for (const auto& run : {weather_run(), handoff_chain_run()}) {
    std::string expected;
    for (Form form : {Form::kChat, Form::kResponses, Form::kResponsesChained, Form::kAnthropic, Form::kGemini}) {
      Harness h;
      h.feed(render(run, form));
      const auto& traces = h.close();
      ASSERT_EQ(traces.size(), 1u) << static_cast<int>(form);
      if (expected.empty()) expected = shape(traces[0]);
      EXPECT_EQ(shape(traces[0]), expected) << "form " << static_cast<int>(form);
      for (const Span* tool : spans_of(traces[0], SpanKind::kTool))
        EXPECT_EQ(tool->find("llmtap.tool.unanswered"), nullptr) << static_cast<int>(form);
    }
  }
}

TEST(TraceScenarios, ChatResendTolerance) {
  // The client re-sends the assistant turn with content "" instead of null and re-serialized arguments.
  auto calls = render(weather_run(), Form::kChat);
  Message& resent = calls[1].input[2];
  ASSERT_EQ(resent.role, "assistant");
  resent.text = "   ";
  resent.tool_calls[0].arguments = "{ \"city\" : \"Paris\" }";
  calls[1].input[1].text += "\n";  // trailing whitespace on the user turn
  Harness h;
  h.feed(calls);
  ASSERT_EQ(h.close().size(), 1u);
}

}  // namespace
}  // namespace llmtap::trace::testing
