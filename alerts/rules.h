#pragma once
// The alert rules file (YAML; SPEC.md "Alert rules"): what to watch, the thresholds and windows, and
// where alerts go. A bad file is refused with the line and the field at fault.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace llmtap::alerts {

enum class RuleKind {
  kTraceCost,        // one trace cost more than max_usd
  kSpend,            // all calls in the last `window` cost more than max_usd (rolling)
  kUserBudget,       // one user's calls in the current `period` cost more than max_usd
  kSessionBudget,    // one session's calls in the current `period` cost more than max_usd
  kToolFailureRate,  // one tool failed more than max_rate of at least min_calls calls in `window`
  kAgentLatency,     // one agent's model-call p95 in `window` exceeds max_seconds (at least min_calls)
  kLoop,             // one trace called a tool with the same arguments `repeats` times, or made more
                     // than max_model_calls model calls
};

const char* to_string(RuleKind kind);
bool is_budget(RuleKind kind);  // user_budget, session_budget

inline constexpr UnixNanos kNanosPerSecond = 1'000'000'000;

struct Rule {
  std::string name;  // unique in the file: alerts are keyed by it
  RuleKind kind = RuleKind::kSpend;
  int line = 0;      // where the rule starts in the file
  double max_usd = 0;           // trace_cost, spend, budgets
  double max_rate = 0;          // tool_failure_rate, 0..1
  double max_seconds = 0;       // agent_p95_latency
  std::int64_t min_calls = 1;   // tool_failure_rate, agent_p95_latency
  std::int64_t repeats = 0;     // loop: same tool + same arguments this often (0: not checked)
  std::int64_t max_model_calls = 0;  // loop: more model calls than this (0: not checked)
  // Rolling rules: the window summed over. Per-trace rules (trace_cost, loop): how long a fired
  // alert stays firing after the last offending trace (no new alert meanwhile). Budgets: the period
  // the spend resets at (aligned to UTC: 1h resets on the hour, 1d at midnight UTC).
  UnixNanos window = 3600 * kNanosPerSecond;
  std::string only;             // tool_failure_rate: only this tool; agent_p95_latency: only this agent
  bool enforce = true;          // budgets: refused in-line under --enforce-budgets
  bool webhook = true;          // whether this rule's alerts go to the webhook (when one is set)
};

struct WebhookConfig {
  std::string url;  // "" when none: http:// or https://
  std::chrono::milliseconds timeout{5000};
  std::size_t max_queued = 256;  // alerts waiting to be posted; beyond that they are dropped (counted, logged)
};

struct RuleSet {
  std::vector<Rule> rules;
  WebhookConfig webhook;
  std::size_t max_keys_per_rule = 10000;  // users, sessions, tools or agents tracked per rule
};

// Parses the YAML TEXT of a rules file (SOURCE names it in errors). On error: nullopt and *error as
// "SOURCE:LINE: FIELD: what is wrong".
std::optional<RuleSet> parse_rules(const std::string& text, const std::string& source, std::string* error);
// Reads and parses the file at PATH.
std::optional<RuleSet> load_rules_file(const std::string& path, std::string* error);

}  // namespace llmtap::alerts
