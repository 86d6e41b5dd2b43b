// AlertingTraceSink: a trace that sets a rule off reaches the next sink marked (llmtap.alerts and an
// llmtap.alert event on its root); one that does not, unchanged; a taken trace is handed on taken,
// so the sinks behind (redaction, the store's queue) do not copy it.
#include "alerts/alerting.h"

#include <gtest/gtest.h>

#include "report/report_test_traces.h"

namespace llmtap::alerts {
namespace {

using report::testing::trace_a;  // costs $0.023
using report::testing::trace_b;  // costs $0.020

struct RecordingSink final : TraceSink {
  void on_trace(const Trace& trace) override { shown.push_back(trace); }
  void take_trace(Trace&& trace) override { taken.push_back(std::move(trace)); }
  std::vector<Trace> shown, taken;
};

std::unique_ptr<Alerting> alerting_over(double max_usd) {
  std::string error;
  auto rules = parse_rules("rules:\n- {name: big, kind: trace_cost, max_usd: " + std::to_string(max_usd) +
                               ", window: 1h}\n",
                           "test", &error);
  EXPECT_TRUE(rules) << error;
  auto alerting = Alerting::create(rules ? *rules : RuleSet{}, "", &error);
  EXPECT_TRUE(alerting) << error;
  return alerting;
}

void expect_marked(const Trace& trace) {
  ASSERT_FALSE(trace.spans.empty());
  const Span& root = trace.spans.front();
  const AttrValue* alerts = root.find("llmtap.alerts");
  ASSERT_NE(alerts, nullptr);
  EXPECT_EQ(std::get<std::vector<std::string>>(*alerts), std::vector<std::string>{"big"});
  ASSERT_EQ(root.events.size(), 1u);
  EXPECT_EQ(root.events[0].name, "llmtap.alert");
}

TEST(AlertingTraceSink, ATakenTraceIsMarkedInPlaceAndHandedOnTaken) {
  auto alerting = alerting_over(0.021);
  RecordingSink next;
  AlertingTraceSink sink(*alerting, next);
  sink.take_trace(trace_a());  // over: marked
  sink.take_trace(trace_b());  // under: as it came
  EXPECT_TRUE(next.shown.empty());
  ASSERT_EQ(next.taken.size(), 2u);
  expect_marked(next.taken[0]);
  EXPECT_EQ(next.taken[1].spans.size(), trace_b().spans.size());
  EXPECT_EQ(next.taken[1].spans.front().find("llmtap.alerts"), nullptr);
  EXPECT_TRUE(next.taken[1].spans.front().events.empty());
}

TEST(AlertingTraceSink, AShownTraceIsLeftAloneAndItsMarkedCopyHandedOn) {
  auto alerting = alerting_over(0.021);
  RecordingSink next;
  AlertingTraceSink sink(*alerting, next);
  const Trace over = trace_a();
  sink.on_trace(over);
  EXPECT_EQ(over.spans.front().find("llmtap.alerts"), nullptr);  // the caller's trace is unchanged
  ASSERT_EQ(next.taken.size(), 1u);
  expect_marked(next.taken[0]);
  const Trace under = trace_b();
  sink.on_trace(under);
  ASSERT_EQ(next.shown.size(), 1u);  // not copied: shown on
  EXPECT_EQ(next.shown[0].trace_id, under.trace_id);
}

}  // namespace
}  // namespace llmtap::alerts
