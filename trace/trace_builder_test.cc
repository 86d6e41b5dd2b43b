// TraceBuilder behaviour beyond tree shape: closing, identity, errors, cost, content capture.
#include "trace/trace_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "trace/trace_assembler.h"
#include "trace/trace_hand_off.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

std::vector<Turn> tool_run(const std::string& result = "sunny", bool is_error = false) {
  const std::string instr = "You are a weather agent.";
  return {
      {instr, {"get_weather"}, {user("Weather in Paris?")},
       assistant("Let me check.", {call("call_1", "get_weather", "{\"city\":\"Paris\"}")}), kT0, kT0 + 100 * kMs},
      {instr, {"get_weather"}, {tool_result("call_1", result, is_error)}, assistant("It is sunny."),
       kT0 + 150 * kMs, kT0 + 250 * kMs},
  };
}

TEST(TraceBuilder, IdleTraceClosesOnlyAfterTimeout) {
  TraceOptions o;
  o.idle_timeout_ns = 1000 * kMs;
  FakePricer pricer;
  RecordingSink sink;
  TraceBuilder b(o, &pricer, sink);
  for (const auto& c : render(tool_run(), Form::kChat)) b.on_model_call(c);
  b.tick(kT0 + 250 * kMs + 1000 * kMs);  // idle exactly the timeout: not longer
  EXPECT_TRUE(sink.traces.empty());
  EXPECT_EQ(b.open_traces(), 1u);
  b.tick(kT0 + 250 * kMs + 1001 * kMs);
  ASSERT_EQ(sink.traces.size(), 1u);
  EXPECT_EQ(b.open_traces(), 0u);
  EXPECT_EQ(sink.flushes, 0);
  // A later continuation of a closed trace starts a new trace.
  auto calls = render(tool_run(), Form::kChat);
  b.on_model_call(calls[1]);
  b.close_all(kT0 + 10'000 * kMs);
  EXPECT_EQ(sink.traces.size(), 2u);
  EXPECT_EQ(sink.flushes, 1);
}

TEST(TraceBuilder, UnansweredToolClosedAtTraceEndAndMarked) {
  RecordingSink sink;
  TraceBuilder b(TraceOptions{}, nullptr, sink);
  auto calls = render(tool_run(), Form::kResponses);
  b.on_model_call(calls[0]);
  b.close_all(kT0);
  ASSERT_EQ(sink.traces.size(), 1u);
  const Span* tool = find_span(sink.traces[0], SpanKind::kTool);
  ASSERT_NE(tool, nullptr);
  ASSERT_NE(attr<bool>(*tool, "llmtap.tool.unanswered"), nullptr);
  EXPECT_TRUE(*attr<bool>(*tool, "llmtap.tool.unanswered"));
  EXPECT_EQ(tool->start_ns, kT0 + 100 * kMs);
  EXPECT_GE(tool->end_ns, tool->start_ns);
  EXPECT_LE(tool->end_ns, sink.traces[0].spans[0].end_ns);
}

TEST(TraceBuilder, ToolErrorStatusFollowsTheDocumentedRule) {
  struct Case {
    std::string result;
    bool is_error;
    bool expect_error;
  } cases[] = {
      {"sunny", false, false},
      {"{\"error\":\"city not found\"}", false, true},
      {"{\"error\":null,\"temp\":20}", false, false},
      {"no errors found", false, false},
      {"permission denied", true, true},  // Anthropic is_error
      {"An error occurred while running the tool. Please try again. Error: boom", false, true},
  };
  for (const auto& c : cases) {
    RecordingSink sink;
    TraceBuilder b(TraceOptions{}, nullptr, sink);
    for (const auto& call : render(tool_run(c.result, c.is_error), Form::kAnthropic)) b.on_model_call(call);
    b.close_all(0);
    ASSERT_EQ(sink.traces.size(), 1u);
    const Span* tool = find_span(sink.traces[0], SpanKind::kTool);
    EXPECT_EQ(tool->error, c.expect_error) << c.result;
    if (c.expect_error) {
      EXPECT_FALSE(tool->status_message.empty());
      // Without content capture the status must not leak the result text.
      EXPECT_EQ(tool->status_message.find(c.result), std::string::npos);
    }
  }
}

// Exchanges that are not model calls (bootstrap, telemetry, countTokens, ...) make no trace, no
// generation and no pricing: they are only counted.
TEST(TraceBuilder, OnlyModelCallsMakeGenerations) {
  FakePricer pricer;
  RecordingSink sink;
  TraceBuilder b(TraceOptions{}, &pricer, sink);
  auto side = [](ExchangeKind kind, std::string method, std::string path, int status) {
    ModelCall c;
    c.kind = kind;
    c.provider = "anthropic";
    c.api = "unknown";
    c.method = std::move(method);
    c.path = std::move(path);
    c.http_status = status;
    c.timings.request_start = kT0;
    c.timings.response_end = kT0 + kMs;
    return c;
  };
  b.on_model_call(side(ExchangeKind::kOther, "GET", "/api/claude_cli/bootstrap", 200));
  b.on_model_call(side(ExchangeKind::kOther, "POST", "/api/event_logging/v2/batch", 200));
  b.on_model_call(side(ExchangeKind::kOther, "HEAD", "/", 404));
  b.on_model_call(side(ExchangeKind::kTokenCount, "POST", "/v1/messages/count_tokens", 200));
  for (const auto& c : render(tool_run(), Form::kAnthropic)) b.on_model_call(c);
  b.close_all(kT0 + 1000 * kMs);
  ASSERT_EQ(sink.traces.size(), 1u);
  EXPECT_EQ(spans_of(sink.traces[0], SpanKind::kGeneration).size(), 2u);
  const TraceBuilderStats st = b.stats();
  EXPECT_EQ(st.model_calls, 2u);
  EXPECT_EQ(st.token_counts, 1u);
  EXPECT_EQ(st.other_exchanges, 3u);
}

TEST(TraceBuilder, ErrorGenerationCarriesProviderMessageAndRetryJoinsTrace) {
  auto calls = render(tool_run(), Form::kChat);
  ModelCall failed = calls[0];
  failed.status = CallStatus::kError;
  failed.http_status = 429;
  failed.error_type = "rate_limit_exceeded";
  failed.error_message = "Rate limit reached for gpt-test";
  failed.output.clear();
  failed.usage = Usage{};
  failed.timings.response_end = kT0 - 500 * kMs;
  failed.timings.request_start = kT0 - 600 * kMs;
  FakePricer pricer;
  RecordingSink sink;
  TraceBuilder b(TraceOptions{}, &pricer, sink);
  b.on_model_call(failed);
  for (const auto& c : calls) b.on_model_call(c);
  b.close_all(0);
  ASSERT_EQ(sink.traces.size(), 1u);
  auto gens = spans_of(sink.traces[0], SpanKind::kGeneration);
  ASSERT_EQ(gens.size(), 3u);
  EXPECT_TRUE(gens[0]->error);
  EXPECT_EQ(gens[0]->status_message, "Rate limit reached for gpt-test");
  EXPECT_EQ(str_attr(*gens[0], "error.type"), "rate_limit_exceeded");
  EXPECT_EQ(gens[0]->find("llm.cost.total"), nullptr);  // no usage: no cost, not a made-up 0
  EXPECT_FALSE(gens[1]->error);
  // The failed call reported no usage: nothing to price, so it is not counted as unpriced.
  EXPECT_EQ(sink.traces[0].spans[0].find("llmtap.cost.unpriced_calls"), nullptr);
}

// A retry takes the state its failed call ended in; the same request after that is a new run, not a
// third call of the old one (identical first turns from many users must not pile into one trace).
TEST(TraceBuilder, RetriesJoinButLaterIdenticalRequestsStartNewTraces) {
  auto calls = render(tool_run(), Form::kChat);
  auto failed_at = [&](UnixNanos start) {
    ModelCall f = calls[0];
    f.status = CallStatus::kError;
    f.http_status = 503;
    f.output.clear();
    f.usage = Usage{};
    f.timings.request_start = start;
    f.timings.response_end = start + 10 * kMs;
    return f;
  };
  RecordingSink sink;
  TraceBuilder b(TraceOptions{}, nullptr, sink);
  b.on_model_call(failed_at(kT0 - 900 * kMs));
  b.on_model_call(failed_at(kT0 - 600 * kMs));  // the retry fails too
  for (const auto& c : calls) b.on_model_call(c);  // the next retry works and the run goes on
  ModelCall again = calls[0];  // another user, same first turn
  again.timings.request_start += 1000 * kMs;
  again.timings.response_end += 1000 * kMs;
  b.on_model_call(again);
  b.close_all(0);
  ASSERT_EQ(sink.traces.size(), 2u);
  EXPECT_EQ(spans_of(sink.traces[0], SpanKind::kGeneration).size(), 4u);
  EXPECT_EQ(spans_of(sink.traces[1], SpanKind::kGeneration).size(), 1u);
}

// A sink that takes what it is given and fails a test if two calls ever overlap.
class OneAtATimeSink : public TraceSink {
 public:
  std::vector<Trace> traces;
  int flushes = 0, taken = 0;
  bool overlapped = false, flushed_before_all = false;
  std::size_t expected = 0;
  void on_trace(const Trace& t) override { take_trace(Trace(t)); }
  void take_trace(Trace&& t) override {
    if (busy_.exchange(true)) overlapped = true;
    ++taken;
    traces.push_back(std::move(t));
    busy_ = false;
  }
  void flush() override {
    if (traces.size() < expected) flushed_before_all = true;
    ++flushes;
  }

 private:
  std::atomic<bool> busy_{false};
};

TEST(TraceBuilder, CloseAllHandsEveryTraceOverOnceOldestFirstThenFlushes) {
  constexpr int kOpen = 3000;  // about three parts, built while the previous one is handed over
  for (const bool through_hand_off : {false, true}) {
    SCOPED_TRACE(through_hand_off ? "through the export hand-off" : "to the sink directly");
    OneAtATimeSink sink;
    sink.expected = kOpen;
    std::optional<TraceHandOff> hand_off;
    if (through_hand_off) hand_off.emplace(sink);
    TraceOptions o;
    o.idle_timeout_ns = 3'600'000 * kMs;
    TraceBuilder b(o, nullptr, hand_off ? static_cast<TraceSink&>(*hand_off) : sink);
    for (int i = 0; i < kOpen; ++i) b.on_model_call(distinct_chat_call(i, kT0 + i * kMs));
    ASSERT_EQ(b.open_traces(), static_cast<std::size_t>(kOpen));
    b.close_all(0);
    EXPECT_EQ(b.open_traces(), 0u);
    ASSERT_EQ(sink.traces.size(), static_cast<std::size_t>(kOpen));  // all there once close_all returned
    EXPECT_EQ(sink.taken, kOpen);  // handed over, not copied
    EXPECT_FALSE(sink.overlapped);
    EXPECT_FALSE(sink.flushed_before_all);
    EXPECT_EQ(sink.flushes, 1);
    std::set<std::string> ids;
    for (int i = 0; i < kOpen; ++i) {
      const Trace& t = sink.traces[static_cast<std::size_t>(i)];
      ids.insert(t.trace_id);
      ASSERT_FALSE(t.spans.empty());
      ASSERT_EQ(t.spans.front().start_ns, sink.traces.front().spans.front().start_ns + i * kMs) << i;
    }
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kOpen));
  }
}

// A stop while the ticker closes a burst of idle traces: the tick returns after the part it is
// handing over (a sink may make each delivery wait, as a store at its spool cap does), and
// close_all() then closes the rest; every trace arrives once.
TEST(TraceBuilder, ATickStopsBetweenPartsOnceAStopIsAskedAndCloseAllTakesTheRest) {
  constexpr int kOpen = 1000;  // about four parts
  std::atomic<bool> stop{false};
  struct StoppingSink : RecordingSink {
    std::atomic<bool>* stop = nullptr;
    void on_trace(const Trace& t) override {
      RecordingSink::on_trace(t);
      stop->store(true);  // the stop comes while the first part is being handed over
    }
  } sink;
  sink.stop = &stop;
  TraceOptions o;
  o.idle_timeout_ns = 1000 * kMs;
  TraceBuilder b(o, nullptr, sink);
  for (int i = 0; i < kOpen; ++i) b.on_model_call(distinct_chat_call(i, kT0 + i * kMs));
  b.tick(kT0 + 1'000'000 * kMs, &stop);
  const std::size_t by_tick = sink.traces.size();
  EXPECT_GT(by_tick, 0u);
  EXPECT_LT(by_tick, static_cast<std::size_t>(kOpen) / 2) << "the tick went on past its first part";
  EXPECT_EQ(b.open_traces(), kOpen - by_tick);
  b.close_all(kT0 + 1'000'000 * kMs);
  ASSERT_EQ(sink.traces.size(), static_cast<std::size_t>(kOpen));
  std::set<std::string> ids;
  for (const auto& t : sink.traces) ids.insert(t.trace_id);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kOpen));
  // Without a stop the same burst closes in one tick.
  std::atomic<bool> never{false};
  RecordingSink all;
  TraceBuilder whole(o, nullptr, all);
  for (int i = 0; i < kOpen; ++i) whole.on_model_call(distinct_chat_call(i, kT0 + i * kMs));
  whole.tick(kT0 + 1'000'000 * kMs, &never);
  EXPECT_EQ(all.traces.size(), static_cast<std::size_t>(kOpen));
}

// A sink slower than the builder: traces closed early (one open trace allowed, so every new call
// closes the previous one) wait in the export hand-off, and on_model_call does not wait for the
// sink until the hand-off is full. Every trace still arrives once, in the order it closed, with
// the sink called one trace at a time.
TEST(TraceBuilder, ClosedTracesWaitInTheHandOffNotInOnModelCallUntilItIsFull) {
  constexpr std::size_t kCapacity = 4;
  constexpr int kCalls = 40;
  struct GatedSink : TraceSink {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> entered{0};
    OneAtATimeSink inner;
    void on_trace(const Trace& t) override { take_trace(Trace(t)); }
    void take_trace(Trace&& t) override {
      entered.fetch_add(1);
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return open; });
      }
      inner.take_trace(std::move(t));
    }
    void flush() override { inner.flush(); }
    void release() {
      {
        std::lock_guard lock(mu);
        open = true;
      }
      cv.notify_all();
    }
  } sink;
  sink.inner.expected = kCalls;
  TraceHandOff hand_off(sink, nullptr, kCapacity);
  TraceOptions o;
  o.idle_timeout_ns = 3'600'000 * kMs;
  o.max_open_traces = 1;
  TraceBuilder b(o, nullptr, hand_off);
  // Call i closes trace i-1. The first closed trace is held in the sink, the next kCapacity wait
  // in the hand-off: those calls all return while the sink is stuck.
  const int returning = static_cast<int>(kCapacity) + 2;
  b.on_model_call(distinct_chat_call(0, kT0));
  b.on_model_call(distinct_chat_call(1, kT0 + kMs));            // closes trace 0...
  while (sink.entered.load() == 0) std::this_thread::yield();  // ...which the export thread holds
  for (int i = 2; i < returning; ++i) b.on_model_call(distinct_chat_call(i, kT0 + i * kMs));
  EXPECT_EQ(b.closed_early_traces(), static_cast<std::uint64_t>(returning - 1));
  EXPECT_EQ(hand_off.full_waits(), 0u);
  EXPECT_EQ(sink.entered.load(), 1);
  // The next close finds the hand-off full: that call waits for the sink.
  std::thread producer([&] {
    for (int i = returning; i < kCalls; ++i) b.on_model_call(distinct_chat_call(i, kT0 + i * kMs));
  });
  while (hand_off.full_waits() == 0) std::this_thread::yield();
  EXPECT_EQ(sink.entered.load(), 1);
  sink.release();
  producer.join();
  b.close_all(0);
  ASSERT_EQ(sink.inner.traces.size(), static_cast<std::size_t>(kCalls));
  EXPECT_FALSE(sink.inner.overlapped);
  EXPECT_FALSE(sink.inner.flushed_before_all);
  EXPECT_EQ(sink.inner.flushes, 1);
  std::set<std::string> ids;
  for (int i = 0; i < kCalls; ++i) {
    const Trace& t = sink.inner.traces[static_cast<std::size_t>(i)];
    ids.insert(t.trace_id);
    ASSERT_FALSE(t.spans.empty());
    ASSERT_EQ(t.spans.front().start_ns, sink.inner.traces.front().spans.front().start_ns + i * kMs) << i;
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kCalls));
}

TEST(TraceAssembler, CloseAllInPartsClosesEachTraceOnceIncludingOnesOpenedMeanwhile) {
  TraceOptions o;
  o.idle_timeout_ns = 3'600'000 * kMs;
  TraceAssembler a(o, nullptr);
  for (int i = 0; i < 5; ++i) a.add(distinct_chat_call(i, kT0 + i * kMs));
  std::vector<Trace> closed = a.close_all(2);
  ASSERT_EQ(closed.size(), 2u);
  a.add(distinct_chat_call(5, kT0 + 5 * kMs));  // opened between two parts
  for (std::vector<Trace> part; !(part = a.close_all(2)).empty();)
    for (auto& t : part) closed.push_back(std::move(t));
  EXPECT_EQ(a.open_traces(), 0u);
  ASSERT_EQ(closed.size(), 6u);
  for (std::size_t i = 0; i < closed.size(); ++i)
    EXPECT_EQ(closed[i].spans.front().start_ns, closed[0].spans.front().start_ns + static_cast<UnixNanos>(i) * kMs) << i;
  a.add(distinct_chat_call(6, kT0 + 6 * kMs));  // after a close_all that emptied it
  EXPECT_EQ(a.close_all().size(), 1u);
}

TEST(TraceBuilder, TraceparentMakesRootAChildOfTheRemoteSpan) {
  RecordingSink sink;
  TraceBuilder b(TraceOptions{}, nullptr, sink);
  auto calls = render(tool_run(), Form::kChat);
  for (auto& c : calls) c.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  for (const auto& c : calls) b.on_model_call(c);
  // An invalid traceparent is ignored.
  auto other = render(tool_run(), Form::kChat);
  for (auto& c : other) c.traceparent = "00-00000000000000000000000000000000-b7ad6b7169203331-01";
  b.on_model_call(other[0]);
  b.close_all(0);
  ASSERT_EQ(sink.traces.size(), 2u);
  const Trace* joined = nullptr;
  const Trace* own = nullptr;
  for (const auto& t : sink.traces) (t.trace_id == "0af7651916cd43dd8448eb211c80319c" ? joined : own) = &t;
  ASSERT_NE(joined, nullptr);
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(joined->spans[0].parent_span_id, "b7ad6b7169203331");
  for (const auto& s : joined->spans) EXPECT_EQ(s.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_TRUE(own->spans[0].parent_span_id.empty());
  EXPECT_EQ(own->trace_id.size(), 32u);
}

TEST(TraceBuilder, WorkflowCarriesNameGroupAndMetadata) {
  std::vector<std::string> warnings;
  std::map<std::string, std::string> env = {{"LLMTAP_WORKFLOW_NAME", "Customer support"},
                                            {"LLMTAP_GROUP_ID", "thread-9"},
                                            {"LLMTAP_METADATA", "{\"tenant\":\"acme\",\"tier\":3}"}};
  TraceOptions o = TraceOptions::from_env(
      [&](const char* n) -> const char* { auto it = env.find(n); return it == env.end() ? nullptr : it->second.c_str(); },
      &warnings);
  EXPECT_TRUE(warnings.empty());
  RecordingSink sink;
  TraceBuilder b(o, nullptr, sink);
  for (const auto& c : render(tool_run(), Form::kChat)) b.on_model_call(c);
  b.close_all(0);
  ASSERT_EQ(sink.traces.size(), 1u);
  const Span& root = sink.traces[0].spans[0];
  EXPECT_EQ(root.name, "invoke_workflow Customer support");
  EXPECT_EQ(str_attr(root, "gen_ai.workflow.name"), "Customer support");
  EXPECT_EQ(str_attr(root, "gen_ai.conversation.id"), "thread-9");
  EXPECT_EQ(str_attr(root, "llmtap.metadata.tenant"), "acme");
  EXPECT_EQ(str_attr(root, "llmtap.metadata.tier"), "3");
  EXPECT_EQ(str_attr(root, "gen_ai.operation.name"), "invoke_workflow");
  EXPECT_EQ(str_attr(root, "openinference.span.kind"), "CHAIN");
}

TEST(TraceBuilder, ProcessNameIsTheWorkflowFallback) {
  TraceOptions o;
  o.process_name = "support-bot";
  RecordingSink sink;
  TraceBuilder b(o, nullptr, sink);
  b.on_model_call(render(tool_run(), Form::kChat)[0]);
  b.close_all(0);
  EXPECT_EQ(sink.traces.at(0).spans[0].name, "invoke_workflow support-bot");
}

TEST(TraceBuilder, ExactCostRollupOverAThousandCalls) {
  FakePricer pricer;
  pricer.per_token["gpt-test"] = {1'234'567, 9'876'543};  // odd picodollar prices
  RecordingSink sink;
  TraceBuilder b(TraceOptions{}, &pricer, sink);
  std::vector<Turn> turns;
  PicoUsd expected = 0;
  std::int64_t in_total = 0, out_total = 0;
  double naive = 0;
  for (int k = 0; k < 1000; ++k) {
    Turn t{"You are a chatty agent.", {}, {user("msg " + std::to_string(k))}, assistant("reply " + std::to_string(k)),
           kT0 + k * 10 * kMs, kT0 + k * 10 * kMs + 5 * kMs};
    t.in_tokens = 100 + k % 37;
    t.out_tokens = 7 + k % 11;
    PicoUsd c = t.in_tokens * 1'234'567 + t.out_tokens * 9'876'543;
    expected += c;
    naive += pico_to_usd(c);
    in_total += t.in_tokens;
    out_total += t.out_tokens;
    turns.push_back(std::move(t));
  }
  // A call of an unknown model: no cost, counted as unpriced in rollups.
  Turn unknown{"You are a chatty agent.", {}, {user("last")}, assistant("bye"), kT0 + 20'000 * kMs, kT0 + 20'001 * kMs};
  unknown.model = "mystery-model";
  turns.push_back(unknown);
  for (const auto& c : render(turns, Form::kChat)) b.on_model_call(c);
  b.close_all(0);
  ASSERT_EQ(sink.traces.size(), 1u);
  const Trace& t = sink.traces[0];
  EXPECT_EQ(spans_of(t, SpanKind::kGeneration).size(), 1001u);
  const Span& root = t.spans[0];
  ASSERT_NE(attr<double>(root, "llm.cost.total"), nullptr);
  EXPECT_EQ(*attr<double>(root, "llm.cost.total"), pico_to_usd(expected));  // exact, not a float sum
  (void)naive;
  EXPECT_EQ(*attr<std::int64_t>(root, "gen_ai.usage.input_tokens"), in_total + 100);
  EXPECT_EQ(*attr<std::int64_t>(root, "gen_ai.usage.output_tokens"), out_total + 20);
  EXPECT_EQ(*attr<std::int64_t>(root, "llmtap.cost.unpriced_calls"), 1);
  const Span* agent = find_span(t, SpanKind::kAgent);
  EXPECT_EQ(*attr<double>(*agent, "llm.cost.total"), pico_to_usd(expected));
  const Span* last = nullptr;
  for (const Span* g : spans_of(t, SpanKind::kGeneration))
    if (str_attr(*g, "gen_ai.request.model") == "mystery-model") last = g;
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->find("llm.cost.total"), nullptr);
  EXPECT_EQ(str_attr(*spans_of(t, SpanKind::kGeneration)[0], "llmtap.pricing.version"), "test-table-1");
}

TEST(TraceBuilder, GenerationAttributes) {
  FakePricer pricer;
  RecordingSink sink;
  TraceBuilder b(TraceOptions{}, &pricer, sink);
  auto calls = render(tool_run(), Form::kAnthropic);
  ModelCall& c = calls[0];
  c.stream = true;
  c.timings.first_content_chunk = kT0 + 40 * kMs;
  c.response_id = "msg_1";
  c.usage = Usage{};
  c.usage.present = true;
  c.usage.input_uncached = 10;
  c.usage.cache_read = 20;
  c.usage.cache_write_5m = 30;
  c.usage.cache_write_1h = 40;
  c.usage.output = 5;
  c.usage.reasoning = 6;
  b.on_model_call(c);
  b.close_all(0);
  const Span* g = find_span(sink.traces.at(0), SpanKind::kGeneration);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->name, "chat gpt-test");
  EXPECT_EQ(g->start_ns, kT0);
  EXPECT_EQ(g->end_ns, kT0 + 100 * kMs);
  EXPECT_EQ(str_attr(*g, "gen_ai.provider.name"), "anthropic");
  EXPECT_EQ(str_attr(*g, "gen_ai.response.id"), "msg_1");
  EXPECT_EQ(*attr<std::int64_t>(*g, "gen_ai.usage.input_tokens"), 100);
  EXPECT_EQ(*attr<std::int64_t>(*g, "gen_ai.usage.output_tokens"), 11);
  EXPECT_EQ(*attr<std::int64_t>(*g, "gen_ai.usage.cache_read.input_tokens"), 20);
  EXPECT_EQ(*attr<std::int64_t>(*g, "gen_ai.usage.cache_creation.input_tokens"), 70);
  EXPECT_EQ(*attr<std::int64_t>(*g, "gen_ai.usage.reasoning.output_tokens"), 6);
  EXPECT_TRUE(*attr<bool>(*g, "gen_ai.request.stream"));
  EXPECT_DOUBLE_EQ(*attr<double>(*g, "gen_ai.response.time_to_first_chunk"), 0.04);
  EXPECT_DOUBLE_EQ(*attr<double>(*g, "llm.cost.total"), pico_to_usd(100 * 2'500'000 + 11 * 10'000'000));
  EXPECT_DOUBLE_EQ(*attr<double>(*g, "llm.cost.prompt"), pico_to_usd(100 * 2'500'000));
  EXPECT_DOUBLE_EQ(*attr<double>(*g, "llm.cost.completion"), pico_to_usd(11 * 10'000'000));
  EXPECT_EQ(str_attr(*g, "openinference.span.kind"), "LLM");
  const auto* reasons = attr<std::vector<std::string>>(*g, "gen_ai.response.finish_reasons");
  ASSERT_NE(reasons, nullptr);
  EXPECT_EQ(reasons->at(0), "tool_calls");
}

TEST(TraceBuilder, OperationNamesTheGenerationSpan) {
  RecordingSink sink;
  TraceBuilder b(TraceOptions{}, nullptr, sink);
  auto calls = render(tool_run(), Form::kGemini);
  b.on_model_call(calls[0]);
  ModelCall emb;
  emb.operation = "embeddings";
  emb.api = "embeddings";
  emb.request_model = "text-embedding-3-small";
  emb.input = {user("embed me")};
  emb.timings.request_start = kT0;
  emb.timings.response_end = kT0 + 1;
  b.on_model_call(emb);
  b.on_model_call(emb);  // the same text embedded again is not a continuation
  b.close_all(0);
  ASSERT_EQ(sink.traces.size(), 3u);
  std::vector<std::string> names;
  for (const auto& t : sink.traces) names.push_back(find_span(t, SpanKind::kGeneration)->name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names[0], "embeddings text-embedding-3-small");
  EXPECT_EQ(names[1], "embeddings text-embedding-3-small");
  EXPECT_EQ(names[2], "generate_content gpt-test");
}

bool any_content_attribute(const Trace& t) {
  for (const auto& s : t.spans)
    for (const char* k : {"gen_ai.system_instructions", "gen_ai.input.messages", "gen_ai.output.messages",
                          "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"})
      if (s.find(k)) return true;
  return false;
}

TEST(TraceBuilder, ContentCaptureOnAndOff) {
  for (bool capture : {false, true}) {
    TraceOptions o;
    o.capture_content = capture;
    RecordingSink sink;
    TraceBuilder b(o, nullptr, sink);
    for (const auto& c : render(tool_run(), Form::kResponses)) b.on_model_call(c);
    b.close_all(0);
    ASSERT_EQ(sink.traces.size(), 1u);
    const Trace& t = sink.traces[0];
    EXPECT_EQ(any_content_attribute(t), capture);
    if (!capture) continue;
    const Span* tool = find_span(t, SpanKind::kTool);
    EXPECT_EQ(str_attr(*tool, "gen_ai.tool.call.arguments"), "{\"city\":\"Paris\"}");
    EXPECT_EQ(str_attr(*tool, "gen_ai.tool.call.result"), "sunny");
    auto gens = spans_of(t, SpanKind::kGeneration);
    auto sys = nlohmann::json::parse(str_attr(*gens[0], "gen_ai.system_instructions"));
    EXPECT_EQ(sys[0]["type"], "text");
    EXPECT_EQ(sys[0]["content"], "You are a weather agent.");
    auto in = nlohmann::json::parse(str_attr(*gens[1], "gen_ai.input.messages"));
    ASSERT_TRUE(in.is_array());
    EXPECT_EQ(in[0]["role"], "user");
    EXPECT_EQ(in[0]["parts"][0]["type"], "text");
    EXPECT_EQ(in[0]["parts"][0]["content"], "Weather in Paris?");
    bool saw_call = false, saw_response = false;
    for (const auto& m : in)
      for (const auto& p : m["parts"]) {
        if (p["type"] == "tool_call") {
          saw_call = true;
          EXPECT_EQ(p["id"], "call_1");
          EXPECT_EQ(p["name"], "get_weather");
          EXPECT_EQ(p["arguments"]["city"], "Paris");
        }
        if (p["type"] == "tool_call_response") {
          saw_response = true;
          EXPECT_EQ(p["response"], "sunny");
        }
      }
    EXPECT_TRUE(saw_call);
    EXPECT_TRUE(saw_response);
    auto out = nlohmann::json::parse(str_attr(*gens[1], "gen_ai.output.messages"));
    EXPECT_EQ(out[0]["role"], "assistant");
    EXPECT_EQ(out[0]["parts"][0]["content"], "It is sunny.");
    EXPECT_EQ(out[0]["finish_reason"], "stop");
  }
}

TEST(TraceBuilder, AgentNameRulesApplyBeforeDerivedNames) {
  TraceOptions o;
  std::string error;
  ASSERT_TRUE(parse_agent_name_rules("{\"weather\": \"Meteo Bot\"}", o.agent_name_rules, error)) << error;
  RecordingSink sink;
  TraceBuilder b(o, nullptr, sink);
  for (const auto& c : render(tool_run(), Form::kChat)) b.on_model_call(c);
  b.close_all(0);
  const Span* agent = find_span(sink.traces.at(0), SpanKind::kAgent);
  EXPECT_EQ(agent->name, "invoke_agent Meteo Bot");
  EXPECT_EQ(str_attr(*agent, "llmtap.agent.name_source"), "rule");
}

// Many conversations ending in the same state (the same first turn sent on many connections, as an
// eval or a load test does): each second turn continues the conversation of its own connection,
// traces close by idleness each on its own clock, and closed conversations stop matching.
TEST(TraceBuilder, ManyIdenticalFirstTurnsEachContinueTheirOwnConversation) {
  constexpr int kRuns = 300;
  RecordingSink sink;
  TraceOptions o;
  o.idle_timeout_ns = 1000 * kMs;
  TraceBuilder b(o, nullptr, sink);
  const std::vector<Turn> run = {
      {"You are terse.", {}, {user("hi")}, assistant("ok"), kT0, kT0 + 10 * kMs},
      {"You are terse.", {}, {user("and now?")}, assistant("done"), kT0, kT0 + 10 * kMs},
  };
  const auto calls = render(run, Form::kChat);
  ASSERT_EQ(calls.size(), 2u);
  auto on_conn = [](ModelCall c, int conn, UnixNanos start) {
    c.connection_id = static_cast<std::uint64_t>(conn);
    c.response_id.clear();
    c.timings.request_start = start;
    c.timings.response_end = start + 10 * kMs;
    c.timings.content_end = 0;
    return c;
  };
  for (int i = 0; i < kRuns; ++i) b.on_model_call(on_conn(calls[0], 1000 + i, kT0 + i * kMs));
  // Second turns in reverse order; only the odd runs continue.
  for (int i = kRuns - 1; i >= 0; i -= 2) b.on_model_call(on_conn(calls[1], 1000 + i, kT0 + 2000 * kMs));
  EXPECT_EQ(b.open_traces(), static_cast<std::size_t>(kRuns));

  // The even runs went quiet after their first turn: only they are idle long enough.
  b.tick(kT0 + 2000 * kMs);
  EXPECT_EQ(sink.traces.size(), static_cast<std::size_t>(kRuns / 2));
  for (const auto& t : sink.traces) EXPECT_EQ(spans_of(t, SpanKind::kGeneration).size(), 1u);
  b.tick(kT0 + 3100 * kMs);
  ASSERT_EQ(sink.traces.size(), static_cast<std::size_t>(kRuns));
  std::set<std::uint64_t> continued;
  for (std::size_t k = kRuns / 2; k < sink.traces.size(); ++k) {
    const auto gens = spans_of(sink.traces[k], SpanKind::kGeneration);
    ASSERT_EQ(gens.size(), 2u);
    // Both generations ran on one connection: the start times tell the runs apart.
    const UnixNanos first = std::min(gens[0]->start_ns, gens[1]->start_ns);
    continued.insert(static_cast<std::uint64_t>((first - kT0) / kMs));
  }
  EXPECT_EQ(continued.size(), static_cast<std::size_t>(kRuns / 2));
  for (auto i : continued) EXPECT_EQ(i % 2, 1u) << "run " << i << " should have stayed single-turn";

  // Every state went with its trace: the same second turn now starts a new conversation.
  b.on_model_call(on_conn(calls[1], 1001, kT0 + 5000 * kMs));
  b.close_all(0);
  ASSERT_EQ(sink.traces.size(), static_cast<std::size_t>(kRuns + 1));
  EXPECT_EQ(spans_of(sink.traces.back(), SpanKind::kGeneration).size(), 1u);
}

// Yields inside every delivery, so builders queue for the sink and the order they reach it in is
// tested rather than given by timing.
class YieldingSink : public RecordingSink {
 public:
  void on_trace(const Trace& t) override {
    std::this_thread::yield();
    RecordingSink::on_trace(t);
  }
};

TEST(TraceBuilder, ConcurrentCallersAreSerialized) {
  YieldingSink sink;
  TraceOptions o;
  o.idle_timeout_ns = 1;
  TraceBuilder b(o, nullptr, sink);
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 50; ++i) {
        auto calls = render(tool_run(), Form::kChat, "t" + std::to_string(th));
        for (auto& c : calls)
          for (auto& m : c.input) m.text += " #" + std::to_string(th * 1000 + i);
        for (auto& c : calls) {
          for (auto& m : c.output)
            for (auto& tc : m.tool_calls) tc.id += "_" + std::to_string(th * 1000 + i);
          for (auto& m : c.input) {
            for (auto& tc : m.tool_calls) tc.id += "_" + std::to_string(th * 1000 + i);
            if (m.role == "tool") m.tool_call_id += "_" + std::to_string(th * 1000 + i);
          }
        }
        for (const auto& c : calls) b.on_model_call(c);
        if (i % 10 == 0) b.tick(kT0 + 1'000'000 * kMs);
      }
    });
  }
  for (auto& t : threads) t.join();
  b.close_all(0);
  // A tick may close a run between its two calls (idle timeout 1 ns): its second call continues the
  // closed trace, which is emitted again with the same ids (the tool span then complete). Count
  // spans in their last version, as the store keeps them.
  std::map<std::pair<std::string, std::string>, const Span*> last;
  std::set<std::string> trace_ids;
  for (const auto& t : sink.traces) {
    trace_ids.insert(t.trace_id);
    for (const auto& s : t.spans) last[{s.trace_id, s.span_id}] = &s;
  }
  std::size_t generations = 0, tools = 0, answered = 0;
  for (const auto& [id, s] : last) {
    generations += s->kind == SpanKind::kGeneration;
    tools += s->kind == SpanKind::kTool;
    answered += s->kind == SpanKind::kTool && s->find("llmtap.tool.unanswered") == nullptr;
  }
  EXPECT_EQ(generations, 400u);
  EXPECT_EQ(tools, 200u);
  EXPECT_EQ(answered, 200u);
  EXPECT_EQ(trace_ids.size(), 200u);
}

}  // namespace
}  // namespace llmtap::trace::testing
