// What real clients put on the wire, rebuilt as they meant it: tool spans from the moment a call
// was complete in the stream, per-request noise in instructions, frameworks' error texts and
// agent names (issue 14).
#include <gtest/gtest.h>

#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

struct Harness {
  RecordingSink sink;
  TraceBuilder builder{TraceOptions{}, nullptr, sink};
  const std::vector<Trace>& run(const std::vector<ModelCall>& calls) {
    for (const auto& c : calls) builder.on_model_call(c);
    builder.close_all(0);
    return sink.traces;
  }
};

std::vector<Turn> one_tool_run(const std::string& instr1, const std::string& instr2, const std::string& result) {
  return {
      {instr1, {"Read"}, {user("Read notes.txt")}, assistant("", {call("toolu_1", "Read", "{}")}), kT0,
       kT0 + 100 * kMs},
      {instr2, {"Read"}, {tool_result("toolu_1", result)}, assistant("Done."), kT0 + 150 * kMs, kT0 + 250 * kMs},
  };
}

TEST(Fidelity, ToolSpanStartsWhenTheCallWasCompleteInTheStream) {
  auto calls = render(one_tool_run("You are a helper.", "You are a helper.", "text"), Form::kAnthropic);
  calls[0].stream = true;
  calls[0].timings.content_end = kT0 + 98 * kMs;  // message_stop
  calls[0].output[0].tool_calls[0].ready_at = kT0 + 60 * kMs;  // content_block_stop of the tool_use block
  Harness h;
  const auto& traces = h.run(calls);
  ASSERT_EQ(traces.size(), 1u);
  const Span* tool = find_span(traces[0], SpanKind::kTool);
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->start_ns, kT0 + 60 * kMs);
  EXPECT_EQ(tool->end_ns, kT0 + 150 * kMs);

  // A time outside the response (a clock glitch, a bad record) falls back to the response's end.
  calls[0].output[0].tool_calls[0].ready_at = kT0 - kMs;
  Harness h2;
  EXPECT_EQ(find_span(h2.run(calls)[0], SpanKind::kTool)->start_ns, kT0 + 98 * kMs);
}

TEST(Fidelity, PerRequestChecksumInInstructionsIsOneAgent) {
  auto stamp = [](const char* cch, const char* date) {
    return std::string("x-anthropic-billing-header: cc_version=2.1.22.f3a; cc_entrypoint=cli; cch=") + cch +
           ";\nYou are Claude Code, Anthropic's official CLI for Claude. Today's date is " + date + ".";
  };
  Harness h;
  const auto& traces =
      h.run(render(one_tool_run(stamp("8a3f1", "2026-12-01"), stamp("0be72", "2026-12-02"), "text"), Form::kAnthropic));
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(spans_of(traces[0], SpanKind::kAgent).size(), 1u) << shape(traces[0]);
  EXPECT_TRUE(spans_of(traces[0], SpanKind::kHandoff).empty());
  EXPECT_EQ(str_attr(*find_span(traces[0], SpanKind::kAgent), "gen_ai.agent.name"), "Claude Code");
}

TEST(Fidelity, FrameworkErrorShapesAndRejectedApprovals) {
  struct Case {
    std::string result;
    bool error, rejected;
  } cases[] = {
      {"Error: ValueError('no such file')\n Please fix your mistakes.", true, false},  // LangGraph ToolNode
      {"{\"error\":\"no such file\"}", true, false},                                    // Vercel AI SDK
      {"Tool execution was not approved.", true, true},                                 // Agents SDK
      {"Error: the file says this", false, false},
      {"The tool execution was not approved by the committee minutes.", false, false},
  };
  for (const auto& c : cases) {
    Harness h;
    const auto& traces = h.run(render(one_tool_run("You are a helper.", "You are a helper.", c.result), Form::kChat));
    ASSERT_EQ(traces.size(), 1u);
    const Span* tool = find_span(traces[0], SpanKind::kTool);
    ASSERT_NE(tool, nullptr);
    EXPECT_EQ(tool->error, c.error) << c.result;
    EXPECT_EQ(attr<bool>(*tool, "llmtap.tool.rejected") != nullptr, c.rejected) << c.result;
  }
}

Message named(Message m, std::string name) {
  m.name = std::move(name);
  return m;
}

ModelCall chat(const std::string& instr, std::vector<std::string> tools, std::vector<Message> input, Message output,
               UnixNanos start, UnixNanos end) {
  ModelCall c;
  c.provider = "openai";
  c.api = "chat_completions";
  c.operation = "chat";
  c.request_model = c.response_model = "gpt-test";
  c.connection_id = 3;
  c.system_instructions = instr;
  for (auto& t : tools) c.tools.push_back({t, "h"});
  c.input = std::move(input);
  c.output = {std::move(output)};
  c.timings.request_start = start;
  c.timings.request_end = start + 1;
  c.timings.response_end = end;
  return c;
}

// LangGraph's supervisor: the names it writes on messages name the agents, and the way back it
// writes into the history (`transfer_back_to_supervisor` and its result) is a handoff with that id.
TEST(Fidelity, AgentNamesAndReturnHandoffsFromTheWire) {
  const std::string sup = "You coordinate a research expert and a math expert.";
  const std::string research = "You are a world class researcher with access to web search.";
  const Message q = user("What is the GDP of France?");
  const Message to_research = assistant("", {call("call_s1", "transfer_to_research_expert")});
  const Message transferred = tool_result("call_s1", "Successfully transferred to research_expert");
  const Message answer = assistant("France's GDP is about 3 trillion USD.");
  const Message back = assistant("", {call("call_b1", "transfer_back_to_supervisor")});
  const Message back_done = tool_result("call_b1", "Successfully transferred back to supervisor");
  std::vector<ModelCall> calls = {
      chat(sup, {"transfer_to_research_expert", "transfer_to_math_expert"}, {q}, to_research, kT0, kT0 + 100 * kMs),
      chat(research, {"web_search"}, {q, named(to_research, "supervisor"), transferred}, answer, kT0 + 110 * kMs,
           kT0 + 200 * kMs),
      chat(sup, {"transfer_to_research_expert", "transfer_to_math_expert"},
           {q, named(to_research, "supervisor"), transferred, named(answer, "research_expert"),
            named(back, "research_expert"), back_done},
           assistant("It is about 3 trillion USD."), kT0 + 210 * kMs, kT0 + 300 * kMs),
  };
  Harness h;
  const auto& traces = h.run(calls);
  ASSERT_EQ(traces.size(), 1u);
  const Trace& t = traces[0];
  EXPECT_EQ(shape(t),
            "workflow[agent:supervisor[generation,handoff:supervisor->research_expert],"
            "agent:research_expert[generation,handoff:research_expert->supervisor],agent:supervisor[generation]]");
  auto handoffs = spans_of(t, SpanKind::kHandoff);
  ASSERT_EQ(handoffs.size(), 2u);
  EXPECT_EQ(str_attr(*handoffs[0], "gen_ai.tool.call.id"), "call_s1");
  EXPECT_EQ(str_attr(*handoffs[1], "gen_ai.tool.call.id"), "call_b1");
  EXPECT_EQ(attr<bool>(*handoffs[1], "llmtap.handoff.inferred"), nullptr);
  for (const Span* a : spans_of(t, SpanKind::kAgent)) EXPECT_EQ(str_attr(*a, "llmtap.agent.name_source"), "wire");
  EXPECT_TRUE(spans_of(t, SpanKind::kTool).empty());  // transfers are handoffs, not tools
}

// Gemini's function calls carry no id; the Gemini CLI invents one and sends it back with the result.
TEST(Fidelity, ClientInventedToolCallIdWins) {
  const std::string instr = "You are an interactive CLI agent.";
  auto gemini = [&](std::vector<Message> input, Message output, UnixNanos start, UnixNanos end) {
    ModelCall c = chat(instr, {"run_shell_command"}, std::move(input), std::move(output), start, end);
    c.provider = "gemini";
    c.api = "gemini";
    c.operation = "generate_content";
    return c;
  };
  const Message shell = assistant("", {call("run_shell_command#0", "run_shell_command", "{\"command\":\"ls\"}")});
  Message result = tool_result("run_shell_command_1764583445123_0", "a.txt");
  result.tool_name = "run_shell_command";
  Harness h;
  const auto& traces = h.run({gemini({user("list files")}, shell, kT0, kT0 + 100 * kMs),
                              gemini({user("list files"), shell, result}, assistant("a.txt"), kT0 + 200 * kMs,
                                     kT0 + 300 * kMs)});
  ASSERT_EQ(traces.size(), 1u);
  const Span* tool = find_span(traces[0], SpanKind::kTool);
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(str_attr(*tool, "gen_ai.tool.call.id"), "run_shell_command_1764583445123_0");
  EXPECT_EQ(tool->end_ns, kT0 + 200 * kMs);
}

}  // namespace
}  // namespace llmtap::trace::testing
