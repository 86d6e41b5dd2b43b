#pragma once
// What the evaluator is fed and what it says. Plain data: the evaluator is sans-IO.
#include <optional>
#include <string>

#include "alerts/rules.h"
#include "common/clock.h"

namespace llmtap::alerts {

// One model call as it arrives (before its trace closes), with its price and attribution as the
// trace will record them (user id hashed unless --raw-user-ids).
struct CallObservation {
  UnixNanos at = 0;
  std::string user_id;
  std::string session_id;
  std::optional<double> cost_usd;  // absent when the call could not be priced
};

struct AlertEvent {
  enum class State { kFired, kRecovered };
  State state = State::kFired;
  std::string rule;
  RuleKind kind = RuleKind::kSpend;
  std::string subject;     // what it is about: "user h_1f...", "session s-42", "tool search", "agent triage", "" for all
  UnixNanos at = 0;
  double value = 0;        // what was measured (USD, rate, seconds, count)
  double threshold = 0;    // the rule's limit, same unit
  std::string trace_id;    // the trace that set it off (per-trace rules), else ""
  UnixNanos resets_at = 0; // budgets: when the period ends; else 0
  std::string message;     // one line for people: the log, the webhook's text
};

// An alert that was still firing when the process stopped (its store row has no recovery). The
// evaluator starts from these, so a restart neither fires them again nor forgets a spent budget.
struct FiringAlert {
  std::string rule;
  std::string kind;         // to_string(RuleKind), as stored
  std::string subject;      // as AlertEvent::subject
  UnixNanos fired_at = 0;
  double value = 0;         // what was measured when it fired
  UnixNanos resets_at = 0;  // budgets: when the period ends
};

}  // namespace llmtap::alerts
