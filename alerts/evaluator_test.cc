// The evaluator on hand-built traces and calls (report/report_test_traces.h): trace A costs
// $0.023 (Triage 100 ms and 60 ms calls, Billing 100 ms and 50 ms, a failing refund tool), trace B
// $0.020 priced plus an unpriced call, lookup_order three times with the same arguments.
#include "alerts/evaluator.h"

#include <gtest/gtest.h>

#include "report/report_test_traces.h"

namespace llmtap::alerts {
namespace {

using report::testing::kHour;
using report::testing::kT0;
using report::testing::trace_a;
using report::testing::trace_b;
constexpr UnixNanos kMinute = 60 * kNanosPerSecond;

RuleSet rules_from(const std::string& yaml) {
  std::string error;
  auto set = parse_rules(yaml, "test", &error);
  EXPECT_TRUE(set) << error;
  return set ? *set : RuleSet{};
}

CallObservation call(UnixNanos at, double usd, std::string user = "", std::string session = "") {
  return {at, std::move(user), std::move(session), usd};
}

TEST(AlertEvaluator, TraceCostFiresOncePerWindowAndRecovers) {
  AlertEvaluator ev(rules_from("rules:\n- {name: big, kind: trace_cost, max_usd: 0.021, window: 1h}\n"), nullptr);
  std::vector<AlertEvent> out;
  EXPECT_EQ(ev.on_trace(trace_a(), kT0, out), std::vector<std::string>{"big"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state, AlertEvent::State::kFired);
  EXPECT_EQ(out[0].trace_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_NEAR(out[0].value, 0.023, 1e-9);
  EXPECT_EQ(out[0].message, "alert big: trace aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (support) cost $0.023, over $0.021");
  EXPECT_TRUE(ev.on_trace(trace_b(), kT0 + kMinute, out).empty());  // $0.020: under
  EXPECT_EQ(ev.on_trace(trace_a(), kT0 + 30 * kMinute, out), std::vector<std::string>{"big"});  // still firing
  EXPECT_EQ(out.size(), 1u);
  ev.tick(kT0 + 89 * kMinute, out);
  EXPECT_EQ(out.size(), 1u);
  ev.tick(kT0 + 90 * kMinute, out);  // an hour after the last offending trace
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].state, AlertEvent::State::kRecovered);
  EXPECT_EQ(out[1].message, "alert big recovered: no offending trace in the last 1h");
  ev.on_trace(trace_a(), kT0 + 2 * kHour, out);  // a new window: fires again
  EXPECT_EQ(out.size(), 3u);
}

TEST(AlertEvaluator, RollingSpendPerHour) {
  AlertEvaluator ev(rules_from("rules:\n- {name: hourly, kind: spend, max_usd: 4, window: 1h}\n"), nullptr);
  std::vector<AlertEvent> out;
  for (int i = 0; i < 4; ++i) ev.on_call(call(kT0 + i * 10 * kMinute, 1.0), out);
  EXPECT_TRUE(out.empty());  // $4.00 is not over $4
  ev.on_call(call(kT0 + 40 * kMinute, 0.5), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].message, "alert hourly: spent $4.50 in the last 1h, over $4.00");
  ev.on_call(call(kT0 + 41 * kMinute, 1.0), out);
  EXPECT_EQ(out.size(), 1u);  // once
  ev.tick(kT0 + 50 * kMinute, out);
  EXPECT_EQ(out.size(), 1u);
  ev.tick(kT0 + 75 * kMinute, out);  // the calls at 0 and 10 min left the window: $3.50 remain
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].state, AlertEvent::State::kRecovered);
  EXPECT_NEAR(out[1].value, 3.5, 1e-9);
}

TEST(AlertEvaluator, UserBudgetSpendsResetsAndFillsTheBook) {
  BudgetBook book;
  AlertEvaluator ev(rules_from("rules:\n- {name: daily, kind: user_budget, max_usd: 2, period: 1d}\n"), &book);
  std::vector<AlertEvent> out;
  const UnixNanos day = 86400 * kNanosPerSecond;
  const UnixNanos midnight = kT0 - kT0 % day + day;  // kT0 is 08:00 UTC
  ev.on_call(call(kT0, 1.5, "h_alice"), out);
  ev.on_call(call(kT0 + kMinute, 5.0, "h_bob"), out);
  ev.on_call(call(kT0 + 2 * kMinute, 0.5, "h_alice"), out);  // $2.00 reached: spent
  ev.on_call(call(kT0 + 3 * kMinute, 0.5, "h_alice"), out);  // once
  ev.on_call(call(kT0 + 3 * kMinute, 0.5), out);            // no user: not budgeted
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].subject, "user h_bob");
  EXPECT_EQ(out[1].subject, "user h_alice");
  EXPECT_EQ(out[1].resets_at, midnight);
  EXPECT_EQ(out[1].message, "alert daily (user h_alice): spent $2.00 of its $2.00 budget per 1d; resets 2026-11-30 00:00 UTC");
  auto spent = book.find(BudgetBook::Scope::kUser, "h_alice", kT0 + 4 * kMinute);
  ASSERT_TRUE(spent);
  EXPECT_EQ(spent->rule, "daily");
  EXPECT_EQ(spent->resets_at, midnight);
  EXPECT_FALSE(book.find(BudgetBook::Scope::kUser, "h_carol", kT0));
  EXPECT_FALSE(book.find(BudgetBook::Scope::kSession, "h_alice", kT0));
  ev.tick(midnight, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].state, AlertEvent::State::kRecovered);
  EXPECT_EQ(out[3].state, AlertEvent::State::kRecovered);
  EXPECT_TRUE(book.empty());
  ev.on_call(call(midnight + kMinute, 1.0, "h_alice"), out);  // a fresh day
  EXPECT_EQ(out.size(), 4u);
}

TEST(AlertEvaluator, SessionBudgetNotEnforcedStaysOutOfTheBook) {
  BudgetBook book;
  AlertEvaluator ev(
      rules_from("rules:\n- {name: conv, kind: session_budget, max_usd: 0.1, period: 1h, enforce: false}\n"), &book);
  std::vector<AlertEvent> out;
  ev.on_call(call(kT0, 0.2, "", "s-1"), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject, "session s-1");
  EXPECT_TRUE(book.empty());
}

TEST(AlertEvaluator, ToolFailureRateNeedsTheMinimumCount) {
  AlertEvaluator ev(
      rules_from("rules:\n- {name: flaky, kind: tool_failure_rate, max_rate: 0.5, min_calls: 2, window: 10m}\n"), nullptr);
  std::vector<AlertEvent> out;
  EXPECT_TRUE(ev.on_trace(trace_a(), kT0, out).empty());  // refund 1/1 failed, lookup_order 0/1: under min_calls
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(ev.on_trace(trace_a(), kT0 + kMinute, out), std::vector<std::string>{"flaky"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject, "tool refund");
  EXPECT_EQ(out[0].message, "alert flaky (tool refund): failed 100.0% of calls in the last 10m (limit 50.0%)");
  ev.tick(kT0 + 10 * kMinute, out);  // the first trace's calls left: 1 call, under min_calls
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].state, AlertEvent::State::kRecovered);
  EXPECT_EQ(out[1].message, "alert flaky (tool refund) recovered: fewer than 2 calls in the last 10m");
}

TEST(AlertEvaluator, AgentP95Latency) {
  AlertEvaluator ev(rules_from("rules:\n- {name: slow, kind: agent_p95_latency, max_seconds: 0.09, min_calls: 4, "
                               "window: 1h, agent: Triage}\n"),
                    nullptr);
  std::vector<AlertEvent> out;
  ev.on_trace(trace_b(), kT0, out);  // Triage: 300 ms, 60 ms
  EXPECT_TRUE(out.empty());          // 2 calls < 4
  ev.on_trace(trace_b(), kT0 + kMinute, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject, "agent Triage");
  EXPECT_NEAR(out[0].value, 0.3, 0.3 * 0.05);
}

TEST(AlertEvaluator, LoopBySameToolAndArguments) {
  AlertEvaluator ev(rules_from("rules:\n- {name: loops, kind: loop, repeats: 3}\n"), nullptr);
  std::vector<AlertEvent> out;
  EXPECT_TRUE(ev.on_trace(trace_a(), kT0, out).empty());
  EXPECT_EQ(ev.on_trace(trace_b(), kT0, out), std::vector<std::string>{"loops"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].message,
            "alert loops: trace bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb (support) called tool lookup_order 3 times with the "
            "same arguments (limit 3)");
}

TEST(AlertEvaluator, LoopByModelCalls) {
  AlertEvaluator ev(rules_from("rules:\n- {name: chatty, kind: loop, max_model_calls: 3}\n"), nullptr);
  std::vector<AlertEvent> out;
  EXPECT_EQ(ev.on_trace(trace_a(), kT0, out), std::vector<std::string>{"chatty"});  // 4 model calls
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value, 4);
}

TEST(AlertEvaluator, SubjectsPerRuleAreBounded) {
  AlertEvaluator ev(rules_from("max_keys_per_rule: 2\nrules:\n- {name: d, kind: user_budget, max_usd: 1}\n"), nullptr);
  std::vector<AlertEvent> out;
  for (const char* u : {"a", "b", "c", "d"}) ev.on_call(call(kT0, 0.1, u), out);
  EXPECT_EQ(ev.keys_dropped(), 2u);
}

// ---- warm start: the alerts still firing at the last stop ----

TEST(AlertEvaluatorRestore, TraceCostStaysFiringAndRecoversAWindowAfterTheFiring) {
  AlertEvaluator ev(rules_from("rules:\n- {name: big, kind: trace_cost, max_usd: 0.021, window: 1h}\n"), nullptr);
  std::vector<AlertEvent> out;
  EXPECT_EQ(ev.restore({{"big", "trace_cost", "", kT0, 0.023, 0}}, kT0 + kMinute, out), 1u);
  EXPECT_EQ(ev.on_trace(trace_a(), kT0 + 2 * kMinute, out), std::vector<std::string>{"big"});
  EXPECT_TRUE(out.empty());  // not fired again
  ev.tick(kT0 + 61 * kMinute, out);
  EXPECT_TRUE(out.empty());  // the trace at +2 min holds it until +62 min
  ev.tick(kT0 + 62 * kMinute, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state, AlertEvent::State::kRecovered);
}

TEST(AlertEvaluatorRestore, SpentBudgetStaysSpentAndEnforced) {
  BudgetBook book;
  AlertEvaluator ev(rules_from("rules:\n- {name: daily, kind: user_budget, max_usd: 2, period: 1d}\n"), &book);
  const UnixNanos day = 86400 * kNanosPerSecond;
  const UnixNanos midnight = kT0 - kT0 % day + day;
  std::vector<AlertEvent> out;
  ev.restore({{"daily", "user_budget", "user h_alice", kT0, 2.5, midnight}}, kT0 + kMinute, out);
  EXPECT_TRUE(out.empty());
  auto spent = book.find(BudgetBook::Scope::kUser, "h_alice", kT0 + kMinute);
  ASSERT_TRUE(spent);
  EXPECT_EQ(spent->resets_at, midnight);
  ev.on_call(call(kT0 + 2 * kMinute, 1.0, "h_alice"), out);
  EXPECT_TRUE(out.empty());  // already spent: no second firing
  ev.tick(midnight, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state, AlertEvent::State::kRecovered);
  EXPECT_EQ(out[0].subject, "user h_alice");
  EXPECT_TRUE(book.empty());
}

TEST(AlertEvaluatorRestore, BudgetOfAnEndedPeriodRecoversAtItsReset) {
  BudgetBook book;
  AlertEvaluator ev(rules_from("rules:\n- {name: daily, kind: user_budget, max_usd: 2, period: 1d}\n"), &book);
  const UnixNanos day = 86400 * kNanosPerSecond;
  const UnixNanos midnight = kT0 - kT0 % day + day;
  std::vector<AlertEvent> out;
  ev.restore({{"daily", "user_budget", "user h_alice", kT0, 2.5, midnight}}, midnight + kHour, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state, AlertEvent::State::kRecovered);
  EXPECT_EQ(out[0].at, midnight);
  EXPECT_TRUE(book.empty());
}

TEST(AlertEvaluatorRestore, RollingSpendKeepsTheSpendItFiredOn) {
  AlertEvaluator ev(rules_from("rules:\n- {name: hourly, kind: spend, max_usd: 4, window: 1h}\n"), nullptr);
  std::vector<AlertEvent> out;
  ev.restore({{"hourly", "spend", "", kT0, 4.5, 0}}, kT0 + kMinute, out);
  ev.on_call(call(kT0 + 2 * kMinute, 0.5), out);
  ev.tick(kT0 + 30 * kMinute, out);
  EXPECT_TRUE(out.empty());  // $5.00 in the window: still firing, not fired again
  ev.tick(kT0 + 65 * kMinute, out);  // the restored $4.50 left the window
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state, AlertEvent::State::kRecovered);
}

TEST(AlertEvaluatorRestore, ToolFailureRateIsHeldUntilItsWindowHasData) {
  AlertEvaluator ev(
      rules_from("rules:\n- {name: flaky, kind: tool_failure_rate, max_rate: 0.5, min_calls: 2, window: 10m}\n"), nullptr);
  std::vector<AlertEvent> out;
  ev.restore({{"flaky", "tool_failure_rate", "tool refund", kT0, 1.0, 0}}, kT0 + kMinute, out);
  ev.tick(kT0 + 2 * kMinute, out);
  EXPECT_TRUE(out.empty());  // no calls since the restart: not judged yet
  EXPECT_EQ(ev.on_trace(trace_a(), kT0 + 3 * kMinute, out), std::vector<std::string>{});  // 1 call < min_calls
  ev.on_trace(trace_a(), kT0 + 4 * kMinute, out);  // refund 2/2 failed: over, still the same alert
  EXPECT_TRUE(out.empty());
  ev.tick(kT0 + 15 * kMinute, out);  // the window emptied
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state, AlertEvent::State::kRecovered);
  EXPECT_EQ(out[0].subject, "tool refund");
}

TEST(AlertEvaluatorRestore, RulesNoLongerInTheFileAreSkipped) {
  AlertEvaluator ev(rules_from("rules:\n- {name: big, kind: trace_cost, max_usd: 0.021, window: 1h}\n"), nullptr);
  std::vector<AlertEvent> out;
  EXPECT_EQ(ev.restore({{"gone", "trace_cost", "", kT0, 1, 0}, {"big", "spend", "", kT0, 1, 0}}, kT0, out), 0u);
  EXPECT_EQ(ev.on_trace(trace_a(), kT0 + kMinute, out), std::vector<std::string>{"big"});
  EXPECT_EQ(out.size(), 1u);  // fires as usual
}

}  // namespace
}  // namespace llmtap::alerts
