// Model calls shaped the way the OpenAI Agents SDK for JavaScript (@openai/agents) sends them, as
// the parsers normalize them. What the fixture mirrors (checked against the SDK's sources):
//  - handoff tools are named `transfer_to_${toFunctionToolName(agent.name)}`, where
//    toFunctionToolName turns every non-alphanumeric character into "_" and keeps case
//    ("Billing Agent" -> transfer_to_Billing_Agent);
//  - the handoff's tool output is JSON.stringify({assistant: agent.name}) = {"assistant":"Billing Agent"};
//  - after a handoff the next agent is called with the whole history (including the transfer call
//    and its output) under its own instructions;
//  - Responses: `instructions` carries the agent's prompt; history items are re-sent one by one
//    (message, function_call, function_call_output; reasoning items too);
//  - Chat Completions: the prompt is the leading system message; when re-sending, an assistant
//    text item and the following function_call items become two messages (text, then
//    `content: null` with tool_calls), with the arguments as received;
//  - agent.asTool(): the nested run gets the tool's `input` argument as its user message, and its
//    final output text becomes the tool result.
#include <gtest/gtest.h>

#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

const std::string kPrefix =
    "# System context\nYou are part of a multi-agent system called the Agents SDK, designed to make agent "
    "coordination and execution easy. Agents uses two primary abstraction: **Agents** and **Handoffs**. An agent "
    "encompasses instructions and tools and can hand off a conversation to another agent when appropriate. "
    "Handoffs are achieved by calling a handoff function, generally named `transfer_to_<agent_name>`. Transfers "
    "between agents are handled seamlessly in the background; do not mention or draw attention to these "
    "transfers in your conversation with the user.\n";
const std::string kTriage = kPrefix + "\nYou are the front desk. Send billing questions to the billing team.";
const std::string kBilling = "You are a billing agent. Look invoices up with the tools.";
const std::string kSummarizer = "Summarize invoices in one sentence.";

ModelCall base(const std::string& api, UnixNanos start, UnixNanos end, std::vector<std::string> tools) {
  ModelCall c;
  c.provider = "openai";
  c.api = api;
  c.operation = "chat";
  c.request_model = c.response_model = "gpt-test";
  c.connection_id = 3;
  c.timings.request_start = start;
  c.timings.request_end = start + 1;
  c.timings.response_end = end;
  c.usage.present = true;
  c.usage.input_uncached = 50;
  c.usage.output = 10;
  for (auto& t : tools) c.tools.push_back({t, "s"});
  return c;
}

const std::vector<std::string> kTriageTools = {"transfer_to_Billing_Agent"};
const std::vector<std::string> kBillingTools = {"get_invoice", "summarize_invoice"};

// Triage hands off to Billing; Billing calls get_invoice, then summarize_invoice (an agent
// used as a tool), then answers.
std::vector<ModelCall> responses_run(const std::string& tag, const std::string& question, UnixNanos t0) {
  auto ms = [&](int n) { return t0 + n * kMs; };
  const std::string h = "call_h_" + tag, g = "call_g_" + tag, s = "call_s_" + tag;
  std::vector<Message> history = {user(question)};
  std::vector<ModelCall> out;

  ModelCall c1 = base("responses", ms(0), ms(100), kTriageTools);
  c1.system_instructions = kTriage;
  c1.input = history;
  Message reasoning = assistant("");
  reasoning.reasoning = "The user asks about billing.";
  c1.output = {reasoning, assistant("", {call(h, "transfer_to_Billing_Agent", "{}")})};
  c1.response_id = "resp_1_" + tag;
  out.push_back(c1);
  history.insert(history.end(), c1.output.begin(), c1.output.end());
  history.push_back(tool_result(h, "{\"assistant\":\"Billing Agent\"}"));

  ModelCall c2 = base("responses", ms(105), ms(200), kBillingTools);
  c2.system_instructions = kBilling;
  c2.input = history;
  c2.output = {assistant("", {call(g, "get_invoice", "{\"invoice_id\":\"" + tag + "\"}")})};
  c2.response_id = "resp_2_" + tag;
  out.push_back(c2);
  history.insert(history.end(), c2.output.begin(), c2.output.end());
  history.push_back(tool_result(g, "{\"invoice_id\":\"" + tag + "\",\"amount\":42}"));

  ModelCall c3 = base("responses", ms(260), ms(300), kBillingTools);
  c3.system_instructions = kBilling;
  c3.input = history;
  c3.output = {assistant("", {call(s, "summarize_invoice", "{\"input\":\"invoice " + tag + " amount 42\"}")})};
  c3.response_id = "resp_3_" + tag;
  out.push_back(c3);
  history.insert(history.end(), c3.output.begin(), c3.output.end());

  // The nested run of the summarizer agent (asTool).
  ModelCall n1 = base("responses", ms(310), ms(380), {});
  n1.system_instructions = kSummarizer;
  n1.input = {user("invoice " + tag + " amount 42")};
  const std::string summary = "Invoice " + tag + " is for 42 dollars and is due soon.";
  n1.output = {assistant(summary)};
  n1.response_id = "resp_n_" + tag;
  out.push_back(n1);

  history.push_back(tool_result(s, summary));
  ModelCall c4 = base("responses", ms(390), ms(450), kBillingTools);
  c4.system_instructions = kBilling;
  c4.input = history;
  c4.output = {assistant("Your invoice " + tag + " is 42 dollars.")};
  c4.response_id = "resp_4_" + tag;
  out.push_back(c4);
  return out;
}

// The same run through Chat Completions, re-sent the way the SDK's itemsToMessages does it.
std::vector<ModelCall> chat_run(const std::string& tag, const std::string& question, UnixNanos t0) {
  auto calls = responses_run(tag, question, t0);
  for (auto& c : calls) {
    c.api = "chat_completions";
    c.response_id = "chatcmpl-" + c.response_id;
    // Chat never sees reasoning items; the output is one assistant message.
    std::vector<Message> in;
    for (auto m : c.input) {
      if (m.role == "assistant" && m.text.empty() && m.tool_calls.empty()) continue;
      if (m.role == "assistant" && !m.tool_calls.empty()) {
        m.text = "";  // content: null
        for (auto& tc : m.tool_calls) tc.arguments = " " + tc.arguments;  // whatever the client re-serializes
      }
      in.push_back(m);
    }
    c.input = in;
    Message merged = assistant("");
    for (const auto& m : c.output) {
      merged.text += m.text;
      merged.tool_calls.insert(merged.tool_calls.end(), m.tool_calls.begin(), m.tool_calls.end());
    }
    c.output = {merged};
  }
  return calls;
}

const char* kExpectedShape =
    "workflow[agent:Front Desk Agent[generation,handoff:Front Desk Agent->Billing Agent],"
    "agent:Billing Agent[generation,tool:get_invoice,generation,tool:summarize_invoice[agent:Summarizer[generation]],"
    "generation]]";

std::vector<Trace> run_concurrently(std::vector<std::vector<ModelCall>> runs) {
  TraceOptions o;
  std::string error;
  EXPECT_TRUE(parse_agent_name_rules(R"([{"pattern": "front desk", "name": "Front Desk Agent"},
                                         {"pattern": "^Summarize", "name": "Summarizer"}])",
                                     o.agent_name_rules, error))
      << error;
  FakePricer pricer;
  RecordingSink sink;
  TraceBuilder b(o, &pricer, sink);
  // Interleave the runs' calls by request start, as concurrent runs reach the proxy.
  std::vector<ModelCall> all;
  for (auto& r : runs) all.insert(all.end(), r.begin(), r.end());
  std::stable_sort(all.begin(), all.end(), [](const ModelCall& a, const ModelCall& b) {
    return a.timings.response_end < b.timings.response_end;
  });
  for (const auto& c : all) b.on_model_call(c);
  b.close_all(0);
  return sink.traces;
}

TEST(AgentsSdkFixture, ResponsesRunsConcurrently) {
  auto traces = run_concurrently({responses_run("A", "What do I owe on invoice A?", kT0),
                                  responses_run("B", "What do I owe on invoice A?", kT0 + 5 * kMs),
                                  responses_run("C", "And invoice C?", kT0 + 7 * kMs)});
  ASSERT_EQ(traces.size(), 3u);
  for (const auto& t : traces) {
    EXPECT_EQ(shape(t), kExpectedShape);
    EXPECT_EQ(spans_of(t, SpanKind::kGeneration).size(), 5u);
  }
}

TEST(AgentsSdkFixture, ChatCompletionsRunsConcurrently) {
  auto traces = run_concurrently({chat_run("A", "What do I owe on invoice A?", kT0),
                                  chat_run("B", "What do I owe on invoice A?", kT0 + 5 * kMs)});
  ASSERT_EQ(traces.size(), 2u);
  for (const auto& t : traces) EXPECT_EQ(shape(t), kExpectedShape);
}

TEST(AgentsSdkFixture, HandoffNamesTheTargetFromTheTransferOutput) {
  auto traces = run_concurrently({responses_run("A", "q", kT0)});
  ASSERT_EQ(traces.size(), 1u);
  const Span* hs = find_span(traces[0], SpanKind::kHandoff);
  ASSERT_NE(hs, nullptr);
  EXPECT_EQ(str_attr(*hs, "llmtap.handoff.to_agent"), "Billing Agent");
  EXPECT_EQ(str_attr(*hs, "gen_ai.tool.call.id"), "call_h_A");
}

}  // namespace
}  // namespace llmtap::trace::testing
