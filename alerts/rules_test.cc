#include "alerts/rules.h"

#include <gtest/gtest.h>

namespace llmtap::alerts {
namespace {

constexpr const char* kGood = R"(# every kind once
webhook:
  url: http://127.0.0.1:9/hook
  timeout: 2s
rules:
  - name: big-trace
    kind: trace_cost
    max_usd: 0.5
  - name: hourly
    kind: spend
    max_usd: 4
    window: 1h
  - name: user-day
    kind: user_budget
    max_usd: 2
  - name: session-total
    kind: session_budget
    max_usd: 1
    period: 1w
    enforce: false
  - name: flaky
    kind: tool_failure_rate
    max_rate: 0.05
    min_calls: 20
    window: 15m
    tool: search
  - name: slow
    kind: agent_p95_latency
    max_seconds: 8
    min_calls: 10
    webhook: false
  - name: loops
    kind: loop
    repeats: 3
    max_model_calls: 25
)";

TEST(AlertRules, ParsesEveryKind) {
  std::string error;
  auto set = parse_rules(kGood, "rules.yaml", &error);
  ASSERT_TRUE(set) << error;
  ASSERT_EQ(set->rules.size(), 7u);
  EXPECT_EQ(set->webhook.url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(set->webhook.timeout.count(), 2000);
  EXPECT_EQ(set->rules[0].kind, RuleKind::kTraceCost);
  EXPECT_EQ(set->rules[0].line, 6);
  EXPECT_DOUBLE_EQ(set->rules[0].max_usd, 0.5);
  EXPECT_EQ(set->rules[1].window, 3600 * kNanosPerSecond);
  EXPECT_EQ(set->rules[2].kind, RuleKind::kUserBudget);
  EXPECT_EQ(set->rules[2].window, 86400 * kNanosPerSecond);  // budgets default to a day
  EXPECT_TRUE(set->rules[2].enforce);
  EXPECT_EQ(set->rules[3].window, 7 * 86400 * kNanosPerSecond);
  EXPECT_FALSE(set->rules[3].enforce);
  EXPECT_EQ(set->rules[4].only, "search");
  EXPECT_EQ(set->rules[4].min_calls, 20);
  EXPECT_DOUBLE_EQ(set->rules[5].max_seconds, 8);
  EXPECT_FALSE(set->rules[5].webhook);
  EXPECT_EQ(set->rules[6].repeats, 3);
  EXPECT_EQ(set->rules[6].max_model_calls, 25);
}

std::string error_of(const std::string& text) {
  std::string error;
  auto set = parse_rules(text, "r.yaml", &error);
  EXPECT_FALSE(set) << "accepted: " << text;
  return error;
}

TEST(AlertRules, ErrorsNameTheLineAndTheField) {
  EXPECT_EQ(error_of("rules:\n  - name: a\n    kind: spend\n    max_usd: lots\n"),
            "r.yaml:4: rules[0].max_usd: wants a number from 0 to 1e+09, got 'lots'");
  EXPECT_EQ(error_of("rules:\n  - name: a\n    kind: spend\n    max_usd: 1\n    maxusd: 2\n"),
            "r.yaml:5: rules[0].maxusd: is not a field of a spend rule (it takes name, kind, max_usd, window, webhook)");
  EXPECT_EQ(error_of("rules:\n  - name: a\n    kind: spending\n"),
            "r.yaml:3: rules[0].kind: wants one of trace_cost, spend, user_budget, session_budget, "
            "tool_failure_rate, agent_p95_latency, loop, got 'spending'");
  EXPECT_EQ(error_of("rules:\n  - name: a\n    kind: spend\n"),
            "r.yaml:2: rules[0].max_usd: is missing (a is a spend rule)");
  EXPECT_EQ(error_of("rules:\n  - name: a\n    kind: spend\n    max_usd: 1\n  - name: a\n    kind: spend\n    max_usd: 2\n"),
            "r.yaml:5: rules[1].name: 'a' is used twice");
  EXPECT_EQ(error_of("rules:\n  - name: a\n    kind: spend\n    max_usd: 1\n    window: soon\n"),
            "r.yaml:5: rules[0].window: wants a duration of at least 1s (90s, 15m, 1h, 1d, 1w), got 'soon'");
  EXPECT_EQ(error_of("rules:\n  - name: a\n    kind: tool_failure_rate\n    max_rate: 1.5\n"),
            "r.yaml:4: rules[0].max_rate: wants a number from 0 to 1, got '1.5'");
  EXPECT_EQ(error_of("rules:\n  - name: l\n    kind: loop\n    window: 1h\n"),
            "r.yaml:2: rules[0].repeats: is missing, as is max_model_calls (l is a loop rule: it needs one of them)");
  EXPECT_EQ(error_of("webhook:\n  url: ftp://x\nrules: []\n"),
            "r.yaml:2: webhook.url: wants an http:// or https:// URL, got 'ftp://x'");
  EXPECT_EQ(error_of("rule:\n  - name: a\n"), "r.yaml:1: rule: is not a top-level field (rules, webhook, max_keys_per_rule)");
  EXPECT_EQ(error_of(""), "r.yaml:1: (top level): wants a mapping with a rules: list");
  const std::string syntax = error_of("rules:\n  - name: [a\n");
  EXPECT_EQ(syntax.rfind("r.yaml:", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("not valid YAML"), std::string::npos) << syntax;
}

TEST(AlertRules, MissingFileNamesIt) {
  std::string error;
  EXPECT_FALSE(load_rules_file("/nonexistent/rules.yaml", &error));
  EXPECT_NE(error.find("/nonexistent/rules.yaml"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::alerts
