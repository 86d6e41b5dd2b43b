// The open-trace budget: past TraceOptions::max_open_traces, or past the soft limit of the shared
// memory budget, the least recently active traces close early, exported with
// llmtap.trace.closed_early and counted; none is lost.
#include <gtest/gtest.h>

#include <set>

#include "trace/open_trace_budget.h"
#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

ModelCall single_call(int i, UnixNanos t) {
  return render({{"You are a helpful assistant.", {}, {user("question " + std::to_string(i))},
                  assistant("answer " + std::to_string(i)), t, t + 10 * kMs}},
                Form::kChat, "q" + std::to_string(i))
      .front();
}

bool closed_early(const Trace& t) {
  const bool* v = attr<bool>(t.spans.front(), kClosedEarlyAttribute);
  return v != nullptr && *v;
}

TEST(OpenTraceBudget, PastTheBudgetTheLeastRecentlyActiveTracesCloseEarlyAndNoneIsLost) {
  RecordingSink sink;
  TraceOptions o;
  o.max_open_traces = 3;
  TraceBuilder builder(o, nullptr, sink);
  for (int i = 0; i < 10; ++i) builder.on_model_call(single_call(i, kT0 + i * 100 * kMs));

  // Without any tick (the idle timeout is 30 s): the 7 oldest closed as the budget was passed.
  EXPECT_EQ(builder.open_traces(), 3u);
  ASSERT_EQ(sink.traces.size(), 7u);
  EXPECT_EQ(builder.closed_early_traces(), 7u);
  EXPECT_EQ(builder.stats().closed_early, 7u);
  for (int i = 0; i < 7; ++i) {
    EXPECT_TRUE(closed_early(sink.traces[i])) << i;
    const Span* gen = find_span(sink.traces[i], SpanKind::kGeneration);
    ASSERT_NE(gen, nullptr);
    EXPECT_EQ(gen->start_ns, kT0 + i * 100 * kMs) << "oldest first";
  }

  builder.close_all(kT0 + 10'000 * kMs);
  ASSERT_EQ(sink.traces.size(), 10u);
  std::set<UnixNanos> starts;
  for (std::size_t i = 0; i < sink.traces.size(); ++i) {
    EXPECT_EQ(closed_early(sink.traces[i]), i < 7) << i;
    EXPECT_EQ(spans_of(sink.traces[i], SpanKind::kGeneration).size(), 1u);
    starts.insert(find_span(sink.traces[i], SpanKind::kGeneration)->start_ns);
  }
  EXPECT_EQ(starts.size(), 10u) << "every call is in exactly one trace";
}

TEST(OpenTraceBudget, ARecentlyActiveConversationStaysOpen) {
  RecordingSink sink;
  TraceOptions o;
  o.max_open_traces = 2;
  TraceBuilder builder(o, nullptr, sink);
  // Conversation A's two turns, then B, then A's third turn, then C: B is now the least recent.
  std::vector<Turn> a = {{"You are a helpful assistant.", {}, {user("a1")}, assistant("r1"), kT0, kT0 + kMs},
                         {"You are a helpful assistant.", {}, {user("a2")}, assistant("r2"), kT0 + 20 * kMs,
                          kT0 + 21 * kMs},
                         {"You are a helpful assistant.", {}, {user("a3")}, assistant("r3"), kT0 + 40 * kMs,
                          kT0 + 41 * kMs}};
  auto calls = render(a, Form::kChat, "a");
  builder.on_model_call(calls[0]);
  builder.on_model_call(calls[1]);
  builder.on_model_call(single_call(1, kT0 + 30 * kMs));
  builder.on_model_call(calls[2]);
  builder.on_model_call(single_call(2, kT0 + 50 * kMs));
  ASSERT_EQ(sink.traces.size(), 1u);
  EXPECT_TRUE(closed_early(sink.traces[0]));
  EXPECT_EQ(find_span(sink.traces[0], SpanKind::kGeneration)->start_ns, kT0 + 30 * kMs);
  builder.close_all(0);
  ASSERT_EQ(sink.traces.size(), 3u);
  std::size_t generations = 0;
  for (const auto& t : sink.traces) generations += spans_of(t, SpanKind::kGeneration).size();
  EXPECT_EQ(generations, 5u);
}

TEST(OpenTraceBudget, ReportsEarlyClosesAtMostOncePerMinute) {
  OpenTraceBudget b(100);
  EXPECT_EQ(b.report_due(kT0), "") << "nothing closed early";
  b.record_early_close(101);
  b.record_early_close(101);
  const std::string first = b.report_due(kT0);
  EXPECT_NE(first.find("2 trace(s) closed"), std::string::npos) << first;
  EXPECT_NE(first.find("--max-open-traces"), std::string::npos) << first;
  b.record_early_close(101);
  EXPECT_EQ(b.report_due(kT0 + 30'000 * kMs), "") << "within the minute";
  const std::string second = b.report_due(kT0 + 61'000 * kMs);
  EXPECT_NE(second.find("1 trace(s) closed"), std::string::npos) << second;
  EXPECT_NE(second.find("3 so far"), std::string::npos) << second;
  EXPECT_EQ(b.report_due(kT0 + 200'000 * kMs), "") << "none since";
}

TEST(OpenTraceBudget, PastATinyByteBudgetTheOldestTracesCloseEarlyAndNoneIsLost) {
  // Room for about three single-call traces under the soft limit: what one of them is charged.
  std::size_t per_trace = 0;
  {
    auto probe = std::make_shared<MemoryBudget>(std::size_t{1} << 30);
    TraceOptions po;
    po.memory_budget = probe;
    RecordingSink unused;
    TraceBuilder one(po, nullptr, unused);
    one.on_model_call(single_call(0, kT0));
    per_trace = probe->held(MemoryBudget::Account::kOpenTraces);
  }
  ASSERT_GT(per_trace, 0u);
  auto memory = std::make_shared<MemoryBudget>((3 * per_trace) * 8 / 7 + 1);
  RecordingSink sink;
  TraceOptions o;
  o.memory_budget = memory;
  o.continuation_max_traces = 0;  // the closed-trace index would take a share of this tiny budget
  {
    TraceBuilder builder(o, nullptr, sink);
    for (int i = 0; i < 20; ++i) {
      builder.on_model_call(single_call(i, kT0 + i * 100 * kMs));
      EXPECT_LE(memory->held(MemoryBudget::Account::kOpenTraces), memory->soft_limit()) << i;
      EXPECT_EQ(memory->held(MemoryBudget::Account::kOpenTraces) > 0, builder.open_traces() > 0) << i;
    }
    const std::size_t open = builder.open_traces();
    EXPECT_GE(open, 1u);
    EXPECT_LE(open, 3u);
    EXPECT_EQ(sink.traces.size(), 20u - open);
    EXPECT_EQ(builder.closed_early_traces(), 20u - open);
    for (std::size_t i = 0; i < sink.traces.size(); ++i) {
      EXPECT_TRUE(closed_early(sink.traces[i])) << i;
      EXPECT_EQ(find_span(sink.traces[i], SpanKind::kGeneration)->start_ns, kT0 + static_cast<int>(i) * 100 * kMs)
          << "oldest first";
    }
    builder.close_all(kT0 + 10'000 * kMs);
    EXPECT_EQ(memory->held(MemoryBudget::Account::kOpenTraces), 0u) << "closing returns every charge";
  }
  ASSERT_EQ(sink.traces.size(), 20u);
  std::set<UnixNanos> starts;
  for (const Trace& t : sink.traces) starts.insert(find_span(t, SpanKind::kGeneration)->start_ns);
  EXPECT_EQ(starts.size(), 20u) << "every call is in exactly one trace";
}

TEST(OpenTraceBudget, OtherHoldersOfTheSharedBudgetMakeOpenTracesCloseEarly) {
  auto memory = std::make_shared<MemoryBudget>(1u << 20);
  RecordingSink sink;
  TraceOptions o;
  o.memory_budget = memory;
  TraceBuilder builder(o, nullptr, sink);
  for (int i = 0; i < 5; ++i) builder.on_model_call(single_call(i, kT0 + i * 100 * kMs));
  EXPECT_EQ(builder.open_traces(), 5u) << "well within the budget";
  EXPECT_TRUE(sink.traces.empty());
  // The capture queue (say) now holds the budget's soft limit: the next call closes the others.
  memory->charge(MemoryBudget::Account::kCaptureQueue, memory->soft_limit());
  builder.on_model_call(single_call(5, kT0 + 600 * kMs));
  EXPECT_EQ(sink.traces.size(), 6u);
  EXPECT_EQ(builder.open_traces(), 0u);
  memory->release(MemoryBudget::Account::kCaptureQueue, memory->soft_limit());
  builder.on_model_call(single_call(6, kT0 + 700 * kMs));
  EXPECT_EQ(builder.open_traces(), 1u) << "room again: traces stay open";
  EXPECT_EQ(builder.stats().closed_early, 6u);
}

TEST(OpenTraceBudget, TheReportNamesBothBounds) {
  auto memory = std::make_shared<MemoryBudget>(std::size_t{3} << 20);
  OpenTraceBudget b(10, memory);
  b.record_early_close(11);
  b.record_early_close(5);
  const std::string line = b.report_due(kT0);
  EXPECT_NE(line.find("--memory-budget-mb"), std::string::npos) << line;
  EXPECT_NE(line.find("3 MB"), std::string::npos) << line;
  EXPECT_NE(line.find("1 by count, 1 by bytes"), std::string::npos) << line;
}

}  // namespace
}  // namespace llmtap::trace::testing
