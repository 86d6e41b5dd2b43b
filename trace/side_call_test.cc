// Side calls join the run they serve (issue 14 item 4) and sub-agents nest by the evidence that
// names their run (item 8): hand-made ModelCalls shaped as the clients send them, fed in every
// arrival order the wire allows, with concurrent runs that must never share a trace.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "trace/side_call_joiner.h"
#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

constexpr const char* kAgentsSdkUa = "Agents/JavaScript 0.20.0";
const std::string kMain = "You are the support agent of the e2e shop. Look orders up with lookup_order.";
const std::string kGuard = "Check whether the customer asks about something other than the shop.";
const std::string kOutGuard = "Check whether the answer reveals internal data.";

ModelCall mcall(const std::string& instructions, std::vector<std::string> tools, std::vector<Message> input,
                std::vector<Message> output, UnixNanos start, UnixNanos end, const std::string& id,
                const char* user_agent = kAgentsSdkUa) {
  ModelCall c;
  c.provider = "openai";
  c.api = "responses";
  c.operation = "chat";
  c.request_model = c.response_model = "gpt-test";
  c.system_instructions = instructions;
  for (auto& t : tools) c.tools.push_back({t, "h"});
  c.input = std::move(input);
  c.output = std::move(output);
  c.response_id = "resp_" + id;
  c.timings.request_start = start;
  c.timings.request_end = start + 1;
  c.timings.response_first_byte = start + 2;
  c.timings.response_end = end;
  c.usage.present = true;
  c.usage.input_uncached = 100;
  c.usage.output = 20;
  if (user_agent != nullptr) c.request_headers = {{"User-Agent", user_agent}};
  return c;
}

// One Agents SDK run with an input guardrail (concurrent with the first call, same user item) and
// an output guardrail (its input is the final answer). `tag` makes ids and texts unique.
struct GuardedRun {
  ModelCall guard, main1, main2, out_guard;
};
GuardedRun guarded_run(const std::string& question, const std::string& tag, UnixNanos t0) {
  GuardedRun r;
  const std::string cid = "call_" + tag;
  r.main1 = mcall(kMain, {"lookup_order"}, {user(question)},
                  {assistant("", {call(cid, "lookup_order", "{\"order_id\":\"" + tag + "\"}")})}, t0 + 2 * kMs,
                  t0 + 120 * kMs, tag + "1");
  r.guard = mcall(kGuard, {}, {user(question)}, {assistant("{\"off_topic\":false}")}, t0, t0 + 60 * kMs, tag + "g");
  const std::string answer = "Order " + tag + " is delivered.";
  r.main2 = mcall(kMain, {"lookup_order"},
                  {user(question), assistant("", {call(cid, "lookup_order", "{\"order_id\":\"" + tag + "\"}")}),
                   tool_result(cid, "{\"status\":\"delivered\"}")},
                  {assistant(answer)}, t0 + 150 * kMs, t0 + 260 * kMs, tag + "2");
  r.out_guard = mcall(kOutGuard, {}, {user(answer)}, {assistant("{\"leak\":false}")}, t0 + 262 * kMs,
                      t0 + 300 * kMs, tag + "o");
  return r;
}

std::vector<Trace> feed(std::vector<ModelCall> calls) {
  TraceOptions o;
  o.workflow_name = "w";
  RecordingSink sink;
  TraceBuilder b(o, nullptr, sink);
  for (const auto& c : calls) b.on_model_call(c);
  b.close_all(0);
  return sink.traces;
}

// Random orders in which the calls can reach trace/: any order, except that a call is seen after
// every call whose response had ended before it was sent (what it may carry from them).
std::vector<std::vector<ModelCall>> arrival_orders(const std::vector<ModelCall>& calls, unsigned seeds) {
  std::vector<std::vector<ModelCall>> out;
  for (unsigned seed = 0; seed < seeds; ++seed) {
    std::mt19937 rng(seed);
    std::vector<bool> done(calls.size(), false);
    std::vector<ModelCall> v;
    while (v.size() < calls.size()) {
      std::vector<std::size_t> ready;
      for (std::size_t i = 0; i < calls.size(); ++i) {
        if (done[i]) continue;
        bool ok = true;
        for (std::size_t j = 0; j < calls.size() && ok; ++j)
          ok = done[j] || j == i || calls[j].timings.response_end > calls[i].timings.request_start;
        if (ok) ready.push_back(i);
      }
      const std::size_t pick = ready[rng() % ready.size()];
      done[pick] = true;
      v.push_back(calls[pick]);
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<const Span*> guardrails(const Trace& t) { return spans_of(t, SpanKind::kGuardrail); }

TEST(SideCallJoiner, InputAndOutputGuardrailsJoinTheirRunInAnyOrder) {
  GuardedRun r = guarded_run("Where is my order 2001?", "2001", kT0);
  for (const auto& order : arrival_orders({r.guard, r.main1, r.main2, r.out_guard}, 12)) {
    auto traces = feed(order);
    ASSERT_EQ(traces.size(), 1u);
    const Trace& t = traces[0];
    EXPECT_EQ(spans_of(t, SpanKind::kGeneration).size(), 4u);
    auto gs = guardrails(t);
    ASSERT_EQ(gs.size(), 2u);
    std::set<std::string> targets;
    for (const Span* g : gs) {
      EXPECT_EQ(str_attr(*g, "gen_ai.operation.name"), "apply_guardrail");
      targets.insert(str_attr(*g, "gen_ai.security.target.type"));
      // Under the agent it protects, the main one.
      const Span* parent = by_id(t, g->parent_span_id);
      ASSERT_NE(parent, nullptr);
      EXPECT_EQ(parent->kind, SpanKind::kAgent);
      EXPECT_EQ(parent->find("llmtap.side_call.role"), nullptr);
      // Each guardrail holds its own agent span with its one generation.
      int agents = 0;
      for (const auto& s : t.spans)
        if (s.parent_span_id == g->span_id) {
          EXPECT_EQ(s.kind, SpanKind::kAgent);
          ++agents;
        }
      EXPECT_EQ(agents, 1);
      EXPECT_EQ(g->name.rfind("apply_guardrail ", 0), 0u) << g->name;
    }
    EXPECT_EQ(targets, (std::set<std::string>{"llm_input", "llm_output"}));
    const Span* in = *std::find_if(gs.begin(), gs.end(), [](const Span* g) {
      return str_attr(*g, "gen_ai.security.target.type") == "llm_input";
    });
    EXPECT_EQ(str_attr(*in, "gen_ai.security.decision.type"), "allow");
    // The main agent is not a side call.
    int main_agents = 0;
    for (const Span* a : spans_of(t, SpanKind::kAgent))
      if (a->find("llmtap.side_call.role") == nullptr) ++main_agents;
    EXPECT_EQ(main_agents, 1);
  }
}

TEST(SideCallJoiner, RunCostIncludesGuardrailCalls) {
  GuardedRun r = guarded_run("Where is my order 2001?", "2001", kT0);
  TraceOptions o;
  FakePricer pricer;
  RecordingSink sink;
  TraceBuilder b(o, &pricer, sink);
  for (const auto& c : {r.guard, r.main1, r.main2, r.out_guard}) b.on_model_call(c);
  b.close_all(0);
  ASSERT_EQ(sink.traces.size(), 1u);
  const auto* total = attr<double>(sink.traces[0].spans[0], "llm.cost.total");
  ASSERT_NE(total, nullptr);
  EXPECT_DOUBLE_EQ(*total, pico_to_usd(4 * (100 * 2'500'000 + 20 * 10'000'000)));
}

TEST(SideCallJoiner, TrippedInputGuardrailIsVisible) {
  GuardedRun r = guarded_run("Solve my math homework: 2x+3=7", "77", kT0);
  // The guardrail answers at +60 ms; the SDK stops reading the agent's stream right after.
  r.main1.stream = true;
  r.main1.status = CallStatus::kIncomplete;
  r.main1.output = {assistant("Let me")};
  r.main1.timings.response_end = kT0 + 64 * kMs;
  r.guard.output = {assistant("{\"off_topic\":true}")};
  for (const auto& order : {std::vector<ModelCall>{r.guard, r.main1}, std::vector<ModelCall>{r.main1, r.guard}}) {
    auto traces = feed(order);
    ASSERT_EQ(traces.size(), 1u);
    auto gs = guardrails(traces[0]);
    ASSERT_EQ(gs.size(), 1u);
    ASSERT_NE(attr<bool>(*gs[0], "llmtap.guardrail.tripped"), nullptr);
    EXPECT_TRUE(*attr<bool>(*gs[0], "llmtap.guardrail.tripped"));
    EXPECT_EQ(str_attr(*gs[0], "gen_ai.security.decision.type"), "deny");
    EXPECT_EQ(str_attr(*gs[0], "llmtap.guardrail.tripped_evidence"), "main_call_cut");
    EXPECT_EQ(str_attr(*gs[0], "gen_ai.security.target.type"), "llm_input");
    const Span* gen = nullptr;
    for (const Span* g : spans_of(traces[0], SpanKind::kGeneration))
      if (g->find("llmtap.call.incomplete")) gen = g;
    ASSERT_NE(gen, nullptr);
    EXPECT_EQ(str_attr(*gen, "llmtap.call.abandoned_reason"), "input guardrail tripped");
    const Span* agent = by_id(traces[0], gen->parent_span_id);
    EXPECT_TRUE(agent->error);
  }
}

const Span* guardrail_on(const Trace& t, const std::string& target) {
  for (const Span* g : guardrails(t))
    if (str_attr(*g, "gen_ai.security.target.type") == target) return g;
  return nullptr;
}

TEST(SideCallJoiner, TrippedOutputGuardrailIsVisible) {
  // The output guardrail's agent flags the answer; after it the wire shows nothing (the SDK raises
  // OutputGuardrailTripwireTriggered): its verdict is the evidence.
  GuardedRun r = guarded_run("Where is my order 2004?", "2004", kT0);
  r.out_guard.output = {assistant("{\"flagged\": true, \"reason\": \"mentions internal\"}")};
  for (const auto& order : arrival_orders({r.guard, r.main1, r.main2, r.out_guard}, 8)) {
    auto traces = feed(order);
    ASSERT_EQ(traces.size(), 1u);
    const Span* out = guardrail_on(traces[0], "llm_output");
    ASSERT_NE(out, nullptr);
    ASSERT_NE(attr<bool>(*out, "llmtap.guardrail.tripped"), nullptr);
    EXPECT_TRUE(*attr<bool>(*out, "llmtap.guardrail.tripped"));
    EXPECT_EQ(str_attr(*out, "llmtap.guardrail.tripped_evidence"), "verdict");
    EXPECT_EQ(str_attr(*out, "gen_ai.security.decision.type"), "deny");
    // The run is marked: the agent whose answer was rejected ends in error.
    const Span* agent = by_id(traces[0], out->parent_span_id);
    ASSERT_NE(agent, nullptr);
    EXPECT_TRUE(agent->error);
    EXPECT_EQ(agent->status_message, "output guardrail tripped");
    // The input guardrail let the run go on.
    const Span* in = guardrail_on(traces[0], "llm_input");
    ASSERT_NE(in, nullptr);
    ASSERT_NE(attr<bool>(*in, "llmtap.guardrail.tripped"), nullptr);
    EXPECT_FALSE(*attr<bool>(*in, "llmtap.guardrail.tripped"));
  }
}

TEST(SideCallJoiner, PassingOutputGuardrailSaysAllow) {
  GuardedRun r = guarded_run("Where is my order 2005?", "2005", kT0);
  r.out_guard.output = {assistant("{\"flagged\": false, \"reason\": \"nothing to flag\"}")};
  auto traces = feed({r.guard, r.main1, r.main2, r.out_guard});
  ASSERT_EQ(traces.size(), 1u);
  const Span* out = guardrail_on(traces[0], "llm_output");
  ASSERT_NE(out, nullptr);
  ASSERT_NE(attr<bool>(*out, "llmtap.guardrail.tripped"), nullptr);
  EXPECT_FALSE(*attr<bool>(*out, "llmtap.guardrail.tripped"));
  EXPECT_EQ(str_attr(*out, "gen_ai.security.decision.type"), "allow");
  EXPECT_FALSE(by_id(traces[0], out->parent_span_id)->error);
  // An answer that is no verdict tells nothing.
  r.out_guard.output = {assistant("Looks fine to me.")};
  traces = feed({r.guard, r.main1, r.main2, r.out_guard});
  out = guardrail_on(traces[0], "llm_output");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(attr<bool>(*out, "llmtap.guardrail.tripped"), nullptr);
}

TEST(SideCallJoiner, ConcurrentRunsWithOneTrippedOutputGuardrail) {
  // Only the run whose answer was flagged is marked; no run shares another's trace.
  std::vector<ModelCall> all;
  for (int i = 0; i < 3; ++i) {
    GuardedRun r = guarded_run("Where is my order 300" + std::to_string(i) + "?", "300" + std::to_string(i),
                               kT0 + i * 5 * kMs);
    if (i == 1) r.out_guard.output = {assistant("{\"flagged\": true, \"reason\": \"leak\"}")};
    all.insert(all.end(), {r.guard, r.main1, r.main2, r.out_guard});
  }
  for (const auto& order : arrival_orders(all, 12)) {
    auto traces = feed(order);
    ASSERT_EQ(traces.size(), 3u);
    int tripped = 0;
    for (const auto& t : traces) {
      std::set<std::string> runs;
      for (const Span* g : spans_of(t, SpanKind::kGeneration)) runs.insert(str_attr(*g, "gen_ai.response.id").substr(5, 4));
      ASSERT_EQ(runs.size(), 1u) << "two runs share a trace";
      const Span* out = guardrail_on(t, "llm_output");
      ASSERT_NE(out, nullptr);
      const bool* trip = attr<bool>(*out, "llmtap.guardrail.tripped");
      ASSERT_NE(trip, nullptr);
      EXPECT_EQ(*trip, *runs.begin() == "3001");
      tripped += *trip ? 1 : 0;
    }
    EXPECT_EQ(tripped, 1);
  }
}

TEST(SideCallJoiner, NonStreamedTripStopsTheRun) {
  GuardedRun r = guarded_run("Solve my math homework: 2x+3=7", "78", kT0);
  auto traces = feed({r.guard, r.main1});  // the tool call the agent asked for never runs
  ASSERT_EQ(traces.size(), 1u);
  auto gs = guardrails(traces[0]);
  ASSERT_EQ(gs.size(), 1u);
  EXPECT_EQ(str_attr(*gs[0], "llmtap.guardrail.tripped_evidence"), "run_stopped");
}

TEST(SideCallJoiner, ConcurrentGuardedRunsNeverShareATrace) {
  std::vector<ModelCall> all;
  const std::vector<std::string> questions = {"Where is my order 2001?", "Where is my order 2002?",
                                              "Refund order 2003 please", "Cancel order 2004"};
  for (std::size_t i = 0; i < questions.size(); ++i) {
    GuardedRun r = guarded_run(questions[i], std::to_string(2001 + i), kT0 + static_cast<UnixNanos>(i) * 7 * kMs);
    all.insert(all.end(), {r.guard, r.main1, r.main2, r.out_guard});
  }
  for (const auto& order : arrival_orders(all, 20)) {
    auto traces = feed(order);
    ASSERT_EQ(traces.size(), questions.size());
    for (const auto& t : traces) {
      EXPECT_EQ(guardrails(t).size(), 2u);
      // All generations of a trace talk about one order.
      std::set<std::string> orders;
      for (const Span* g : spans_of(t, SpanKind::kGeneration)) {
        const std::string id = str_attr(*g, "gen_ai.response.id");
        orders.insert(id.substr(5, 4));
      }
      EXPECT_EQ(orders.size(), 1u);
    }
  }
}

TEST(SideCallJoiner, SameTurnInTwoConcurrentRunsJoinsNeither) {
  // Two users ask the same thing at the same moment: a guardrail call fits both runs equally.
  GuardedRun a = guarded_run("Where is my order?", "3001", kT0);
  GuardedRun b = guarded_run("Where is my order?", "3002", kT0 + 1 * kMs);
  for (const auto& order : arrival_orders({a.guard, a.main1, b.guard, b.main1}, 20)) {
    auto traces = feed(order);
    for (const auto& t : traces) {
      std::set<std::string> runs;
      for (const Span* g : spans_of(t, SpanKind::kGeneration)) runs.insert(str_attr(*g, "gen_ai.response.id").substr(5, 4));
      EXPECT_EQ(runs.size(), 1u) << "two runs share a trace";
    }
  }
}

TEST(SideCallJoiner, RouterCallBeforeTheMainLoopJoinsIt) {
  const char* ua = "GeminiCLI/0.61.0 (linux; x64)";
  ModelCall router = mcall("You are a routing classifier. Answer with JSON {\"model\": ...}.", {},
                           {user("list the files here")}, {assistant("{\"model_choice\":\"flash\"}")}, kT0,
                           kT0 + 300 * kMs, "r", ua);
  ModelCall main = mcall("You are an interactive CLI agent.", {"run_shell_command"}, {user("list the files here")},
                         {assistant("Here they are.")}, kT0 + 320 * kMs, kT0 + 900 * kMs, "m", ua);
  auto traces = feed({router, main});
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_TRUE(guardrails(traces[0]).empty());
  int routers = 0;
  for (const Span* a : spans_of(traces[0], SpanKind::kAgent))
    if (str_attr(*a, "llmtap.side_call.role") == "router") ++routers;
  EXPECT_EQ(routers, 1);
}

// Gemini CLI 0.61 as llmtap saw it on the wire (gemini_cli_e2e): its router sends the session
// context and the prompt as two user messages, the main loop merges them into one; the router's
// keep-alive connection is the one the main loop's later calls reuse; between the router's answer
// and the main call the CLI took 250-310 ms on a lightly loaded machine, seconds on a loaded one.
struct GeminiCliRun {
  ModelCall router, main1, main2;
};
GeminiCliRun gemini_cli_run(UnixNanos t0, UnixNanos gap, std::uint64_t conn_base = 1, const std::string& dir = "w") {
  const char* ua = "GeminiCLI-tui/0.61.0/gemini-3.1-pro-preview (linux; x64; terminal)";
  const std::string context = "<session_context>\nThis is the Gemini CLI. We are setting up the context for our chat.\n"
                              "The project's temporary directory is: /tmp/" + dir + "\n</session_context>";
  const std::string prompt = "Please run `echo llmtap-gemini-e2e` in the shell, then read notes.txt.";
  GeminiCliRun r;
  r.router = mcall("You are a specialized Task Routing AI. Classify the request.", {}, {user(context), user(prompt)},
                   {assistant("{\"reasoning\":\"simple\",\"model_choice\":\"flash\"}")}, t0, t0 + 45 * kMs,
                   dir + "r", ua);
  r.router.connection_id = conn_base;
  const UnixNanos m = t0 + 45 * kMs + gap;
  const ToolCall shell = call("run_shell_command#0", "run_shell_command", "{\"command\":\"echo llmtap-gemini-e2e\"}");
  r.main1 = mcall("You are Gemini CLI, an interactive CLI agent.", {"run_shell_command", "read_file"},
                  {user(context + prompt)}, {assistant("", {shell})}, m, m + 50 * kMs, dir + "m1", ua);
  r.main1.connection_id = conn_base + 1;
  r.main2 = mcall("You are Gemini CLI, an interactive CLI agent.", {"run_shell_command", "read_file"},
                  {user(context + prompt), assistant("", {shell}), tool_result("run_shell_command_1_0", "llmtap-gemini-e2e")},
                  {assistant("It printed llmtap-gemini-e2e.")}, m + 1'500 * kMs, m + 1'540 * kMs, dir + "m2", ua);
  r.main2.connection_id = conn_base;  // the router's connection, back in the pool
  return r;
}

int routers_in(const Trace& t) {
  int n = 0;
  for (const Span* a : spans_of(t, SpanKind::kAgent))
    if (str_attr(*a, "llmtap.side_call.role") == "router") ++n;
  return n;
}

TEST(SideCallJoiner, GeminiCliRouterAsOnTheWireJoinsItsRun) {
  for (UnixNanos gap : {300 * kMs, 2'500 * kMs}) {
    GeminiCliRun r = gemini_cli_run(kT0, gap);
    for (const auto& order : arrival_orders({r.router, r.main1, r.main2}, 6)) {
      auto traces = feed(order);
      ASSERT_EQ(traces.size(), 1u) << "gap " << gap / kMs << " ms";
      EXPECT_EQ(routers_in(traces[0]), 1);
      EXPECT_EQ(spans_of(traces[0], SpanKind::kGeneration).size(), 3u);
    }
  }
}

TEST(SideCallJoiner, SlowRouterWithoutSharedConnectionStaysApart) {
  // Seconds apart and nothing shows one process sent both: timing alone does not join them.
  GeminiCliRun r = gemini_cli_run(kT0, 2'500 * kMs);
  r.main2.connection_id = 7;
  EXPECT_EQ(feed({r.router, r.main1, r.main2}).size(), 2u);
}

TEST(SideCallJoiner, ConcurrentGeminiCliRunsKeepTheirRouters) {
  // Two CLIs in two directories at once (their session contexts differ), each its own connections.
  GeminiCliRun a = gemini_cli_run(kT0, 400 * kMs, 1, "a");
  GeminiCliRun b = gemini_cli_run(kT0 + 20 * kMs, 300 * kMs, 11, "b");
  for (const auto& order : arrival_orders({a.router, a.main1, a.main2, b.router, b.main1, b.main2}, 12)) {
    auto traces = feed(order);
    ASSERT_EQ(traces.size(), 2u);
    for (const auto& t : traces) {
      EXPECT_EQ(routers_in(t), 1);
      std::set<std::string> runs;
      for (const Span* g : spans_of(t, SpanKind::kGeneration)) runs.insert(str_attr(*g, "gen_ai.response.id").substr(5, 1));
      EXPECT_EQ(runs.size(), 1u) << "two runs share a trace";
    }
  }
}

TEST(SideCallJoiner, SameAgentSameTurnIsAnotherRun) {
  ModelCall a = mcall(kMain, {}, {user("hello")}, {assistant("hi")}, kT0, kT0 + 50 * kMs, "a");
  ModelCall b = mcall(kMain, {}, {user("hello")}, {assistant("hi")}, kT0 + 5 * kMs, kT0 + 55 * kMs, "b");
  EXPECT_EQ(feed({a, b}).size(), 2u);
}

TEST(SideCallJoiner, LateCallWithTheSameTurnStartsItsOwnRun) {
  ModelCall a = mcall(kMain, {}, {user("hello")}, {assistant("hi")}, kT0, kT0 + 50 * kMs, "a");
  ModelCall b = mcall(kGuard, {}, {user("hello")}, {assistant("ok")}, kT0 + 5'000 * kMs, kT0 + 5'050 * kMs, "b");
  EXPECT_EQ(feed({a, b}).size(), 2u);
}

TEST(SideCallJoiner, NextRunOfAnotherAgentOnTheSamePromptIsItsOwn) {
  // A program asks two different agents the same question one after the other (not a side call:
  // the second starts well after the first one's first call ended).
  GuardedRun r = guarded_run("Where is my order 2001?", "2001", kT0);
  ModelCall other = mcall(kGuard, {}, {user("Where is my order 2001?")}, {assistant("ok")}, kT0 + 700 * kMs,
                          kT0 + 760 * kMs, "x");
  EXPECT_EQ(feed({r.main1, r.main2, other}).size(), 2u);
}

TEST(SideCallJoiner, TokenCountIsACounterOnItsRun) {
  GuardedRun r = guarded_run("Where is my order 2001?", "2001", kT0);
  ModelCall count = r.main1;
  count.kind = ExchangeKind::kTokenCount;
  count.output.clear();
  auto traces = feed({r.main1, count, r.main2});
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(spans_of(traces[0], SpanKind::kGeneration).size(), 2u);
  ASSERT_NE(attr<std::int64_t>(traces[0].spans[0], "llmtap.token_count.calls"), nullptr);
  EXPECT_EQ(*attr<std::int64_t>(traces[0].spans[0], "llmtap.token_count.calls"), 1);
}

TEST(SideCallJoiner, ScoresTieAcrossTracesMeansNoJoin) {
  SideCallFacts call{"g", kT0, kT0 + 10 * kMs, 0};
  std::vector<SideCallCandidate> two = {
      {1, 11, SideEvidence::kSameUserTurn, "m", kT0 + 1 * kMs, kT0 + 50 * kMs, 0, 0},
      {2, 21, SideEvidence::kSameUserTurn, "m", kT0 + 2 * kMs, kT0 + 50 * kMs, 0, 0},
  };
  EXPECT_FALSE(choose_side_call_host(call, two).has_value());
  // Two conversations of one trace do not tie.
  two[1].trace = 1;
  ASSERT_TRUE(choose_side_call_host(call, two).has_value());
  EXPECT_EQ(choose_side_call_host(call, two)->trace, 1u);
  // Timing decides: one started with the call (tens of ms), the other a second before.
  two[1].trace = 2;
  two[1].first_call_start = kT0 - 1'000 * kMs;
  ASSERT_TRUE(choose_side_call_host(call, two).has_value());
  EXPECT_EQ(choose_side_call_host(call, two)->trace, 1u);
  // Another process is never the host.
  two[0].client_pid = 5;
  call.client_pid = 6;
  two[1].client_pid = 6;
  ASSERT_TRUE(choose_side_call_host(call, two).has_value());
  EXPECT_EQ(choose_side_call_host(call, two)->trace, 2u);
}

TEST(SideCallJoiner, RolesComeFromTheClientTable) {
  EXPECT_EQ(side_call_role({{"user-agent", "Agents/Python 0.6.1"}}, SideEvidence::kSameUserTurn),
            SideRole::kInputGuardrail);
  EXPECT_EQ(side_call_role({{"User-Agent", "Agents/JavaScript 0.20.0"}}, SideEvidence::kAnswersOutput),
            SideRole::kOutputGuardrail);
  EXPECT_EQ(side_call_role({{"User-Agent", "claude-cli/2.1.0 (external, cli)"}}, SideEvidence::kSameUserTurn),
            SideRole::kTitle);
  EXPECT_EQ(side_call_role({{"User-Agent", "curl/8"}}, SideEvidence::kSameUserTurn), SideRole::kSideCall);
  // A product's variants are the product; a longer name is not.
  EXPECT_EQ(side_call_role({{"User-Agent", "GeminiCLI-tui/0.61.0/gemini-3.1-pro-preview (linux; x64; terminal)"}},
                           SideEvidence::kSameUserTurn),
            SideRole::kRouter);
  EXPECT_EQ(side_call_role({{"User-Agent", "GeminiCLI/0.61.0 (linux; x64)"}}, SideEvidence::kSameUserTurn),
            SideRole::kRouter);
  EXPECT_EQ(side_call_role({{"User-Agent", "GeminiCLIX/1.0"}}, SideEvidence::kSameUserTurn), SideRole::kSideCall);
  EXPECT_EQ(side_call_role({{"User-Agent", "Agents/Rust 0.1"}}, SideEvidence::kSameUserTurn), SideRole::kSideCall);
  EXPECT_EQ(side_call_role({}, SideEvidence::kAnswersOutput), SideRole::kSideCall);
}

// --- Compaction: a summarize call, then the run goes on with a compacted history -------------

// Claude Code 2.1 (strings of its binary): it summarizes with its own system prompt and tools (the
// prompt cache is shared), the history plus a summary request; then continues with one user
// message that opens with its fixed preamble and carries the summary.
struct CompactingRun {
  std::vector<ModelCall> calls;  // in order: the loop, the compaction, the continuation
  std::string compaction_id, continuation_id;
};
CompactingRun claude_code_compaction(const std::string& tag, UnixNanos t0) {
  const char* ua = "claude-cli/2.1.332 (external, sdk-cli)";
  const std::string sys = "You are Claude Code, Anthropic's official CLI for Claude. Workspace " + tag + ".";
  const std::vector<std::string> tools = {"Bash", "Read"};
  const std::string prompt = "Check the workspace " + tag + ": run echo and read notes.txt";
  const ToolCall bash = call("toolu_" + tag, "Bash", "{\"command\":\"echo " + tag + "\"}");
  const std::string answer = "The workspace " + tag + " echoes its name and the notes say hello.";
  const std::string summary = "<analysis>The user asked to check workspace " + tag + ".</analysis>\n<summary>\n"
                              "1. Primary Request and Intent: check the workspace " + tag + " (echo, read notes.txt).\n"
                              "2. Key Technical Concepts: Bash, Read.\n3. Pending Tasks: none.\n</summary>";
  CompactingRun r;
  std::vector<Message> h = {user(prompt)};
  r.calls.push_back(mcall(sys, tools, h, {assistant("", {bash})}, t0, t0 + 100 * kMs, tag + "1", ua));
  h.push_back(assistant("", {bash}));
  h.push_back(tool_result("toolu_" + tag, tag));
  r.calls.push_back(mcall(sys, tools, h, {assistant(answer)}, t0 + 300 * kMs, t0 + 400 * kMs, tag + "2", ua));
  h.push_back(assistant(answer));
  h.push_back(user("Your task is to create a detailed summary of the conversation so far, paying close attention "
                   "to the user's explicit requests and your previous actions."));
  r.calls.push_back(mcall(sys, tools, h, {assistant(summary)}, t0 + 600 * kMs, t0 + 900 * kMs, tag + "c", ua));
  r.compaction_id = "resp_" + tag + "c";
  const std::string carried =
      "This session is being continued from a previous conversation that ran out of context. The summary below "
      "covers the earlier portion of the conversation.\n\n" + summary +
      "\nPlease continue the conversation from where we left it off without asking the user any further questions.";
  r.calls.push_back(mcall(sys, tools, {user(carried)}, {assistant("Done: the workspace " + tag + " is fine.")},
                          t0 + 1'200 * kMs, t0 + 1'300 * kMs, tag + "k", ua));
  r.continuation_id = "resp_" + tag + "k";
  return r;
}

// Gemini CLI 0.61 (its chat compression, from the installed bundle): a compressor with its own
// system prompt summarizes the first 70% of the history, a second call verifies the snapshot, and
// the next request starts over: the session context, the summary (merged into one user message),
// "Got it. Thanks for the additional context!", the kept turns, the new prompt.
CompactingRun gemini_cli_compression(const std::string& tag, UnixNanos t0) {
  const char* ua = "GeminiCLI-tui/0.61.0/gemini-3.1-pro-preview (linux; x64; terminal)";
  const std::string sys = "You are Gemini CLI, an interactive CLI agent.";
  const std::string compressor = "You are the component that summarizes internal chat history into a given structure.";
  const std::vector<std::string> tools = {"run_shell_command", "read_file"};
  const std::string env = "<session_context>\nThis is the Gemini CLI. The project's temporary directory is: /tmp/" +
                          tag + "\n</session_context>";
  const std::string p1 = "Summarize the README of " + tag, p2 = "Now list the files", p3 = "And the largest one?";
  const std::string a1 = "The README of " + tag + " explains the build.";
  const ToolCall ls = call("run_shell_command#0", "run_shell_command", "{\"command\":\"ls\"}");
  const std::string snapshot = "<state_snapshot>\n<overall_goal>Understand the project " + tag +
                               ".</overall_goal>\n<key_knowledge>The README explains the build.</key_knowledge>\n"
                               "</state_snapshot>";
  CompactingRun r;
  std::vector<Message> h = {user(env + p1)};
  r.calls.push_back(mcall(sys, tools, h, {assistant(a1)}, t0, t0 + 100 * kMs, tag + "1", ua));
  h.push_back(assistant(a1));
  const std::vector<Message> summarized = h;  // the history up to the split point
  h.push_back(user(p2));
  r.calls.push_back(mcall(sys, tools, h, {assistant("", {ls})}, t0 + 200 * kMs, t0 + 300 * kMs, tag + "2", ua));
  h.push_back(assistant("", {ls}));
  h.push_back(tool_result("run_shell_command_1_0", "README.md main.cc"));
  r.calls.push_back(mcall(sys, tools, h, {assistant("README.md and main.cc")}, t0 + 400 * kMs, t0 + 500 * kMs,
                          tag + "3", ua));
  std::vector<Message> c1 = summarized;
  c1.push_back(user("Generate a new <state_snapshot> based on the provided history.\n\nFirst, reason in your "
                    "scratchpad. Then, generate the updated <state_snapshot>."));
  r.calls.push_back(mcall(compressor, {}, c1, {assistant(snapshot)}, t0 + 700 * kMs, t0 + 900 * kMs, tag + "c", ua));
  std::vector<Message> c2 = summarized;
  c2.push_back(assistant(snapshot));
  c2.push_back(user("Critically evaluate the <state_snapshot> you just generated. Otherwise, repeat the exact same "
                    "<state_snapshot> again."));
  r.calls.push_back(mcall(compressor, {}, c2, {assistant(snapshot)}, t0 + 950 * kMs, t0 + 1'100 * kMs, tag + "v", ua));
  r.compaction_id = "resp_" + tag + "v";
  std::vector<Message> k = {user(env + snapshot), assistant("Got it. Thanks for the additional context!"), user(p2),
                            assistant("", {ls}), tool_result("run_shell_command_1_0", "README.md main.cc"),
                            assistant("README.md and main.cc"), user(p3)};
  r.calls.push_back(mcall(sys, tools, k, {assistant("main.cc")}, t0 + 1'400 * kMs, t0 + 1'500 * kMs, tag + "k", ua));
  r.continuation_id = "resp_" + tag + "k";
  return r;
}

const Span* generation_by_id(const Trace& t, const std::string& id) {
  for (const Span* g : spans_of(t, SpanKind::kGeneration))
    if (str_attr(*g, "gen_ai.response.id") == id) return g;
  return nullptr;
}

void expect_compacted_run(const std::vector<Trace>& traces, const CompactingRun& r, const std::string& tag) {
  const Trace* t = nullptr;
  for (const auto& x : traces)
    if (generation_by_id(x, r.continuation_id)) t = &x;
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(spans_of(*t, SpanKind::kGeneration).size(), r.calls.size()) << tag;
  for (const Span* g : spans_of(*t, SpanKind::kGeneration))
    EXPECT_NE(str_attr(*g, "gen_ai.response.id").find(tag), std::string::npos) << "two runs share a trace";
  // The compaction is its own agent span; the continuation is not under it.
  const Span* comp = by_id(*t, generation_by_id(*t, r.compaction_id)->parent_span_id);
  ASSERT_NE(comp, nullptr);
  EXPECT_EQ(comp->kind, SpanKind::kAgent);
  EXPECT_EQ(str_attr(*comp, "llmtap.side_call.role"), "compaction");
  const Span* cont = by_id(*t, generation_by_id(*t, r.continuation_id)->parent_span_id);
  ASSERT_NE(cont, nullptr);
  EXPECT_EQ(cont->kind, SpanKind::kAgent);
  EXPECT_NE(cont, comp);
  EXPECT_EQ(str_attr(*cont, "llmtap.side_call.role"), "<absent>");
}

TEST(Compaction, ClaudeCodeContinuationJoinsItsRun) {
  CompactingRun r = claude_code_compaction("cc1", kT0);
  auto traces = feed(r.calls);
  ASSERT_EQ(traces.size(), 1u);
  expect_compacted_run(traces, r, "cc1");
  EXPECT_TRUE(spans_of(traces[0], SpanKind::kHandoff).empty());
}

TEST(Compaction, GeminiCliCompressionJoinsItsRun) {
  CompactingRun r = gemini_cli_compression("gm1", kT0);
  auto traces = feed(r.calls);
  ASSERT_EQ(traces.size(), 1u);
  expect_compacted_run(traces, r, "gm1");
  // The summarizer's call continued the run's history with other instructions: no handoff.
  EXPECT_EQ(shape(traces[0]),
            "workflow[agent:Gemini CLI[generation,generation,tool:run_shell_command,generation],"
            "agent:Agent 91570c[generation,generation],agent:Gemini CLI[generation]]");
}

// Codex CLI 0.171 as llmtap saw it (`codex exec` with model_auto_compact_token_limit set, through
// `llmtap run`): the compaction request is the history plus the tool output plus its fixed
// instruction, with no tools offered; the continuation starts over from the developer messages,
// the environment context and the prompt, then a user message opening with its fixed preamble and
// carrying the summary, tools offered again.
CompactingRun codex_compaction(const std::string& tag, UnixNanos t0) {
  const char* ua = "codex_exec/0.171.0 (Debian 13; x86_64) xterm";
  const std::string dev = "You are a coding agent running in the Codex CLI, a terminal-based coding assistant.";
  const std::vector<std::string> tools = {"shell_command", "update_plan", "apply_patch"};
  const Message developer{"developer", dev, "", {}, "", "", false};
  const std::string env = "<environment_context>\n  <cwd>/tmp/" + tag + "/work</cwd>\n</environment_context>";
  const std::string prompt = "Please run `echo llmtap-codex-e2e` in the shell and tell me what it printed.";
  const ToolCall sh = call("call_" + tag, "shell_command", "{\"command\":\"echo llmtap-codex-e2e\"}");
  const std::string summary = "Thanks for your message about \"You are performing a CONTEXT CHECKPOINT COMPACTION. "
                              "Create a handoff summary for\" (" + tag + "). I can help with that.";
  CompactingRun r;
  std::vector<Message> h = {developer, user(env), user(prompt)};
  ModelCall m1 = mcall("", tools, h, {assistant("", {sh})}, t0, t0 + 60 * kMs, tag + "1", ua);
  r.calls.push_back(m1);
  h.push_back(assistant("", {sh}));
  h.push_back(tool_result("call_" + tag, "Chunk ID: 0d1672\nWall time: 0.0 seconds\nOutput:\nllmtap-codex-e2e\n"));
  h.push_back(user("You are performing a CONTEXT CHECKPOINT COMPACTION. Create a handoff summary for another LLM "
                   "that will resume the task."));
  r.calls.push_back(mcall("", {}, h, {assistant(summary)}, t0 + 490 * kMs, t0 + 500 * kMs, tag + "c", ua));
  r.compaction_id = "resp_" + tag + "c";
  const std::string carried =
      "Another language model started to solve this problem and produced a summary of its thinking process. You "
      "also have access to the state of the tools that were used by that language model. Use this to build on the "
      "work that has already been done and avoid duplicating work. Here is the summary produced by the other "
      "language model, use the information in this summary to assist with your own analysis:\n" + summary;
  r.calls.push_back(mcall("", tools, {developer, user(env), user(prompt), user(carried)},
                          {assistant("It printed llmtap-codex-e2e.")}, t0 + 650 * kMs, t0 + 660 * kMs, tag + "k", ua));
  r.continuation_id = "resp_" + tag + "k";
  return r;
}

TEST(Compaction, CodexContinuationJoinsItsRun) {
  CompactingRun r = codex_compaction("cx1", kT0);
  auto traces = feed(r.calls);
  ASSERT_EQ(traces.size(), 1u);
  expect_compacted_run(traces, r, "cx1");
  EXPECT_TRUE(spans_of(traces[0], SpanKind::kHandoff).empty()) << shape(traces[0]);
}

TEST(Compaction, ConcurrentCompactingRunsKeepTheirOwn) {
  std::vector<ModelCall> all;
  std::vector<CompactingRun> runs = {claude_code_compaction("ca1", kT0), claude_code_compaction("ca2", kT0 + 3 * kMs),
                                     gemini_cli_compression("ga1", kT0 + 5 * kMs),
                                     gemini_cli_compression("ga2", kT0 + 9 * kMs), codex_compaction("xa1", kT0 + 4 * kMs),
                                     codex_compaction("xa2", kT0 + 6 * kMs)};
  for (const auto& r : runs) all.insert(all.end(), r.calls.begin(), r.calls.end());
  for (const auto& order : arrival_orders(all, 10)) {
    auto traces = feed(order);
    ASSERT_EQ(traces.size(), runs.size());
    const char* tags[] = {"ca1", "ca2", "ga1", "ga2", "xa1", "xa2"};
    for (std::size_t i = 0; i < runs.size(); ++i) expect_compacted_run(traces, runs[i], tags[i]);
  }
}

TEST(Compaction, AnotherAgentQuotingTheAnswerIsNoContinuation) {
  CompactingRun r = claude_code_compaction("cq1", kT0);
  ModelCall quote = r.calls.back();
  quote.system_instructions = "You are a reviewer. Grade the summary you are given.";
  quote.response_id = "resp_quote";
  std::vector<ModelCall> calls(r.calls.begin(), r.calls.end() - 1);
  calls.push_back(quote);
  EXPECT_EQ(feed(calls).size(), 2u);
  // Nor the same agent refining the answer a run ended with (no summary was asked for).
  {
    CompactingRun plain = claude_code_compaction("cq2", kT0);
    ModelCall refine = plain.calls.back();
    const std::string answer = plain.calls[1].output[0].text + " Let me add a long enough tail to this answer.";
    plain.calls[1].output = {assistant(answer)};
    refine.input = {user("Make this shorter, please: " + answer)};
    EXPECT_EQ(feed({plain.calls[0], plain.calls[1], refine}).size(), 2u);
  }
  // Nor is the same agent much later (a new session pasting an old summary).
  ModelCall late = r.calls.back();
  late.timings.request_start += 120'000 * kMs;
  late.timings.response_end += 120'000 * kMs;
  calls.back() = late;
  EXPECT_EQ(feed(calls).size(), 2u);
}

// --- Item 8: nesting by the evidence that names the run ---------------------------------------

const std::string kPlanner = "You are a planner agent. Delegate research with the research tool.";
const std::string kResearcher = "You are a research agent. Answer in one sentence.";

// A Vercel AI SDK run: the planner calls `research` whose execute() runs a sub-agent with the
// tool's `task` argument as its prompt; the sub-agent's answer is the tool result.
std::vector<ModelCall> planner_run(const std::string& tag, const std::string& task, const std::string& answer,
                                   UnixNanos t0, const std::string& sub_prompt = "") {
  const std::string cid = "call_" + tag;
  const std::string args = "{\"task\":\"" + task + "\"}";
  ModelCall p1 = mcall(kPlanner, {"research"}, {user("Plan " + tag)}, {assistant("", {call(cid, "research", args)})},
                       t0, t0 + 100 * kMs, tag + "p1", "ai/7.0.0");
  ModelCall s1 = mcall(kResearcher, {}, {user(sub_prompt.empty() ? task : sub_prompt)}, {assistant(answer)},
                       t0 + 110 * kMs, t0 + 200 * kMs, tag + "s1", "ai/7.0.0");
  ModelCall p2 = mcall(kPlanner, {"research"},
                       {user("Plan " + tag), assistant("", {call(cid, "research", args)}), tool_result(cid, answer)},
                       {assistant("Plan for " + tag + " done.")}, t0 + 210 * kMs, t0 + 300 * kMs, tag + "p2",
                       "ai/7.0.0");
  return {p1, s1, p2};
}

void expect_nested_partition(const std::vector<Trace>& traces, std::size_t runs) {
  ASSERT_EQ(traces.size(), runs);
  for (const auto& t : traces) {
    EXPECT_EQ(shape(t), "workflow[agent:Planner Agent[generation,tool:research[agent:Research Agent[generation]],"
                        "generation]]");
    std::set<std::string> tags;
    for (const Span* g : spans_of(t, SpanKind::kGeneration)) {
      const std::string id = str_attr(*g, "gen_ai.response.id");
      tags.insert(id.substr(5, id.size() - 7));
    }
    EXPECT_EQ(tags.size(), 1u) << "two runs share a trace";
  }
}

TEST(Nesting, ConcurrentSubAgentsWithTheSameAnswerNestInTheirOwnRun) {
  const std::string same = "The answer is 42 according to the archive.";
  auto a = planner_run("A", "Research the history of topic A", same, kT0);
  auto b = planner_run("B", "Research the history of topic B", same, kT0 + 5 * kMs);
  std::vector<ModelCall> all = a;
  all.insert(all.end(), b.begin(), b.end());
  for (const auto& order : arrival_orders(all, 30)) expect_nested_partition(feed(order), 2);
}

TEST(Nesting, ArgumentsWinOverAResultCarryingAnotherRunsAnswer) {
  // Run B's sub-agent answers what run A's tool returns: only the arguments name the run.
  auto a = planner_run("A", "Research topic A", "Short answer.", kT0);
  auto b = planner_run("B", "Research topic B", "Short answer.", kT0 + 3 * kMs);
  auto traces = feed({a[0], b[0], b[1], a[1], a[2], b[2]});
  expect_nested_partition(traces, 2);
}

TEST(Nesting, WeakHintNeverCrossesRuns) {
  // The sub-agents' prompts are not the tool arguments (the tool wraps them): only their answers
  // hint at a parent, and both runs' tools are open, so neither nests; nothing is grafted across.
  const std::string same = "The answer is 42 according to the archive.";
  auto a = planner_run("A", "topic A", same, kT0, "Please research: topic A (be brief)");
  auto b = planner_run("B", "topic B", same, kT0 + 5 * kMs, "Please research: topic B (be brief)");
  for (const auto& order : arrival_orders({a[0], b[0], a[1], b[1], a[2], b[2]}, 20)) {
    auto traces = feed(order);
    for (const auto& t : traces) {
      std::set<char> runs;
      for (const Span* g : spans_of(t, SpanKind::kGeneration)) runs.insert(str_attr(*g, "gen_ai.response.id")[5]);
      EXPECT_EQ(runs.size(), 1u) << "two runs share a trace: " << shape(t);
    }
  }
}

TEST(Nesting, WeakHintStillNestsWithinOneRun) {
  auto a = planner_run("A", "topic A", "The answer is 42 according to the archive.", kT0,
                       "Please research: topic A (be brief)");
  expect_nested_partition(feed(a), 1);
}

TEST(Nesting, ParallelCallsWithTheSameArgumentsEachGetOneSubAgent) {
  const std::string args = "{\"task\":\"same task\"}";
  ModelCall p1 = mcall(kPlanner, {"research"}, {user("Plan twice")},
                       {assistant("", {call("c1", "research", args), call("c2", "research", args)})}, kT0,
                       kT0 + 100 * kMs, "P1");
  ModelCall s1 = mcall(kResearcher, {}, {user("same task")}, {assistant("one")}, kT0 + 110 * kMs, kT0 + 200 * kMs, "S1");
  ModelCall s2 = mcall(kResearcher, {}, {user("same task")}, {assistant("two")}, kT0 + 111 * kMs, kT0 + 210 * kMs, "S2");
  ModelCall p2 = mcall(kPlanner, {"research"},
                       {user("Plan twice"), assistant("", {call("c1", "research", args), call("c2", "research", args)}),
                        tool_result("c1", "one"), tool_result("c2", "two")},
                       {assistant("done")}, kT0 + 220 * kMs, kT0 + 300 * kMs, "P2");
  auto traces = feed({p1, s1, s2, p2});
  ASSERT_EQ(traces.size(), 1u);
  for (const Span* tool : spans_of(traces[0], SpanKind::kTool)) {
    int kids = 0;
    for (const auto& s : traces[0].spans)
      if (s.parent_span_id == tool->span_id) ++kids;
    EXPECT_EQ(kids, 1) << shape(traces[0]);
  }
}

}  // namespace
}  // namespace llmtap::trace::testing
