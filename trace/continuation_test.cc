// Continuations of closed traces (issue 14 item 5), hosted tool spans (item 6) and incoming
// traceparent (item 7): calls that arrive after the idle timeout closed their trace.
#include <gtest/gtest.h>

#include "trace/continuation_index.h"
#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

constexpr UnixNanos kIdle = 1000 * kMs;
constexpr const char* kInstr = "You are a refund agent. Refund orders when the customer asks.";

struct Harness {
  TraceOptions options;
  FakePricer pricer;
  RecordingSink sink;
  std::unique_ptr<TraceBuilder> builder;
  explicit Harness(std::size_t max_traces = 4096) {
    options.capture_content = true;
    options.idle_timeout_ns = kIdle;
    options.continuation_max_traces = max_traces;
    builder = std::make_unique<TraceBuilder>(options, &pricer, sink);
  }
  void add(ModelCall c) { builder->on_model_call(std::move(c)); }
  void tick(UnixNanos t) { builder->tick(t); }
};

ModelCall responses_call(std::vector<Message> input, Message output, UnixNanos start, std::string id,
                         std::string prev = "") {
  ModelCall c;
  c.provider = "openai";
  c.api = "responses";
  c.operation = "chat";
  c.method = "POST";
  c.path = "/v1/responses";
  c.request_model = c.response_model = "gpt-test";
  c.system_instructions = kInstr;
  c.tools = {ToolDef{"issue_refund", "h1"}};
  c.input = std::move(input);
  c.output = {std::move(output)};
  c.response_id = std::move(id);
  c.previous_response_id = std::move(prev);
  c.usage.present = true;
  c.usage.input_uncached = 100;
  c.usage.output = 20;
  c.timings.request_start = start;
  c.timings.request_end = start + 1 * kMs;
  c.timings.response_first_byte = start + 40 * kMs;
  c.timings.response_end = start + 100 * kMs;
  return c;
}

std::int64_t int_attr(const Span& s, const std::string& key) {
  const auto* v = attr<std::int64_t>(s, key);
  return v ? *v : -1;
}

// The first call asks for a tool that needs approval; the approval comes after the idle timeout.
void approval_after_timeout(Harness& r, const std::string& answer, bool chained) {
  Message ask = assistant("", {call("call_r1", "issue_refund", "{\"order_id\":\"2001\"}")});
  r.add(responses_call({user("Refund order 2001")}, ask, kT0, "resp_1"));
  r.tick(kT0 + 5 * kIdle);  // the human is still deciding: the trace closes
  ASSERT_EQ(r.sink.traces.size(), 1u);
  const UnixNanos late = kT0 + 60 * kIdle;
  std::vector<Message> input = chained ? std::vector<Message>{tool_result("call_r1", answer)}
                                       : std::vector<Message>{user("Refund order 2001"), ask, tool_result("call_r1", answer)};
  r.add(responses_call(std::move(input), assistant("Done."), late, "resp_2", chained ? "resp_1" : ""));
  r.tick(late + 5 * kIdle);
  ASSERT_EQ(r.sink.traces.size(), 2u);
}

TEST(Continuation, ApprovalAfterIdleTimeoutRejoinsItsTrace) {
  for (bool chained : {false, true}) {
    SCOPED_TRACE(chained ? "previous_response_id" : "full history");
    Harness r;
    approval_after_timeout(r, "{\"refunded\":true}", chained);
    const Trace& first = r.sink.traces[0];
    const Trace& late = r.sink.traces[1];
    EXPECT_EQ(late.trace_id, first.trace_id) << "a late approval must not split the run";
    // The tool span is re-emitted complete (same span id), no longer unanswered.
    const Span* t1 = find_span(first, SpanKind::kTool);
    const Span* t2 = find_span(late, SpanKind::kTool);
    ASSERT_TRUE(t1 && t2);
    EXPECT_EQ(t2->span_id, t1->span_id);
    EXPECT_TRUE(attr<bool>(*t1, "llmtap.tool.unanswered"));
    EXPECT_EQ(attr<bool>(*t2, "llmtap.tool.unanswered"), nullptr);
    EXPECT_EQ(str_attr(*t2, "gen_ai.tool.call.result"), "{\"refunded\":true}");
    EXPECT_EQ(t2->end_ns, kT0 + 60 * kIdle);
    EXPECT_FALSE(t2->error);
    // The root and agent are re-emitted with the same ids, covering and totalling the whole run.
    EXPECT_EQ(late.spans[0].span_id, first.spans[0].span_id);
    EXPECT_EQ(int_attr(late.spans[0], "llmtap.trace.part"), 2);
    EXPECT_EQ(int_attr(late.spans[0], "gen_ai.usage.input_tokens"), 200);
    EXPECT_EQ(late.spans[0].start_ns, kT0);
    const Span* a1 = find_span(first, SpanKind::kAgent);
    const Span* a2 = find_span(late, SpanKind::kAgent);
    ASSERT_TRUE(a1 && a2);
    EXPECT_EQ(a2->span_id, a1->span_id);
    EXPECT_EQ(int_attr(*a2, "gen_ai.usage.output_tokens"), 40);
    // Only the new generation is new; nothing is emitted twice but the carried spans.
    EXPECT_EQ(spans_of(late, SpanKind::kGeneration).size(), 1u);
    EXPECT_EQ(spans_of(late, SpanKind::kGeneration)[0]->parent_span_id, a1->span_id);
    EXPECT_EQ(r.builder->stats().continuations_rejoined, 1u);
  }
}

TEST(Continuation, RejectedApprovalAfterTimeoutIsAnErrorToolMarkedRejected) {
  Harness r;
  approval_after_timeout(r, "Tool execution was not approved.", true);
  const Span* t = find_span(r.sink.traces[1], SpanKind::kTool);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->error);
  EXPECT_TRUE(attr<bool>(*t, "llmtap.tool.rejected"));
  EXPECT_EQ(r.sink.traces[1].trace_id, r.sink.traces[0].trace_id);
}

TEST(Continuation, NewTurnAfterCloseStartsALinkedTraceWithTheSameConversationId) {
  for (const char* via : {"conversation", "previous_response_id", "history"}) {
    SCOPED_TRACE(via);
    Harness r;
    const std::string v = via;
    ModelCall first = responses_call({user("Hi, I need help")}, assistant("Sure, what is it?"), kT0, "resp_a");
    if (v == "conversation") first.conversation_id = "conv_42";
    r.add(first);
    r.tick(kT0 + 5 * kIdle);
    ASSERT_EQ(r.sink.traces.size(), 1u);
    const UnixNanos t = kT0 + 100 * kIdle;
    std::vector<Message> input = {user("Refund order 2001")};
    if (v == "history") input = {user("Hi, I need help"), assistant("Sure, what is it?"), user("Refund order 2001")};
    ModelCall next = responses_call(input, assistant("Refunded."), t, "resp_b", v == "previous_response_id" ? "resp_a" : "");
    if (v == "conversation") next.conversation_id = "conv_42";
    r.add(next);
    r.tick(t + 5 * kIdle);
    ASSERT_EQ(r.sink.traces.size(), 2u);
    const Span& root1 = r.sink.traces[0].spans[0];
    const Span& root2 = r.sink.traces[1].spans[0];
    EXPECT_NE(r.sink.traces[1].trace_id, r.sink.traces[0].trace_id);
    ASSERT_EQ(root2.links.size(), 1u);
    EXPECT_EQ(root2.links[0].trace_id, r.sink.traces[0].trace_id);
    EXPECT_EQ(root2.links[0].span_id, root1.span_id);
    if (v == "conversation") {
      EXPECT_EQ(str_attr(root1, "gen_ai.conversation.id"), "conv_42");
      EXPECT_EQ(str_attr(root2, "gen_ai.conversation.id"), "conv_42");
    }
    EXPECT_EQ(r.builder->stats().continuations_linked, 1u);
  }
}

TEST(Continuation, TurnsCarryingOnlyAConversationIdJoinWhileOpen) {
  Harness r;
  ModelCall a = responses_call({user("First question")}, assistant("First answer."), kT0, "resp_1");
  ModelCall b = responses_call({user("Second question")}, assistant("Second answer."), kT0 + 300 * kMs, "resp_2");
  ModelCall other = responses_call({user("First question")}, assistant("First answer."), kT0 + 10 * kMs, "resp_3");
  a.conversation_id = b.conversation_id = "conv_7";
  other.conversation_id = "conv_8";
  r.add(a);
  r.add(other);
  r.add(b);
  r.builder->close_all(kT0 + kIdle);
  ASSERT_EQ(r.sink.traces.size(), 2u);
  for (const auto& t : r.sink.traces) {
    const auto conv = str_attr(t.spans[0], "gen_ai.conversation.id");
    EXPECT_EQ(spans_of(t, SpanKind::kGeneration).size(), conv == "conv_7" ? 2u : 1u) << conv;
  }
}

TEST(Continuation, ClosedTracesKeptAreBoundedAndCounted) {
  Harness r(2);
  for (int i = 0; i < 3; ++i) {
    const std::string id = "call_" + std::to_string(i);
    r.add(responses_call({user("Refund order 200" + std::to_string(i))},
                         assistant("", {call(id, "issue_refund", "{}")}), kT0 + i * kMs, "resp_" + std::to_string(i)));
  }
  r.tick(kT0 + 5 * kIdle);
  ASSERT_EQ(r.sink.traces.size(), 3u);
  EXPECT_EQ(r.builder->stats().continuations_kept, 2u);
  EXPECT_EQ(r.builder->stats().continuations_evicted, 1u);
  // The evicted run's late result cannot rejoin: a new trace (never a wrong one).
  r.add(responses_call({tool_result("call_0", "ok")}, assistant("Done."), kT0 + 50 * kIdle, "resp_x"));
  r.add(responses_call({tool_result("call_2", "ok")}, assistant("Done."), kT0 + 50 * kIdle, "resp_y"));
  r.tick(kT0 + 60 * kIdle);
  ASSERT_EQ(r.sink.traces.size(), 5u);
  std::set<std::string> ids;
  for (const auto& t : r.sink.traces) ids.insert(t.trace_id);
  EXPECT_EQ(ids.size(), 4u);  // call_2 rejoined its run; call_0's was evicted
  EXPECT_EQ(r.builder->stats().continuations_rejoined, 1u);
}

TEST(Continuation, IndexEvictsLeastRecentlyUsedOverItsByteBudget) {
  ContinuationIndex idx(1000, 100);
  auto a = idx.insert({"c:a"}, {}, 400);
  auto b = idx.insert({"c:b"}, {}, 400);
  EXPECT_TRUE(idx.find("c:a"));  // a is now the most recently used
  auto c = idx.insert({"c:c"}, {}, 400);
  EXPECT_EQ(idx.take_evicted(), std::vector<ContinuationIndex::EntryId>{b});
  EXPECT_EQ(idx.find("c:b"), std::nullopt);
  EXPECT_EQ(idx.find("c:a"), a);
  EXPECT_EQ(idx.find("c:c"), c);
  EXPECT_EQ(idx.stats().evicted, 1u);
  EXPECT_EQ(idx.stats().kept, 2u);
  ContinuationIndex off(0, 0);
  EXPECT_EQ(off.insert({"c:a"}, {}, 1), 0u);
  EXPECT_TRUE(off.empty());
}

TEST(Continuation, IndexChargesTheSharedBudgetAndEvictsPastItsSoftLimit) {
  auto budget = std::make_shared<MemoryBudget>(std::size_t{1} << 20);
  {
    ContinuationIndex idx(std::size_t{1} << 20, 100, budget);
    auto a = idx.insert({"c:a"}, {}, 400);
    auto b = idx.insert({"c:b"}, {}, 400);
    EXPECT_EQ(budget->held(MemoryBudget::Account::kClosedTraceIndex), idx.stats().bytes);
    EXPECT_GE(idx.stats().bytes, 800u);
    // Another holder takes the budget's soft limit: the next insert evicts all but the newest.
    budget->charge(MemoryBudget::Account::kStoreQueue, budget->soft_limit());
    auto c = idx.insert({"c:c"}, {}, 400);
    EXPECT_EQ(idx.take_evicted(), (std::vector<ContinuationIndex::EntryId>{a, b}));
    EXPECT_EQ(idx.find("c:c"), c);
    EXPECT_EQ(budget->held(MemoryBudget::Account::kClosedTraceIndex), idx.stats().bytes);
    budget->release(MemoryBudget::Account::kStoreQueue, budget->soft_limit());
  }
  EXPECT_EQ(budget->used(), 0u) << "the index returns its charge when it goes";
}

TEST(Continuation, IndexKeysNameTheLatestEntryAndSharedKeysOnlyAnUnambiguousOne) {
  ContinuationIndex idx(1 << 20, 100);
  auto a = idx.insert({"v:conv"}, {"s:1"}, 10);
  EXPECT_EQ(idx.find("s:1"), a);
  auto b = idx.insert({"v:conv"}, {"s:1"}, 10);
  EXPECT_EQ(idx.find("v:conv"), b);          // the conversation's later trace
  EXPECT_EQ(idx.find("s:1"), std::nullopt);  // two runs in the same state: neither
  idx.erase(b);
  EXPECT_EQ(idx.find("v:conv"), std::nullopt);
  idx.erase(a);
  EXPECT_TRUE(idx.empty());
  auto c = idx.insert({}, {"s:1"}, 10);
  EXPECT_EQ(idx.find("s:1"), c);  // nothing left behind by the erased entries
}

TEST(HostedTools, ServerSideCallsAreCompleteToolSpansAndDoNotBreakTheConversation) {
  Harness r;
  ToolCall ws = call("ws_1", "web_search", "{\"action\":{\"query\":\"refund policy\"}}");
  ws.tool_type = "extension";
  ws.server_side = true;
  ws.result = "[{\"url\":\"https://example.com\"}]";
  ws.started_at = kT0 + 45 * kMs;
  ws.ready_at = kT0 + 70 * kMs;
  ToolCall mcp = call("mcp_1", "lookup", "{\"q\":1}");
  mcp.tool_type = "extension";
  mcp.server_side = true;
  mcp.result_error = true;
  mcp.result = "server unreachable";
  ModelCall c = responses_call({user("What is the refund policy?")}, assistant("Policy: 30 days.", {ws, mcp}), kT0, "resp_1");
  c.stream = true;
  r.add(c);
  // A client that does not re-send the hosted items continues the same conversation.
  r.add(responses_call({user("What is the refund policy?"), assistant("Policy: 30 days."), user("Thanks")},
                       assistant("You're welcome."), kT0 + 200 * kMs, "resp_2"));
  r.builder->close_all(kT0 + kIdle);
  ASSERT_EQ(r.sink.traces.size(), 1u);
  const Trace& t = r.sink.traces[0];
  auto tools = spans_of(t, SpanKind::kTool);
  ASSERT_EQ(tools.size(), 2u);
  const Span* s = tools[0]->name == "execute_tool web_search" ? tools[0] : tools[1];
  const Span* m = s == tools[0] ? tools[1] : tools[0];
  EXPECT_EQ(str_attr(*s, "gen_ai.tool.type"), "extension");
  EXPECT_EQ(str_attr(*s, "gen_ai.tool.call.id"), "ws_1");
  EXPECT_EQ(str_attr(*s, "gen_ai.tool.call.result"), "[{\"url\":\"https://example.com\"}]");
  EXPECT_EQ(s->start_ns, kT0 + 45 * kMs);
  EXPECT_EQ(s->end_ns, kT0 + 70 * kMs);
  EXPECT_EQ(attr<bool>(*s, "llmtap.tool.unanswered"), nullptr);
  EXPECT_TRUE(m->error);
  // Not streamed-timed: between the request's end and the first response byte.
  EXPECT_EQ(m->start_ns, kT0 + 1 * kMs);
  EXPECT_EQ(m->end_ns, kT0 + 40 * kMs);
  // In the captured output messages: the call and its inline result.
  const Span* g = find_span(t, SpanKind::kGeneration);
  const std::string out = str_attr(*g, "gen_ai.output.messages");
  EXPECT_NE(out.find("\"tool_type\":\"extension\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"tool_call_response\""), std::string::npos) << out;
}

TEST(Traceparent, FirstAdoptedOthersLinkedInvalidFlagged) {
  Harness r;
  const std::string caller1 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const std::string caller2 = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01";
  ModelCall a = responses_call({user("Refund order 2001")}, assistant("", {call("call_1", "issue_refund")}), kT0, "resp_1");
  a.traceparent = caller1;
  ModelCall b = responses_call({tool_result("call_1", "ok")}, assistant("Done."), kT0 + 200 * kMs, "resp_2", "resp_1");
  b.traceparent = caller2;
  ModelCall c = responses_call({user("other run")}, assistant("Hi."), kT0 + 300 * kMs, "resp_3");
  c.traceparent = "00-zzz-bad-01";
  r.add(a);
  r.add(b);
  r.add(c);
  r.builder->close_all(kT0 + kIdle);
  ASSERT_EQ(r.sink.traces.size(), 2u);
  const Trace* joined = r.sink.traces[0].trace_id == "0af7651916cd43dd8448eb211c80319c" ? &r.sink.traces[0] : &r.sink.traces[1];
  const Trace* invalid = joined == &r.sink.traces[0] ? &r.sink.traces[1] : &r.sink.traces[0];
  EXPECT_EQ(joined->trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(joined->spans[0].parent_span_id, "b7ad6b7169203331");
  auto gens = spans_of(*joined, SpanKind::kGeneration);
  ASSERT_EQ(gens.size(), 2u);
  EXPECT_TRUE(gens[0]->links.empty());
  ASSERT_EQ(gens[1]->links.size(), 1u);
  EXPECT_EQ(gens[1]->links[0].span_id, "00f067aa0ba902b7");
  EXPECT_NE(invalid->trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_TRUE(invalid->spans[0].parent_span_id.empty());
  EXPECT_TRUE(attr<bool>(*find_span(*invalid, SpanKind::kGeneration), "llmtap.traceparent.invalid"));
}

TEST(Traceparent, AContinuedTraceKeepsItsTraceIdWhateverALateCallCarries) {
  Harness r;
  ModelCall a = responses_call({user("Refund order 2001")}, assistant("", {call("call_1", "issue_refund")}), kT0, "resp_1");
  a.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  r.add(a);
  r.tick(kT0 + 5 * kIdle);
  ModelCall b = responses_call({tool_result("call_1", "ok")}, assistant("Done."), kT0 + 50 * kIdle, "resp_2", "resp_1");
  b.traceparent = "00-11111111111111111111111111111111-2222222222222222-01";
  r.add(b);
  r.tick(kT0 + 60 * kIdle);
  ASSERT_EQ(r.sink.traces.size(), 2u);
  EXPECT_EQ(r.sink.traces[1].trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(r.sink.traces[1].spans[0].parent_span_id, "b7ad6b7169203331");
  const Span* g = find_span(r.sink.traces[1], SpanKind::kGeneration);
  ASSERT_EQ(g->links.size(), 1u);
  EXPECT_EQ(g->links[0].trace_id, "11111111111111111111111111111111");
}

}  // namespace
}  // namespace llmtap::trace::testing
