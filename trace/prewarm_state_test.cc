// State-only calls (Responses WebSocket prewarms, generate:false): no span of their own, but the
// call naming one as previous_response_id continues its conversation.
#include <gtest/gtest.h>

#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

const std::string kInstr = "You are Codex, a coding agent.";

ModelCall responses_call(const std::string& id, const std::string& prev, std::vector<Message> input, UnixNanos start,
                         std::vector<Message> output = {}) {
  ModelCall c;
  c.provider = "openai";
  c.api = "responses";
  c.operation = "chat";
  c.request_model = "gpt-test";
  c.system_instructions = kInstr;
  c.tools = {ToolDef{"shell", "h1"}};
  c.previous_response_id = prev;
  c.response_id = id;
  c.input = std::move(input);
  c.output = std::move(output);
  c.usage.present = true;
  c.usage.input_uncached = 10;
  c.usage.output = 2;
  c.timings = {start, start, start + 10 * kMs, start + 20 * kMs, start + 50 * kMs, start + 50 * kMs};
  c.connection_id = 1;
  return c;
}

ModelCall prewarm(const std::string& id, const std::string& prev, std::vector<Message> input, UnixNanos start) {
  ModelCall c = responses_call(id, prev, std::move(input), start);
  c.state_only = true;
  c.usage = Usage{};
  return c;
}

std::vector<Trace> run(const std::vector<ModelCall>& calls) {
  RecordingSink sink;
  FakePricer pricer;
  TraceBuilder b(TraceOptions{}, &pricer, sink);
  for (const auto& c : calls) b.on_model_call(c);
  b.close_all(kT0 + 100'000 * kMs);
  return sink.traces;
}

TEST(PrewarmState, AloneMakesNoTrace) {
  EXPECT_TRUE(run({prewarm("resp_pre", "", {user("list files")}, kT0)}).empty());
}

TEST(PrewarmState, NextCallContinuesItsItems) {
  auto traces = run({
      prewarm("resp_pre", "", {user("list files")}, kT0),
      responses_call("resp_1", "resp_pre", {}, kT0 + 100 * kMs, {assistant("", {call("call_1", "shell")})}),
      responses_call("resp_2", "resp_1", {tool_result("call_1", "a.txt")}, kT0 + 300 * kMs, {assistant("One file.")}),
  });
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(shape(traces[0]), "workflow[agent:Codex[generation,tool:shell,generation]]");
  const Span* tool = find_span(traces[0], SpanKind::kTool);
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(attr<bool>(*tool, "llmtap.tool.unanswered"), nullptr);
  EXPECT_EQ(traces[0].spans[0].start_ns, kT0 + 100 * kMs);  // the run starts with its first model call
}

TEST(PrewarmState, SameStateAsTheFullHistory) {
  // A later call that re-sends the whole history (as over HTTPS) matches what the prewarm chained.
  auto traces = run({
      prewarm("resp_pre", "", {user("list files")}, kT0),
      responses_call("resp_1", "resp_pre", {}, kT0 + 100 * kMs, {assistant("", {call("call_1", "shell")})}),
      responses_call("resp_2", "", {user("list files"), assistant("", {call("call_1", "shell")}), tool_result("call_1", "a.txt")},
                     kT0 + 300 * kMs, {assistant("One file.")}),
  });
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(spans_of(traces[0], SpanKind::kGeneration).size(), 2u);
}

TEST(PrewarmState, InstructionsAndToolsCarryOverWhenTheCallSendsNone) {
  ModelCall bare = responses_call("resp_1", "resp_pre", {}, kT0 + 100 * kMs, {assistant("", {call("call_1", "shell")})});
  bare.system_instructions.clear();
  bare.tools.clear();
  auto traces = run({
      prewarm("resp_pre", "", {user("list files")}, kT0),
      bare,
      responses_call("resp_2", "resp_1", {tool_result("call_1", "a.txt")}, kT0 + 300 * kMs, {assistant("One file.")}),
  });
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(spans_of(traces[0], SpanKind::kAgent).size(), 1u);  // no inferred handoff
  EXPECT_TRUE(spans_of(traces[0], SpanKind::kHandoff).empty());
}

TEST(PrewarmState, PrewarmInsideAConversation) {
  auto traces = run({
      responses_call("resp_1", "", {user("first question")}, kT0, {assistant("First answer.")}),
      prewarm("resp_pre2", "resp_1", {user("second question")}, kT0 + 200 * kMs),
      responses_call("resp_2", "resp_pre2", {}, kT0 + 300 * kMs, {assistant("Second answer.")}),
  });
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(spans_of(traces[0], SpanKind::kGeneration).size(), 2u);
}

TEST(PrewarmState, TwoRunsStayApart) {
  auto traces = run({
      prewarm("pre_a", "", {user("list files")}, kT0),
      prewarm("pre_b", "", {user("list files")}, kT0 + 1 * kMs),
      responses_call("a_1", "pre_a", {}, kT0 + 100 * kMs, {assistant("A.")}),
      responses_call("b_1", "pre_b", {}, kT0 + 110 * kMs, {assistant("B.")}),
  });
  EXPECT_EQ(traces.size(), 2u);
}

}  // namespace
}  // namespace llmtap::trace::testing
